"""The hard limits of one job (one program on one input), the same for every executor.

One record, keyword-only, read by the native interpreter, the Python reference and the Ray
workers alike (``codeit.execute.native.to_native`` carries every field across; the reference
takes them through ``ReferenceExecutor``). A run's ``execution.limits`` setting is this record.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Limits of one job, enforced inside the interpreter; past one the job gets a limit status."""

    time_limit: float = 1.0
    """Wall-time budget of one job, in seconds."""
    max_steps: int = 100_000
    """Primitive applications one job may make (dsl/README.md's steps)."""
    max_value_size: int = 1_000_000
    """Cap on the size of every line's value, and on the known-size pre-checks (dsl/README.md)."""
    max_memory: int = 256 << 20
    """Bytes one job may allocate; past it the job ends with SIZE_LIMIT. The native arena counts
    bytes; the reference has no allocator of its own and relies on ``max_value_size`` instead."""
    max_depth: int = 900
    """Deepest nesting of function-value calls before RUNTIME_ERROR (both interpreters count the
    same calls; 900 keeps the reference under Python's own recursion limit)."""

    def __post_init__(self) -> None:
        if not self.time_limit > 0:
            raise ValueError(f"Limits.time_limit must be > 0 seconds, got {self.time_limit}")
        for name in ("max_steps", "max_value_size", "max_memory", "max_depth"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Limits.{name} must be a positive integer, got {value!r}")

    def to_dict(self) -> dict:
        return asdict(self)


SEARCH_LIMITS = Limits(time_limit=0.25, max_steps=20_000, max_value_size=200_000)
"""The tighter limits of search (sampled programs, mutants): a program that runs long is almost
never a solution, and a tight budget keeps a search step fast."""
