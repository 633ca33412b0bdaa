"""The run's own bookkeeping as one typed record, loaded once and saved whole.

:class:`RunState` is everything the driver needs to know to continue a run: how far it got, which
policy it samples with, where the time went. It lives in the run's experience store as one JSON
value (``run_state['run']``), so each save replaces the whole record in one transaction, and the
save that counts a finished meta-iteration is the same transaction that stores its metrics row
(:meth:`RunState.commit_iteration`).

A store whose run state is in the older layout (one key per item: ``iterations_done``,
``policy_path``, ...) is refused with :class:`RunStateError` naming the run folder.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codeit.search.step import StepStats

if TYPE_CHECKING:
    from codeit.buffer.store import ExperienceStore

RUN_STATE_KEY = "run"
"""The key of the record in the store's ``run_state`` table."""
RUN_STATE_VERSION = 1
"""Layout version of the record; a record of another version is refused, not guessed at."""


class RunStateError(ValueError):
    """The run state in a store cannot be read by this codeit (an older layout or version)."""


@dataclass
class SamplingProgress:
    """How far the sampling of one meta-iteration got (saved after every step of tasks)."""

    iteration: int
    """The meta-iteration being sampled."""
    tasks_done: int = 0
    """Search tasks sampled, run and stored so far (a prefix of the run's search tasks)."""
    stats: StepStats = field(default_factory=StepStats)
    """The counts and timings of those steps, added up."""
    sample_seconds: float = 0.0
    """Wall seconds spent in the sampler for those steps."""

    def to_json(self) -> dict[str, Any]:
        return {"iteration": self.iteration, "tasks_done": self.tasks_done,
                "stats": dataclasses.asdict(self.stats), "sample_seconds": self.sample_seconds}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "SamplingProgress":
        return cls(iteration=int(data["iteration"]), tasks_done=int(data["tasks_done"]),
                   stats=StepStats(**data["stats"]), sample_seconds=float(data["sample_seconds"]))


@dataclass
class RunState:
    """Everything a run has done that its driver must remember across a stop."""

    version: int = RUN_STATE_VERSION
    """Layout version of this record (:data:`RUN_STATE_VERSION`)."""
    initial_buffer_done: bool = False
    """The seeds and their mutants are in the store (the initial buffer is built once)."""
    policy_path: str | None = None
    """The checkpoint the sampler uses now; None until the warm-up has trained one."""
    iterations_done: int = 0
    """Meta-iterations finished and counted (each has its metrics row in the store)."""
    programs_sampled_total: int = 0
    """Programs sampled over the finished meta-iterations."""
    stage_seconds: dict[str, float] = field(default_factory=dict)
    """Wall seconds per stage over the whole run, resumed runs included."""
    learn: dict[int, dict[str, Any]] = field(default_factory=dict)
    """The learner's statistics per meta-iteration whose policy was adopted (0: the warm-up)."""
    sampling: SamplingProgress | None = None
    """Progress of the meta-iteration being sampled; None between meta-iterations."""

    # -- JSON -------------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "initial_buffer_done": self.initial_buffer_done,
            "policy_path": self.policy_path,
            "iterations_done": self.iterations_done,
            "programs_sampled_total": self.programs_sampled_total,
            "stage_seconds": dict(self.stage_seconds),
            "learn": {str(k): v for k, v in sorted(self.learn.items())},
            "sampling": None if self.sampling is None else self.sampling.to_json(),
        }

    @classmethod
    def from_json(cls, data: Any, where: str | Path = "run state") -> "RunState":
        if not isinstance(data, dict):
            raise RunStateError(f"{where}: the run state is not a record ({type(data).__name__})")
        version = data.get("version")
        if version != RUN_STATE_VERSION:
            raise RunStateError(f"{where}: run state version {version!r}, but this codeit reads version "
                                f"{RUN_STATE_VERSION} only; use the codeit that wrote it, or a new run folder")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise RunStateError(f"{where}: unknown run state field(s) {', '.join(unknown)}")
        try:
            return cls(
                version=version,
                initial_buffer_done=bool(data.get("initial_buffer_done", False)),
                policy_path=data.get("policy_path"),
                iterations_done=int(data.get("iterations_done", 0)),
                programs_sampled_total=int(data.get("programs_sampled_total", 0)),
                stage_seconds={str(k): float(v) for k, v in (data.get("stage_seconds") or {}).items()},
                learn={int(k): dict(v) for k, v in (data.get("learn") or {}).items()},
                sampling=None if data.get("sampling") is None else SamplingProgress.from_json(data["sampling"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise RunStateError(f"{where}: malformed run state ({exc!r})") from None

    # -- the store --------------------------------------------------------------------------------

    @classmethod
    def load(cls, store: "ExperienceStore", where: str | Path) -> "RunState":
        """The record in ``store``; a new record when the store holds no run state at all.

        ``where`` (the run folder) names the run in errors. Raises :class:`RunStateError` for a
        store written by an older codeit (run state under one key per item)."""
        data = store.get_state(RUN_STATE_KEY)
        if data is None:
            keys = store.state_keys()
            if keys:
                shown = ", ".join(keys[:4]) + (", ..." if len(keys) > 4 else "")
                raise RunStateError(
                    f"{where}: this run folder was written by an older codeit (its store {store.path} keeps the "
                    f"run state under separate keys: {shown}), which this version does not read; "
                    "start the run in a new folder"
                )
            return cls()
        return cls.from_json(data, where)

    def save(self, store: "ExperienceStore") -> None:
        """Replace the stored record with this one (one transaction)."""
        store.set_state(RUN_STATE_KEY, self.to_json())

    def commit_step(self, store: "ExperienceStore", experiences, output_hashes, solutions) -> None:
        """Store one sampling step's experiences (with their output hashes) and candidate solutions,
        and this record (which counts the step), in ONE transaction."""
        store.add_experiences(experiences, output_hashes, solutions=solutions, state={RUN_STATE_KEY: self.to_json()})

    def commit_iteration(self, store: "ExperienceStore", iteration: int, metrics_row: dict) -> None:
        """Store this record and the metrics row of ``iteration`` in ONE transaction."""
        store.commit_iteration(iteration, metrics_row, {RUN_STATE_KEY: self.to_json()})
