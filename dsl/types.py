"""The static type lattice of the DSL, used by the type checker and the random generator.

arc-dsl's type names (``Grid``, ``Patch``, ``Piece``, ...) are unions of a few runtime shapes.
Each static type here is the set of *shapes* a value of that type can have at runtime. Two types
are compatible when those sets overlap: the checker only rejects an argument whose every
possible shape differs from every shape the parameter accepts (an ``Integer`` where a ``Grid`` is
needed), never one that merely might be wrong. ``Any`` holds every shape, so a value whose type
is unknown is compatible with everything.

Some of arc-dsl's annotations are narrower than what its own functions accept and its own
solvers pass (``mapply`` is annotated ``ContainerContainer`` yet is used on plain indices, whose
elements are not containers; ``maximum`` takes any collection of ints); the shape sets below
are widened accordingly, because a false rejection would refuse a program that runs.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Shape(enum.IntFlag):
    """A runtime shape a DSL value can have; a static type is a union (bit set) of shapes."""

    BOOL = enum.auto()
    INT = enum.auto()
    PAIR = enum.auto()          # (i, j)
    CELL = enum.auto()          # (color, (i, j))
    GRID = enum.auto()          # tuple of equal-length tuples of ints
    INT_TUPLE = enum.auto()     # a tuple of ints that is not a pair (a column of colours, ...)
    OTHER_TUPLE = enum.auto()   # any other tuple: of pairs, of grids, of objects, mixed, ...
    INT_SET = enum.auto()
    INDICES = enum.auto()       # frozenset of pairs
    OBJECT = enum.auto()        # frozenset of cells
    OBJECTS = enum.auto()       # frozenset of objects
    INDICES_SET = enum.auto()   # frozenset of indices
    OTHER_SET = enum.auto()     # any other frozenset
    FUNCTION = enum.auto()


_TUPLES = Shape.PAIR | Shape.CELL | Shape.GRID | Shape.INT_TUPLE | Shape.OTHER_TUPLE
_SETS = Shape.INT_SET | Shape.INDICES | Shape.OBJECT | Shape.OBJECTS | Shape.INDICES_SET | Shape.OTHER_SET
_ALL = Shape(0)
for _shape in Shape:
    _ALL |= _shape


@dataclass(frozen=True)
class DslType:
    """A named static type: arc-dsl's name and the set of runtime shapes it stands for."""

    name: str
    """arc-dsl's name of the type, as written in primitives.tsv (``Grid``, ``Patch``, ...)."""
    shapes: Shape
    """Every runtime shape a value of this type can have."""

    def __str__(self) -> str:
        return self.name


def _t(name: str, shapes: Shape) -> DslType:
    return DslType(name, shapes)


ANY = _t("Any", _ALL)
BOOLEAN = _t("Boolean", Shape.BOOL)
# A Python bool is an int, and arc-dsl's solvers pass T/F where integers are expected.
INTEGER = _t("Integer", Shape.INT | Shape.BOOL)
INTEGER_TUPLE = _t("IntegerTuple", Shape.PAIR)
NUMERICAL = _t("Numerical", Shape.INT | Shape.BOOL | Shape.PAIR)
# maximum/minimum work on any collection of ints, a pair and a tuple of ints included.
INTEGER_SET = _t("IntegerSet", Shape.INT_SET | Shape.PAIR | Shape.INT_TUPLE)
GRID = _t("Grid", Shape.GRID)
CELL = _t("Cell", Shape.CELL)
OBJECT = _t("Object", Shape.OBJECT)
OBJECTS = _t("Objects", Shape.OBJECTS)
INDICES = _t("Indices", Shape.INDICES)
INDICES_SET = _t("IndicesSet", Shape.INDICES_SET)
PATCH = _t("Patch", Shape.OBJECT | Shape.INDICES)
ELEMENT = _t("Element", Shape.OBJECT | Shape.GRID)
PIECE = _t("Piece", Shape.GRID | Shape.OBJECT | Shape.INDICES)
TUPLE_TUPLE = _t("TupleTuple", Shape.GRID | Shape.OTHER_TUPLE)  # of tuples: never of ints
TUPLE = _t("Tuple", _TUPLES)
FROZEN_SET = _t("FrozenSet", _SETS)
CONTAINER = _t("Container", _TUPLES | _SETS)
# Annotated "container of containers", but mapply/merge are used on containers of anything.
CONTAINER_CONTAINER = _t("ContainerContainer", _TUPLES | _SETS)
CALLABLE = _t("Callable", Shape.FUNCTION)

ALL_TYPES: tuple[DslType, ...] = (
    ANY, BOOLEAN, INTEGER, INTEGER_TUPLE, NUMERICAL, INTEGER_SET, GRID, CELL, OBJECT, OBJECTS,
    INDICES, INDICES_SET, PATCH, ELEMENT, PIECE, TUPLE_TUPLE, TUPLE, FROZEN_SET, CONTAINER,
    CONTAINER_CONTAINER, CALLABLE,
)
TYPES_BY_NAME: dict[str, DslType] = {t.name: t for t in ALL_TYPES}


# Functions that iterate a patch or a set accept any sequence of its elements; arc-dsl's solvers
# pass tuples of cells to paint, for instance. In parameter position these types therefore also
# admit "other tuples" (never grids or pairs, which have a different meaning).
_SEQUENCE_ACCEPTING = Shape.OBJECT | Shape.INDICES | Shape.OBJECTS | Shape.INDICES_SET


def as_parameter(t: DslType) -> DslType:
    """The type a parameter annotated ``t`` accepts (a sequence where a set of cells is asked)."""
    if t.shapes & _SEQUENCE_ACCEPTING and not t.shapes & Shape.OTHER_TUPLE:
        return DslType(t.name, t.shapes | Shape.OTHER_TUPLE)
    return t


def type_named(name: str) -> DslType:
    """The type called ``name`` in primitives.tsv; an annotation such as ``Any(untyped)`` means ``Any``."""
    base = name.strip().split("(", 1)[0].strip()
    try:
        return TYPES_BY_NAME[base]
    except KeyError:
        raise ValueError(f"unknown DSL type {name!r}; known: {', '.join(sorted(TYPES_BY_NAME))}") from None


def is_compatible(actual: DslType, required: DslType) -> bool:
    """Whether a value statically typed ``actual`` may be right where ``required`` is expected.

    False only when no runtime shape of ``actual`` is acceptable for ``required``.
    """
    return bool(actual.shapes & required.shapes)


def is_subtype(actual: DslType, required: DslType) -> bool:
    """Whether every runtime shape of ``actual`` is acceptable for ``required`` (surely right)."""
    return actual.shapes & required.shapes == actual.shapes


_SET_OF = {
    Shape.INT_SET: Shape.INT | Shape.BOOL,
    Shape.INDICES: Shape.PAIR,
    Shape.OBJECT: Shape.CELL,
    Shape.OBJECTS: Shape.OBJECT,
    Shape.INDICES_SET: Shape.INDICES,
}


def shape_of_value(value: object) -> Shape:
    """The runtime shape of a concrete value; an empty container has every shape it could be."""
    if isinstance(value, bool):
        return Shape.BOOL
    if isinstance(value, int):
        return Shape.INT
    if isinstance(value, tuple):
        if not value:
            # the empty grid (tophalf of one row), the "corner" of an empty patch, any empty tuple
            return Shape.GRID | Shape.PAIR | Shape.INT_TUPLE | Shape.OTHER_TUPLE
        if len(value) == 2 and all(isinstance(e, int) for e in value):
            return Shape.PAIR
        if len(value) == 2 and isinstance(value[0], int) and shape_of_value(value[1]) == Shape.PAIR:
            return Shape.CELL
        if all(isinstance(e, int) for e in value):
            return Shape.INT_TUPLE
        if all(isinstance(r, tuple) for r in value) and all(isinstance(x, int) for r in value for x in r):
            # Rows of unequal length still come from grid primitives (vconcat of grids of
            # different widths, as in arc-dsl): a grid-like value, statically a Grid.
            return Shape.GRID if len({len(r) for r in value}) == 1 else Shape.GRID | Shape.OTHER_TUPLE
        return Shape.OTHER_TUPLE
    if isinstance(value, frozenset):
        if not value:
            return _SETS
        # Each element may have several shapes (an empty set, the "corner" ()); the set has
        # every shape that all of its elements can have.
        element_shapes = [shape_of_value(e) for e in value]
        shapes = Shape(0)
        for set_shape, element_shape in _SET_OF.items():
            if all(e & element_shape for e in element_shapes):
                shapes |= set_shape
        if not shapes or any(e & (e - 1) for e in element_shapes):
            shapes |= Shape.OTHER_SET
        return shapes
    if callable(value):
        return Shape.FUNCTION
    return _ALL


def type_of_value(value: object) -> DslType:
    """The narrowest named static type of a concrete value (constants, bound arguments)."""
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, tuple):
        if len(value) == 2 and all(isinstance(e, int) for e in value):
            return INTEGER_TUPLE
        if value and all(isinstance(r, tuple) for r in value):
            return TUPLE_TUPLE
        return TUPLE
    if isinstance(value, frozenset):
        return FROZEN_SET
    if callable(value):
        return CALLABLE
    return ANY
