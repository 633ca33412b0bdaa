"""The hard limits of one job (one program on one input), the same for every executor.

One record, keyword-only, read by the native interpreter, the Python reference and the Ray
workers alike (``codeit.execute.native.to_native`` carries every field across; the reference
takes them through ``ReferenceExecutor``). A run's ``execution.limits`` setting is this record.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


MAX_TIME_LIMIT = 1e6
"""The longest time limit a job may have (the native deadline is int64 nanoseconds)."""
MAX_DEPTH = 10_000
"""The deepest call nesting a job may allow (the native interpreter's stack bounds it)."""


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Limits of one job, enforced inside the interpreter; past one the job gets a limit status."""

    time_limit: float = 1.0
    """Wall-time budget of one job, in seconds."""
    max_steps: int = 100_000
    """Primitive applications one job may make (dsl/README.md's steps)."""
    max_value_size: int = 1_000_000
    """Cap on the size of every line's value, and on the known-size pre-checks (dsl/README.md)."""
    max_memory: int = 128 << 20
    """Bytes one job may take; past it the job ends with SIZE_LIMIT. The native interpreter
    counts the bytes its job's arena hands out; the reference, which has no allocator of its
    own, samples how far the job has grown its process's resident memory every few
    milliseconds (``dsl.functions.Budget.max_memory``). 128 MiB a job keeps a laptop's worth of
    threads (8 to 16) within 1 to 2 GiB at worst; real programs on ARC grids take kilobytes."""
    max_depth: int = 900
    """Deepest nesting of function-value calls before RUNTIME_ERROR (both interpreters count the
    same calls; 900 keeps the reference under Python's own recursion limit)."""

    def __post_init__(self) -> None:
        if not 0 < self.time_limit <= MAX_TIME_LIMIT:
            raise ValueError(f"Limits.time_limit must be > 0 and at most {MAX_TIME_LIMIT:g} seconds, "
                             f"got {self.time_limit}")
        for name in ("max_steps", "max_value_size", "max_memory", "max_depth"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Limits.{name} must be a positive integer, got {value!r}")
        if self.max_depth > MAX_DEPTH:
            raise ValueError(f"Limits.max_depth must be at most {MAX_DEPTH}, got {self.max_depth}")

    def to_dict(self) -> dict:
        return asdict(self)


SEARCH_LIMITS = Limits(time_limit=0.25, max_steps=20_000, max_value_size=200_000)
"""The tighter limits of search (sampled programs, mutants): a program that runs long is almost
never a solution, and a tight budget keeps a search step fast."""
