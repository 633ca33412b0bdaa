"""The 160 primitives of the DSL: the Python reference semantics (the oracle).

Names, parameter order and meaning are those of Hodel's arc-dsl; the implementation is our own.
Project rules on top (dsl/README.md):

- Canonical order: a frozenset is iterated in ascending ``values.order_key`` order wherever the
  order can show (first, last, extract, totuple, order, argmax, mostcolor, paint, ...), and every
  tie goes to the first element in that order. Where only the set of results can show (apply on
  a frozenset, sfilter, prapply, ...) the function argument is first called in Python's own set
  order, which is cheaper; if anything raises, the calls are redone in canonical order with the
  step count rewound, so that the error, and the steps, are those of the canonical order.
- Values are compared (max, min, sort keys) by canonical order, never by Python's ``<``, so a
  comparison never raises and never means "subset".
- Size pre-checks: primitives whose output size is known in advance refuse, through the active
  ``functions.Budget``, to build more elements than the size cap allows.
- Wrong kinds fail loudly: arithmetic only on Numerical values (ints/bools and pairs of ints),
  containers only where containers belong, patches only when made all of cells or all of
  locations; each such failure is a ``DSLTypeError`` naming the primitive. The empty tuple where
  a pair is needed (the corner of an empty patch) is a ``DSLRuntimeError``, like arc-dsl's
  IndexError there.
- arc-dsl's failures on empty inputs, division by zero, ... are kept (as ``DSLRuntimeError`` or
  the Python error arc-dsl raises, which ``values.status_of_exception`` classifies the same way).

Primitives that take a function argument just call it; every call of a function value is
counted by ``functions.Primitive.__call__``. Primitives call one another here as plain Python
functions, which, as in arc-dsl, takes no steps.
"""

from __future__ import annotations

from collections import Counter
from itertools import chain as _chain_iterables
from operator import itemgetter as _itemgetter

from codeit.dsl import functions as _fn
from codeit.dsl.values import (
    DSLRuntimeError,
    DSLTypeError,
    SizeLimitExceeded,
    canonical_max,
    canonical_min,
    comparable_keys,
    describe,
    order_key,
    ordered,
    value_size,
)

# --- internal helpers -------------------------------------------------------------------------------

_EACH_LARGE = 1 << 16
"""The work ``functions.paced`` counts for an item that may itself be large: the clock is read
before every one."""


def _paced_keys(values: list):
    """``values`` for ``values.comparable_keys`` to build their order keys over, with the clock
    read every 16: a key is built in Python, and an object's takes a while."""
    return _fn.paced(values, 1 << 12)


def _row_cost(grid) -> int:
    """The work of one row of a grid walked cell by cell in Python (its first row's length)."""
    return len(grid[0]) if grid and type(grid[0]) is tuple else 1

_head = _itemgetter(0)
_second = _itemgetter(1)


def _is_int(x) -> bool:
    t = type(x)
    return t is int or t is bool


def _integer(x, where: str):
    if type(x) is not int and type(x) is not bool:
        raise DSLTypeError(f"{where}: expected an integer, got {describe(x)}")
    return x


def _not_a_pair(x, where: str) -> Exception:
    if x == () and type(x) is tuple:
        return DSLRuntimeError(f"{where}: got the empty tuple where a pair is needed")
    return DSLTypeError(f"{where}: expected a pair of integers, got {describe(x)}")


def _pair(x, where: str) -> tuple:
    if type(x) is tuple and len(x) == 2 and _is_int(x[0]) and _is_int(x[1]):
        return x
    raise _not_a_pair(x, where)


def _unpacks_in_two(x, where: str) -> None:
    """arc-dsl's ``a, b = x``: a value that is no container cannot be unpacked (TypeError), a
    container of another size than two fails the unpacking (ValueError, a RUNTIME_ERROR)."""
    _container(x, where)
    if len(x) != 2:
        raise DSLRuntimeError(f"{where}: a container of {len(x)} elements where a pair is needed")


def _is_numeric_pair(x, where: str) -> bool:
    """False for an integer, True for a pair of integers; anything else is not Numerical."""
    t = type(x)
    if t is int or t is bool:
        return False
    if t is tuple and len(x) == 2 and _is_int(x[0]) and _is_int(x[1]):
        return True
    raise _not_a_pair(x, where) if t is tuple and x == () else DSLTypeError(
        f"{where}: expected an integer or a pair of integers, got {describe(x)}")


def _container(x, where: str):
    t = type(x)
    if t is tuple or t is frozenset:
        return x
    raise DSLTypeError(f"{where}: expected a tuple or a frozenset, got {describe(x)}")


def _frozenset(x, where: str) -> frozenset:
    if type(x) is frozenset:
        return x
    raise DSLTypeError(f"{where}: expected a frozenset, got {describe(x)}")


def _tuple(x, where: str) -> tuple:
    if type(x) is tuple:
        return x
    raise DSLTypeError(f"{where}: expected a tuple, got {describe(x)}")


def _grid_dims(grid, where: str) -> tuple[int, int]:
    """(rows, length of the first row), as arc-dsl reads them; an empty grid has no first row."""
    if type(grid) is not tuple:
        raise DSLTypeError(f"{where}: expected a grid, got {describe(grid)}")
    if not grid:
        raise DSLRuntimeError(f"{where}: the grid is empty")
    first = grid[0]
    if type(first) is not tuple:
        raise DSLTypeError(f"{where}: expected a grid, got {describe(grid)}")
    return len(grid), len(first)


def _first_element(container):
    return container[0] if type(container) is tuple else next(iter(container))


_ONLY_TUPLES = {tuple}
_ONLY_TWO = {2}
_INT_TYPE_SET = {int, bool}


def _all_locations(items) -> bool:
    """Whether every item is a pair of ints (an empty collection passes); set(map(...)) keeps
    the scan in C, which matters: this check runs on every patch a primitive is given."""
    if not set(map(type, items)) <= _ONLY_TUPLES or not set(map(len, items)) <= _ONLY_TWO:
        return False
    return set(map(type, _chain_iterables.from_iterable(items))) <= _INT_TYPE_SET


def _bad_patch(where: str) -> DSLTypeError:
    return DSLTypeError(f"{where}: a patch must be all cells (color, (i, j)) or all locations (i, j)")


def _patch_is_object(patch, where: str) -> bool:
    """Whether a non-empty patch is an object (cells) rather than indices (locations).

    arc-dsl looks at one element only; every element is checked here, so that a mixed patch is
    an error rather than a result that depends on which element came first.
    """
    e = _first_element(patch)
    if type(e) is tuple and len(e) == 2 and type(e[1]) is tuple:
        if not set(map(type, patch)) <= _ONLY_TUPLES or not set(map(len, patch)) <= _ONLY_TWO \
                or not _all_locations(list(map(_second, patch))):
            raise _bad_patch(where)
        return True
    if not _all_locations(patch):
        raise _bad_patch(where)
    return False


def _indices(patch, where: str):
    """arc-dsl's toindices with the patch checked: the locations of a patch."""
    t = type(patch)
    if t is not frozenset and t is not tuple:
        raise DSLTypeError(f"{where}: expected a patch, got {describe(patch)}")
    if not patch:
        return frozenset()
    if _patch_is_object(patch, where):
        return frozenset(map(_second, patch))
    return patch


def _cells(obj, where: str):
    """The cells of an object (a non-object patch is an error); empty for an empty container."""
    t = type(obj)
    if t is not frozenset and t is not tuple:
        raise DSLTypeError(f"{where}: expected an object, got {describe(obj)}")
    if obj and not _patch_is_object(obj, where):
        raise DSLTypeError(f"{where}: expected an object (cells), got indices")
    return obj


def _locations_of(patch, where: str):
    """(locations, is_object) of a non-empty checked patch."""
    if _patch_is_object(patch, where):
        return frozenset(map(_second, patch)), True
    return patch, False


def _bounds(locs) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of non-empty checked locations."""
    rows = [i for i, _ in locs]
    cols = [j for _, j in locs]
    return min(rows), min(cols), max(rows), max(cols)


def _extent(patch, where: str) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of a patch; an empty patch fails as arc-dsl's min() does."""
    locs = _indices(patch, where)
    if not locs:
        raise DSLRuntimeError(f"{where}: the patch is empty")
    return _bounds(locs)


def _map_calls(call, container) -> list:
    """``[call(e) for e in container]`` where only the collection of results matters.

    Runs in Python's own iteration order; if a call raises, the calls are redone in canonical
    order with the step count rewound, so the failure is the canonical one.
    """
    if type(container) is tuple or len(container) < 2:
        return [call(e) for e in container]
    budget = _fn.current_budget()
    steps_before = budget.steps if budget is not None else 0
    try:
        return [call(e) for e in container]
    except Exception:
        if budget is not None:
            budget.steps = steps_before
        return [call(e) for e in ordered(container)]


def _rebuild(kind, items):
    return tuple(items) if kind is tuple else frozenset(items)


def _first_max_index(keys: list) -> int:
    return max(range(len(keys)), key=keys.__getitem__)


def _first_min_index(keys: list) -> int:
    return min(range(len(keys)), key=keys.__getitem__)


def _canonical_first(container, where: str):
    if type(container) is tuple:
        if not container:
            raise DSLRuntimeError(f"{where}: the container is empty")
        return container[0]
    if type(container) is not frozenset:
        raise DSLTypeError(f"{where}: expected a tuple or a frozenset, got {describe(container)}")
    if not container:
        raise DSLRuntimeError(f"{where}: the container is empty")
    if len(container) == 1:
        for e in container:
            return e
    return canonical_min(container)


def _first_component(container, where: str):
    """``first(container)[0]``, as colorfilter and color read an object's color, without
    sorting: the canonical first element has the canonically first first component."""
    if type(container) is frozenset and len(container) > 1 and set(map(type, container)) <= _ONLY_TUPLES:
        try:
            heads = set(map(_head, container))
        except IndexError:
            heads = None
        if heads is not None:
            return canonical_min(heads)
    return _canonical_first(container, where)[0]


def _element_values(element, where: str) -> list:
    """The colors of a grid (every cell) or of an object (every cell's first component)."""
    t = type(element)
    if t is tuple:
        try:
            return list(_chain_iterables.from_iterable(element))
        except TypeError:
            raise DSLTypeError(f"{where}: expected a grid or an object, got {describe(element)}") from None
    if t is frozenset:
        return _cell_colors(element, where)
    raise DSLTypeError(f"{where}: expected a grid or an object, got {describe(element)}")


def _cell_colors(obj: frozenset, where: str) -> list:
    """The first component of every element, as arc-dsl's ``for v, _ in obj`` reads it. An
    element that is not a 2-tuple is a kind error whichever element is met first."""
    try:
        return [v for v, _ in obj]
    except (TypeError, ValueError):
        raise DSLTypeError(f"{where}: an element of the object is not a cell") from None


def _most_frequent(values: list, where: str, least: bool):
    if not values:
        raise DSLRuntimeError(f"{where}: nothing to count")
    counts = Counter(values)
    distinct = ordered(frozenset(counts))
    return (min if least else max)(distinct, key=counts.__getitem__)


def _paint_order(obj):
    """The cells of an object in the order painting visits them: canonical order, which only
    matters (and is only computed) when two cells share a location."""
    if type(obj) is tuple:
        return obj
    if len({c[1] for c in obj}) == len(obj):
        return obj
    return ordered(obj)


def _grid_rows(grid, where: str) -> list:
    _grid_dims(grid, where)
    return [list(row) for row in grid]


def _box_outline(si: int, sj: int, ei: int, ej: int) -> frozenset:
    _fn.check_elements(2 * (max(ei - si, 0) + max(ej - sj, 0) + 2))
    locs = {(i, sj) for i in range(si, ei + 1)}
    locs.update((i, ej) for i in range(si, ei + 1))
    locs.update((si, j) for j in range(sj, ej + 1))
    locs.update((ei, j) for j in range(sj, ej + 1))
    return frozenset(locs)


# --- arithmetic -------------------------------------------------------------------------------------

def identity(x):
    return x


def _int64(x: int, where: str) -> int:
    """An arithmetic result within 64 bits, else a size fault: Python's ints are unbounded, but
    a program that grows one past int64 only makes ever slower big-int arithmetic (and digit
    strings past Python's 4,300-digit limit); the native interpreter stops at the same point."""
    if -_INT64_BOUND <= x < _INT64_BOUND:
        return x
    raise SizeLimitExceeded(f"{where}: the result needs more than 64 bits")


_INT64_BOUND = 1 << 63


def add(a, b):
    pa, pb = _is_numeric_pair(a, "add"), _is_numeric_pair(b, "add")
    if not pa and not pb:
        return _int64(a + b, "add")
    if pa and pb:
        return (_int64(a[0] + b[0], "add"), _int64(a[1] + b[1], "add"))
    if pb:
        return (_int64(a + b[0], "add"), _int64(a + b[1], "add"))
    return (_int64(a[0] + b, "add"), _int64(a[1] + b, "add"))


def subtract(a, b):
    pa, pb = _is_numeric_pair(a, "subtract"), _is_numeric_pair(b, "subtract")
    if not pa and not pb:
        return _int64(a - b, "subtract")
    if pa and pb:
        return (_int64(a[0] - b[0], "subtract"), _int64(a[1] - b[1], "subtract"))
    if pb:
        return (_int64(a - b[0], "subtract"), _int64(a - b[1], "subtract"))
    return (_int64(a[0] - b, "subtract"), _int64(a[1] - b, "subtract"))


def multiply(a, b):
    pa, pb = _is_numeric_pair(a, "multiply"), _is_numeric_pair(b, "multiply")
    if not pa and not pb:
        return _int64(a * b, "multiply")
    if pa and pb:
        return (_int64(a[0] * b[0], "multiply"), _int64(a[1] * b[1], "multiply"))
    if pb:
        return (_int64(a * b[0], "multiply"), _int64(a * b[1], "multiply"))
    return (_int64(a[0] * b, "multiply"), _int64(a[1] * b, "multiply"))


def _floordiv(x, y):
    if y == 0:
        raise DSLRuntimeError("divide: division by zero")
    return _int64(x // y, "divide")


def divide(a, b):
    pa, pb = _is_numeric_pair(a, "divide"), _is_numeric_pair(b, "divide")
    if not pa and not pb:
        return _floordiv(a, b)
    if pa and pb:
        return (_floordiv(a[0], b[0]), _floordiv(a[1], b[1]))
    if pb:
        return (_floordiv(a, b[0]), _floordiv(a, b[1]))
    return (_floordiv(a[0], b), _floordiv(a[1], b))


def invert(n):
    if _is_numeric_pair(n, "invert"):
        return (_int64(-n[0], "invert"), _int64(-n[1], "invert"))
    return _int64(-n, "invert")


def even(n):
    return _integer(n, "even") % 2 == 0


def double(n):
    if _is_numeric_pair(n, "double"):
        return (_int64(n[0] * 2, "double"), _int64(n[1] * 2, "double"))
    return _int64(n * 2, "double")


def halve(n):
    if _is_numeric_pair(n, "halve"):
        return (n[0] // 2, n[1] // 2)
    return n // 2


def increment(x):
    if _is_numeric_pair(x, "increment"):
        return (_int64(x[0] + 1, "increment"), _int64(x[1] + 1, "increment"))
    return _int64(x + 1, "increment")


def decrement(x):
    if _is_numeric_pair(x, "decrement"):
        return (_int64(x[0] - 1, "decrement"), _int64(x[1] - 1, "decrement"))
    return _int64(x - 1, "decrement")


def _crement_one(v):
    if v == 0:
        return 0
    return _int64(v + 1, "crement") if v > 0 else _int64(v - 1, "crement")


def crement(x):
    if _is_numeric_pair(x, "crement"):
        return (_crement_one(x[0]), _crement_one(x[1]))
    return _crement_one(x)


def _sign_one(v):
    if v == 0:
        return 0
    return 1 if v > 0 else -1


def sign(x):
    if _is_numeric_pair(x, "sign"):
        return (_sign_one(x[0]), _sign_one(x[1]))
    return _sign_one(x)


def positive(x):
    return _integer(x, "positive") > 0


def toivec(i):
    return (i, 0)


def tojvec(j):
    return (0, j)


def astuple(a, b):
    return (a, b)


# --- logic ------------------------------------------------------------------------------------------

def flip(b):
    return not b


def equality(a, b):
    return a == b


def both(a, b):
    return a and b


def either(a, b):
    return a or b


def branch(condition, a, b):
    return a if condition else b


def greater(a, b):
    if _is_int(a) and _is_int(b):
        return a > b
    if type(a) is tuple and type(b) is tuple:
        return order_key(a) > order_key(b)
    raise DSLTypeError(f"greater: expected two integers, got {describe(a)} and {describe(b)}")


# --- containers -------------------------------------------------------------------------------------

def contained(value, container):
    return value in _container(container, "contained")


def combine(a, b):
    _container(b, "combine")
    if type(a) is tuple:
        return a + ordered(b)
    if type(a) is frozenset:
        return a.union(b)
    raise DSLTypeError(f"combine: expected a tuple or a frozenset, got {describe(a)}")


def intersection(a, b):
    return _frozenset(a, "intersection") & _frozenset(b, "intersection")


def difference(a, b):
    _container(b, "difference")
    if type(a) is frozenset:
        return a.difference(b)
    if type(a) is tuple:
        # Membership in a tuple b is a scan: a long a against a long b is long.
        return tuple(e for e in _fn.paced(a, len(b) if type(b) is tuple else 1) if e not in b)
    raise DSLTypeError(f"difference: expected a tuple or a frozenset, got {describe(a)}")


def dedupe(tup):
    return tuple(dict.fromkeys(_tuple(tup, "dedupe")))


def order(container, compfunc):
    items = ordered(_container(container, "order"))
    keys = comparable_keys([compfunc(e) for e in items], _paced_keys)
    return tuple(items[i] for i in sorted(range(len(items)), key=keys.__getitem__))


def repeat(item, num):
    n = _integer(num, "repeat")
    _fn.check_elements(n)
    return (item,) * n if n > 0 else ()


def size(container):
    return len(_container(container, "size"))


def merge(containers):
    t = type(containers)
    # The containers may each be large (a repeat of a big one): the clock is read between them.
    if t is frozenset:
        merged = set()
        for c in _fn.paced(containers, _EACH_LARGE):
            merged.update(_container(c, "merge"))
        return frozenset(merged)
    if t is tuple:
        merged = []
        for c in _fn.paced(containers, _EACH_LARGE):
            merged.extend(ordered(_container(c, "merge")))
        return tuple(merged)
    raise DSLTypeError(f"merge: expected a tuple or a frozenset, got {describe(containers)}")


def _extreme(container, where: str, largest: bool):
    _container(container, where)
    if not container:
        return 0
    if type(container) is frozenset:
        return canonical_max(container) if largest else canonical_min(container)
    keys = comparable_keys(list(container), _paced_keys)
    return container[_first_max_index(keys) if largest else _first_min_index(keys)]


def maximum(container):
    return _extreme(container, "maximum", True)


def minimum(container):
    return _extreme(container, "minimum", False)


def _best_by(container, compfunc, where: str, largest: bool):
    """The first element of largest (smallest) key, in canonical order; None when empty."""
    items = ordered(_container(container, where))
    if not items:
        return None, False
    keys = comparable_keys([compfunc(e) for e in items], _paced_keys)
    return items[_first_max_index(keys) if largest else _first_min_index(keys)], True


def valmax(container, compfunc):
    best, found = _best_by(container, compfunc, "valmax", True)
    return compfunc(best if found else 0)


def valmin(container, compfunc):
    best, found = _best_by(container, compfunc, "valmin", False)
    return compfunc(best if found else 0)


def argmax(container, compfunc):
    best, found = _best_by(container, compfunc, "argmax", True)
    if not found:
        raise DSLRuntimeError("argmax: the container is empty")
    return best


def argmin(container, compfunc):
    best, found = _best_by(container, compfunc, "argmin", False)
    if not found:
        raise DSLRuntimeError("argmin: the container is empty")
    return best


def mostcommon(container):
    # arc-dsl counts with tuple.count, which a frozenset lacks.
    return _most_frequent(list(_tuple(container, "mostcommon")), "mostcommon", least=False)


def leastcommon(container):
    return _most_frequent(list(_tuple(container, "leastcommon")), "leastcommon", least=True)


def initset(value):
    return frozenset((value,))


def sfilter(container, condition):
    _container(container, "sfilter")
    if type(container) is tuple:
        return tuple(e for e in container if condition(e))
    keep = _map_calls(lambda e: (e, condition(e)), container)
    return frozenset(e for e, kept in keep if kept)


def mfilter(container, function):
    return merge(sfilter(container, function))


def extract(container, condition):
    for e in ordered(_container(container, "extract")):
        if condition(e):
            return e
    raise DSLRuntimeError("extract: no element satisfies the condition")


def totuple(container):
    return ordered(_container(container, "totuple"))


def first(container):
    return _canonical_first(container, "first")


def last(container):
    if type(container) is tuple:
        if not container:
            raise DSLRuntimeError("last: the container is empty")
        return container[-1]
    if type(container) is not frozenset:
        raise DSLTypeError(f"last: expected a tuple or a frozenset, got {describe(container)}")
    if not container:
        raise DSLRuntimeError("last: the container is empty")
    return canonical_max(container)


def insert(value, container):
    return _frozenset(container, "insert").union((value,))


def remove(value, container):
    _container(container, "remove")
    if type(container) is tuple:
        return tuple(e for e in container if e != value)
    return container.difference((value,))


def other(container, value):
    return _canonical_first(remove(value, container), "other")


def interval(start, stop, step):
    if _integer(step, "interval") == 0:
        raise DSLRuntimeError("interval: step is zero")
    span = range(_integer(start, "interval"), _integer(stop, "interval"), step)
    _fn.check_elements(len(span))
    return tuple(span)


def product(a, b):
    _container(a, "product")
    _container(b, "product")
    _fn.check_elements(len(a) * len(b))
    budget = _fn.current_budget()
    if budget is not None and a and b:
        # Each pair holds an element of a and one of b: what the elements hold beyond themselves
        # (rows of a grid, say) is repeated len(b) (len(a)) times. Two big grids' rows make a
        # million pairs within the element cap that take minutes to hash.
        held_a = value_size(a, budget.max_value_size + 1 + len(a)) - 1 - len(a)  # exact up to past the cap
        held_b = value_size(b, budget.max_value_size + 1 + len(b)) - 1 - len(b)
        budget.check_elements(len(b) * held_a + len(a) * held_b)
    return frozenset((i, j) for j in b for i in a)


def pair(a, b):
    return tuple(zip(ordered(_container(a, "pair")), ordered(_container(b, "pair"))))


# --- function builders ------------------------------------------------------------------------------

def compose(outer, inner):
    return _fn.Compose(outer, inner)


def chain(h, g, f):
    return _fn.Chain(h, g, f)


def matcher(function, target):
    return _fn.Matcher(function, target)


def rbind(function, fixed):
    _fn.arity_of(function, "rbind")
    return _fn.RightBind(function, fixed)


def lbind(function, fixed):
    _fn.arity_of(function, "lbind")
    return _fn.LeftBind(function, fixed)


def power(function, n):
    _integer(n, "power")
    if n == 1:
        return function
    if n < 1:
        raise DSLRuntimeError(f"power: n must be at least 1, got {n}")
    return _fn.Power(function, int(n))


def fork(outer, a, b):
    return _fn.Fork(outer, a, b)


# --- mapping ----------------------------------------------------------------------------------------

def apply(function, container):
    _container(container, "apply")
    return _rebuild(type(container), _map_calls(function, container))


def rapply(functions, value):
    _container(functions, "rapply")
    return _rebuild(type(functions), _map_calls(lambda f: f(value), functions))


def mapply(function, container):
    return merge(apply(function, container))


def papply(function, a, b):
    return tuple(function(i, j) for i, j in pair(a, b))


def mpapply(function, a, b):
    return merge(papply(function, a, b))


def prapply(function, a, b):
    _container(a, "prapply")
    _container(b, "prapply")
    _fn.check_elements(len(a) * len(b))
    if type(a) is tuple and type(b) is tuple:
        return frozenset(function(i, j) for j in b for i in a)
    pairs = [(i, j) for j in b for i in a]
    budget = _fn.current_budget()
    steps_before = budget.steps if budget is not None else 0
    try:
        return frozenset(function(i, j) for i, j in pairs)
    except Exception:
        if budget is not None:
            budget.steps = steps_before
        oa = ordered(a)
        return frozenset(function(i, j) for j in ordered(b) for i in oa)


# --- colors -----------------------------------------------------------------------------------------

def mostcolor(element):
    return _most_frequent(_element_values(element, "mostcolor"), "mostcolor", least=False)


def leastcolor(element):
    return _most_frequent(_element_values(element, "leastcolor"), "leastcolor", least=True)


def colorcount(element, value):
    if type(element) is tuple:
        return sum(_tuple(row, "colorcount").count(value) for row in element)
    if type(element) is frozenset:
        return sum(v == value for v in _cell_colors(element, "colorcount"))
    raise DSLTypeError(f"colorcount: expected a grid or an object, got {describe(element)}")


def colorfilter(objs, value):
    _container(objs, "colorfilter")
    # Which malformed object fails first must not depend on set order: checked as apply is.
    keep = _map_calls(lambda obj: (obj, _first_component(obj, "colorfilter") == value), objs)
    return frozenset(obj for obj, kept in keep if kept)


def sizefilter(container, n):
    return frozenset(item for item in _container(container, "sizefilter")
                     if len(_container(item, "sizefilter")) == n)


def palette(element):
    if type(element) is tuple:
        return frozenset(_element_values(element, "palette"))
    if type(element) is frozenset:
        return frozenset(_cell_colors(element, "palette"))
    raise DSLTypeError(f"palette: expected a grid or an object, got {describe(element)}")


def numcolors(element):
    return len(palette(element))


def color(obj):
    return _first_component(_container(obj, "color"), "color")


# --- measures of grids and patches ------------------------------------------------------------------

def height(piece):
    _container(piece, "height")
    if not piece:
        return 0
    if type(piece) is tuple:
        return len(piece)
    top, _, bottom, _ = _extent(piece, "height")
    return bottom - top + 1


def width(piece):
    _container(piece, "width")
    if not piece:
        return 0
    if type(piece) is tuple:
        return len(_container(piece[0], "width"))
    _, left, _, right = _extent(piece, "width")
    return right - left + 1


def shape(piece):
    return (height(piece), width(piece))


def portrait(piece):
    return height(piece) > width(piece)


def uppermost(patch):
    return _extent(patch, "uppermost")[0]


def lowermost(patch):
    return _extent(patch, "lowermost")[2]


def leftmost(patch):
    return _extent(patch, "leftmost")[1]


def rightmost(patch):
    return _extent(patch, "rightmost")[3]


def ulcorner(patch):
    locs = _indices(patch, "ulcorner")
    if not locs:
        return ()
    top, left, bottom, right = _bounds(locs)
    return (top, left)


def urcorner(patch):
    locs = _indices(patch, "urcorner")
    if not locs:
        return ()
    top, left, bottom, right = _bounds(locs)
    return (top, right)


def llcorner(patch):
    locs = _indices(patch, "llcorner")
    if not locs:
        return ()
    top, left, bottom, right = _bounds(locs)
    return (bottom, left)


def lrcorner(patch):
    locs = _indices(patch, "lrcorner")
    if not locs:
        return ()
    top, left, bottom, right = _bounds(locs)
    return (bottom, right)


def square(piece):
    _container(piece, "square")
    if type(piece) is tuple:
        if not piece:
            raise DSLRuntimeError("square: the grid is empty")
        return len(piece) == len(_container(piece[0], "square"))
    h, w = height(piece), width(piece)
    return h * w == len(piece) and h == w


def vline(patch):
    return height(patch) == len(patch) and width(patch) == 1


def hline(patch):
    return width(patch) == len(patch) and height(patch) == 1


def hmatching(a, b):
    rows_a = {i for i, _ in _indices(a, "hmatching")}
    return any(i in rows_a for i, _ in _indices(b, "hmatching"))


def vmatching(a, b):
    cols_a = {j for _, j in _indices(a, "vmatching")}
    return any(j in cols_a for _, j in _indices(b, "vmatching"))


def manhattan(a, b):
    locs_a = _indices(a, "manhattan")
    locs_b = _indices(b, "manhattan")
    if not locs_a or not locs_b:
        raise DSLRuntimeError("manhattan: a patch is empty")
    best = None
    for ai, aj in locs_a:
        _fn.check_deadline()
        for bi, bj in locs_b:
            d = abs(ai - bi) + abs(aj - bj)
            if best is None or d < best:
                best = d
    return best


def adjacent(a, b):
    return manhattan(a, b) == 1


def bordering(patch, grid):
    # Short-circuits as arc-dsl's `or` chain does: the grid is only read when needed.
    if uppermost(patch) == 0 or leftmost(patch) == 0:
        return True
    if lowermost(patch) == len(_tuple(grid, "bordering")) - 1:
        return True
    if not grid:
        raise DSLRuntimeError("bordering: the grid is empty")
    return rightmost(patch) == len(_container(grid[0], "bordering")) - 1


def centerofmass(patch):
    locs = _indices(patch, "centerofmass")
    if not locs:
        return ()
    n = len(patch)
    return (sum(i for i, _ in locs) // n, sum(j for _, j in locs) // n)


def center(patch):
    if type(patch) is frozenset:
        top, left, bottom, right = _extent(patch, "center")
        return (top + (bottom - top + 1) // 2, left + (right - left + 1) // 2)
    # A tuple patch: arc-dsl's height and width read it as a grid.
    return (uppermost(patch) + height(patch) // 2, leftmost(patch) + width(patch) // 2)


def position(a, b):
    ia, ja = center(_indices(a, "position"))
    ib, jb = center(_indices(b, "position"))
    if ia == ib:
        return (0, 1 if ja < jb else -1)
    if ja == jb:
        return (1 if ia < ib else -1, 0)
    return (1 if ia < ib else -1, 1 if ja < jb else -1)


def index(grid, loc):
    i, j = _pair(loc, "index")
    h, w = _grid_dims(grid, "index")
    if not (0 <= i < h and 0 <= j < w):
        return None
    return grid[i][j]


# --- index sets -------------------------------------------------------------------------------------

def asindices(grid):
    # arc-dsl reads the first row only once it has a row to index: an empty grid (tophalf of a
    # one-row grid) has no indices rather than no first row.
    if type(grid) is tuple and not grid:
        return frozenset()
    h, w = _grid_dims(grid, "asindices")
    return frozenset((i, j) for i in range(h) for j in range(w))


def ofcolor(grid, value):
    _tuple(grid, "ofcolor")
    return frozenset((i, j) for i, row in enumerate(grid) for j, v in enumerate(_tuple(row, "ofcolor"))
                     if v == value)


def toindices(patch):
    return _indices(patch, "toindices")


def recolor(value, patch):
    return frozenset((value, loc) for loc in _indices(patch, "recolor"))


def shift(patch, directions):
    t = type(patch)
    if t is not frozenset and t is not tuple:
        raise DSLTypeError(f"shift: expected a patch, got {describe(patch)}")
    if not patch:
        return patch
    di, dj = _pair(directions, "shift")
    if _patch_is_object(patch, "shift"):
        return frozenset((v, (i + di, j + dj)) for v, (i, j) in patch)
    return frozenset((i + di, j + dj) for i, j in patch)


def normalize(patch):
    _container(patch, "normalize")
    if not patch:
        return patch
    top, left, _, _ = _extent(patch, "normalize")
    return shift(patch, (-top, -left))


def dneighbors(loc):
    i, j = _pair(loc, "dneighbors")
    return frozenset(((i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1)))


def ineighbors(loc):
    i, j = _pair(loc, "ineighbors")
    return frozenset(((i - 1, j - 1), (i - 1, j + 1), (i + 1, j - 1), (i + 1, j + 1)))


def neighbors(loc):
    i, j = _pair(loc, "neighbors")
    return frozenset((i + di, j + dj) for di in (-1, 0, 1) for dj in (-1, 0, 1) if di or dj)


def corners(patch):
    return frozenset((ulcorner(patch), urcorner(patch), llcorner(patch), lrcorner(patch)))


def connect(a, b):
    # arc-dsl unpacks both points before it looks at either (`ai, aj = a` then `bi, bj = b`), so
    # a container of the wrong size fails as its unpacking does, before any kind check.
    _unpacks_in_two(a, "connect")
    _unpacks_in_two(b, "connect")
    ai, aj = _pair(a, "connect")
    bi, bj = _pair(b, "connect")
    si, ei = min(ai, bi), max(ai, bi) + 1
    sj, ej = min(aj, bj), max(aj, bj) + 1
    if ai == bi or aj == bj or abs(bi - ai) == abs(bj - aj):
        _fn.check_elements(max(ei - si, ej - sj))
    if ai == bi:
        return frozenset((ai, j) for j in range(sj, ej))
    if aj == bj:
        return frozenset((i, aj) for i in range(si, ei))
    if bi - ai == bj - aj:
        return frozenset(zip(range(si, ei), range(sj, ej)))
    if bi - ai == aj - bj:
        return frozenset(zip(range(si, ei), range(ej - 1, sj - 1, -1)))
    return frozenset()


def vfrontier(location):
    j = _pair(location, "vfrontier")[1]
    return frozenset((i, j) for i in range(30))


def hfrontier(location):
    i = _pair(location, "hfrontier")[0]
    return frozenset((i, j) for j in range(30))


def backdrop(patch):
    _container(patch, "backdrop")
    if not patch:
        return frozenset()
    si, sj, ei, ej = _extent(patch, "backdrop")
    _fn.check_elements((ei - si + 1) * (ej - sj + 1))
    return frozenset((i, j) for i in range(si, ei + 1) for j in range(sj, ej + 1))


def delta(patch):
    _container(patch, "delta")
    if not patch:
        return frozenset()
    return backdrop(patch).difference(_indices(patch, "delta"))


def inbox(patch):
    top, left, bottom, right = _extent(patch, "inbox")
    ai, aj, bi, bj = top + 1, left + 1, bottom - 1, right - 1
    return _box_outline(min(ai, bi), min(aj, bj), max(ai, bi), max(aj, bj))


def outbox(patch):
    top, left, bottom, right = _extent(patch, "outbox")
    return _box_outline(top - 1, left - 1, bottom + 1, right + 1)


def box(patch):
    _container(patch, "box")
    if not patch:
        return patch
    top, left, bottom, right = _extent(patch, "box")
    return _box_outline(top, left, bottom, right)


def shoot(start, direction):
    si, sj = _pair(start, "shoot")
    di, dj = _pair(direction, "shoot")
    return connect(start, (si + 42 * di, sj + 42 * dj))


def gravitate(source, destination):
    si, sj = center(source)
    di, dj = center(destination)
    i, j = 0, 0
    if vmatching(source, destination):
        i = 1 if si < di else -1
    else:
        j = 1 if sj < dj else -1
    moved_i, moved_j = 0, 0
    steps = 0
    while not adjacent(source, destination) and steps < 42:
        steps += 1
        moved_i += i
        moved_j += j
        source = shift(source, (i, j))
    return (moved_i, moved_j)


# --- objects ----------------------------------------------------------------------------------------

def objects(grid, univalued, diagonal, without_bg):
    h, w = _grid_dims(grid, "objects")
    bg = mostcolor(grid) if without_bg else None
    steps = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)) if diagonal \
        else ((-1, 0), (1, 0), (0, -1), (0, 1))
    rows = [_tuple(row, "objects") for row in grid]
    seen = [[False] * len(row) for row in rows]
    found = []
    walked = 0  # cells taken off the stack: a big grid is a long walk in Python
    for si in range(h):
        _fn.check_deadline()
        row = rows[si]
        for sj in range(w):
            if seen[si][sj]:
                continue
            val = row[sj]
            if val == bg:
                continue
            seen[si][sj] = True
            cells = [(val, (si, sj))]
            stack = [(si, sj)]
            while stack:
                walked += 1
                if not walked & 0xFFF:
                    _fn.check_deadline()
                ci, cj = stack.pop()
                for di, dj in steps:
                    ni, nj = ci + di, cj + dj
                    if 0 <= ni < h and 0 <= nj < w and not seen[ni][nj]:
                        v = rows[ni][nj]
                        if (v == val) if univalued else (v != bg):
                            seen[ni][nj] = True
                            cells.append((v, (ni, nj)))
                            stack.append((ni, nj))
            found.append(frozenset(cells))
    return frozenset(found)


def _color_groups(grid, where: str) -> dict:
    _tuple(grid, where)
    groups: dict = {}
    for i, row in _fn.paced(enumerate(grid), _row_cost(grid)):
        for j, v in enumerate(_tuple(row, where)):
            groups.setdefault(v, []).append((v, (i, j)))
    return groups


def partition(grid):
    return frozenset(frozenset(cells) for cells in _color_groups(grid, "partition").values())


def fgpartition(grid):
    groups = _color_groups(grid, "fgpartition")
    bg = mostcolor(grid)
    return frozenset(frozenset(cells) for v, cells in groups.items() if v != bg)


def toobject(patch, grid):
    h, w = _grid_dims(grid, "toobject")
    return frozenset((grid[i][j], (i, j)) for i, j in _indices(patch, "toobject")
                     if 0 <= i < h and 0 <= j < w)


def asobject(grid):
    _tuple(grid, "asobject")
    return frozenset((v, (i, j)) for i, row in _fn.paced(enumerate(grid), _row_cost(grid))
                     for j, v in enumerate(_tuple(row, "asobject")))


def occurrences(grid, obj):
    normed = normalize(obj)
    h, w = _grid_dims(grid, "occurrences")
    oh, ow = shape(obj)
    h2, w2 = h - oh + 1, w - ow + 1
    if h2 <= 0 or w2 <= 0:
        return frozenset()
    cells = [(v, a, b) for v, (a, b) in _cells(normed, "occurrences")]
    found = []
    for i in range(h2):
        _fn.check_deadline()
        for j in range(w2):
            for v, a, b in cells:
                if grid[a + i][b + j] != v:
                    break
            else:
                found.append((i, j))
    return frozenset(found)


def frontiers(grid):
    h, w = _grid_dims(grid, "frontiers")
    found = []
    for i, row in enumerate(grid):
        if len(set(row)) == 1:
            found.append(frozenset((grid[i][j], (i, j)) for j in range(w)))
    for j, column in enumerate(dmirror(grid)):
        if len(set(column)) == 1:
            found.append(frozenset((grid[i][j], (i, j)) for i in range(h)))
    return frozenset(found)


def _period(obj, where: str, axis: int) -> int:
    """arc-dsl's h/vperiod: the smallest shift p in 1..extent-1 under which the object, cut
    at the near edge, maps into itself; the extent when there is none."""
    normalized = normalize(obj)
    extent = height(normalized) if axis == 0 else width(normalized)
    if extent <= 1:
        return extent
    cells = _cells(normalized, where)
    # A shift p can only work if it maps a cell on the far edge onto a cell of the same color
    # and cross position; trying only those shifts gives arc-dsl's answer in O(n^2), not
    # O(extent * n).
    far = extent - 1
    edge = [(v, loc) for v, loc in cells if loc[axis] == far]
    v0, loc0 = edge[0]
    candidates = sorted({far - loc[axis] for v, loc in cells
                         if v == v0 and loc[1 - axis] == loc0[1 - axis] and 0 < far - loc[axis]})
    for p in candidates:
        _fn.check_deadline()
        if axis == 0:
            pruned = ((v, (i - p, j)) for v, (i, j) in cells if i >= p)
        else:
            pruned = ((v, (i, j - p)) for v, (i, j) in cells if j >= p)
        if all(c in cells for c in pruned):
            return p
    return extent


def hperiod(obj):
    return _period(obj, "hperiod", axis=1)


def vperiod(obj):
    return _period(obj, "vperiod", axis=0)


# --- grid transforms --------------------------------------------------------------------------------

def crop(grid, start, dims):
    _tuple(grid, "crop")
    i, j = _pair(start, "crop")
    h, w = _pair(dims, "crop")
    return tuple(_tuple(row, "crop")[j:j + w] for row in grid[i:i + h])


def rot90(grid):
    return tuple(zip(*_tuple(grid, "rot90")[::-1]))


def rot180(grid):
    return tuple(tuple(row[::-1]) for row in _tuple(grid, "rot180")[::-1])


def rot270(grid):
    return tuple(tuple(row[::-1]) for row in zip(*_tuple(grid, "rot270")[::-1]))[::-1]


def hmirror(piece):
    if type(piece) is tuple:
        return piece[::-1]
    return _mirror_patch(piece, "hmirror", axis=0)


def _mirror_patch(piece, where: str, axis: int):
    _container(piece, where)
    if not piece:
        raise DSLRuntimeError(f"{where}: the patch is empty")
    locs, is_obj = _locations_of(piece, where)
    top, left, bottom, right = _bounds(locs)
    if axis == 0:
        d = top + bottom
        if is_obj:
            return frozenset((v, (d - i, j)) for v, (i, j) in piece)
        return frozenset((d - i, j) for i, j in piece)
    if axis == 1:
        d = left + right
        if is_obj:
            return frozenset((v, (i, d - j)) for v, (i, j) in piece)
        return frozenset((i, d - j) for i, j in piece)
    a, b = top, left
    if is_obj:
        return frozenset((v, (j - b + a, i - a + b)) for v, (i, j) in piece)
    return frozenset((j - b + a, i - a + b) for i, j in piece)


def vmirror(piece):
    if type(piece) is tuple:
        return tuple(row[::-1] for row in piece)
    return _mirror_patch(piece, "vmirror", axis=1)


def dmirror(piece):
    if type(piece) is tuple:
        return tuple(zip(*piece))
    return _mirror_patch(piece, "dmirror", axis=2)


def cmirror(piece):
    if type(piece) is tuple:
        return tuple(zip(*(row[::-1] for row in piece[::-1])))
    return vmirror(dmirror(vmirror(piece)))


def hupscale(grid, factor):
    _tuple(grid, "hupscale")
    k = _integer(factor, "hupscale")
    _fn.check_elements(sum(len(_tuple(row, "hupscale")) for row in grid) * max(k, 0))
    return tuple(tuple(v for v in row for _ in range(k)) for row in grid)


def vupscale(grid, factor):
    _tuple(grid, "vupscale")
    k = _integer(factor, "vupscale")
    _fn.check_elements(sum(len(_container(row, "vupscale")) for row in grid) * max(k, 0))
    return tuple(row for row in grid for _ in range(k))


def upscale(element, factor):
    k = _integer(factor, "upscale")
    if type(element) is tuple:
        _fn.check_elements(sum(len(_tuple(row, "upscale")) for row in element) * max(k, 0) ** 2)
        return tuple(wide for row in element
                     for wide in (tuple(v for v in row for _ in range(k)),) for _ in range(k))
    _container(element, "upscale")
    if not element:
        return frozenset()
    _cells(element, "upscale")
    _fn.check_elements(len(element) * max(k, 0) ** 2)
    top, left, _, _ = _extent(element, "upscale")
    return frozenset((v, (top + (i - top) * k + io, left + (j - left) * k + jo))
                     for v, (i, j) in element for io in range(k) for jo in range(k))


def downscale(grid, factor):
    h, w = _grid_dims(grid, "downscale")
    k = _integer(factor, "downscale")
    if k == 0:
        raise DSLRuntimeError("downscale: factor is zero")
    columns = [j for j in range(w) if j % k == 0]
    try:
        thinned = [tuple(row[j] for j in columns) for row in grid]
    except IndexError:
        raise DSLRuntimeError("downscale: the grid's rows are not all as wide as its first") from None
    return tuple(row for i, row in enumerate(thinned) if i % k == 0)


def hconcat(a, b):
    return tuple(_tuple(i, "hconcat") + _tuple(j, "hconcat") for i, j in zip(_tuple(a, "hconcat"), _tuple(b, "hconcat")))


def vconcat(a, b):
    return _tuple(a, "vconcat") + _tuple(b, "vconcat")


def subgrid(patch, grid):
    return crop(grid, ulcorner(patch), shape(patch))


def hsplit(grid, n):
    h, full_w = _grid_dims(grid, "hsplit")
    k = _integer(n, "hsplit")
    if k == 0:
        raise DSLRuntimeError("hsplit: n is zero")
    _fn.check_elements(k)  # n crops, built one by one
    w = full_w // k
    offset = full_w % k != 0
    return tuple(crop(grid, (0, w * i + i * offset), (h, w)) for i in range(k))


def vsplit(grid, n):
    full_h, w = _grid_dims(grid, "vsplit")
    k = _integer(n, "vsplit")
    if k == 0:
        raise DSLRuntimeError("vsplit: n is zero")
    _fn.check_elements(k)  # n crops, built one by one
    h = full_h // k
    offset = full_h % k != 0
    return tuple(crop(grid, (h * i + i * offset, 0), (h, w)) for i in range(k))


def cellwise(a, b, fallback):
    h, w = _grid_dims(a, "cellwise")
    _tuple(b, "cellwise")
    try:
        return tuple(tuple(a[i][j] if a[i][j] == b[i][j] else fallback for j in range(w)) for i in range(h))
    except IndexError:
        raise DSLRuntimeError("cellwise: a grid is smaller than the first grid's first row and height") from None


def replace(grid, replacee, replacer):
    return tuple(tuple(replacer if v == replacee else v for v in _tuple(row, "replace"))
                 for row in _tuple(grid, "replace"))


def switch(grid, a, b):
    return tuple(tuple(b if v == a else (a if v == b else v) for v in _tuple(row, "switch"))
                 for row in _tuple(grid, "switch"))


def canvas(value, dimensions):
    h, w = _pair(dimensions, "canvas")
    _fn.check_elements(max(h, 0) * max(w, 0))
    row = (value,) * w if w > 0 else ()
    return (row,) * h if h > 0 else ()


def trim(grid):
    return tuple(_tuple(row, "trim")[1:-1] for row in _tuple(grid, "trim")[1:-1])


def tophalf(grid):
    _tuple(grid, "tophalf")
    return grid[:len(grid) // 2]


def bottomhalf(grid):
    _tuple(grid, "bottomhalf")
    return grid[len(grid) // 2 + len(grid) % 2:]


def lefthalf(grid):
    return rot270(tophalf(rot90(grid)))


def righthalf(grid):
    return rot270(bottomhalf(rot90(grid)))


def compress(grid):
    _tuple(grid, "compress")
    full_rows = {i for i, row in enumerate(grid) if len(set(row)) == 1}
    full_cols = {j for j, column in enumerate(dmirror(grid)) if len(set(column)) == 1}
    return tuple(tuple(v for j, v in enumerate(row) if j not in full_cols)
                 for i, row in enumerate(grid) if i not in full_rows)


# --- painting ---------------------------------------------------------------------------------------

def fill(grid, value, patch):
    rows = _grid_rows(grid, "fill")
    h, w = len(rows), len(rows[0])
    for i, j in _indices(patch, "fill"):
        if 0 <= i < h and 0 <= j < w:
            rows[i][j] = value
    return tuple(map(tuple, rows))


def paint(grid, obj):
    rows = _grid_rows(grid, "paint")
    h, w = len(rows), len(rows[0])
    for v, (i, j) in _paint_order(_cells(obj, "paint")):
        if 0 <= i < h and 0 <= j < w:
            rows[i][j] = v
    return tuple(map(tuple, rows))


def underfill(grid, value, patch):
    rows = _grid_rows(grid, "underfill")
    h, w = len(rows), len(rows[0])
    bg = mostcolor(grid)
    for i, j in _indices(patch, "underfill"):
        if 0 <= i < h and 0 <= j < w and rows[i][j] == bg:
            rows[i][j] = value
    return tuple(map(tuple, rows))


def underpaint(grid, obj):
    rows = _grid_rows(grid, "underpaint")
    h, w = len(rows), len(rows[0])
    bg = mostcolor(grid)
    for v, (i, j) in _paint_order(_cells(obj, "underpaint")):
        if 0 <= i < h and 0 <= j < w and rows[i][j] == bg:
            rows[i][j] = v
    return tuple(map(tuple, rows))


def cover(grid, patch):
    return fill(grid, mostcolor(grid), _indices(patch, "cover"))


def move(grid, obj, offset):
    return paint(cover(grid, obj), shift(obj, offset))
