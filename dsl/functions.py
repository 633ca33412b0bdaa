"""Function values of the DSL, and the per-run budget that every primitive call is counted against.

arc-dsl builds functions as Python lambdas. Here they are frozen dataclasses instead, so that a
function value is hashable, compares structurally (two ``compose(size, first)`` are equal), has a
canonical order key, and counts its calls: only ``Primitive.__call__`` takes a step; the
composite values just call their parts, so ``compose(f, g)(x)`` takes two steps and
``fork(h, f, g)(x)`` three, as dsl/README.md says.

Each value's ``arity`` is the positional-parameter count arc-dsl's lambda would report through
``__code__.co_argcount``, which is what ``lbind``/``rbind`` inspect.

Canonical order keys, ``(3, structure)``, where structure starts with a kind tag:
``Primitive (0, id)`` (id: row in primitives.tsv), ``Compose (1, outer, inner)``,
``Chain (2, h, g, f)``, ``Matcher (3, function, target)``, ``RightBind (4, function, fixed)``,
``LeftBind (5, function, fixed)``, ``Power (6, function, (0, n))``, ``Fork (7, outer, a, b)``;
every part is itself an ``order_key``.
"""

from __future__ import annotations

import functools
import math
import os
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Callable, Iterable, Iterator

from codeit.dsl.values import (
    DSLTypeError,
    SizeLimitExceeded,
    StepLimitExceeded,
    TimeLimitExceeded,
    order_key,
)

@functools.cache
def primitive_ids() -> dict[str, int]:
    """Primitive name -> its registry id (the row in primitives.tsv, shared with the native side)."""
    from codeit.dsl import registry  # the registry imports this module's function values lazily

    return {spec.name: spec.id for spec in registry.PRIMITIVES}


# --- the budget ----------------------------------------------------------------------------------

MEMORY_POLL_SECONDS = 0.002
"""How often a run with a memory cap samples its process's resident memory: a sample is a
system call (about 2 us), a step a fraction of that, and in 2 ms Python builds only a few
megabytes more."""


class _Statm:
    """``/proc/self/statm`` kept open (one ``pread`` a sample, not open, read and close), and
    reopened after a fork, whose child would otherwise read its parent's."""

    pid: int | None = None
    fd: int | None = None

    def resident_pages(self) -> int | None:
        if self.pid != os.getpid():
            if self.fd is not None:
                os.close(self.fd)
                self.fd = None
            try:
                self.fd, self.pid = os.open("/proc/self/statm", os.O_RDONLY), os.getpid()
            except OSError:
                return None
        return int(os.pread(self.fd, 128, 0).split()[1])


_STATM = _Statm()
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_bytes() -> int:
    """This process's resident memory in bytes (Linux ``/proc/self/statm``; elsewhere the peak,
    which only ever overstates growth by what an earlier peak left unused)."""
    pages = _STATM.resident_pages()
    if pages is not None:
        return pages * _PAGE_SIZE
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


@dataclass
class Budget:
    """Limits of one run, and the steps it has taken so far."""

    max_steps: int = 100_000
    """Most primitive applications the run may make; the next one raises StepLimitExceeded."""
    deadline: float | None = None
    """A ``time.perf_counter()`` value after which the next step raises TimeLimitExceeded;
    ``None`` for no time limit."""
    max_value_size: int = 1_000_000
    """Cap on ``values.value_size`` of any value, and on the elements a primitive may build."""
    steps: int = 0
    """Primitive applications made so far."""
    max_depth: int = 900
    """Deepest nesting of function-value calls; the next one raises RecursionError (as the
    native interpreter's call-depth guard does)."""
    depth: int = 0
    """Function-value calls in progress."""
    max_memory: int | None = None
    """Bytes the run may add to its process's resident memory; past it, the next sample raises
    SizeLimitExceeded. ``None``: no cap. Python has no allocator that counts a run's own bytes,
    so the budget samples the whole process: when it is made, then every
    ``MEMORY_POLL_SECONDS`` at a step or a clock check."""
    memory_base: int = 0
    """Resident memory when the budget was made (with a cap)."""
    memory_poll_at: float = math.inf
    """The ``time.perf_counter()`` value of the next memory sample (infinite without a cap)."""

    def __post_init__(self) -> None:
        if self.max_memory is not None:
            self.memory_base = resident_bytes()
            self.memory_poll_at = time.perf_counter() + MEMORY_POLL_SECONDS

    def tick(self) -> None:
        """Count one step, refusing it when the step budget or the deadline is spent."""
        if self.steps >= self.max_steps:
            raise StepLimitExceeded(f"step budget of {self.max_steps} spent")
        self.steps += 1
        now = time.perf_counter()
        if self.deadline is not None and now > self.deadline:
            raise TimeLimitExceeded(f"deadline passed after {self.steps} steps")
        if now >= self.memory_poll_at:
            self.sample_memory(now)

    def check_clock(self) -> None:
        """The deadline and the memory cap, without taking a step: after each line, and in the
        loops inside one primitive that can run long on large inputs."""
        now = time.perf_counter()
        if self.deadline is not None and now > self.deadline:
            raise TimeLimitExceeded(f"deadline passed after {self.steps} steps")
        if now >= self.memory_poll_at:
            self.sample_memory(now)

    def sample_memory(self, now: float) -> None:
        """Take a sample of resident memory; raise SizeLimitExceeded when the run has grown it
        past ``max_memory``."""
        self.memory_poll_at = now + MEMORY_POLL_SECONDS
        resident = resident_bytes()
        if resident - self.memory_base > self.max_memory:
            raise SizeLimitExceeded(f"the run grew resident memory by {resident - self.memory_base} bytes, "
                                    f"past its cap of {self.max_memory}")

    def check_elements(self, n: int) -> None:
        """Refuse to build a value of ``n`` elements when that is past the size cap."""
        if n > self.max_value_size:
            raise SizeLimitExceeded(f"{n} elements exceed the size cap of {self.max_value_size}")


class _ThreadBudget(threading.local):
    budget: Budget | None = None


_active = _ThreadBudget()


def current_budget() -> Budget | None:
    """The budget installed for this thread, or ``None`` (unlimited)."""
    return _active.budget


@contextmanager
def active(budget: Budget | None) -> Iterator[Budget | None]:
    """Install ``budget`` for the current thread for the duration of the block."""
    previous = _active.budget
    _active.budget = budget
    try:
        yield budget
    finally:
        _active.budget = previous


def check_elements(n: int) -> None:
    """``Budget.check_elements`` on the active budget; nothing when none is installed."""
    budget = _active.budget
    if budget is not None and n > budget.max_value_size:
        budget.check_elements(n)


def paced(items: Iterable, cost: int = 1) -> Iterator:
    """``items`` one by one, with ``check_deadline`` every 65,536 units of work (``cost`` units
    an item): for a primitive's loop that is long on large inputs, as the native interpreter's
    ``Ctx::tick``. Without an active budget, ``items`` as they are."""
    budget = _active.budget
    if budget is None:
        yield from items
        return
    stride = max(1, (1 << 16) // max(cost, 1))
    it = iter(items)
    while chunk := list(islice(it, stride)):
        budget.check_clock()
        yield from chunk


def check_deadline() -> None:
    """``Budget.check_clock`` on the active budget (no step taken): for primitives whose own
    loops can run long on large inputs (manhattan, objects, hperiod, ...)."""
    budget = _active.budget
    if budget is not None:
        budget.check_clock()


# --- function values -----------------------------------------------------------------------------

def _depth_counted(call: Callable) -> Callable:
    """Count a function value's call against the active budget's ``max_depth``."""

    def counted(self, *args):
        budget = _active.budget
        if budget is None:
            return call(self, *args)
        if budget.depth >= budget.max_depth:
            raise RecursionError(f"function values nested deeper than {budget.max_depth}")
        budget.depth += 1
        try:
            return call(self, *args)
        finally:
            budget.depth -= 1

    counted.__name__ = call.__name__
    return counted


def arity_of(function: Any, where: str) -> int:
    """The parameter count arc-dsl would read from ``function.__code__.co_argcount``."""
    if isinstance(function, FunctionValue):
        return function.arity
    raise DSLTypeError(f"{where}: expected a function, got {type(function).__name__}")


def _bound_arity(n: int) -> int:
    # arc-dsl's lbind/rbind: 2 -> 1, 3 -> 2, any other count -> a 3-parameter lambda.
    if n == 2:
        return 1
    if n == 3:
        return 2
    return 3


class FunctionValue:
    """Base of every DSL function value."""

    __slots__ = ()

    @property
    def arity(self) -> int:
        return 1

    def order_key(self) -> tuple:
        raise NotImplementedError


@dataclass(frozen=True, repr=False)
class Primitive(FunctionValue):
    """A primitive used as a value (or called by the interpreter): calling it takes one step."""

    name: str
    """arc-dsl's name of the primitive."""
    impl: Callable = field(compare=False)
    """The Python function of ``primitives.py`` that computes it."""
    n_params: int = field(default=-1, compare=False)
    """Its positional-parameter count; read from ``impl`` when left at -1."""

    def __post_init__(self):
        if self.n_params < 0:
            object.__setattr__(self, "n_params", self.impl.__code__.co_argcount)

    @property
    def arity(self) -> int:
        return self.n_params

    def __call__(self, *args):
        if len(args) != self.n_params:
            raise DSLTypeError(f"{self.name} takes {self.n_params} arguments, got {len(args)}")
        budget = _active.budget
        if budget is not None:
            budget.tick()
        return self.impl(*args)

    def order_key(self) -> tuple:
        ids = primitive_ids()
        if self.name in ids:
            return (3, (0, ids[self.name]))
        # Not in the catalogue (a test's own primitive): after all catalogued ones, by name.
        return (3, (0, len(ids), self.name))

    def __repr__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Compose(FunctionValue):
    """``compose(outer, inner)``: x -> outer(inner(x))."""

    outer: Any
    """Applied second."""
    inner: Any
    """Applied first."""

    @_depth_counted
    def __call__(self, x):
        return self.outer(self.inner(x))

    def order_key(self) -> tuple:
        return (3, (1, order_key(self.outer), order_key(self.inner)))


@dataclass(frozen=True)
class Chain(FunctionValue):
    """``chain(h, g, f)``: x -> h(g(f(x)))."""

    h: Any
    """Applied last."""
    g: Any
    """Applied second."""
    f: Any
    """Applied first."""

    @_depth_counted
    def __call__(self, x):
        return self.h(self.g(self.f(x)))

    def order_key(self) -> tuple:
        return (3, (2, order_key(self.h), order_key(self.g), order_key(self.f)))


@dataclass(frozen=True)
class Matcher(FunctionValue):
    """``matcher(function, target)``: x -> function(x) == target."""

    function: Any
    """Applied to the argument."""
    target: Any
    """Compared (Python ==) with the function's result."""

    @_depth_counted
    def __call__(self, x):
        return self.function(x) == self.target

    def order_key(self) -> tuple:
        return (3, (3, order_key(self.function), order_key(self.target)))


@dataclass(frozen=True)
class _Bind(FunctionValue):
    """A function with one parameter fixed: what rbind and lbind build."""

    function: Any
    """The function bound."""
    fixed: Any
    """The argument it always gets (last for rbind, first for lbind)."""

    _builder = ""  # the primitive's name, for messages
    _tag = 0  # the kind tag of the order key (dsl/README.md)

    @property
    def arity(self) -> int:
        return _bound_arity(self.function.arity)

    def _check(self, args: tuple) -> None:
        if len(args) != self.arity:
            raise DSLTypeError(f"{self._builder}({self.function!r}, ...) takes {self.arity} arguments, got {len(args)}")

    def order_key(self) -> tuple:
        return (3, (self._tag, order_key(self.function), order_key(self.fixed)))


@dataclass(frozen=True)
class RightBind(_Bind):
    """``rbind(function, fixed)``: the function with its last parameter fixed."""

    _builder = "rbind"
    _tag = 4

    @_depth_counted
    def __call__(self, *args):
        self._check(args)
        return self.function(*args, self.fixed)


@dataclass(frozen=True)
class LeftBind(_Bind):
    """``lbind(function, fixed)``: the function with its first parameter fixed."""

    _builder = "lbind"
    _tag = 5

    @_depth_counted
    def __call__(self, *args):
        self._check(args)
        return self.function(self.fixed, *args)


@dataclass(frozen=True)
class Power(FunctionValue):
    """``power(function, n)`` for n >= 2: x -> function applied n times (``power(f, 1)`` is f)."""

    function: Any
    """The unary function iterated."""
    n: int
    """How many times it is applied (at least 2)."""

    @_depth_counted
    def __call__(self, x):
        function = self.function
        for _ in range(self.n):
            x = function(x)
        return x

    def order_key(self) -> tuple:
        return (3, (6, order_key(self.function), (0, int(self.n))))


@dataclass(frozen=True)
class Fork(FunctionValue):
    """``fork(outer, a, b)``: x -> outer(a(x), b(x)), a evaluated before b."""

    outer: Any
    """Combines the two results."""
    a: Any
    """Gives the first argument of outer."""
    b: Any
    """Gives the second argument of outer."""

    @_depth_counted
    def __call__(self, x):
        return self.outer(self.a(x), self.b(x))

    def order_key(self) -> tuple:
        return (3, (7, order_key(self.outer), order_key(self.a), order_key(self.b)))
