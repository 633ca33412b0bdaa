"""The learner: a separate torch process that owns the replay buffer's sum trees and trains the policy.

The driver appends experiences to the SQLite store; the learner follows them (``refresh``), draws
each meta-iteration's training set without replacement in proportion to priority (policy
experiences, plus seed and mutation ones), trains one pass, and writes the new checkpoint
atomically (a temporary folder renamed into place, holding ``learn_stats.json`` too).

A pass is resumable: before training it writes which experiences it drew (``<checkpoint>.draw.json``)
and, every ``LearnerConfig.checkpoint_seconds`` of training, the model, the optimizer, the steps taken
with their losses and the torch RNG state (``<checkpoint>.partial.pt``); each file is written to a
temporary name and renamed, so a kill at any moment leaves the last complete one. A learner asked to
train a meta-iteration again (its driver was killed and restarted) continues from there, and one
whose finished checkpoint is already in place returns that checkpoint's statistics without training.
Draws are seeded by (run seed, meta-iteration), so a restarted learner draws what the killed one
would have, and the resumed pass ends with the weights an uninterrupted one has.

It talks to the driver over a pipe:
``("train", iteration, policy_in, policy_out)`` -> ``("done", iteration, policy_out, stats)`` or
``("error", iteration, traceback)``; it exits when the pipe closes, so it never outlives the driver.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing as mp
import os
import pickle
import shutil
import sys
import time
import traceback
from pathlib import Path
from typing import Callable

import numpy as np

from codeit.atomic import write_atomically
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


def draw_seed(config: RunConfig, iteration: int) -> int:
    """The seed of meta-iteration ``iteration``'s draw (0: the warm-up's)."""
    return int(np.random.SeedSequence([config.seed, iteration]).generate_state(1)[0])


def draw_ids(buffer, config: RunConfig, iteration: int | None = None) -> tuple[np.ndarray, dict[str, int]]:
    """The experience ids of one meta-iteration's training set, and how many came from each origin.
    With ``iteration`` the buffer's generators are first reseeded from (run seed, iteration)."""
    buffer.refresh()
    if iteration is not None:
        buffer.reseed(draw_seed(config, iteration))
    counts = training_counts(buffer, config)
    if config.learner.with_replacement:
        drawn = buffer.draw_with_replacement(counts)
    else:
        drawn = buffer.draw_without_replacement(counts)
    ids = np.concatenate([v for v in drawn.values()]) if drawn else np.zeros(0, np.int64)
    return ids, {k: int(len(v)) for k, v in drawn.items()}


def examples_of(buffer, ids, policy, config: RunConfig) -> list:
    """The training examples (prompt, program) of the experiences ``ids``, in order."""
    from codeit.train.trainer import Example
    from codeit.run.prompts import experience_task, prompt_text

    return [Example(prompt_text(policy.format, experience_task(e), config), e.program) for e in buffer.experiences(ids)]


def draw_examples(buffer, policy, config: RunConfig, iteration: int | None = None) -> tuple[list, dict[str, int]]:
    ids, drawn = draw_ids(buffer, config, iteration)
    return examples_of(buffer, ids, policy, config), drawn


# -- files a pass leaves beside its checkpoint ----------------------------------------------------

STATS_FILE = "learn_stats.json"
"""Inside a finished checkpoint: the pass's statistics, with the iteration and the policy it started from."""
CHECKPOINT_COST_FACTOR = 20
"""A checkpoint inside a pass waits at least this many times its last write time, so that writing
them costs at most about 1/20 of the pass whatever the model's size."""


def draw_path(policy_out: str | Path) -> Path:
    return Path(str(policy_out) + ".draw.json")


def partial_path(policy_out: str | Path) -> Path:
    return Path(str(policy_out) + ".partial.pt")


def _write_json(data) -> Callable[[Path], None]:
    return lambda p: p.write_text(json.dumps(data))


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def finished_stats(policy_out: str | Path, iteration: int, policy_in: str) -> dict | None:
    """The statistics of a checkpoint already trained for (``iteration``, ``policy_in``), else None."""
    stats = _read_json(Path(policy_out) / STATS_FILE)
    if not isinstance(stats, dict) or stats.get("iteration") != iteration or stats.get("policy_in") != str(policy_in):
        return None
    return stats["stats"]


class PassCheckpoints:
    """The checkpoints inside one pass: when to write the next, and writing it."""

    def __init__(self, policy_out: str | Path, iteration: int, policy_in: str, every_seconds: float):
        self.path = partial_path(policy_out)
        self.identity = {"iteration": iteration, "policy_in": str(policy_in)}
        self.every = every_seconds
        self.written = 0
        self.write_seconds = 0.0
        self._last_cost = 0.0
        self._last_at = time.perf_counter()

    def load(self) -> dict | None:
        """The last checkpoint of this pass, or None (none yet, or of another pass)."""
        import torch

        if not self.path.exists():
            return None
        try:
            saved = torch.load(self.path, map_location="cpu", weights_only=True)
        except (OSError, RuntimeError, EOFError, ValueError, pickle.UnpicklingError):
            return None  # a file this codeit cannot read: start the pass again
        if not isinstance(saved, dict) or saved.get("identity") != self.identity:
            return None
        return saved

    def due(self) -> bool:
        if self.every <= 0:
            return False
        wait = max(self.every, CHECKPOINT_COST_FACTOR * self._last_cost)
        return time.perf_counter() - self._last_at >= wait

    def write(self, model, optimizer, progress) -> None:
        import torch

        t0 = time.perf_counter()
        state = {
            "identity": self.identity,
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "progress": {"steps": progress.steps, "losses": list(progress.losses), "tokens": progress.tokens,
                         "seconds": progress.seconds},
            "torch_rng": progress.torch_rng,
        }
        write_atomically(self.path, lambda p: torch.save(state, p))
        self._last_at = time.perf_counter()
        self._last_cost = self._last_at - t0
        self.written += 1
        self.write_seconds += self._last_cost


def train_iteration(buffer, config: RunConfig, iteration: int, policy_in: str, policy_out: str, device: str) -> dict:
    """Train meta-iteration ``iteration`` (0: the warm-up) from ``policy_in`` into ``policy_out``;
    resumes the pass from its last checkpoint, and returns at once when ``policy_out`` is done."""
    import torch

    from codeit.train.trainer import PassProgress, train
    from codeit.run.prompts import max_sequence_tokens
    from codeit.policy.model import load_policy

    done = finished_stats(policy_out, iteration, policy_in)
    if done is not None:  # trained before a kill that came before the driver counted it
        remove_leftovers(policy_out)
        return done
    started = time.perf_counter()
    learner = config.learner
    policy = load_policy(policy_in)
    identity = {"iteration": iteration, "policy_in": str(policy_in)}
    draw_file = draw_path(policy_out)
    draw = _read_json(draw_file)
    if not isinstance(draw, dict) or draw.get("identity") != identity:
        ids, drawn = draw_ids(buffer, config, iteration)
        draw = {"identity": identity, "ids": [int(i) for i in ids], "drawn": drawn}
        write_atomically(draw_file, _write_json(draw))
    examples = examples_of(buffer, draw["ids"], policy, config)
    checkpoints = PassCheckpoints(policy_out, iteration, policy_in, learner.checkpoint_seconds)
    saved = checkpoints.load()
    policy.model.to(device)
    optimizer = torch.optim.AdamW(policy.model.parameters(), lr=learner.lr, weight_decay=learner.weight_decay)
    resume = None
    if saved is not None:
        policy.model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        resume = PassProgress(**saved["progress"], torch_rng=saved["torch_rng"])

    def after_step(progress) -> None:
        if driver_gone():
            os._exit(1)
        if checkpoints.due():
            checkpoints.write(policy.model, optimizer, progress)

    bar = PassBar("warm-up" if iteration == 0 else f"learning {iteration}", resume.steps if resume else 0)
    try:
        stats = train(
            policy,
            examples,
            lr=learner.lr,
            batch_size=learner.batch_size,
            epochs=learner.warmup_epochs if iteration == 0 else learner.epochs,
            max_seq_len=max_sequence_tokens(config),
            weight_decay=learner.weight_decay,
            device=device,
            seed=config.seed * 1000 + iteration,
            precision=learner.precision,
            optimizer=optimizer,
            resume=resume,
            after_step=after_step,
            progress=bar.update,
        )
    finally:
        bar.close()
    if driver_gone():
        os._exit(1)
    policy.model.to("cpu")
    result = {"drawn": draw["drawn"], **dataclasses.asdict(stats), "wall_seconds": time.perf_counter() - started,
              "resumed_at_step": resume.steps if resume else 0, "pass_checkpoints": checkpoints.written,
              "pass_checkpoint_seconds": checkpoints.write_seconds}
    tmp = Path(f"{policy_out}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    policy.save(tmp)
    (tmp / STATS_FILE).write_text(json.dumps({**identity, "stats": result}))
    shutil.rmtree(policy_out, ignore_errors=True)
    os.replace(tmp, policy_out)
    remove_leftovers(policy_out)
    return result


def remove_leftovers(policy_out: str | Path) -> None:
    """What a finished pass no longer needs: its draw, its last checkpoint inside the pass, and the
    temporary files of writers killed mid-write."""
    out = Path(policy_out)
    for leftover in (partial_path(out), draw_path(out), *out.parent.glob(out.name + ".*.tmp")):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


_DRIVER_PID: int | None = None
"""The driver that started this learner process (None: not a learner process)."""


def driver_gone() -> bool:
    """Whether the driver that started this learner process has died (a SIGKILL leaves the learner
    running its pass; it stops at the next step rather than race its successor's learner)."""
    return _DRIVER_PID is not None and os.getppid() != _DRIVER_PID


class PassBar:
    """The learner's progress bar: redrawn in place on a terminal; in a log (a stream that is not a
    terminal), one line when the pass ends or stops."""

    def __init__(self, desc: str, initial: int):
        self.desc, self.initial = desc, initial
        self.tty = sys.stderr.isatty()
        self.bar = None

    def update(self, step: int, total: int, loss: float) -> None:
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=total, initial=self.initial, desc=self.desc, unit="step", file=sys.stderr,
                            mininterval=0.5, dynamic_ncols=self.tty, delay=0 if self.tty else float("inf"))
        self.bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
        self.bar.update(step - self.bar.n)

    def close(self) -> None:
        if self.bar is None:
            return
        if not self.tty:
            sys.stderr.write(f"{self.bar}\n")
            sys.stderr.flush()
        self.bar.close()


def learner_main(conn, store_path: str, config_dict: dict, device: str) -> None:
    """Process entry point: serve train requests until the pipe closes or says stop."""
    import torch

    from codeit.buffer.replay import BufferConfig, ReplayBuffer

    global _DRIVER_PID
    if mp.parent_process() is not None:
        _DRIVER_PID = os.getppid()
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
