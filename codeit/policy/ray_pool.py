"""``SamplerPool``: the ``RunSampler`` interface over sampler replicas on Ray (one per GPU or CPU group).

The tasks of one ``sample_tasks`` call are split into contiguous chunks, one per replica, sampled
in parallel and returned in the caller's task order, so the driver and ``codeit eval`` use a pool
exactly as they use one ``RunSampler``. ``load_weights`` returns only when every replica holds the
new checkpoint, so no task of the next iteration is sampled with the old policy.

A checkpoint path that a replica's node cannot see (no shared file system) is shipped: the folder's
files go through Ray's object store and the replica writes them to a local temporary folder.
A replica that dies is started again on the current checkpoint and its chunk sampled again.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import ray
from ray.exceptions import RayActorError, WorkerCrashedError

from codeit.cluster import ClusterError


@dataclass(frozen=True)
class SamplerPoolConfig:
    """How many sampler replicas, and what each one holds."""

    replicas: int = 1
    """Sampler actors; the tasks of each call are split evenly across them."""
    gpus_per_replica: float = 0.0
    """GPUs Ray reserves for each replica; 0 samples on CPU. A replica with a GPU samples on ``cuda``."""
    cpus_per_replica: int = 1
    """CPUs Ray reserves for each replica; on a CPU replica also torch's thread count."""
    max_attempts: int = 3
    """Times one chunk of tasks may be sent before the call fails (replica deaths only)."""
    spread: bool = True
    """Ask Ray to place replicas on different nodes."""


def replica_seed(seed: int | None, replica: int) -> int | None:
    """Replica 0 keeps the run's seed (a one-replica pool samples as ``RunSampler`` does); the others get
    independent streams derived from (seed, replica)."""
    if seed is None or replica == 0:
        return seed
    return int(np.random.SeedSequence([int(seed), replica]).generate_state(1)[0])


def read_folder(path: str | Path) -> dict[str, bytes]:
    """Every file under a checkpoint folder by path relative to it; a single-file checkpoint under ``""``."""
    path = Path(path)
    if path.is_file():
        return {"": path.read_bytes()}
    return {str(f.relative_to(path)): f.read_bytes() for f in sorted(path.rglob("*")) if f.is_file()}


def default_sampler(config, policy_path: Path, device: str):
    from codeit.run.sampling import RunSampler

    return RunSampler(config, policy_path, device)


class SamplerReplica:
    """The body of one replica actor: one sampler (``RunSampler`` unless the pool was given another factory)."""

    def __init__(self, replica: int, config, device: str, threads: int, make: Callable):
        if threads:
            import torch

            torch.set_num_threads(threads)
        self.replica = replica
        self.config = config
        self.device = device
        self.make = make
        self.sampler = None
        self._shipped: list[Path] = []

    def sees(self, path: str) -> bool:
        return Path(path).exists()

    def _local(self, path: str, files: dict[str, bytes] | None) -> Path:
        if files is None:
            return Path(path)
        # A shipped checkpoint: keep the folder's name (some loaders read it), under a private temp folder.
        root = Path(tempfile.mkdtemp(prefix=f"codeit-replica{self.replica}-"))
        target = root / Path(path).name
        for rel, data in files.items():
            out = target / rel if rel else target
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
        for old in self._shipped:
            shutil.rmtree(old, ignore_errors=True)
        self._shipped = [root]
        return target

    def start(self, path: str, files: dict[str, bytes] | None, n: int | None, seed: int | None) -> int:
        self.sampler = self.make(self.config, self._local(path, files), self.device)
        if n is not None:
            self.set_samples(n, seed)
        elif self.replica:
            self.sampler.set_samples(self.sampler.sampling.n, replica_seed(self.sampler.sampling.seed, self.replica))
        return self.replica

    def set_samples(self, n: int, seed: int | None) -> None:
        self.sampler.set_samples(n, replica_seed(seed, self.replica) if seed is not None else None)

    def samples_setting(self) -> tuple[int, int | None]:
        return self.sampler.sampling.n, self.sampler.sampling.seed

    def sample_tasks(self, tasks: Sequence[Any]) -> list[list[str]]:
        return self.sampler.sample_tasks(list(tasks))

    def load_weights(self, path: str, files: dict[str, bytes] | None) -> None:
        self.sampler.load_weights(self._local(path, files))

    def close(self) -> None:
        if self.sampler is not None:
            self.sampler.close()
        for old in self._shipped:
            shutil.rmtree(old, ignore_errors=True)


_RemoteReplica = ray.remote(max_restarts=0)(SamplerReplica)


class SamplerPool:
    """Several sampler replicas behind the ``RunSampler`` interface; needs ``ray.init`` first."""

    def __init__(self, config, policy_path: str | Path, pool: SamplerPoolConfig = SamplerPoolConfig(),
                 make: Callable = default_sampler):
        if not ray.is_initialized():
            raise ClusterError("SamplerPool needs a Ray connection: call codeit.cluster.connect(...) first")
        self.config = config
        self.pool = pool
        self.make = make
        self.path = str(policy_path)
        self._n: int | None = None
        self._seed: int | None = None
        self.replicas: list[Any] = [self._new_replica(k) for k in range(pool.replicas)]
        self._everywhere("start", self.path, extra=(None, None))
        self.restarts = 0
        """Replicas started again after dying."""

    @classmethod
    def factory(cls, pool: SamplerPoolConfig, make: Callable = default_sampler) -> Callable:
        """A callable with ``codeit.run.sampling.open_run_sampler``'s signature that builds a pool
        (the driver's device is ignored: each replica samples on the device Ray gives it)."""

        def make_pool(config, policy_path, device=None) -> "SamplerPool":
            return cls(config, policy_path, pool, make)

        return make_pool

    def _new_replica(self, k: int):
        options: dict[str, Any] = {"num_cpus": self.pool.cpus_per_replica, "num_gpus": self.pool.gpus_per_replica}
        if self.pool.spread:
            options["scheduling_strategy"] = "SPREAD"
        device = "cuda" if self.pool.gpus_per_replica > 0 else "cpu"
        threads = 0 if self.pool.gpus_per_replica > 0 else self.pool.cpus_per_replica
        return _RemoteReplica.options(**options).remote(k, self.config, device, threads, self.make)

    def _shipments(self, path: str, replicas: list[int]) -> dict[int, Any]:
        """For each replica: None where it sees ``path``, else a reference to the folder's files."""
        sees = ray.get([self.replicas[k].sees.remote(path) for k in replicas])
        blind = [k for k, ok in zip(replicas, sees) if not ok]
        if blind and not Path(path).exists():
            raise ClusterError(f"checkpoint {path} exists neither on this node nor on sampler replica {blind[0]}'s")
        files = ray.put(read_folder(path)) if blind else None
        return {k: (files if k in blind else None) for k in replicas}

    def _everywhere(self, method: str, path: str, replicas: list[int] | None = None, extra: tuple = ()) -> None:
        replicas = list(range(len(self.replicas))) if replicas is None else replicas
        shipped = self._shipments(path, replicas)
        ray.get([getattr(self.replicas[k], method).remote(path, shipped[k], *extra) for k in replicas])

    def _restart(self, k: int) -> None:
        ray.kill(self.replicas[k])
        self.replicas[k] = self._new_replica(k)
        self._everywhere("start", self.path, [k], extra=(self._n, self._seed))
        self.restarts += 1

    def set_samples(self, n: int, seed: int | None = None) -> None:
        if seed is None:
            _, seed = ray.get(self.replicas[0].samples_setting.remote())
        self._n, self._seed = n, seed
        ray.get([r.set_samples.remote(n, seed) for r in self.replicas])

    def sample_tasks(self, tasks: Sequence[Any]) -> list[list[str]]:
        """Programs for every task, in task order; the tasks split across replicas in contiguous chunks."""
        tasks = list(tasks)
        chunks = [c for c in np.array_split(np.arange(len(tasks)), len(self.replicas))]
        results: list[list[list[str]] | None] = [None] * len(chunks)
        attempts = [0] * len(chunks)
        inflight: dict[Any, int] = {}

        def send(k: int) -> None:
            attempts[k] += 1
            inflight[self.replicas[k].sample_tasks.remote([tasks[i] for i in chunks[k]])] = k

        for k in range(len(chunks)):
            if len(chunks[k]):
                send(k)
            else:
                results[k] = []
        while inflight:
            ready, _ = ray.wait(list(inflight), num_returns=1)
            k = inflight.pop(ready[0])
            try:
                results[k] = ray.get(ready[0])
            except (RayActorError, WorkerCrashedError) as exc:
                if attempts[k] >= self.pool.max_attempts:
                    raise ClusterError(f"sampler replica {k} died {attempts[k]} times sampling tasks "
                                       f"{[tasks[i].id for i in chunks[k]]}: {exc}") from exc
                self._restart(k)
                send(k)
        return [per_task for chunk in results for per_task in chunk]

    def load_weights(self, path: str | Path) -> None:
        """Every replica loads ``path``; returns when all of them have."""
        self.path = str(path)
        self._everywhere("load_weights", self.path)

    def close(self) -> None:
        for r in self.replicas:
            try:
                ray.get(r.close.remote())
            except (RayActorError, WorkerCrashedError):
                pass
            ray.kill(r)
        self.replicas = []
