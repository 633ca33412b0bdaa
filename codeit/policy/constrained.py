"""Constrained decoding: a transformers LogitsProcessor under which every sample parses.

Each generated row runs a small automaton over the DSL tokens of canonical program text:

    program = line* out_line eos
    line    = VAR '=' CALLEE '(' ARG (',' ARG)* ')' '\\n'      VAR is x1, x2, ... in order
    out_line= 'O' '=' CALLEE '(' ARG (',' ARG)* ')' '\\n'

and at every step masks the tokens that would leave the language the parser accepts
(``codeit.dsl.program.parse``, which also type-checks): a primitive callee takes exactly its arity
in arguments, each argument statically compatible with its parameter (the parser's own
``infer_line`` and ``is_compatible`` decide, so both agree); a variable callee must possibly hold a
function, with its arity when that is known; arguments are ``I``, constants, primitives and
variables already defined. A primitive is offered as callee only when every one of its parameters
has some compatible argument at hand.

It also keeps the program within ``max_new_tokens``: a new ``x`` line is offered only while a
longest line plus a longest output line still fit, and the output line's callee only if its
call fits, so a constrained sample always finishes (it needs ``max_new_tokens >= 8``).

One grammar, two drivers: ``DSLGrammar`` holds the automaton (``start``, ``allowed``,
``advance``) over one policy's vocabulary; ``DSLConstraint`` drives it for transformers
``generate`` (a ``LogitsProcessor`` over the batch's rows), and ``codeit.policy.vllm_sampler``
drives the same grammar per vLLM request (``GrammarRequest``: a request's own token budget, its
generated tokens replayed from wherever the engine put it in the batch).

Requires the DSL tokenizer (``codeit.policy.tokenizer``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from codeit.dsl import registry
from codeit.dsl.program import INPUT_INFO, CheckFailure, Line, Ref, ValueInfo, infer_line, ref_info
from codeit.dsl.types import is_compatible

MAX_ARITY = max(p.arity for p in registry.PRIMITIVES)
LONGEST_LINE = 3 + 1 + 2 * MAX_ARITY - 1 + 1 + 1
"""Tokens of a longest line: target, '=', callee, '(' args and commas ')' and newline."""
SHORTEST_OUTPUT = 8
"""Tokens of a shortest finish: O = f ( a ) newline eos."""

# Automaton phases.
TARGET, EQUALS, CALLEE, OPEN, ARG, AFTER_ARG, NEWLINE, END, DONE = range(9)


@dataclass
class _Row:
    """Where one generated sequence stands in the grammar."""

    phase: int = TARGET
    infos: list[ValueInfo] = field(default_factory=list)
    """Infos of the lines finished so far (line k defines x{k+1})."""
    is_output: bool = False
    callee: Ref | None = None
    arity: int | None = None
    """Exact number of arguments of the current callee, when known."""
    params: tuple | None = None
    """Parameter types of a primitive callee."""
    args: list[Ref] = field(default_factory=list)


def check_budget(max_new_tokens: int) -> None:
    """Refuse a token budget too small for the shortest program."""
    if max_new_tokens < SHORTEST_OUTPUT:
        raise ValueError(f"DSLConstraint: max_new_tokens {max_new_tokens} is under {SHORTEST_OUTPUT}, "
                         "the shortest program")


class DSLGrammar:
    """The program grammar over one policy's DSL vocabulary: which tokens may come next."""

    def __init__(self, format):
        """``format``: the policy's ``model.PromptFormat`` (DSL tokenizer)."""
        if not format.dsl_vocab:
            raise ValueError("DSLConstraint needs the DSL tokenizer; this policy has a foreign one")
        vocab = format.tokenizer.get_vocab()
        self.vocab_size = len(vocab)
        self.eos = format.eos_id
        self.tok = {t: vocab[t] for t in ("=", "(", ")", ",", "\n", "O", "I")}
        self.var_ids = [vocab[f"x{k}"] for k in range(1, 100) if f"x{k}" in vocab]
        self.id_to_var = {t: k for k, t in enumerate(self.var_ids)}
        self.prim_ids = {vocab[p.name]: p for p in registry.PRIMITIVES}
        self.const_ids = {vocab[c.name]: c for c in registry.CONSTANTS}
        # Static candidate arguments: the input, constants, primitives used as values.
        self.static_args: list[tuple[int, Ref, ValueInfo]] = [(self.tok["I"], Ref("input", 0), INPUT_INFO)]
        for tid, c in self.const_ids.items():
            ref = Ref("const", c.name)
            self.static_args.append((tid, ref, ref_info(ref, [])))
        for tid, p in self.prim_ids.items():
            ref = Ref("prim", p.name)
            self.static_args.append((tid, ref, ref_info(ref, [])))
        self._static_for_type: dict = {}
        self._callees_cache: dict = {}

    @staticmethod
    def start() -> _Row:
        """The state of a program not yet begun."""
        return _Row()

    # -----------------------------------------------------------------------------------------
    # Allowed tokens.

    def _static_ids(self, ptype) -> list[int]:
        ids = self._static_for_type.get(ptype)
        if ids is None:
            ids = [tid for tid, _, info in self.static_args if is_compatible(info.type, ptype)]
            self._static_for_type[ptype] = ids
        return ids

    def _satisfiable(self, ptype, var_types: frozenset) -> bool:
        return bool(self._static_ids(ptype)) or any(is_compatible(t, ptype) for t in var_types)

    def _callees(self, row: _Row, remaining: int) -> list[int]:
        # Budget in tokens for the callee and its call: callee '(' args ')' newline [eos].
        need_after = 2 if row.is_output else 1 + SHORTEST_OUTPUT
        max_arity = (remaining - 3 - need_after + 1) // 2
        var_types = frozenset(info.type for info in row.infos)
        key = (var_types, min(max_arity, MAX_ARITY))
        prims = self._callees_cache.get(key)
        if prims is None:
            prims = [tid for tid, p in self.prim_ids.items()
                     if p.arity <= max_arity and all(self._satisfiable(t, var_types) for t in p.param_types)]
            self._callees_cache[key] = prims
        variables = [self.var_ids[k] for k, info in enumerate(row.infos)
                     if info.may_be_function and info.arity != 0 and (info.arity or 1) <= max_arity]
        return prims + variables

    def _args(self, row: _Row) -> list[int]:
        defined = self.var_ids[: len(row.infos)]
        if row.params is None:
            return [tid for tid, _, _ in self.static_args] + defined
        ptype = row.params[len(row.args)]
        return self._static_ids(ptype) + [defined[k] for k, info in enumerate(row.infos)
                                          if is_compatible(info.type, ptype)]

    def allowed(self, row: _Row, remaining: int) -> list[int]:
        """Token ids that may come next for ``row`` with ``remaining`` tokens left (this one included)."""
        if row.phase == TARGET:
            k = len(row.infos)
            ok = [self.tok["O"]]
            if k < len(self.var_ids) and remaining >= LONGEST_LINE + LONGEST_LINE + 1:
                ok.append(self.var_ids[k])
            return ok
        if row.phase == EQUALS:
            return [self.tok["="]]
        if row.phase == CALLEE:
            return self._callees(row, remaining)
        if row.phase == OPEN:
            return [self.tok["("]]
        if row.phase == ARG:
            return self._args(row)
        if row.phase == AFTER_ARG:
            n = len(row.args)
            if row.arity is not None:
                return [self.tok[")"]] if n == row.arity else [self.tok[","]]
            ok = [self.tok[")"]]
            # An unknown-arity function value: another argument only while the finish still fits.
            need = 2 + 2 + (1 if row.is_output else 1 + SHORTEST_OUTPUT)
            if n < MAX_ARITY and remaining >= need:
                ok.append(self.tok[","])
            return ok
        if row.phase == NEWLINE:
            return [self.tok["\n"]]
        return [self.eos]

    # -----------------------------------------------------------------------------------------
    # Transitions.

    def _ref(self, row: _Row, token: int) -> Ref:
        if token == self.tok["I"]:
            return Ref("input", 0)
        if token in self.id_to_var:
            return Ref("var", self.id_to_var[token])
        if token in self.const_ids:
            return Ref("const", self.const_ids[token].name)
        return Ref("prim", self.prim_ids[token].name)

    def advance(self, row: _Row, token: int) -> None:
        """Move ``row`` past ``token`` (one of the allowed ones)."""
        if row.phase == TARGET:
            row.is_output = token == self.tok["O"]
            row.phase = EQUALS
        elif row.phase == EQUALS:
            row.phase = CALLEE
        elif row.phase == CALLEE:
            ref = self._ref(row, token)
            row.callee, row.args = ref, []
            if ref.kind == "prim":
                spec = registry.primitive(str(ref.value))
                row.arity, row.params = spec.arity, spec.param_types
            else:
                row.arity, row.params = row.infos[int(ref.value)].arity, None
            row.phase = OPEN
        elif row.phase == OPEN:
            row.phase = ARG
        elif row.phase == ARG:
            row.args.append(self._ref(row, token))
            row.phase = AFTER_ARG
        elif row.phase == AFTER_ARG:
            if token == self.tok[","]:
                row.phase = ARG
            else:
                try:
                    info = infer_line(Line(row.callee, tuple(row.args)), row.infos)
                except CheckFailure as e:  # the masks should make this unreachable
                    raise AssertionError(f"DSLConstraint let an ill-typed line through: {e.reason}") from None
                row.infos.append(info)
                row.phase = NEWLINE
        elif row.phase == NEWLINE:
            row.phase = END if row.is_output else TARGET
        elif row.phase == END:
            row.phase = DONE


class GrammarRequest:
    """One request's walk through the grammar, fed the request's generated tokens as they grow.

    ``allowed`` replays whatever tokens were appended since the last call, so it does not matter
    when or how often the caller looks (a request moved, paused or resumed keeps its place).
    """

    __slots__ = ("grammar", "max_new_tokens", "output_ids", "row", "seen")

    def __init__(self, grammar: DSLGrammar, max_new_tokens: int, output_ids: list[int]):
        """``output_ids``: the request's generated tokens, a list the engine appends to."""
        check_budget(max_new_tokens)
        self.grammar = grammar
        self.max_new_tokens = max_new_tokens
        self.output_ids = output_ids
        self.row = grammar.start()
        self.seen = 0

    def allowed(self) -> list[int]:
        """Token ids that may come next after the tokens generated so far."""
        ids, row, grammar = self.output_ids, self.row, self.grammar
        while self.seen < len(ids):
            token = int(ids[self.seen])
            if token < 0:  # an engine's placeholder for a token not yet copied back: read it later
                break
            if row.phase != DONE:
                grammar.advance(row, token)
            self.seen += 1
        if row.phase == DONE:
            return [grammar.eos]
        ok = grammar.allowed(row, self.max_new_tokens - self.seen)
        if not ok:  # the automaton's invariants make this unreachable; say where if not
            raise AssertionError(f"DSLConstraint: no token may follow in phase {row.phase} "
                                 f"with {self.max_new_tokens - self.seen} tokens left ({row})")
        return ok


class DSLConstraint(DSLGrammar):
    """A transformers ``LogitsProcessor``: masks, per row, the tokens that no parsable program continues with."""

    def __init__(self, format, max_new_tokens: int, *, encoder_decoder: bool = False):
        """``format``: the policy's ``model.PromptFormat`` (DSL tokenizer); ``max_new_tokens``: the
        generation limit the program must finish within."""
        super().__init__(format)
        check_budget(max_new_tokens)
        self.max_new_tokens = max_new_tokens
        self.encoder_decoder = encoder_decoder
        self.rows: list[_Row] | None = None
        self.start_len = 0

    def __call__(self, input_ids, scores):
        import torch

        n_rows, length = input_ids.shape
        if self.rows is None or len(self.rows) != n_rows or length <= self.start_len:
            self.rows = [self.start() for _ in range(n_rows)]
            self.start_len = length
        else:
            last = input_ids[:, -1].tolist()
            for row, token in zip(self.rows, last):
                if row.phase != DONE:
                    self.advance(row, int(token))
        remaining = self.max_new_tokens - (length - self.start_len)
        mask = torch.ones_like(scores, dtype=torch.bool)
        for r, row in enumerate(self.rows):
            if row.phase == DONE:
                mask[r] = False  # generate pads finished rows whatever the scores say
                continue
            ok = self.allowed(row, remaining)
            if not ok:  # the automaton's invariants make this unreachable; say where if not
                raise AssertionError(f"DSLConstraint: no token may follow in phase {row.phase} "
                                     f"with {remaining} tokens left (row {r}: {row})")
            mask[r, ok] = False
        return scores.masked_fill(mask, float("-inf"))
