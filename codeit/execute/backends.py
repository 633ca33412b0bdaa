"""Choosing an executor by name, and never another one.

The backend in use is always the one asked for: when the native module cannot load (missing,
stale or broken build), asking for it is an error that says how to rebuild, never a silent
fallback to the 68x slower reference. Commands log ``describe(executor)``; runs store it.
"""

from __future__ import annotations

from codeit.execute.executor import Executor
from codeit.execute.limits import Limits

BACKENDS = ("native", "reference")
"""Local backends by name (Ray is chosen with ``--ray``, see ``codeit.execute.ray``)."""

REBUILD_HINT = ("rebuild it from the source folder with: pip install -c constraints/cpu.txt -e . "
                "(add the extras you use, e.g. -e \".[policy,plot]\")")


class NativeUnavailableError(RuntimeError):
    """The native interpreter was asked for but cannot be loaded (missing, stale or broken build)."""


def load_native():
    """The ``codeit.execute.native`` module, or NativeUnavailableError naming the cause and the fix."""
    try:
        from codeit.execute import native
    except ImportError as exc:
        raise NativeUnavailableError(f"the native interpreter (codeit._interp) cannot be loaded: {exc}; "
                                     f"{REBUILD_HINT}") from exc
    return native


def make_executor(backend: str = "native", *, limits: Limits | None = None, threads: int = 0) -> Executor:
    """The executor ``backend`` names: ``native`` (default) or ``reference``. Never another one."""
    limits = limits if limits is not None else Limits()
    if backend == "native":
        return load_native().NativeExecutor(limits=limits, threads=threads)
    if backend == "reference":
        from codeit.execute.reference import ReferenceExecutor

        return ReferenceExecutor(limits=limits)
    raise ValueError(f"unknown executor backend {backend!r}: use one of {', '.join(BACKENDS)} "
                     "(Ray: --ray)")


def describe(executor: Executor) -> str:
    """One line naming the executor and its limits, for logs and summaries."""
    lim = executor.limits
    threads = getattr(executor, "threads", None)
    where = f", {threads} threads" if threads else ""
    return (f"executor: {executor.name}{where} (time {lim.time_limit:g} s, {lim.max_steps:,} steps, "
            f"size {lim.max_value_size:,}, memory {lim.max_memory >> 20} MiB, depth {lim.max_depth} per job)")
