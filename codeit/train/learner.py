"""The learner: a separate torch process that owns the replay buffer's sum trees and trains the policy.

The driver appends experiences to the SQLite store; the learner follows them (``refresh``), draws
each meta-iteration's training set without replacement in proportion to priority (policy
experiences, plus seed and mutation ones), trains one pass, and writes the new checkpoint
atomically (a temporary folder renamed into place). It talks to the driver over a pipe:
``("train", iteration, policy_in, policy_out)`` -> ``("done", iteration, policy_out, stats)`` or
``("error", iteration, traceback)``; it exits when the pipe closes, so it never outlives the driver.
"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import os
import shutil
import time
import traceback
from pathlib import Path

import numpy as np

from codeit.run.config import RunConfig, make_config


def training_counts(buffer, config: RunConfig) -> dict[str, int]:
    """How many experiences to draw from each origin this iteration."""
    learner, ablation = config.learner, config.ablation
    counts = {"policy": 0 if ablation.mutation_only else learner.policy_experiences}
    mutation_total = learner.mutation_experiences if ablation.mutation_data or ablation.mutation_only else 0
    if ablation.mutation_only:
        mutation_total += learner.policy_experiences
    sizes = {o: buffer.size(o) for o in ("seed", "mutation")}
    total = sum(sizes.values())
    for origin, size in sizes.items():
        counts[origin] = int(round(mutation_total * size / total)) if total else 0
    return counts


def draw_examples(buffer, policy, config: RunConfig) -> tuple[list, dict[str, int]]:
    from codeit.train.trainer import Example
    from codeit.run.prompts import experience_task, prompt_text

    buffer.refresh()
    counts = training_counts(buffer, config)
    if config.learner.with_replacement:
        drawn = buffer.draw_with_replacement(counts)
    else:
        drawn = buffer.draw_without_replacement(counts)
    ids = np.concatenate([v for v in drawn.values()]) if drawn else np.zeros(0, np.int64)
    examples = [Example(prompt_text(policy.format, experience_task(e), config), e.program) for e in buffer.experiences(ids)]
    return examples, {k: int(len(v)) for k, v in drawn.items()}


def train_iteration(buffer, config: RunConfig, iteration: int, policy_in: str, policy_out: str, device: str) -> dict:
    from codeit.train.trainer import train
    from codeit.run.prompts import max_sequence_tokens
    from codeit.policy.model import load_policy

    started = time.perf_counter()
    policy = load_policy(policy_in)
    examples, drawn = draw_examples(buffer, policy, config)
    stats = train(
        policy,
        examples,
        lr=config.learner.lr,
        batch_size=config.learner.batch_size,
        epochs=config.learner.warmup_epochs if iteration == 0 else config.learner.epochs,
        max_seq_len=max_sequence_tokens(config),
        weight_decay=config.learner.weight_decay,
        device=device,
        seed=config.seed * 1000 + iteration,
        precision=config.learner.precision,
    )
    policy.model.to("cpu")
    tmp = Path(policy_out + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    policy.save(tmp)
    shutil.rmtree(policy_out, ignore_errors=True)
    os.replace(tmp, policy_out)
    return {"drawn": drawn, **dataclasses.asdict(stats), "wall_seconds": time.perf_counter() - started}


def learner_main(conn, store_path: str, config_dict: dict, device: str) -> None:
    """Process entry point: serve train requests until the pipe closes or says stop."""
    import torch

    from codeit.buffer.replay import BufferConfig, ReplayBuffer

    config = make_config(config_dict.pop("preset", "tiny"), config_dict)
    torch.set_num_threads(config.learner.cpu_threads or max(1, os.cpu_count() or 1))
    alpha = 0.0 if config.ablation.uniform_priorities else 1.0
    buffer = ReplayBuffer(store_path, BufferConfig(alpha=alpha, priority_floor=config.learner.priority_floor, seed=config.seed))
    try:
        while True:
            try:
                message = conn.recv()
            except EOFError:
                return
            if message[0] == "stop":
                return
            _, iteration, policy_in, policy_out = message
            try:
                stats = train_iteration(buffer, config, iteration, policy_in, policy_out, device)
            except Exception:
                conn.send(("error", iteration, traceback.format_exc()))
            else:
                conn.send(("done", iteration, policy_out, stats))
    finally:
        buffer.close()


class LearnerProcess:
    """The driver's handle on the learner process."""

    def __init__(self, store_path: Path, config: RunConfig, device: str):
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(
            target=learner_main, args=(child, str(store_path), config.to_dict(), device), daemon=True, name="codeit-learner"
        )
        self._process.start()
        child.close()
        self.pending: int | None = None

    def request(self, iteration: int, policy_in: Path, policy_out: Path) -> None:
        if self.pending is not None:
            raise RuntimeError(f"learner is still training iteration {self.pending}")
        self._conn.send(("train", iteration, str(policy_in), str(policy_out)))
        self.pending = iteration

    def ready(self) -> bool:
        return self.pending is not None and self._conn.poll()

    def wait(self) -> tuple[int, str, dict]:
        """The pending request's result; raises with the learner's traceback when it failed."""
        while not self._conn.poll(1.0):
            if not self._process.is_alive():
                raise RuntimeError(f"the learner process died (exit code {self._process.exitcode})")
        kind, iteration, *rest = self._conn.recv()
        self.pending = None
        if kind == "error":
            raise RuntimeError(f"the learner failed on iteration {iteration}:\n{rest[0]}")
        return iteration, rest[0], rest[1]

    def close(self) -> None:
        try:
            self._conn.send(("stop",))
        except (BrokenPipeError, OSError):
            pass
        self._conn.close()
        self._process.join(timeout=30)
        if self._process.is_alive():
            self._process.kill()
