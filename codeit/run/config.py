"""Run configuration: one dataclass, three presets (``cpu``, ``tiny``, ``paper``), loadable from YAML.

``cpu`` is what ``codeit run`` runs with no arguments: the shipped DSL-pretrained policy searching
the held-out synthetic set ``synth/heldout`` on 2 CPU cores within 15 minutes. ``tiny`` is the
smallest run that exercises every stage (a new policy on ARC-AGI-1 evaluation; the tests build
on it). ``paper`` is CodeIt's setting
(Butt et al., 2024): the pretrained CodeT5+ 220M (``Salesforce/codet5p-220m``, a hub id or a local
folder) with its own tokenizer and CodeIt's task encoding, 24 samples per task at temperature 0.95,
lr 5e-5, batch 512, one pass over 10,000 mutation + 90,000 policy experiences per meta-iteration,
19,200 initial mutants, 100 meta-iterations. ``paper-scratch`` is its from-scratch ablation: the
same loop with a new 768x12 Llama over the DSL tokenizer (``ablation.random_init`` on ``paper``
is the paper's own random-initialisation ablation: CodeT5+'s architecture, new weights).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from codeit.execute.limits import SEARCH_LIMITS, Limits
from codeit.policy.config import DTYPES, PolicyConfig


@dataclass
class ExecutionConfig:
    backend: str = "native"
    """"native" (the C++ interpreter) or "reference" (the Python oracle, for debugging); ``--ray``
    puts native interpreters on a Ray cluster instead. Never falls back to another backend."""
    threads: int = 0
    """Interpreter threads; 0 means one per core."""
    limits: Limits = SEARCH_LIMITS
    """Every job's limits (``codeit.execute.limits.Limits``)."""


@dataclass
class SamplingSettings:
    backend: str = "auto"
    """"vllm", "hf" (transformers generate) or "auto" (vLLM when importable and the policy is decoder-only)."""
    samples_per_task: int = 8
    """Programs sampled per search task per meta-iteration (CodeIt: 24)."""
    temperature: float = 0.95
    """Sampling temperature (CodeIt: 0.95)."""
    top_p: float = 1.0
    """Nucleus sampling mass; 1.0 turns it off."""
    top_k: int = 0
    """Top-k sampling; 0 turns it off."""
    max_new_tokens: int = 128
    """Longest program, in tokens."""
    max_prompt_tokens: int = 768
    """Token budget of the task encoding; whole demo pairs are dropped past it."""
    constrained: bool = True
    """Constrain decoding to syntactically valid programs."""
    batch_size: int = 16
    """Prompts per generate call (transformers backend)."""
    cpu_threads: int = 1
    """Torch threads when sampling on a CPU: a small policy's decode steps are too small to split
    across cores, and splitting them costs more than it saves (0: torch's default)."""


@dataclass
class LearnerConfig:
    lr: float = 1e-3
    """AdamW learning rate (CodeIt: 5e-5 for a pretrained CodeT5+)."""
    batch_size: int = 16
    """Training examples per optimizer step (CodeIt: 512)."""
    policy_experiences: int = 800
    """Policy and relabeled experiences drawn per meta-iteration, by priority (CodeIt: 90,000)."""
    mutation_experiences: int = 800
    """Seed and mutation experiences drawn per meta-iteration (CodeIt: 10,000)."""
    with_replacement: bool = False
    """Draw each meta-iteration's experiences independently in proportion to priority (an experience
    that solves its task is trained on many times per pass) instead of as distinct items (CodeIt)."""
    priority_floor: float = 0.0
    """Added to every experience's priority (its demo accuracy) when it is drawn by weight, so that
    experiences solving no demo are still drawn; 0 keeps CodeIt's weights."""
    epochs: int = 1
    """Passes over each meta-iteration's draw (CodeIt: 1)."""
    warmup_epochs: int = 6
    """Passes over the initial buffer's draw before the first sampling (a new policy knows nothing yet)."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    cpu_threads: int = 0
    """Torch threads of the learner process on a CPU (0: one per core). The fused trainer splits each
    batch between this many threads, each running single-threaded ops."""
    precision: str = "auto"
    """Training arithmetic: "fp32", "bf16" (fp32 weights, optimizer and loss; bf16 matmuls) or "auto"
    (bf16 where the device computes it natively: a GPU that says so, a CPU with AVX512-BF16 or AMX)."""
    checkpoint_seconds: float = 10.0
    """Seconds of training between the checkpoints a learning pass writes as it goes (the model, the
    optimizer, the steps taken and the examples drawn), so a killed run resumes inside the pass, not
    at its start. A checkpoint also waits 20 times its own write time, so writing them costs at most
    about 5% of a pass: a small policy's (the ``cpu`` preset's 23 s passes) every 10 s, a paper-size
    one's every few minutes. 0: only the finished pass is saved."""


def _tiny_architecture() -> PolicyConfig:
    # Head size 64 suits vLLM's CPU kernels; two small layers keep CPU training to minutes.
    return PolicyConfig(hidden_size=128, num_layers=2, num_heads=2, intermediate_size=384, max_positions=2048)


@dataclass
class PolicySettings:
    model: str = "default"
    """"default" (a new policy of ``architecture``, saved in the run folder), a local folder, a hub id
    (``Salesforce/codet5p-220m``), ``shipped:NAME`` or ``smollm2:SIZE``. A new run checks it first:
    a model that is neither on this machine nor fetchable stops the run before its folder is made."""
    architecture: PolicyConfig = field(default_factory=_tiny_architecture)
    """Shape of the default policy (ignored when ``model`` names a checkpoint)."""
    device: str = "auto"
    """"cpu", "cuda" or "auto"."""
    dtype: str = "auto"
    """The dtype the sampler serves the policy in: "float32", "bfloat16", "float16" or "auto" (bf16 on
    a GPU that computes it, fp32 on a CPU). The learner keeps fp32 weights; ``learner.precision``
    sets its arithmetic."""

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise ValueError(f"policy.dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")


@dataclass
class AblationConfig:
    relabel: bool = True
    """Hindsight relabeling of sampled programs (off: only exact solutions are kept)."""
    uniform_priorities: bool = False
    """Draw experiences uniformly instead of by demo accuracy."""
    random_init: bool = False
    """Start the policy from random weights even when a pretrained model is given."""
    one_demo: bool = False
    """Show the policy only the first demo pair of each task."""
    mutation_data: bool = True
    """Train on seed and mutation experiences too."""
    mutation_only: bool = False
    """No policy at all: the buffer grows by mutation only (the mutation baseline inside the loop)."""


@dataclass
class RunConfig:
    preset: str = "tiny"
    """Which preset the rest starts from."""
    search_set: str = "arc1/evaluation"
    """Tasks to solve: a task-set spec (see codeit.tasks) or a path."""
    max_search_tasks: int = 32
    """Use only the first N search tasks (0: all). The tiny run keeps minutes by searching a subset."""
    meta_iterations: int = 4
    """Meta-iterations to run (CodeIt: 100)."""
    initial_mutants: int = 2000
    """Mutants of the seed programs added to the initial buffer."""
    seed_dirs: list[str] = field(default_factory=list)
    """Folders of seed programs (``<task_id>.dsl`` files) that start the buffer and that mutation
    grows from, in order; ``builtin`` names the built-in seed library (``dsl/seeds``), so
    ``[builtin, runs/imported]`` adds imported solvers (``codeit import-solvers``) to it. Empty:
    the built-in library alone."""
    seed_tasks: str = "arc1/training"
    """The task set the seed programs belong to (a task-set spec or a path); seeds of other tasks are left out."""
    report_set: str = ""
    """A task set the final policy also samples at the end of the run, policy-only (empty: none)."""
    report_max_tasks: int = 32
    """Tasks of ``report_set`` sampled (the first N; 0: all)."""
    tasks_per_step: int = 8
    """Search tasks sampled, run and stored together; progress is saved after each such step."""
    mode: str = "sync"
    """"sync": sample, then train, as in the paper; "overlapped": keep sampling while the learner trains."""
    seed: int = 0
    """Seed of every random choice of the run."""
    keep_samples: bool = True
    """Write every program the policy samples, valid or not, to ``samples/`` in the run folder (one
    gzipped JSON file per step of tasks, a few hundred KB per meta-iteration of the ``cpu`` preset):
    the workload ``codeit profile --run DIR --sampled`` runs. The store keeps only valid ones."""
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)
    sampling: SamplingSettings = field(default_factory=SamplingSettings)
    learner: LearnerConfig = field(default_factory=LearnerConfig)
    policy: PolicySettings = field(default_factory=PolicySettings)
    ablation: AblationConfig = field(default_factory=AblationConfig)

    def __post_init__(self) -> None:
        bad = [d for d in self.seed_dirs if not isinstance(d, str)]
        if bad:
            raise ValueError(f"seed_dirs: expected folder names (strings), got {bad[0]!r}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


PAPER: dict[str, Any] = {
    "max_search_tasks": 0,
    "meta_iterations": 100,
    "initial_mutants": 19_200,
    "learner": {
        "lr": 5e-5,
        "batch_size": 512,
        "policy_experiences": 90_000,
        "mutation_experiences": 10_000,
        "epochs": 1,
        "warmup_epochs": 1,
    },
    # CodeIt's limits: each half of the encoding (demo inputs, demo outputs) cut to 512 tokens of
    # the policy's tokenizer, programs up to 512 tokens. CodeT5+ has its own tokenizer, which the
    # grammar constraint cannot steer: it samples unconstrained, as CodeIt did.
    # 16 prompts x 24 samples per generate call: T5 keeps each sample's cross-attention keys of a
    # 1,024-token prompt, about 14 GB of them at this batch in bf16.
    "sampling": {"samples_per_task": 24, "temperature": 0.95, "max_new_tokens": 512, "batch_size": 16,
                 "max_prompt_tokens": 1024, "constrained": False},
    "policy": {"model": "Salesforce/codet5p-220m"},
}
"""CodeIt's setting (Butt et al., 2024): CodeT5+ 220M with its own tokenizer, reading CodeIt's task
encoding (the ``codeit`` format, which a checkpoint without a ``codeit_policy.json`` reads)."""

PRESETS: dict[str, dict[str, Any]] = {
    # A tiny run is over in seconds on transformers; a vLLM engine takes 8-40 s to start on a CPU.
    "tiny": {"sampling": {"backend": "hf"}},
    "cpu": {
        "search_set": "synth/heldout",
        "max_search_tasks": 0,
        "meta_iterations": 12,
        "initial_mutants": 1000,
        "tasks_per_step": 16,
        # A 0.48M-parameter policy spreads its samples thinly: twice CodeIt's 24 per task finds twice
        # the tasks over a run (25 of 64 against 15), at a lower temperature, so that a program it
        # has learned comes back.
        "sampling": {"samples_per_task": 48, "temperature": 0.8, "batch_size": 16},
        # Experiences drawn with replacement by demo accuracy plus a small floor: a task's solution
        # is trained on several times per iteration (kept), relabeled experiences fill most draws.
        # A floor of 0.05 kept 14 of 24 found tasks at the last iteration, 0.01 kept 22 of 25.
        "learner": {"lr": 5e-4, "batch_size": 32, "policy_experiences": 2000, "mutation_experiences": 200,
                    "with_replacement": True, "priority_floor": 0.01, "warmup_epochs": 0, "cpu_threads": 1},
        "policy": {"model": "shipped:dsl-small"},
        "report_set": "arc1/evaluation",
        "report_max_tasks": 32,
    },
    "paper": PAPER,
    "paper-scratch": {
        **PAPER,
        # The from-scratch ablation: a 768x12 Llama (CodeT5+ 220M's width, and the depth of each of
        # its two stacks) over the DSL tokenizer, reading our compact encoding, its samples
        # constrained to the grammar; the prompt budget and batch of the preset it was.
        "sampling": {**PAPER["sampling"], "max_prompt_tokens": 2048, "batch_size": 64, "constrained": True},
        "policy": {"model": "default",
                   "architecture": {"hidden_size": 768, "num_layers": 12, "num_heads": 12,
                                    "intermediate_size": 3072, "max_positions": 4096}},
    },
}


def _apply(obj: Any, overrides: dict[str, Any], where: str) -> Any:
    """A copy of the dataclass ``obj`` with ``overrides`` applied, nested sections included."""
    known = {f.name for f in fields(obj)}
    changes = {}
    for key, value in overrides.items():
        if key not in known:
            raise ValueError(f"{where}: unknown setting {key!r} (known: {', '.join(sorted(known))})")
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, dict):
                raise ValueError(f"{where}.{key}: expected a mapping of settings, got {value!r}")
            value = _apply(current, value, f"{where}.{key}")
        elif isinstance(value, bool) and current is not None and not isinstance(current, bool):
            raise ValueError(f"{where}.{key}: expected {type(current).__name__}, got {value!r}")
        elif current is not None and value is not None and not isinstance(value, type(current)):
            if isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            else:
                raise ValueError(f"{where}.{key}: expected {type(current).__name__}, got {value!r}")
        changes[key] = value
    try:
        return dataclasses.replace(obj, **changes)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from None


AT_LEAST: dict[str, float] = {
    # counts where 0 means all, none or off
    "max_search_tasks": 0, "meta_iterations": 0, "initial_mutants": 0, "report_max_tasks": 0,
    "execution.threads": 0, "sampling.top_k": 0, "sampling.cpu_threads": 0, "sampling.temperature": 0,
    "learner.policy_experiences": 0, "learner.mutation_experiences": 0, "learner.epochs": 0,
    "learner.warmup_epochs": 0, "learner.cpu_threads": 0, "learner.weight_decay": 0,
    "learner.priority_floor": 0, "learner.checkpoint_seconds": 0,
    # counts that must be positive
    "tasks_per_step": 1, "sampling.samples_per_task": 1, "sampling.max_new_tokens": 1,
    "sampling.max_prompt_tokens": 1, "sampling.batch_size": 1, "learner.batch_size": 1,
}
"""The least value of each numeric setting (by its dotted name)."""
ABOVE_ZERO = ("learner.lr", "sampling.top_p")
"""Settings that must be greater than 0."""


def check_ranges(config: RunConfig) -> None:
    """Raise ValueError naming the first setting out of its range (a negative count, a zero batch)."""

    def value(name: str):
        node: Any = config
        for part in name.split("."):
            node = getattr(node, part)
        return node

    for name, least in AT_LEAST.items():
        if value(name) < least:
            raise ValueError(f"config.{name}: must be at least {least:g}, got {value(name)!r}")
    for name in ABOVE_ZERO:
        if not value(name) > 0:
            raise ValueError(f"config.{name}: must be greater than 0, got {value(name)!r}")
    if config.sampling.top_p > 1:
        raise ValueError(f"config.sampling.top_p: must be at most 1, got {config.sampling.top_p!r}")
    if config.mode not in ("sync", "overlapped"):
        raise ValueError(f"config.mode: must be 'sync' or 'overlapped', got {config.mode!r}")


def make_config(preset: str = "tiny", overrides: dict[str, Any] | None = None) -> RunConfig:
    """A preset with overrides applied (nested mappings for the sections), its values checked."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}: use one of {', '.join(PRESETS)}")
    config = _apply(RunConfig(preset=preset), PRESETS[preset], f"preset {preset}")
    config = _apply(config, overrides or {}, "config")
    check_ranges(config)
    return config


class _SettingsLoader(yaml.SafeLoader):
    """YAML as settings are written: ``2e-4`` is a float (YAML 1.1 reads a float only with a dot)."""


_SettingsLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def read_yaml(text: str) -> Any:
    """A YAML document of settings (``yaml.safe_load`` that reads ``2e-4`` as a float)."""
    return yaml.load(text, Loader=_SettingsLoader)


def load_config(path: str | Path) -> RunConfig:
    """A YAML file of settings; its ``preset`` key (default ``tiny``) names the base."""
    path = Path(path)
    try:
        data = read_yaml(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of settings at the top level")
    preset = data.pop("preset", "tiny")
    try:
        return make_config(preset, data)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def save_config(config: RunConfig, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))
