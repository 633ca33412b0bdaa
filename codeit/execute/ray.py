"""``RayExecutor``: the ``codeit.execute.executor.Executor`` protocol over Ray actors that each hold a native interpreter.

One call ships its programs (packed flat, ``codeit.execute.packing``) and its grids to Ray's object
store once; the jobs are cut into batches of consecutive rows, and every batch is a task on one
actor, which compiles only the programs that batch uses and runs it on its own thread pool.
Finished batches come back in order of completion (``submit`` returns an iterator over them) and
``run`` reassembles them in job order.

An actor that dies (node lost, process killed, ``ray.kill``) fails every batch it holds; each of
those batches is sent again to a live actor (a fresh actor replaces the dead one), and a batch id
that has already been delivered is never delivered again, so every job has exactly one result.
"""

from __future__ import annotations

import os
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import numpy as np
import ray
from ray.exceptions import RayActorError, RayTaskError, WorkerCrashedError

from codeit.execute.packing import PackedPrograms, pack_programs
from codeit.cluster import ClusterError
from codeit.execute.executor import ExecResult
from codeit.execute.limits import Limits
from codeit.grids import SIDE, GridBatch


@dataclass(frozen=True)
class RayExecutorConfig:
    """How the Ray executor spreads work."""

    actors: int = 2
    """Interpreter actors kept alive for the executor's lifetime."""
    threads_per_actor: int = 1
    """Native worker threads in each actor; also the CPUs Ray reserves for it."""
    batch_size: int = 2048
    """Jobs per Ray task: larger amortises Ray's per-task cost, smaller balances load and loses less on a death."""
    inflight_per_actor: int = 2
    """Batches queued on each actor at once, so an actor never idles waiting for its next batch."""
    max_attempts: int = 3
    """Times one batch may be sent before the call fails (actor deaths only; a bug fails at once)."""
    replace_dead_actors: bool = True
    """Start a fresh actor for each one that dies, keeping the pool at ``actors``."""
    spread: bool = True
    """Ask Ray to place actors on different nodes (``SPREAD``) rather than pack them on one."""


class ExecutionWorker:
    """The body of one actor: a native interpreter with its own thread pool."""

    def __init__(self, threads: int, limits: Limits):
        from codeit.execute.native import NativeInterpreter

        self.interpreter = NativeInterpreter(threads=threads, limits=limits)
        self._call: str | None = None
        self._inputs: tuple[PackedPrograms, GridBatch] | None = None
        self._all = None
        self._compiled = 0

    def ready(self) -> int:
        return os.getpid()

    def cpu_seconds(self) -> float:
        """CPU time this actor's process has used (its interpreter threads included)."""
        return time.process_time()

    def run(self, call: str, batch_id: int, inputs: list, jobs: np.ndarray):
        """Run one batch of call ``call``; ``inputs`` holds the references to its programs and grids.

        Returns (batch_id, status, steps, shapes, rows with an output, those outputs).
        """
        from codeit.execute.native import CompiledPrograms

        if self._call != call:
            # Passed nested, the references are not resolved per task: fetched once per call here.
            programs, (data, shapes) = ray.get(inputs)
            self._call, self._inputs, self._all, self._compiled = call, (programs, GridBatch(data, shapes)), None, 0
        programs, grids = self._inputs
        if self._all is not None:
            compiled, local_jobs = self._all, jobs
        else:
            used, local = np.unique(jobs[:, 0], return_inverse=True)
            # Compile what the batch uses until that would add up to more than compiling the whole call
            # once: then compile it all and keep it (at most twice the least compiling, whatever the job order).
            if self._compiled + len(used) > len(programs):
                self._all = CompiledPrograms(programs.program(p) for p in range(len(programs)))
                compiled, local_jobs = self._all, jobs
            else:
                self._compiled += len(used)
                compiled = CompiledPrograms(programs.program(int(p)) for p in used)
                local_jobs = np.stack([local, jobs[:, 1]], axis=1)
        r = self.interpreter.run_batch(compiled, grids, local_jobs.astype(np.int32))
        # Only successful runs carry a grid; most sampled programs fail, so ship just those.
        with_output = np.flatnonzero(r.shapes[:, 0])
        return batch_id, r.status, r.steps, r.shapes, with_output, r.outputs[with_output]


_RemoteWorker = ray.remote(max_restarts=0)(ExecutionWorker)


@dataclass
class _Actor:
    handle: Any
    serial: int
    """Unique over the executor's life (a replacement gets a new one)."""
    alive: bool = True


@dataclass(frozen=True)
class FinishedBatch:
    """One batch of consecutive jobs, as delivered by ``ExecStream``."""

    batch_id: int
    start: int
    """First job row of the batch."""
    stop: int
    """One past its last job row."""
    status: np.ndarray
    """int32 [stop - start]: status codes (``dsl.values.Status``)."""
    steps: np.ndarray
    """int64 [stop - start]: steps used."""
    outputs: GridBatch
    """Output grids of the batch's jobs (0 x 0 where a job did not succeed)."""
    attempts: int
    """Times the batch was sent (1 unless an actor died holding it)."""
    actor: int
    """Serial number of the actor that ran it (``RayExecutor.handle(serial)``)."""


class ExecStream:
    """The batches of one ``RayExecutor.submit`` call, yielded as they finish."""

    def __init__(self, executor: "RayExecutor", programs_ref, grids_ref, jobs: np.ndarray, collect: bool):
        self._executor = executor
        self._programs_ref = programs_ref
        self._grids_ref = grids_ref
        self._call = programs_ref.hex()
        self.jobs = jobs
        size = executor.config.batch_size
        self.bounds = [(a, min(a + size, len(jobs))) for a in range(0, len(jobs), size)]
        self._pending: deque[int] = deque(range(len(self.bounds)))
        self._inflight: dict[Any, tuple[int, _Actor]] = {}
        self._ready: deque[tuple[Any, int, _Actor]] = deque()
        self._attempts = [0] * len(self.bounds)
        self.delivered: set[int] = set()
        """Batch ids already yielded (a batch is never yielded twice)."""
        self.retries = 0
        """Batches sent again because the actor holding them died."""
        self._collect = collect
        if collect:
            n = len(jobs)
            self._status = np.zeros(n, dtype=np.int32)
            self._steps = np.zeros(n, dtype=np.int64)
            self._data = np.zeros((n, SIDE, SIDE), dtype=np.uint8)
            self._shapes = np.zeros((n, 2), dtype=np.int32)

    def __len__(self) -> int:
        """Number of batches."""
        return len(self.bounds)

    def __iter__(self) -> Iterator[FinishedBatch]:
        return self

    def __next__(self) -> FinishedBatch:
        while len(self.delivered) < len(self.bounds):
            if not self._ready:
                self._dispatch()
                refs = list(self._inflight)
                ready, rest = ray.wait(refs, num_returns=1)
                if rest:
                    ready += ray.wait(rest, num_returns=len(rest), timeout=0)[0]
                for ref in ready:
                    self._ready.append((ref, *self._inflight.pop(ref)))
                # The actors that finished get their next batches before this thread unpacks results.
                self._dispatch()
            ref, batch_id, actor = self._ready.popleft()
            try:
                out = ray.get(ref)
            except RayTaskError as exc:
                # An exception inside the interpreter layer is a bug, not a lost machine: retrying hides it.
                start, stop = self.bounds[batch_id]
                raise ClusterError(f"batch {batch_id} (jobs {start}..{stop - 1}) failed on actor "
                                   f"{actor.serial}: {exc}") from exc
            except (RayActorError, WorkerCrashedError) as exc:
                self._executor._lost(actor)
                self._retry(batch_id, exc)
                continue
            if batch_id in self.delivered:
                continue
            self.delivered.add(batch_id)
            return self._finish(batch_id, out, actor)
        raise StopIteration

    def _dispatch(self) -> None:
        load: dict[int, int] = {}
        for _, actor in self._inflight.values():
            load[actor.serial] = load.get(actor.serial, 0) + 1
        limit = self._executor.config.inflight_per_actor
        for actor in self._executor.live_actors():
            while self._pending and load.get(actor.serial, 0) < limit:
                batch_id = self._pending.popleft()
                start, stop = self.bounds[batch_id]
                self._attempts[batch_id] += 1
                ref = actor.handle.run.remote(self._call, batch_id, [self._programs_ref, self._grids_ref],
                                              self.jobs[start:stop])
                self._inflight[ref] = (batch_id, actor)
                load[actor.serial] = load.get(actor.serial, 0) + 1
        if self._pending and not self._inflight and not self._ready:
            raise ClusterError(f"no live actor to run {len(self._pending)} remaining batches")

    def _retry(self, batch_id: int, exc: Exception) -> None:
        if batch_id in self.delivered:
            return
        if self._attempts[batch_id] >= self._executor.config.max_attempts:
            start, stop = self.bounds[batch_id]
            raise ClusterError(f"batch {batch_id} (jobs {start}..{stop - 1}) lost its actor "
                               f"{self._attempts[batch_id]} times; last error: {exc}") from exc
        self.retries += 1
        self._pending.appendleft(batch_id)

    def _finish(self, batch_id: int, out, actor: _Actor) -> FinishedBatch:
        _, status, steps, shapes, with_output, grids = out
        start, stop = self.bounds[batch_id]
        if self._collect:
            # Write straight into the call's arrays; the batch's fields are views of them.
            self._status[start:stop] = status
            self._steps[start:stop] = steps
            self._shapes[start:stop] = shapes
            self._data[start + with_output] = grids
            status, steps = self._status[start:stop], self._steps[start:stop]
            outputs = GridBatch(self._data[start:stop], self._shapes[start:stop])
        else:
            data = np.zeros((stop - start, SIDE, SIDE), dtype=np.uint8)
            data[with_output] = grids
            status, steps = status.astype(np.int32), np.asarray(steps, dtype=np.int64)
            outputs = GridBatch(data, np.asarray(shapes, dtype=np.int32))
        return FinishedBatch(batch_id, start, stop, status, steps, outputs, self._attempts[batch_id], actor.serial)

    def result(self):
        """Every job's result in job order (waits for the batches not yet delivered)."""
        if not self._collect:
            raise ClusterError("this stream was submitted with collect=False: iterate it instead")
        for _ in self:
            pass
        return ExecResult(self._status, self._steps, GridBatch(self._data, self._shapes))


@dataclass
class RayExecutor:
    """``codeit.execute.executor.Executor`` over a pool of Ray actors; needs ``ray.init`` first."""

    name = "ray"

    limits: Limits = field(default_factory=Limits)
    """Every job's limits, carried whole to the actors' native interpreters."""
    config: RayExecutorConfig = field(default_factory=RayExecutorConfig)
    _actors: list[_Actor] = field(init=False, repr=False, default_factory=list)
    _serials: int = field(init=False, repr=False, default=0)

    def __post_init__(self):
        if not ray.is_initialized():
            raise ClusterError("RayExecutor needs a Ray connection: call codeit.cluster.connect(...) or ray.init(...) first")
        for _ in range(self.config.actors):
            self._start_actor()
        try:
            ray.get([a.handle.ready.remote() for a in self._actors])
        except RayActorError as exc:
            self.close()
            raise ClusterError(f"an interpreter actor failed to start (is codeit, with its native module, "
                               f"installed on every node?): {exc}") from exc

    @classmethod
    def for_run(cls, execution, threads_per_actor: int = 4) -> "RayExecutor":
        """The executor ``codeit run --ray`` and ``codeit eval --ray`` use: a run config's execution limits,
        and actors of ``threads_per_actor`` threads (``execution.threads`` when set) filling the cluster's CPUs."""
        from codeit.cluster import cluster_cpus

        cpus = max(1, cluster_cpus())
        threads = max(1, min(execution.threads or threads_per_actor, cpus))
        return cls(execution.limits, RayExecutorConfig(actors=max(1, cpus // threads), threads_per_actor=threads))

    def _start_actor(self) -> _Actor:
        options: dict[str, Any] = {"num_cpus": self.config.threads_per_actor}
        if self.config.spread:
            options["scheduling_strategy"] = "SPREAD"
        handle = _RemoteWorker.options(**options).remote(self.config.threads_per_actor, self.limits)
        self._serials += 1
        actor = _Actor(handle, self._serials)
        self._actors.append(actor)
        return actor

    def live_actors(self) -> list[_Actor]:
        return [a for a in self._actors if a.alive]

    @property
    def actors(self) -> list[Any]:
        """Handles of the live actors (for monitoring, or for killing one in a test)."""
        return [a.handle for a in self.live_actors()]

    def cpu_seconds(self) -> float:
        """CPU time used so far by the live actors' processes, summed (for measuring, e.g. bench/cluster.py)."""
        return float(sum(ray.get([a.handle.cpu_seconds.remote() for a in self.live_actors()])))

    def handle(self, serial: int) -> Any:
        """The actor handle of serial number ``serial`` (see ``FinishedBatch.actor``)."""
        return next(a.handle for a in self._actors if a.serial == serial)

    def _lost(self, actor: _Actor) -> None:
        if not actor.alive:
            return
        actor.alive = False
        if self.config.replace_dead_actors:
            self._start_actor()

    def submit(self, programs: Sequence[Any] | PackedPrograms, grids: Sequence[np.ndarray] | GridBatch,
               jobs: np.ndarray, *, collect: bool = True) -> ExecStream:
        """Start running ``programs[jobs[k, 0]]`` on ``grids[jobs[k, 1]]``; iterate the stream for finished
        batches, or call its ``result()``. ``collect=False`` keeps no copy of the results (stream only)."""
        from codeit.execute.native import pack_grids

        packed = programs if isinstance(programs, PackedPrograms) else pack_programs(programs)
        data, shapes = pack_grids(grids)
        jobs = np.ascontiguousarray(np.asarray(jobs, dtype=np.int64).reshape(-1, 2))
        if len(jobs):
            bad = np.flatnonzero((jobs[:, 0] < 0) | (jobs[:, 0] >= len(packed)) | (jobs[:, 1] < 0) | (jobs[:, 1] >= len(shapes)))
            if len(bad):
                k = int(bad[0])
                raise IndexError(f"job {k} = ({jobs[k, 0]}, {jobs[k, 1]}) is out of range: "
                                 f"{len(packed)} programs, {len(shapes)} grids")
        return ExecStream(self, ray.put(packed), ray.put((data, shapes)), jobs, collect)

    def run(self, programs: Sequence[Any], grids: Sequence[np.ndarray], jobs: np.ndarray):
        """Run every job; results in job order (the ``Executor`` protocol)."""
        return self.submit(programs, grids, jobs).result()

    def close(self) -> None:
        for actor in self._actors:
            if actor.alive:
                ray.kill(actor.handle)
                actor.alive = False

    def __enter__(self) -> "RayExecutor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
