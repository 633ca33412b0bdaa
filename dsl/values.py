"""The DSL's value model: canonical order, value size, runtime kind predicates, run errors.

Values are plain Python objects exactly as in arc-dsl: ``int``/``bool``, tuples (pairs, cells,
grids, any tuple), frozensets (objects, index sets, sets of objects, ...), and the function
values of ``functions.py``. ``index`` also yields ``None`` for a location off the grid, so
``None`` is a value too.

The canonical order (dsl/README.md) makes every frozenset iterate, and every tie resolve, the
same way in every Python version and in the native interpreter. Computing the full key is
costly (it rebuilds every value as nested tuples), so ``ordered`` and friends sort by Python's
own comparison whenever that provably gives the same order: for values built only of ints and
tuples, any comparison Python completes agrees with the canonical one (ints compare as ints,
tuples lexicographically, shorter prefix first), and where they would disagree (an int against a
tuple) Python raises TypeError and we fall back to the key.
"""

from __future__ import annotations

import enum
from itertools import chain as _chain
from typing import Callable, Iterable


class DSLTypeError(TypeError):
    """A primitive got an argument of the wrong kind (a grid where a number belongs, ...)."""


class DSLRuntimeError(Exception):
    """A primitive failed on well-kinded arguments: division by zero, empty container, ..."""


class StepLimitExceeded(Exception):
    """The run used up its step budget."""


class TimeLimitExceeded(Exception):
    """The run passed its wall-time deadline."""


class SizeLimitExceeded(Exception):
    """A value (or one a primitive was about to build) exceeds the size cap."""


class Status(enum.IntEnum):
    """Outcome of one run; the same integers in Python and in the native interpreter."""

    OK = 0
    TIMEOUT = 1
    STEP_LIMIT = 2
    SIZE_LIMIT = 3
    TYPE_ERROR = 4
    RUNTIME_ERROR = 5
    BAD_OUTPUT = 6


def status_of_exception(exc: BaseException) -> Status:
    """The status a run ends with when ``exc`` escapes a primitive (dsl/README.md's table)."""
    if isinstance(exc, TimeLimitExceeded):
        return Status.TIMEOUT
    if isinstance(exc, StepLimitExceeded):
        return Status.STEP_LIMIT
    if isinstance(exc, SizeLimitExceeded):
        return Status.SIZE_LIMIT
    # DSLTypeError is a TypeError; AttributeError is what arc-dsl raises for a method the
    # argument's kind lacks (tuple.count on a frozenset, ...).
    if isinstance(exc, (TypeError, AttributeError)):
        return Status.TYPE_ERROR
    return Status.RUNTIME_ERROR


# --- canonical order -------------------------------------------------------------------------

_NONE_KEY = (-1, 0)


def order_key(v) -> tuple:
    """The canonical order key of a value (dsl/README.md, "Canonical order").

    int/bool ``(0, int(v))``; tuple ``(1, keys of its elements)``; frozenset ``(2, sorted keys
    of its elements)``; function value ``(3, structure)`` (its own ``order_key()``). ``None``
    (``index`` off the grid) gets ``(-1, 0)``: before everything else.
    """
    t = type(v)
    if t is int:
        return (0, v)
    if t is tuple:
        return (1, tuple(map(order_key, v)))
    if t is frozenset:
        return (2, tuple(sorted(map(order_key, v))))
    if t is bool:
        return (0, int(v))
    if v is None:
        return _NONE_KEY
    method = getattr(v, "order_key", None)
    if method is not None:
        return method()
    if isinstance(v, int):
        return (0, int(v))
    raise DSLTypeError(f"order_key: {type(v).__name__} is not a DSL value")


def _is_plain(v) -> bool:
    """Whether ``v`` is built of ints (bools included) and tuples only."""
    t = type(v)
    if t is int or t is bool:
        return True
    if t is tuple:
        for e in v:
            te = type(e)
            if te is int or te is bool:
                continue
            if te is tuple:
                if not _is_plain(e):
                    return False
                continue
            return False
        return True
    return False


_INT_TYPES = {int, bool}
_PLAIN_TYPES = {int, bool, tuple}
_ONLY_TUPLE = {tuple}
_ONLY_FROZENSET = {frozenset}


def _all_plain(items) -> bool:
    """Whether every item is built of ints and tuples only. Works level by level with
    set(map(type, ...)) so that the scan of a big object stays mostly in C."""
    level = list(items)
    while level:
        types = set(map(type, level))
        if types <= _INT_TYPES:
            return True
        if not types <= _PLAIN_TYPES:
            return False
        if types == _ONLY_TUPLE:
            level = list(_chain.from_iterable(level))
        else:
            level = list(_chain.from_iterable([x for x in level if type(x) is tuple]))
    return True


def _plain_set_key(s: frozenset) -> tuple:
    return tuple(sorted(s))


def _fast_key(items):
    """A sort key for ``items`` that orders them canonically, or ``None`` for Python's own order.

    Returns ``order_key`` itself when no cheaper key is safe. The cheaper choices can still
    raise TypeError while comparing (an int against a tuple); callers then retry with
    ``order_key``.
    """
    types = set(map(type, items))
    if types <= _INT_TYPES:
        return None
    if types == _ONLY_FROZENSET:
        # A set of frozensets of plain values: its canonical key is its sorted elements, and
        # sorted plain elements compare exactly as their canonical keys do.
        return _plain_set_key if _all_plain(_chain.from_iterable(items)) else order_key
    if types <= _PLAIN_TYPES and _all_plain(items):
        return None
    return order_key


def _extreme_plain_set(items, largest: bool):
    """The canonical min (max) of frozensets of plain values: decided by their smallest
    elements first, so only sets that tie on it are sorted."""
    if frozenset() in items:
        if not largest:
            return frozenset()
        items = [s for s in items if s]
        if not items:
            return frozenset()
    heads = [(min(s), s) for s in items]
    best = (max if largest else min)(head for head, _ in heads)
    tied = [s for head, s in heads if head == best]
    if len(tied) == 1:
        return tied[0]
    return (max if largest else min)(tied, key=_plain_set_key)


def ordered(container) -> tuple:
    """The elements of a container in its iteration order: a tuple as it is, a frozenset sorted
    by ``order_key``."""
    t = type(container)
    if t is tuple:
        return container
    if t is not frozenset:
        raise DSLTypeError(f"expected a tuple or a frozenset, got {describe(container)}")
    if len(container) < 2:
        return tuple(container)
    key = _fast_key(container)
    if key is not order_key:
        try:
            return tuple(sorted(container, key=key))
        except TypeError:
            pass
    return tuple(sorted(container, key=order_key))


def canonical_min(items):
    """The first of ``items`` (a non-empty collection of distinct values) in canonical order."""
    return _canonical_extreme(items, largest=False)


def canonical_max(items):
    """The last of ``items`` (a non-empty collection of distinct values) in canonical order."""
    return _canonical_extreme(items, largest=True)


def _canonical_extreme(items, largest: bool):
    pick = max if largest else min
    key = _fast_key(items)
    try:
        if key is None:
            return pick(items)
        if key is _plain_set_key:
            return _extreme_plain_set(items, largest)
    except TypeError:
        pass
    return pick(items, key=order_key)


def comparable_keys(values: list, paced: Callable[[list], Iterable] = iter) -> list:
    """Keys for a list of values (results of a key function, say) that compare canonically:
    the values themselves when they are all ints, else their ``order_key``, built over
    ``paced(values)`` (a primitive passes ``functions.paced``: the keys of many big values take
    seconds to build, and its run's clock must be read meanwhile)."""
    for v in values:
        t = type(v)
        if t is not int and t is not bool:
            return [order_key(x) for x in paced(values)]
    return values


# --- size and kinds ----------------------------------------------------------------------------

def value_size(v, limit: int | None = None) -> int:
    """1 for an int, bool, None or function; 1 + the sizes of the elements for a tuple or
    frozenset (a pair is 3, a cell 5, a 30x30 grid 931).

    With ``limit``, counting stops as soon as the total passes it and some number above
    ``limit`` is returned: a value that shares its parts (``repeat`` of a ``repeat``) can be
    far larger counted than it is in memory, and checking it against a cap must not take
    time proportional to its counted size.
    """
    t = type(v)
    if t is not tuple and t is not frozenset:
        return 1
    if limit is None:
        return _size_unbounded(v)
    return _size_bounded(v, limit)


def _size_unbounded(v) -> int:
    n = 1
    for e in v:
        te = type(e)
        if te is tuple or te is frozenset:
            n += _size_unbounded(e)
        else:
            n += 1
    return n


def _size_bounded(v, limit: int) -> int:
    n = 1 + len(v)
    if n > limit:
        return n
    for e in v:
        te = type(e)
        if te is tuple or te is frozenset:
            n += _size_bounded(e, limit - n + 1) - 1
            if n > limit:
                return n
    return n


def is_integer(v) -> bool:
    """An Integer (or Boolean) of the DSL: a Python int, bools included."""
    t = type(v)
    return t is int or t is bool


def is_pair(v) -> bool:
    """An IntegerTuple: a tuple of exactly two ints."""
    return type(v) is tuple and len(v) == 2 and is_integer(v[0]) and is_integer(v[1])


def is_grid(v) -> bool:
    """A tuple of equal-length tuples of ints. The empty tuple counts (a grid of no rows, as
    ``tophalf`` of a one-row grid yields); so does a tuple of empty rows."""
    if type(v) is not tuple:
        return False
    if not v:
        return True
    first = v[0]
    if type(first) is not tuple:
        return False
    w = len(first)
    for row in v:
        if type(row) is not tuple or len(row) != w:
            return False
        for x in row:
            tx = type(x)
            if tx is not int and tx is not bool:
                return False
    return True


def is_valid_arc_grid(v) -> bool:
    """A valid ARC output: a grid of 1..30 rows and 1..30 columns with every value in 0..9."""
    if type(v) is not tuple or not 1 <= len(v) <= 30:
        return False
    first = v[0]
    if type(first) is not tuple or not 1 <= len(first) <= 30:
        return False
    w = len(first)
    for row in v:
        if type(row) is not tuple or len(row) != w:
            return False
        for x in row:
            tx = type(x)
            if (tx is not int and tx is not bool) or not 0 <= x <= 9:
                return False
    return True


def describe(v) -> str:
    """A short description of a value's kind for error messages (never the whole value)."""
    t = type(v)
    if t is bool or t is int:
        return f"integer {v}"
    if v is None:
        return "None"
    if t is tuple:
        if is_pair(v):
            return f"pair {v}"
        if v and is_grid(v):
            return f"{len(v)}x{len(v[0])} grid"
        return f"tuple of {len(v)}"
    if t is frozenset:
        return f"frozenset of {len(v)}"
    if callable(v):
        return f"function {v!r}"
    return t.__name__
