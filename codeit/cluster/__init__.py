"""codeit on Ray: execution and sampling spread over a cluster, behind the same interfaces as one machine.

- ``connect(address)``: join a cluster (``auto`` or an address) or start one here (``local``).
- ``RayExecutor``: the ``codeit.executor.Executor`` protocol over actors holding native interpreters,
  with ``submit`` for results as they finish, and retries when an actor dies.
- ``SamplerPool``: the ``LoopSampler`` interface over sampler replicas (one per GPU or CPU group).

Importing this package imports Ray (``pip install "codeit[cluster]"``); nothing else in codeit does.
"""

from codeit.cluster.connect import cluster_cpus, cluster_gpus, connect
from codeit.cluster.executor import ClusterError, ExecStream, FinishedBatch, RayExecutor, RayExecutorConfig
from codeit.cluster.sampling import SamplerPool, SamplerPoolConfig

__all__ = [
    "ClusterError",
    "ExecStream",
    "FinishedBatch",
    "RayExecutor",
    "RayExecutorConfig",
    "SamplerPool",
    "SamplerPoolConfig",
    "cluster_cpus",
    "cluster_gpus",
    "connect",
]
