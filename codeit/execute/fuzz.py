"""Random DSL values and per-primitive comparisons of the native interpreter with the reference.

``value_pool`` draws a varied set of values: well-formed ones (grids, objects, index sets, pairs,
sets of objects, function values) and malformed ones (ragged tuples, empty containers, None,
mixed sets, big ints), so that every primitive's success paths *and* its error classification
are exercised. ``compare_primitive`` applies one primitive to the same arguments both ways.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from codeit.dsl import functions as fn
from codeit.dsl import primitives as P
from codeit.dsl import registry
from codeit.dsl.values import Status, order_key, status_of_exception, value_size
from codeit.execute.limits import Limits
from codeit.execute.native import call_primitive


def _grid(rng: np.random.Generator, h: int, w: int, colors: int = 4) -> tuple:
    return tuple(tuple(int(v) for v in row) for row in rng.integers(0, colors, size=(h, w)))


def value_pool(rng: np.random.Generator, n_grids: int = 6) -> list[Any]:
    """A few hundred values of every kind the DSL can produce, and some it should refuse."""
    prim = lambda name: registry.primitive(name).function  # noqa: E731
    pool: list[Any] = [
        0, 1, 2, 3, -1, -2, 5, 10, 29, 30, 42, True, False, 2 ** 40, -(2 ** 33), None,
        (), (0, 0), (1, 1), (2, 3), (-1, 0), (0, -1), (1, -1), (30, 2), (2 ** 40, 1), (1, 2, 3), (5,),
        (True, False), ((),), ((), ()), ((1, 2), (3,)), ((1, 2), 3), (1, (2, 3)), (3, (0, 1)),
        ((0, 0),), ((1, 2), (3, 4)), ((1, 2, 3), (4, 5, 6)), ((300, 1), (2, 3)), ((1, (0, 0)), (2, (0, 1))),
        frozenset(), frozenset({1, 2, 3}), frozenset({(0, 0), (1, 1)}), frozenset({(0, 0), (0, 1), (1, 0)}),
        frozenset({(1, (0, 0)), (2, (0, 1))}), frozenset({(1, (0, 0)), (2, (0, 0))}),
        frozenset({(1, (0, 0)), (0, 1)}), frozenset({(), (0, 1)}), frozenset({(1, 2, 3)}),
        frozenset({frozenset({(0, 0)}), frozenset({(1, 1), (1, 2)})}), frozenset({(0, 0), 1}),
        frozenset({((0, 1), (2, 3))}), frozenset({(5, (2 ** 40, 0))}),
        prim("size"), prim("first"), prim("identity"), prim("add"), prim("fill"), prim("objects"),
        prim("even"), prim("color"), prim("normalize"), prim("ulcorner"),
        fn.Compose(prim("size"), prim("first")), fn.RightBind(prim("add"), 1), fn.LeftBind(prim("multiply"), 2),
        fn.Matcher(prim("size"), 1), fn.Fork(prim("add"), prim("identity"), prim("identity")),
        fn.Power(prim("increment"), 3), fn.Chain(prim("size"), prim("toindices"), prim("first")),
        fn.RightBind(prim("objects"), True), fn.Compose(5, prim("size")),
    ]
    for _ in range(n_grids):
        h, w = int(rng.integers(1, 7)), int(rng.integers(1, 7))
        g = _grid(rng, h, w)
        pool.append(g)
        pool.append(g + g[:1])
        if h > 1:
            pool.append(g[:-1] + (g[-1][:-1],))  # ragged
        objs = P.objects(g, bool(rng.integers(2)), bool(rng.integers(2)), bool(rng.integers(2)))
        pool.append(objs)
        if objs:
            ordered_objs = sorted(objs, key=len)
            pool.append(ordered_objs[-1])
            pool.append(P.toindices(ordered_objs[0]))
            pool.append(tuple(ordered_objs[0]))
            pool.append(P.totuple(objs))
        pool.append(P.asindices(g))
        pool.append(P.ofcolor(g, 1))
        pool.append(P.asobject(g))
        pool.append(P.partition(g))
        pool.append(P.hsplit(g, 1) + P.hsplit(g, 1))
        pool.append(P.palette(g))
        pool.append(tuple(int(x) for x in rng.integers(-2, 8, size=int(rng.integers(0, 6)))))
        pool.append(frozenset((int(rng.integers(-1, 5)), int(rng.integers(-1, 5))) for _ in range(4)))
        pool.append(frozenset((int(rng.integers(0, 3)), (int(rng.integers(-1, 5)), int(rng.integers(-1, 5))))
                              for _ in range(5)))
    return pool


@dataclass(frozen=True)
class PrimitiveOutcome:
    status: Status
    value: Any
    steps: int


def reference_call(name: str, args: tuple, limits: Limits = Limits(max_steps=2000, time_limit=2.0)) -> PrimitiveOutcome:
    """The reference's outcome of one primitive application (a step counted, as in a run)."""
    budget = fn.Budget(max_steps=limits.max_steps, max_value_size=limits.max_value_size)
    with fn.active(budget):
        try:
            value = registry.primitive(name).function(*args)
        except RecursionError:
            return PrimitiveOutcome(Status.RUNTIME_ERROR, None, budget.steps)
        except Exception as exc:  # the outcome is the exception's status
            return PrimitiveOutcome(status_of_exception(exc), None, budget.steps)
    if value_size(value, limits.max_value_size) > limits.max_value_size:
        return PrimitiveOutcome(Status.SIZE_LIMIT, None, budget.steps)
    return PrimitiveOutcome(Status.OK, value, budget.steps)


def native_call(name: str, args: tuple, limits: Limits = Limits(max_steps=2000, time_limit=2.0)) -> PrimitiveOutcome:
    status, value, steps = call_primitive(name, *args, limits=limits)
    return PrimitiveOutcome(status, value, steps)


def same(a: PrimitiveOutcome, b: PrimitiveOutcome) -> bool:
    """Equal outcomes: status, and value (by canonical key: a bool is the int it equals, as
    everywhere in the DSL) and steps when OK. Timeouts never count as different."""
    if Status.TIMEOUT in (a.status, b.status):
        return True
    if a.status != b.status:
        return False
    if a.status != Status.OK:
        return True
    return a.steps == b.steps and order_key(a.value) == order_key(b.value)


# Primitives that iterate the rows of a tuple argument in the rows' own order (zip(*grid),
# list(row), enumerate(row)): on a frozenset row the reference follows CPython's set order,
# not the canonical one (reported to the reference's owner), so such calls are not compared.
ROW_ITERATING = frozenset({
    "rot90", "rot270", "dmirror", "cmirror", "compress", "lefthalf", "righthalf", "fill", "paint",
    "underfill", "underpaint", "cover", "move", "frontiers",
})


def reference_unbounded(name: str, args: tuple) -> bool:
    """Calls the reference cannot finish: hsplit/vsplit build n crops with no size pre-check
    or deadline check (reported to the reference's owner)."""
    return name in ("hsplit", "vsplit") and type(args[1]) in (int, bool) and abs(args[1]) > 100_000


# Primitives that unpack an object's elements (``for v, _ in obj``): on an element that is
# itself a frozenset the reference takes CPython's first, not the canonical one.
CELL_UNPACKING = frozenset({"mostcolor", "leastcolor", "palette", "numcolors", "colorcount"})


def _rectangular(grid: Any) -> bool:
    return (type(grid) is tuple and all(type(r) is tuple for r in grid)
            and len({len(r) for r in grid}) <= 1)


def reference_uses_set_order(name: str, args: tuple) -> bool:
    """Whether the reference's result for ``name(*args)`` depends on CPython's set order."""
    if name in ROW_ITERATING:
        return any(type(a) is tuple and any(type(r) is frozenset and len(r) > 1 for r in a) for a in args)
    if name in CELL_UNPACKING:
        return type(args[0]) is frozenset and any(type(e) is frozenset for e in args[0])
    if name == "occurrences":
        # It stops at an object's first mismatching cell in set order; where positions can
        # run off the grid (a ragged grid, rows of non-ints, or a tuple object, whose shape is
        # measured as a grid's) whether an index error comes first depends on that order.
        return (type(args[1]) is tuple or not _rectangular(args[0])
                or any(type(x) is not int for r in args[0] if type(r) is tuple for x in r))
    return False


def _beyond_int64(v: Any) -> bool:
    if type(v) is int:
        return not -(2 ** 63) <= v < 2 ** 63
    if type(v) in (tuple, frozenset):
        return any(_beyond_int64(e) for e in v)
    return False


def compare_primitive(name: str, args: tuple) -> tuple[PrimitiveOutcome, PrimitiveOutcome] | None:
    """None when native and reference agree on ``name(*args)`` (or when the reference's answer
    depends on set order, ``reference_uses_set_order``), else both outcomes."""
    if reference_uses_set_order(name, args) or reference_unbounded(name, args):
        return None
    ref = reference_call(name, args)
    nat = native_call(name, args)
    if same(ref, nat):
        return None
    # Both interpreters stop an arithmetic primitive at 64 bits (SIZE_LIMIT); a coordinate that
    # a geometric primitive (shift, crop, ...) pushes past 64 bits stops only the native one
    # (documented in native/interp/README.md).
    if ref.status == Status.OK and nat.status == Status.SIZE_LIMIT and _beyond_int64(ref.value):
        return None
    return ref, nat


def random_args(rng: np.random.Generator, pool: list[Any], arity: int) -> tuple:
    return tuple(pool[int(rng.integers(len(pool)))] for _ in range(arity))
