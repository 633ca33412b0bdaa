"""Training the policy on experiences: (task encoding, program) pairs, loss on the program tokens.

``train`` runs one meta-iteration's optimisation in the calling process; the learner process
(``codeit.train.learner``) calls it on what it draws from the replay buffer.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from codeit.policy.encode import EncodeConfig, encode_task


@dataclass(frozen=True)
class Example:
    """One training example: the prompt text of a (relabeled) task and the program that solves it."""

    prompt: str
    program: str


@dataclass(frozen=True)
class TrainStats:
    examples: int
    """Examples trained on (after dropping those too long)."""
    skipped: int
    """Examples dropped because prompt plus program exceeded the sequence budget."""
    steps: int
    """Optimizer steps taken."""
    mean_loss: float
    """Mean token loss over the pass (nan when nothing was trained)."""
    final_loss: float
    """Mean token loss of the last 10% of steps."""
    tokens: int
    """Tokens processed (prompt and program)."""
    seconds: float
    """Wall time of the pass."""


def encode_example(task, program: str, encode: EncodeConfig) -> Example:
    """The prompt of ``task`` (anything with ``.train``/``.test`` pairs) paired with ``program``."""
    return Example(encode_task(task, encode).text, program)


def _collate(rows: list[dict[str, list[int]]], pad_id: int, encoder_decoder: bool):
    import torch

    def pad(seqs: list[list[int]], value: int):
        width = max(len(s) for s in seqs)
        out = torch.full((len(seqs), width), value, dtype=torch.long)
        for k, s in enumerate(seqs):
            out[k, : len(s)] = torch.tensor(s, dtype=torch.long)
        return out

    input_ids = pad([r["input_ids"] for r in rows], pad_id)
    attention = pad([[1] * len(r["input_ids"]) for r in rows], 0)
    labels = pad([r["labels"] for r in rows], -100)
    return {"input_ids": input_ids, "attention_mask": attention, "labels": labels}


def _length_bucketed_batches(rows: list[dict], batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled batches of similar lengths: padding, not learning, is most of a batch's cost otherwise.

    The examples are shuffled, cut into pools of 16 batches, each pool sorted by length and cut
    into batches, and the batches shuffled again.
    """
    order = rng.permutation(len(rows))
    lengths = np.array([len(r["input_ids"]) for r in rows])
    pool = 16 * batch_size
    batches = []
    for start in range(0, len(order), pool):
        chunk = order[start : start + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[k : k + batch_size] for k in range(0, len(chunk), batch_size))
    return [batches[k] for k in rng.permutation(len(batches))]


def train(
    policy,
    examples: Sequence[Example],
    *,
    lr: float,
    batch_size: int,
    epochs: int = 1,
    max_seq_len: int = 4096,
    weight_decay: float = 0.0,
    device: str = "cpu",
    seed: int = 0,
    progress: Callable[[int, int, float], None] | None = None,
) -> TrainStats:
    """One or more passes of AdamW over ``examples`` in shuffled batches; the model is left in eval mode."""
    import torch

    started = time.perf_counter()
    rows, skipped = [], 0
    for ex in examples:
        ids = policy.format.training_ids(ex.prompt, ex.program)
        if len(ids["input_ids"]) > max_seq_len:
            skipped += 1
            continue
        rows.append(ids)
    model = policy.model
    if not rows:
        return TrainStats(0, skipped, 0, math.nan, math.nan, 0, time.perf_counter() - started)
    model.to(device)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    losses: list[float] = []
    tokens = 0
    n_steps = epochs * math.ceil(len(rows) / batch_size)
    for _ in range(epochs):
        for batch_index in _length_bucketed_batches(rows, batch_size, rng):
            batch = [rows[k] for k in batch_index]
            inputs = {k: v.to(device) for k, v in _collate(batch, policy.format.pad_id, policy.is_encoder_decoder).items()}
            if policy.is_encoder_decoder:
                out = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"], labels=inputs["labels"])
            else:
                out = model(**inputs)
            optimizer.zero_grad(set_to_none=True)
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            losses.append(float(out.loss.detach()))
            tokens += int(inputs["attention_mask"].sum())
            if progress is not None:
                progress(len(losses), n_steps, losses[-1])
    model.eval()
    tail = losses[-max(1, len(losses) // 10) :]
    return TrainStats(
        examples=len(rows),
        skipped=skipped,
        steps=len(losses),
        mean_loss=float(np.mean(losses)),
        final_loss=float(np.mean(tail)),
        tokens=tokens,
        seconds=time.perf_counter() - started,
    )
