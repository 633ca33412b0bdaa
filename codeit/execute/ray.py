"""``RayExecutor``: the ``codeit.execute.executor.Executor`` protocol over Ray actors that each hold a native interpreter.

The actors keep what they were sent: every program (as the native interpreter's arrays) and every
grid crosses to an actor once, keyed by its content, and stays resident under a numeric id. A call
registers its programs and grids with the driver's ``_Catalog`` (a program object seen before is
found by identity, anything else by a digest of its content); only what no actor has yet is packed,
as one *delta* put once in Ray's object store, and each actor receives the deltas it lacks with its
next batch. A call then ships its *context* once per actor: the resident ids of its programs and its
job rows (grid column already translated to resident grid ids); every batch after that is only
``(call, batch id, first row, last row)``. An actor compiles a call's programs once, and keeps the
compiled set for the next call over the same program list.

The jobs are cut into batches of consecutive rows; several batches are in flight on each actor
(``inflight_per_actor``), so an actor never idles while its last result crosses back. Finished
batches come back in order of completion (``submit`` returns an iterator over them) and ``run``
reassembles them in job order.

An actor that dies (node lost, process killed, ``ray.kill``) fails every batch it holds; each of
those batches is sent again to a live actor (a fresh actor replaces the dead one, and is sent every
delta from the start), and a batch id that has already been delivered is never delivered again, so
every job has exactly one result.

``RayShardedScorer`` runs the mutation baseline's shared scoring (``SharedScorer``) on the same
actors: the search set is sent to each actor once, each block's seed groups are cut into shards,
and the shards' results are put back in group order, with the same retry rule.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import numpy as np
import ray
from ray.exceptions import RayActorError, RayTaskError, WorkerCrashedError

from codeit.cluster import ClusterError
from codeit.dsl.program import Program, ProgramArrays
from codeit.execute.executor import ExecResult
from codeit.execute.limits import Limits
from codeit.execute.packing import PackedPrograms, as_arrays, pack_programs
from codeit.grids import SIDE, GridBatch

_LOST = (RayActorError, WorkerCrashedError)


@dataclass(frozen=True)
class RayExecutorConfig:
    """How the Ray executor spreads work."""

    actors: int = 2
    """Interpreter actors kept alive for the executor's lifetime."""
    threads_per_actor: int = 1
    """Native worker threads in each actor; also the CPUs Ray reserves for it."""
    batch_size: int = 2048
    """Jobs per Ray task: larger amortises Ray's per-task cost, smaller balances load and loses less on a death."""
    inflight_per_actor: int = 3
    """Batches queued on each actor at once, so an actor never idles waiting for its next batch."""
    max_attempts: int = 3
    """Times one batch may be sent before the call fails (actor deaths only; a bug fails at once)."""
    replace_dead_actors: bool = True
    """Start a fresh actor for each one that dies, keeping the pool at ``actors``."""
    spread: bool = True
    """Ask Ray to place actors on different nodes (``SPREAD``) rather than pack them on one."""
    max_resident_programs: int = 200_000
    """Distinct programs kept on the actors; past it the catalogue starts afresh (everything is sent again)."""
    max_resident_grids: int = 100_000
    """Distinct grids kept on the actors (900 bytes each); past it the catalogue starts afresh."""


# --- content keys ---------------------------------------------------------------------------------

def _digest(*parts: bytes) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    for p in parts:
        h.update(len(p).to_bytes(8, "little"))
        h.update(p)
    return h.digest()


def _program_tuple(a: ProgramArrays) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(callee int32[n, 2], arg_offsets int32[n + 1], args int32[m, 2]), as ``_interp.ProgramSet`` takes them."""
    callee = np.ascontiguousarray(a.callee, dtype=np.int32).reshape(-1, 2)
    offsets = np.ascontiguousarray(a.arg_offsets, dtype=np.int32).reshape(-1)
    args = np.ascontiguousarray(a.args, dtype=np.int32).reshape(-1, 2)
    return callee, offsets, args


def _program_key(t: tuple[np.ndarray, np.ndarray, np.ndarray]) -> bytes:
    return _digest(t[0].tobytes(), t[1].tobytes(), t[2].tobytes())


def _as_grid(g: Any, k: int) -> np.ndarray:
    """Grid ``k`` of a call as a uint8 2-d array, checked as ``native.pack_grids`` checks it."""
    a = np.asarray(g)
    if a.ndim != 2 or not (1 <= a.shape[0] <= SIDE and 1 <= a.shape[1] <= SIDE):
        raise ValueError(f"grid {k}: shape {a.shape} is not a grid of 1..30 x 1..30")
    if a.dtype == np.uint8:
        return a
    if a.size and (a.dtype.kind not in "biu" or a.min() < 0 or a.max() > 255):
        raise ValueError(f"grid {k}: values must be in 0..255")
    return a.astype(np.uint8)


@dataclass(frozen=True)
class _Delta:
    """What the actors lack: programs ``program_base..`` and grids ``grid_base..`` of epoch ``epoch``."""

    epoch: int
    seq: int
    """Position in the epoch's delta log (0 first); an actor applies deltas in order, each once."""
    program_base: int
    programs: PackedPrograms
    grid_base: int
    grid_data: np.ndarray
    grid_shapes: np.ndarray


class _Catalog:
    """The driver's record of what is resident on the actors: content -> resident id, and the delta log."""

    IDENTITY_CAP = 50_000
    """Program objects remembered by identity (each kept alive while remembered)."""

    def __init__(self, max_programs: int, max_grids: int):
        self.max_programs, self.max_grids = max_programs, max_grids
        self.epoch = 0
        self._reset()

    def _reset(self) -> None:
        self.by_identity: dict[int, tuple[Any, int]] = {}
        """id(Program) -> (the program, kept alive so the id is not reused; its resident id)."""
        self.programs: dict[bytes, int] = {}
        self.grids: dict[bytes, int] = {}
        self.deltas: list[Any] = []
        """ObjectRefs of this epoch's deltas, in order."""

    def register(self, programs: Sequence[Any] | PackedPrograms, grids: Sequence[Any] | GridBatch
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Resident ids of ``programs`` and ``grids`` (int32), putting a delta for those not yet resident."""
        n_p = len(programs)
        n_g = len(grids)
        if len(self.programs) + n_p > self.max_programs or len(self.grids) + n_g > self.max_grids:
            # Worst case every item is new: start a new epoch first (actors clear on its first delta).
            self.epoch += 1
            self._reset()
        new_programs: list[tuple] = []
        program_ids = np.empty(n_p, dtype=np.int32)
        base_p = len(self.programs)
        packed = programs if isinstance(programs, PackedPrograms) else None
        for k in range(n_p):
            p = packed.program(k) if packed is not None else programs[k]
            if type(p) is Program:
                hit = self.by_identity.get(id(p))
                if hit is not None and hit[0] is p:
                    program_ids[k] = hit[1]
                    continue
            t = _program_tuple(as_arrays(p, k))
            key = _program_key(t)
            gid = self.programs.get(key)
            if gid is None:
                gid = self.programs[key] = base_p + len(new_programs)
                new_programs.append(ProgramArrays(callee=t[0], arg_offsets=t[1], args=t[2]))
            if type(p) is Program:
                self.by_identity[id(p)] = (p, gid)
            program_ids[k] = gid
        if len(self.by_identity) > self.IDENTITY_CAP:
            self.by_identity.clear()  # it keeps its programs alive: the content keys stay
        new_grids: list[np.ndarray] = []
        grid_ids = np.empty(n_g, dtype=np.int32)
        base_g = len(self.grids)
        known, blake, uint8, ndarray = self.grids, hashlib.blake2b, np.uint8, np.ndarray
        from_batch = isinstance(grids, GridBatch)
        if from_batch:
            shapes = np.asarray(grids.shapes)
            # An empty slot (0 x 0) stays one, as ``native.pack_grids`` leaves it.
            grids = [_as_grid(grids.data[k, : shapes[k, 0], : shapes[k, 1]], k) if shapes[k, 0] else
                     np.zeros((0, 0), dtype=np.uint8) for k in range(n_g)]
        for k, g in enumerate(grids):
            # The common case inline (a uint8 array of a valid shape): this loop is most of a repeated call's cost.
            if (type(g) is ndarray and g.dtype == uint8 and g.ndim == 2 and 0 < g.shape[0] <= SIDE and 0 < g.shape[1] <= SIDE
                    or from_batch and g.size == 0):
                c = g
            else:
                c = _as_grid(g, k)
            key = blake(bytes(c.shape) + c.tobytes(), digest_size=16).digest()
            gid = known.get(key)
            if gid is None:
                gid = known[key] = base_g + len(new_grids)
                new_grids.append(c)
            grid_ids[k] = gid
        if new_programs or new_grids:
            data = np.zeros((len(new_grids), SIDE, SIDE), dtype=np.uint8)
            gshapes = np.zeros((len(new_grids), 2), dtype=np.int32)
            for j, c in enumerate(new_grids):
                data[j, : c.shape[0], : c.shape[1]] = c
                gshapes[j] = c.shape
            delta = _Delta(self.epoch, len(self.deltas), base_p, pack_programs(new_programs), base_g, data, gshapes)
            self.deltas.append(ray.put(delta))
        return program_ids, grid_ids


# --- the actor ------------------------------------------------------------------------------------

class ExecutionWorker:
    """The body of one actor: a native interpreter with its own thread pool, and what it was sent."""

    KEEP_CALLS = 16
    """Calls whose context (compiled programs, jobs) an actor keeps; an older one is asked for again."""
    KEEP_SETS = 4
    """Compiled program lists kept for calls to come over the same programs."""

    def __init__(self, threads: int, limits: Limits):
        from codeit.execute.native import NativeInterpreter, to_native

        self.interpreter = NativeInterpreter(threads=threads, limits=limits)
        self._limits = to_native(limits)
        self._epoch = -1
        self._seq = -1
        self._programs: list[tuple] = []
        self._grid_data = np.zeros((0, SIDE, SIDE), dtype=np.uint8)
        self._grid_shapes = np.zeros((0, 2), dtype=np.int32)
        self._n_grids = 0
        self._calls: OrderedDict[int, tuple[Any, np.ndarray]] = OrderedDict()
        self._sets: OrderedDict[bytes, Any] = OrderedDict()
        self._search: tuple | None = None
        self.compiled = 0
        """Programs compiled so far (for tests: a repeated call compiles nothing)."""
        self.seconds = [0.0, 0.0]
        """Wall seconds inside ``run`` and, of those, inside the native interpreter (for measuring)."""

    def ready(self) -> int:
        return os.getpid()

    def cpu_seconds(self) -> float:
        """CPU time this actor's process has used (its interpreter threads included)."""
        return time.process_time()

    def resident(self) -> tuple[int, int, int, int]:
        """(epoch, programs resident, grids resident, programs compiled so far)."""
        return self._epoch, len(self._programs), self._n_grids, self.compiled

    def busy(self) -> tuple[float, float]:
        """Wall seconds spent in ``run`` so far, and of those in the native interpreter."""
        return tuple(self.seconds)

    def _apply(self, deltas: tuple) -> None:
        for d in deltas:
            if d.epoch != self._epoch:
                if d.seq != 0 or d.epoch < self._epoch:
                    raise RuntimeError(f"delta {d.epoch}.{d.seq} does not follow {self._epoch}.{self._seq}")
                self._epoch, self._seq, self._programs, self._n_grids = d.epoch, -1, [], 0
                self._calls.clear()
                self._sets.clear()
            if d.seq <= self._seq:
                continue  # already applied
            if d.seq != self._seq + 1 or d.program_base != len(self._programs) or d.grid_base != self._n_grids:
                raise RuntimeError(f"delta {d.epoch}.{d.seq} is out of order (have {self._seq}, "
                                   f"{len(self._programs)} programs, {self._n_grids} grids)")
            self._programs.extend(_program_tuple(d.programs.program(p)) for p in range(len(d.programs)))
            n = self._n_grids + len(d.grid_shapes)
            if n > len(self._grid_data):
                cap = max(n, 2 * len(self._grid_data), 256)
                data = np.zeros((cap, SIDE, SIDE), dtype=np.uint8)
                shapes = np.zeros((cap, 2), dtype=np.int32)
                data[: self._n_grids] = self._grid_data[: self._n_grids]
                shapes[: self._n_grids] = self._grid_shapes[: self._n_grids]
                self._grid_data, self._grid_shapes = data, shapes
            self._grid_data[self._n_grids : n] = d.grid_data
            self._grid_shapes[self._n_grids : n] = d.grid_shapes
            self._n_grids, self._seq = n, d.seq

    def _compile(self, set_key: bytes, program_ids: np.ndarray):
        compiled = self._sets.get(set_key)
        if compiled is None:
            from codeit.execute.native import _interp

            compiled = _interp.ProgramSet([self._programs[int(g)] for g in program_ids])
            self.compiled += len(program_ids)
            self._sets[set_key] = compiled
            while len(self._sets) > self.KEEP_SETS:
                self._sets.popitem(last=False)
        else:
            self._sets.move_to_end(set_key)
        return compiled

    def run(self, call: int, batch_id: int, start: int, stop: int, context, *deltas):
        """Run rows ``start..stop-1`` of call ``call``, after applying ``deltas``; ``context`` (sent with
        an actor's first batch of a call) is (epoch, set key, resident program ids, jobs).

        Returns (batch_id, status, steps, shapes, rows with an output, those outputs), or
        (batch_id, None) when this actor no longer holds the call's context (send it again).
        """
        t0 = time.perf_counter()
        self._apply(deltas)
        if context is not None:
            epoch, set_key, program_ids, jobs = context
            if epoch != self._epoch:
                raise RuntimeError(f"call {call} is of epoch {epoch}, the actor holds epoch {self._epoch}")
            self._calls[call] = (self._compile(set_key, program_ids), jobs)
            while len(self._calls) > self.KEEP_CALLS:
                self._calls.popitem(last=False)
        held = self._calls.get(call)
        if held is None:
            return batch_id, None
        compiled, jobs = held
        t1 = time.perf_counter()
        out = self.interpreter._pool.run_batch(compiled, self._grid_data[: self._n_grids],
                                               self._grid_shapes[: self._n_grids], jobs[start:stop], self._limits, False)
        t2 = time.perf_counter()
        shapes = out["shapes"]
        # Only successful runs carry a grid; most sampled programs fail, so ship just those.
        with_output = np.flatnonzero(shapes[:, 0])
        result = batch_id, out["status"], out["steps"], shapes, with_output, out["grids"][with_output]
        self.seconds[0] += time.perf_counter() - t0
        self.seconds[1] += t2 - t1
        return result

    def search(self, shard: int, search_key: bytes, search_set, unions: PackedPrograms, member_offsets: np.ndarray,
               node_offsets: np.ndarray, nodes: np.ndarray):
        """One shard of ``SharedScorer.run``: (shard, valid, demos right, tests right, runs by status, lines).
        ``search_set`` is ``SearchSet.packed()``, sent with an actor's first shard (None after it)."""
        from codeit.execute.native import _interp

        if search_set is not None:
            self._search = (search_key, search_set)
        if self._search is None or self._search[0] != search_key:
            return shard, None
        compiled = _interp.ProgramSet([_program_tuple(unions.program(p)) for p in range(len(unions))])
        out = self.interpreter._pool.run_search(compiled, member_offsets, node_offsets, nodes, *self._search[1],
                                                self._limits)
        return shard, out["valid"], out["demos_right"], out["test_correct"], out["runs"], int(out["nodes"])


_RemoteWorker = ray.remote(max_restarts=0)(ExecutionWorker)


@dataclass
class _Actor:
    handle: Any
    serial: int
    """Unique over the executor's life (a replacement gets a new one)."""
    alive: bool = True
    epoch: int = -1
    """Epoch of the catalogue the actor was last sent deltas of."""
    sent: int = 0
    """Deltas of that epoch sent to it (the next one to send is ``sent``)."""
    search_key: bytes | None = None
    """The search set it was sent (``RayShardedScorer``)."""


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

    def __init__(self, executor: "RayExecutor", call: int, epoch: int, context_ref, jobs: np.ndarray, collect: bool):
        self._executor = executor
        self._call = call
        self._epoch = epoch
        self._context_ref = context_ref
        self._has_context: set[int] = set()
        """Serials of the actors sent this call's context."""
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
        self.resent_context = 0
        """Batches sent again with the call's context because their actor had dropped it."""
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
                # One wait a batch: each call of ray.wait costs the driver about as much as a batch's dispatch.
                ready, _ = ray.wait(list(self._inflight), num_returns=1)
                for ref in ready:
                    self._ready.append((ref, *self._inflight.pop(ref)))
                # The actors that finished get their next batches before this thread unpacks results.
                self._dispatch()
            ref, batch_id, actor = self._ready.popleft()
            try:
                out = ray.get(ref)
            except RayTaskError as exc:
                if isinstance(exc, _LOST):
                    self._lost(actor, batch_id, exc)
                    continue
                # An exception inside the interpreter layer is a bug, not a lost machine: retrying hides it.
                start, stop = self.bounds[batch_id]
                raise ClusterError(f"batch {batch_id} (jobs {start}..{stop - 1}) failed on actor "
                                   f"{actor.serial}: {exc}") from exc
            except _LOST as exc:
                self._lost(actor, batch_id, exc)
                continue
            if out[1] is None:
                # The actor dropped this call's context (it holds the last few calls'): send it again.
                self._has_context.discard(actor.serial)
                self._attempts[batch_id] -= 1
                self.resent_context += 1
                if batch_id not in self.delivered:
                    self._pending.appendleft(batch_id)
                continue
            if batch_id in self.delivered:
                continue
            self.delivered.add(batch_id)
            return self._finish(batch_id, out, actor)
        raise StopIteration

    def _lost(self, actor: _Actor, batch_id: int, exc: Exception) -> None:
        self._executor._lost(actor)
        self._retry(batch_id, exc)

    def _dispatch(self) -> None:
        if self._pending and self._executor._catalog.epoch != self._epoch:
            raise ClusterError("the executor's resident programs and grids were renewed (a later call brought more "
                               "than its limits) while this stream still had batches to send: consume a stream "
                               "before submitting calls that outgrow RayExecutorConfig.max_resident_*")
        load: dict[int, int] = {}
        for _, actor in self._inflight.values():
            load[actor.serial] = load.get(actor.serial, 0) + 1
        limit = self._executor.config.inflight_per_actor
        for actor in self._executor.live_actors():
            while self._pending and load.get(actor.serial, 0) < limit:
                batch_id = self._pending.popleft()
                start, stop = self.bounds[batch_id]
                self._attempts[batch_id] += 1
                context = None
                if actor.serial not in self._has_context:
                    context = self._context_ref
                    self._has_context.add(actor.serial)
                ref = actor.handle.run.remote(self._call, batch_id, start, stop, context,
                                              *self._executor._deltas_for(actor))
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
    _catalog: _Catalog = field(init=False, repr=False)
    _calls: Iterator[int] = field(init=False, repr=False, default_factory=itertools.count)

    def __post_init__(self):
        if not ray.is_initialized():
            raise ClusterError("RayExecutor needs a Ray connection: call codeit.cluster.connect(...) or ray.init(...) first")
        self._catalog = _Catalog(self.config.max_resident_programs, self.config.max_resident_grids)
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
        return cls.filling_cluster(execution.limits, execution.threads or threads_per_actor)

    @classmethod
    def filling_cluster(cls, limits: Limits, threads_per_actor: int = 1) -> "RayExecutor":
        """Actors of ``threads_per_actor`` threads (at most the cluster's CPUs) filling the connected cluster."""
        from codeit.cluster import cluster_cpus

        cpus = max(1, cluster_cpus())
        threads = max(1, min(threads_per_actor, cpus))
        return cls(limits, RayExecutorConfig(actors=max(1, cpus // threads), threads_per_actor=threads))

    @property
    def threads(self) -> int:
        """Interpreter threads over all actors."""
        return self.config.actors * self.config.threads_per_actor

    def _start_actor(self) -> _Actor:
        options: dict[str, Any] = {"num_cpus": self.config.threads_per_actor}
        if self.config.spread:
            options["scheduling_strategy"] = "SPREAD"
        handle = _RemoteWorker.options(**options).remote(self.config.threads_per_actor, self.limits)
        self._serials += 1
        actor = _Actor(handle, self._serials)
        self._actors.append(actor)
        return actor

    def _deltas_for(self, actor: _Actor) -> list[Any]:
        """The delta refs ``actor`` has not been sent yet (marked sent: Ray runs one caller's tasks on an
        actor in the order they were sent, so each later task finds them applied)."""
        catalog = self._catalog
        if actor.epoch != catalog.epoch:
            actor.epoch, actor.sent = catalog.epoch, 0
        refs = catalog.deltas[actor.sent :]
        actor.sent = len(catalog.deltas)
        return refs

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
        jobs = np.ascontiguousarray(np.asarray(jobs, dtype=np.int64).reshape(-1, 2))
        n_programs, n_grids = len(programs), len(grids)
        if len(jobs):
            bad = np.flatnonzero((jobs[:, 0] < 0) | (jobs[:, 0] >= n_programs) | (jobs[:, 1] < 0) | (jobs[:, 1] >= n_grids))
            if len(bad):
                k = int(bad[0])
                raise IndexError(f"job {k} = ({jobs[k, 0]}, {jobs[k, 1]}) is out of range: "
                                 f"{n_programs} programs, {n_grids} grids")
        program_ids, grid_ids = self._catalog.register(programs, grids)
        local = np.empty((len(jobs), 2), dtype=np.int32)
        local[:, 0] = jobs[:, 0]
        local[:, 1] = grid_ids[jobs[:, 1]] if len(jobs) else 0
        set_key = _digest(program_ids.tobytes())
        call = next(self._calls)
        context = ray.put((self._catalog.epoch, set_key, program_ids, local))
        return ExecStream(self, call, self._catalog.epoch, context, jobs, collect)

    def run(self, programs: Sequence[Any], grids: Sequence[np.ndarray], jobs: np.ndarray):
        """Run every job; results in job order (the ``Executor`` protocol)."""
        return self.submit(programs, grids, jobs).result()

    def sharded_scorer(self) -> "RayShardedScorer":
        """The mutation baseline's shared scoring on these actors (see ``codeit.search.baseline``)."""
        return RayShardedScorer(self)

    def close(self) -> None:
        for actor in self._actors:
            if actor.alive:
                ray.kill(actor.handle)
                actor.alive = False

    def __enter__(self) -> "RayExecutor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class RayShardedScorer:
    """``codeit.search.baseline.SharedScorer`` on a ``RayExecutor``'s actors: a block's seed groups cut into
    shards of whole groups, run where an actor is free, results put back in group order (each shard once)."""

    SHARDS_PER_ACTOR = 8
    """Shards a block is cut into per live actor: enough that the last ones to finish leave little idle time."""

    def __init__(self, executor: RayExecutor):
        self.executor = executor
        self.limits = executor.limits
        self.threads = executor.threads
        self.runs = np.zeros(8, dtype=np.int64)
        self.nodes = 0
        self._search_key: bytes | None = None
        self._search_ref = None
        self.retries = 0

    def _search(self, search) -> None:
        packed = search.packed()
        key = _digest(*(np.ascontiguousarray(a).tobytes() for a in packed))
        if key != self._search_key:
            self._search_key, self._search_ref = key, ray.put(packed)

    def run(self, groups: list, search) -> tuple[np.ndarray, ...]:
        """Per (member, task), members in group order: valid, demos right, tests right (``SharedScorer.run``)."""
        from codeit.search.baseline import union_program

        self._search(search)
        n_tasks = len(search.tasks)
        sizes = np.array([len(g) for g in groups], dtype=np.int64)
        shards_wanted = max(1, min(len(groups), self.SHARDS_PER_ACTOR * len(self.executor.live_actors())))
        # Contiguous runs of groups with about equal members each.
        cuts = np.searchsorted(np.cumsum(sizes), np.linspace(0, sizes.sum(), shards_wanted + 1)[1:-1], side="left") + 1
        bounds = [(int(a), int(b)) for a, b in zip([0, *cuts], [*cuts, len(groups)]) if b > a]
        payloads = []
        for a, b in bounds:
            unions, member_offsets, node_offsets, nodes = [], [0], [0], []
            for group in groups[a:b]:
                union, member_lines = union_program([p for p, _ in group])
                unions.append(union)
                for ids in member_lines:
                    nodes.extend(ids)
                    node_offsets.append(len(nodes))
                member_offsets.append(member_offsets[-1] + len(group))
            payloads.append((pack_programs(unions), np.array(member_offsets, np.int32),
                             np.array(node_offsets, np.int32), np.array(nodes, np.int32)))
        results: dict[int, tuple] = {}
        attempts = [0] * len(payloads)
        pending = deque(range(len(payloads)))
        inflight: dict[Any, tuple[int, _Actor]] = {}
        limit = self.executor.config.inflight_per_actor
        while len(results) < len(payloads):
            load: dict[int, int] = {}
            for _, actor in inflight.values():
                load[actor.serial] = load.get(actor.serial, 0) + 1
            for actor in self.executor.live_actors():
                while pending and load.get(actor.serial, 0) < limit:
                    shard = pending.popleft()
                    attempts[shard] += 1
                    ship = None
                    if actor.search_key != self._search_key:
                        ship, actor.search_key = self._search_ref, self._search_key
                    ref = actor.handle.search.remote(shard, self._search_key, ship, *payloads[shard])
                    inflight[ref] = (shard, actor)
                    load[actor.serial] = load.get(actor.serial, 0) + 1
            if not inflight:
                raise ClusterError(f"no live actor to run {len(pending)} remaining shards")
            ready, _ = ray.wait(list(inflight), num_returns=1)
            for ref in ready:
                shard, actor = inflight.pop(ref)
                try:
                    out = ray.get(ref)
                except RayTaskError as exc:
                    if not isinstance(exc, _LOST):
                        raise ClusterError(f"scoring shard {shard} failed on actor {actor.serial}: {exc}") from exc
                    out = exc
                except _LOST as exc:
                    out = exc
                if isinstance(out, Exception):
                    self.executor._lost(actor)
                    if attempts[shard] >= self.executor.config.max_attempts:
                        raise ClusterError(f"scoring shard {shard} lost its actor {attempts[shard]} times: {out}") from out
                    self.retries += 1
                    pending.appendleft(shard)
                    continue
                if out[1] is None:  # the actor holds another search set: send it this one
                    actor.search_key = None
                    attempts[shard] -= 1
                    pending.appendleft(shard)
                    continue
                if shard not in results:
                    results[shard] = out
        ordered = [results[s] for s in range(len(payloads))]
        for out in ordered:
            self.runs += out[4]
            self.nodes += out[5]
        if not ordered:
            empty = np.zeros((0, n_tasks), dtype=np.uint8)
            return empty, empty.astype(np.int32), empty
        return tuple(np.concatenate([out[k] for out in ordered]) for k in (1, 2, 3))
