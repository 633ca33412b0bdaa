"""Pretraining the policy on the DSL itself: a large interpreter-generated corpus, before any run.

CodeIt starts from CodeT5+, a model pretrained on code; no such weights can be fetched here, so
the policy learns the DSL from a corpus of synthetic tasks (``codeit.synth``: seed mutants and
typed random programs, each run on real ARC inputs, trivial ones rejected), kept disjoint from
every held-out set by program text, output hash and behaviour. Each task is one example: its
prompt, encoded exactly as a run encodes its tasks, and its generating program.

The pass is cut into segments of ``segment_examples``; after each one the model, the optimizer
and the position are saved together (written to a temporary folder, then renamed), so a killed
pretraining resumes at the last segment it finished, and the same settings give the same model.
The summary (``pretrain.json``) gives the loss, tokens/s, and the policy's samples on a sample of
ARC-AGI-1 evaluation (the share of valid programs, mean demo accuracy) and on the held-out set.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import yaml

from codeit.policy.config import PolicyConfig

SCHEMA_VERSION = 1


def _small_architecture() -> PolicyConfig:
    # Head size 64 suits vLLM's CPU kernels; two layers of 128 pretrain on 100,000 examples in
    # about 17 minutes on one core.
    return PolicyConfig(hidden_size=128, num_layers=2, num_heads=2, intermediate_size=384, max_positions=2048)


@dataclass
class PretrainConfig:
    """What to pretrain on and how; the saved checkpoint records it, so the command reproduces it."""

    corpus_tasks: int = 100_000
    """Synthetic tasks in the corpus, one training example each."""
    corpus_seed: int = 1
    """Seed of the corpus (the held-out sets use their own; the corpus excludes them anyway)."""
    seed_dirs: list[str] = field(default_factory=list)
    """Folders of seed programs whose mutants make the corpus's mutant share, as a run's
    ``seed_dirs`` (``builtin``: the built-in library; empty: it alone)."""
    architecture: PolicyConfig = field(default_factory=_small_architecture)
    """Shape of the new policy (ignored when ``init`` names a checkpoint)."""
    init: str = "default"
    """"default" (a new policy of ``architecture``), or a model to start from: a local path, a hub id,
    ``shipped:NAME`` or ``smollm2:SIZE`` (``codeit.policy.shipped.resolve_model``)."""
    lr: float = 2e-3
    """AdamW peak learning rate, reached after ``warmup_steps``."""
    warmup_steps: int = 100
    """Steps of linear learning-rate warm-up from zero."""
    lr_schedule: str = "constant"
    """After warm-up: "constant" at ``lr``, or "cosine": down to ``lr * min_lr_ratio`` at the last step
    (a small model's loss keeps falling as the step noise of a constant rate goes away)."""
    min_lr_ratio: float = 0.05
    """Where the cosine schedule ends, as a fraction of ``lr``."""
    batch_size: int = 32
    """Examples per optimizer step."""
    epochs: int = 1
    """Passes over the corpus."""
    max_examples: int = 0
    """Train on only the first N examples of the shuffled order (0: every example of every pass)."""
    max_prompt_tokens: int = 768
    """Token budget of each prompt, as in the run (whole demo pairs are dropped past it)."""
    segment_examples: int = 4096
    """Examples per saved segment: a kill loses at most one segment's work."""
    eval_tasks: int = 32
    """ARC-AGI-1 evaluation tasks sampled in the summary (the first N)."""
    eval_samples: int = 8
    """Programs sampled per task in the summary."""
    heldout: str = "synth/heldout"
    """A held-out set also sampled in the summary (empty: none)."""
    seed: int = 0
    """Seed of the model's initialisation and of the example order."""
    threads: int = 1
    """Torch threads (0: one per core). One is fastest for a small model on a shared 2-core machine."""

    def __post_init__(self) -> None:
        if self.lr_schedule not in ("constant", "cosine"):
            raise ValueError(f"lr_schedule must be 'constant' or 'cosine', got {self.lr_schedule!r}")
        if not 0.0 <= self.min_lr_ratio <= 1.0:
            raise ValueError(f"min_lr_ratio must be within [0, 1], got {self.min_lr_ratio}")
        if not isinstance(self.seed_dirs, list) or not all(isinstance(d, str) for d in self.seed_dirs):
            raise ValueError(f"seed_dirs: expected a list of folder names, got {self.seed_dirs!r}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @staticmethod
    def from_dict(data: dict) -> "PretrainConfig":
        data = dict(data)
        known = {f.name for f in dataclasses.fields(PretrainConfig)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown pretraining setting {unknown[0]!r} (known: {', '.join(sorted(known))})")
        if isinstance(data.get("architecture"), dict):
            data["architecture"] = PolicyConfig(**data["architecture"])
        return PretrainConfig(**data)


def load_pretrain_config(path: str | Path) -> PretrainConfig:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of settings")
    try:
        return PretrainConfig.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from None


def run_config_for(config: PretrainConfig):
    """The run settings whose prompt encoding and sampling the pretraining shares."""
    from codeit.run.config import make_config

    return make_config("tiny", {"sampling": {"max_prompt_tokens": config.max_prompt_tokens}, "seed": config.seed})


# --- the corpus ---------------------------------------------------------------------------------

def build_corpus(config: PretrainConfig, out_dir: Path, progress: Callable[[int, int], None] | None = None) -> Path:
    """The corpus as ``corpus.jsonl`` (one ``{"task": ..., "program": ...}`` a line), generated once."""
    path = out_dir / "corpus.jsonl"
    if path.exists():
        return path
    from codeit.search.initial import load_seed_programs
    from codeit.synth import SynthConfig, generate_corpus
    from codeit.tasks import load_tasks

    result = generate_corpus(SynthConfig(n_tasks=config.corpus_tasks, seed=config.corpus_seed), load_tasks,
                             progress=progress, seeds=load_seed_programs(config.seed_dirs))
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as f:
        for t in result.tasks:
            f.write(json.dumps({"id": t.id, "program": t.program, "n_train": t.n_train,
                                "inputs": [g.tolist() for g in t.inputs],
                                "outputs": [g.tolist() for g in t.outputs]}, separators=(",", ":")) + "\n")
    os.replace(tmp, path)
    (out_dir / "corpus.json").write_text(json.dumps(result.stats.to_dict(), indent=1))
    return path


def corpus_examples(path: Path, policy, run_config) -> list:
    """Training examples of the corpus: the demo pairs as the run's prompt, the program as target."""
    from codeit.run.prompts import prompt_text
    from codeit.tasks import Pair, Task
    from codeit.train.trainer import Example

    examples = []
    with open(path) as f:
        for line in f:
            row = json.loads(line)
            pairs = tuple(Pair(np.asarray(i, np.uint8), np.asarray(o, np.uint8))
                          for i, o in zip(row["inputs"], row["outputs"]))
            task = Task(row["id"], pairs[: row["n_train"]], pairs[row["n_train"]:])
            examples.append(Example(prompt_text(policy.format, task, run_config), row["program"]))
    return examples


# --- the resumable pass -------------------------------------------------------------------------

@dataclass
class PretrainState:
    """Where a pretraining stands; saved with its checkpoint."""

    schema_version: int = SCHEMA_VERSION
    segments_done: int = 0
    """Segments of the example order trained so far."""
    steps: int = 0
    tokens: int = 0
    train_seconds: float = 0.0
    losses: list = field(default_factory=list)
    """Mean loss of each segment."""


def _save(out_dir: Path, policy, optimizer, state: PretrainState) -> None:
    import torch

    final = out_dir / "checkpoint"
    tmp = out_dir / "checkpoint.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    policy.save(tmp)
    torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    (tmp / "pretrain_state.json").write_text(json.dumps(dataclasses.asdict(state)))
    old = out_dir / "checkpoint.old"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)


def lr_multiplier(config: PretrainConfig, step: int, steps_total: int) -> float:
    """The learning rate of global step ``step`` (from 0) as a fraction of ``config.lr``."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    if config.lr_schedule == "constant":
        return 1.0
    decay_steps = max(1, steps_total - config.warmup_steps - 1)
    progress = min(1.0, (step - config.warmup_steps) / decay_steps)
    floor = config.min_lr_ratio
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


def _start(out_dir: Path, config: PretrainConfig):
    """(policy, optimizer, state): from the last saved segment, or new."""
    import torch

    from codeit.policy.model import create_policy, load_policy
    from codeit.policy.shipped import resolve_model

    final = out_dir / "checkpoint"
    if not final.exists() and (out_dir / "checkpoint.old").exists():
        os.replace(out_dir / "checkpoint.old", final)  # killed between the two renames of _save
    if final.exists():
        policy = load_policy(final)
        state = PretrainState(**json.loads((final / "pretrain_state.json").read_text()))
        optimizer = torch.optim.AdamW(policy.model.parameters(), lr=config.lr)
        optimizer.load_state_dict(torch.load(final / "optimizer.pt"))
        return policy, optimizer, state
    torch.manual_seed(config.seed)
    if config.init == "default":
        policy = create_policy(dataclasses.replace(config.architecture, seed=config.seed))
    else:
        policy = load_policy(resolve_model(config.init))
    optimizer = torch.optim.AdamW(policy.model.parameters(), lr=config.lr)
    return policy, optimizer, PretrainState()


def pretrain(config: PretrainConfig, out_dir: str | Path, *, log: Callable[[str], None] = print) -> dict:
    """Pretrain (or resume) in ``out_dir``; returns the summary it also writes to ``pretrain.json``."""
    import torch
    from tqdm import tqdm

    from codeit.train.trainer import train

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stored = out_dir / "pretrain.yaml"
    if stored.exists():
        if load_pretrain_config(stored) != config:
            raise ValueError(f"{out_dir} holds a pretraining of other settings ({stored}): resume it with "
                             "those settings, or choose a new folder")
    else:
        stored.write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))
    if config.threads:
        torch.set_num_threads(config.threads)
    run_config = run_config_for(config)

    t0 = time.perf_counter()
    bar = tqdm(total=config.corpus_tasks, desc="corpus", unit="task", mininterval=2.0,
               disable=(out_dir / "corpus.jsonl").exists())

    def corpus_progress(done: int, total: int, *rest) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    corpus = build_corpus(config, out_dir, corpus_progress)
    bar.close()
    corpus_seconds = time.perf_counter() - t0

    policy, optimizer, state = _start(out_dir, config)
    examples = corpus_examples(corpus, policy, run_config)
    order = np.concatenate([np.random.default_rng([config.seed, e]).permutation(len(examples))
                            for e in range(config.epochs)])
    if config.max_examples:
        order = order[: config.max_examples]
    n_segments = math.ceil(len(order) / config.segment_examples)
    steps_total = sum(math.ceil(min(config.segment_examples, len(order) - s * config.segment_examples)
                                / config.batch_size) for s in range(n_segments))
    where = f"; resuming at segment {state.segments_done}/{n_segments}" if state.segments_done else ""
    log(f"pretraining {describe_policy(policy)} on {len(order):,} examples of a corpus of {len(examples):,} "
        f"({steps_total:,} steps of {config.batch_size}){where}")
    bar = tqdm(total=steps_total, initial=state.steps, desc="pretrain", unit="step", mininterval=2.0)
    max_seq = config.max_prompt_tokens + run_config.sampling.max_new_tokens + 4
    try:
        for segment in range(state.segments_done, n_segments):
            chosen = order[segment * config.segment_examples:(segment + 1) * config.segment_examples]
            done_before = state.steps

            def step_progress(step: int, total: int, loss: float) -> None:
                bar.n = done_before + step
                bar.set_postfix(loss=f"{loss:.3f}")
                bar.refresh()

            stats = train(policy, [examples[k] for k in chosen], lr=config.lr, batch_size=config.batch_size,
                          max_seq_len=max_seq, seed=config.seed * 100_003 + segment, optimizer=optimizer,
                          lr_scale=lambda i, first=state.steps: lr_multiplier(config, first + i, steps_total),
                          progress=step_progress)
            state.segments_done = segment + 1
            state.steps += stats.steps
            state.tokens += stats.tokens
            state.train_seconds += stats.seconds
            state.losses.append(round(stats.mean_loss, 4))
            _save(out_dir, policy, optimizer, state)
    finally:
        bar.close()

    summary = {
        "checkpoint": str(out_dir / "checkpoint"),
        "policy": describe_policy(policy),
        "corpus_examples": len(examples),
        "examples": int(len(order)),
        "steps": state.steps,
        "tokens": state.tokens,
        "tokens_per_second": round(state.tokens / state.train_seconds, 1) if state.train_seconds else 0.0,
        "train_seconds": round(state.train_seconds, 1),
        "corpus_seconds_this_call": round(corpus_seconds, 1),
        "loss_first_segment": state.losses[0] if state.losses else None,
        "loss_last_segment": state.losses[-1] if state.losses else None,
        "segment_losses": state.losses,
    }
    summary["samples"] = sample_quality(out_dir / "checkpoint", config, run_config, log)
    (out_dir / "pretrain.json").write_text(json.dumps(summary, indent=1))
    return summary


def describe_policy(policy) -> str:
    n = sum(p.numel() for p in policy.model.parameters())
    return f"{type(policy.model).__name__} of {n / 1e6:.2f}M parameters"


def sample_quality(checkpoint: Path, config: PretrainConfig, run_config, log: Callable[[str], None]) -> dict:
    """The policy's samples on ARC-AGI-1 evaluation (first ``eval_tasks``) and the held-out set:
    valid share (runs OK on every demo input), mean demo accuracy, tasks solved. Decoding is
    constrained as the run's settings say where the policy has the DSL tokenizer, and unconstrained
    for a policy of another tokenizer (a general model started from ``init``), which the
    constraint cannot steer; each set's entry says which."""
    from codeit.execute.backends import make_executor
    from codeit.policy.model import PromptFormat
    from codeit.run.sampling import open_run_sampler
    from codeit.run.scoreboard import solved_tasks
    from codeit.search.step import search_step
    from codeit.tasks import load_tasks

    out = {}
    sets = {"arc1/evaluation": config.eval_tasks}
    if config.heldout:
        sets[config.heldout] = 0
    constrained = run_config.sampling.constrained and PromptFormat.from_pretrained(checkpoint).dsl_vocab
    run_config = dataclasses.replace(run_config, sampling=dataclasses.replace(
        run_config.sampling, samples_per_task=config.eval_samples, constrained=constrained))
    executor = make_executor(run_config.execution.backend, limits=run_config.execution.limits)
    sampler = open_run_sampler(run_config, checkpoint, "cpu")
    try:
        for spec, limit in sets.items():
            tasks = list(load_tasks(spec))
            tasks = tasks[:limit] if limit else tasks
            t0 = time.perf_counter()
            texts = sampler.sample_tasks(tasks)
            step = search_step(tasks, texts, executor, relabel_experiences=False)
            solved = solved_tasks(step.candidates)
            stats = step.stats
            out[spec] = {
                "tasks": len(tasks),
                "samples_per_task": config.eval_samples,
                "constrained": constrained,
                "parse_rate": round(stats.parse_rate, 4),
                "valid_rate": round(stats.valid / stats.sampled, 4) if stats.sampled else 0.0,
                "mean_demo_accuracy": round(stats.mean_demo_accuracy, 4),
                "solved": len(solved),
                "solved_ids": solved,
                "seconds": round(time.perf_counter() - t0, 1),
            }
            log(f"{spec}: {out[spec]['valid_rate']:.1%} valid, mean demo accuracy "
                f"{out[spec]['mean_demo_accuracy']:.3f}, {len(solved)}/{len(tasks)} solved at {config.eval_samples} samples")
    finally:
        sampler.close()
    return out
