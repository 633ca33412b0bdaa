"""Connecting a codeit process to Ray: an existing cluster by address, or a cluster of this machine."""

from __future__ import annotations

import ray


class ClusterError(RuntimeError):
    """The Ray backend could not complete a call (a batch failed too often, or no actor is left)."""


def connect(address: str, *, num_cpus: int | None = None, num_gpus: int | None = None) -> None:
    """``local``: start a Ray cluster inside this process's machine (``num_cpus`` caps it); ``auto``: join the
    cluster this node belongs to; anything else: a cluster address (``host:port`` or ``ray://host:port``).

    Ray workers import codeit, so every node needs the same codeit installed (native module included).
    """
    if ray.is_initialized():
        return
    if address == "local":
        ray.init(num_cpus=num_cpus, num_gpus=num_gpus, include_dashboard=False, log_to_driver=False)
    else:
        ray.init(address=address, log_to_driver=False)


def cluster_cpus() -> int:
    """CPUs the connected cluster offers in total."""
    return int(ray.cluster_resources().get("CPU", 0))


def cluster_gpus() -> int:
    """GPUs the connected cluster offers in total."""
    return int(ray.cluster_resources().get("GPU", 0))
