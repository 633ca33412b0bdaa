"""The one table of the DSL's primitives and constants.

Read from ``primitives.tsv`` and ``constants.tsv`` shipped beside this file; the row order of
each file is the integer id of its entries, shared with the native interpreter. The parser, the
type checker, the mutator, the random generator and the native id mapping all read this module;
nothing else lists the primitives.

Implementations are looked up by name in ``codeit.dsl.primitives`` on first use, so that this
table can be read (by the parser, say) without importing the Python semantics.
"""

from __future__ import annotations

import csv
import functools
import importlib
import inspect
from dataclasses import dataclass, field
from pathlib import Path

from codeit.dsl.types import ANY, CONTAINER, INTEGER, TUPLE, DslType, as_parameter, type_named

_HERE = Path(__file__).resolve().parent
PRIMITIVES_TSV = _HERE / "primitives.tsv"
CONSTANTS_TSV = _HERE / "constants.tsv"


@dataclass(frozen=True)
class PrimitiveSpec:
    """One primitive: its signature as catalogued in primitives.tsv, and its implementation."""

    id: int
    """Row order in primitives.tsv (0-based); the id the native interpreter uses."""
    name: str
    """arc-dsl's name of the primitive."""
    param_names: tuple[str, ...]
    """Parameter names in arc-dsl's order."""
    param_types: tuple[DslType, ...]
    """Type each parameter accepts, same order as ``param_names``: the catalogued annotation,
    widened where arc-dsl's functions accept more (``types.as_parameter``, ``_SIGNATURE_OVERRIDES``)."""
    annotated_param_types: tuple[DslType, ...]
    """The parameters' types as annotated (with ``_SIGNATURE_OVERRIDES``), before widening:
    what a well-typed call passes."""
    return_type: DslType
    """Static type of the result; polymorphic results are ``Any``."""
    category: str
    """The catalogue's category (arithmetic, container_set, hof_function_builder, ...)."""
    takes_callable: bool
    """Whether some parameter is a function."""
    returns_callable: bool
    """Whether the result is a function."""
    description: str = field(compare=False)
    """One-line description from the catalogue."""

    @property
    def arity(self) -> int:
        return len(self.param_names)

    @property
    def function(self):
        """The primitive as a DSL function value (a ``functions.Primitive``)."""
        return _function_value(self.name)

    @property
    def impl(self):
        """The Python callable of ``codeit.dsl.primitives`` that implements it."""
        return getattr(_primitives_module(), self.name)


@dataclass(frozen=True)
class ConstantSpec:
    """One named constant of the DSL."""

    id: int
    """Row order in constants.tsv (0-based); the id the native interpreter uses."""
    name: str
    """The constant's name (``T``, ``ZERO``, ``DOWN``, ...)."""
    value: object
    """Its value: a bool, an int or a pair of ints."""
    type: DslType
    """Its static type."""


# Signatures where arc-dsl's annotations disagree with what its functions do, found by running
# its 400 solvers against the checker (a value outside its line's static type): astuple is
# called on any two values (grids, sets, functions) to build a 2-tuple; numcolors returns the
# number of colours, not a set; mapply and mfilter on a tuple merge into a tuple.
# name -> (parameter types, return type); None keeps the catalogued one.
_SIGNATURE_OVERRIDES: dict[str, tuple[tuple[DslType, ...] | None, DslType | None]] = {
    "astuple": ((ANY, ANY), TUPLE),
    "numcolors": (None, INTEGER),
    "mapply": (None, CONTAINER),
    "mfilter": (None, CONTAINER),
}


class RegistryError(ValueError):
    """The catalogue files are malformed or disagree with the implementation."""


def _parse_params(text: str, where: str) -> tuple[tuple[str, ...], tuple[DslType, ...]]:
    names: list[str] = []
    types: list[DslType] = []
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        name, sep, type_text = item.partition(":")
        if not sep:
            raise RegistryError(f"{where}: parameter {item!r} has no ': Type'")
        names.append(name.strip())
        types.append(type_named(type_text))
    return tuple(names), tuple(types)


def _parse_constant_value(text: str, where: str) -> object:
    """The value column of constants.tsv: True, False, an int, or ``(int, int)``; parsed by hand."""
    text = text.strip()
    if text == "True":
        return True
    if text == "False":
        return False
    if text.startswith("(") and text.endswith(")"):
        parts = [p.strip() for p in text[1:-1].split(",")]
        if len(parts) != 2:
            raise RegistryError(f"{where}: constant value {text!r} is not a pair")
        return tuple(_parse_int(p, where) for p in parts)
    return _parse_int(text, where)


def _parse_int(text: str, where: str) -> int:
    body = text[1:] if text.startswith("-") else text
    if not body.isdigit():
        raise RegistryError(f"{where}: {text!r} is not an integer")
    return int(text)


def _read_tsv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def _load_primitives() -> tuple[PrimitiveSpec, ...]:
    specs = []
    for i, row in enumerate(_read_tsv(PRIMITIVES_TSV)):
        where = f"{PRIMITIVES_TSV.name} row {i + 2} ({row.get('name')})"
        names, types = _parse_params(row["params"], where)
        if len(names) != int(row["arity"]):
            raise RegistryError(f"{where}: arity {row['arity']} but {len(names)} parameters")
        return_type = type_named(row["return_type"])
        override_params, override_return = _SIGNATURE_OVERRIDES.get(row["name"], (None, None))
        annotated = override_params or types
        return_type = override_return or return_type
        specs.append(PrimitiveSpec(
            id=i,
            name=row["name"],
            param_names=names,
            param_types=tuple(as_parameter(t) for t in annotated),
            annotated_param_types=annotated,
            return_type=return_type,
            category=row["category"],
            takes_callable=row["takes_callable"] == "yes",
            returns_callable=row["returns_callable"] == "yes",
            description=row["description"],
        ))
    return tuple(specs)


def _load_constants() -> tuple[ConstantSpec, ...]:
    specs = []
    for i, row in enumerate(_read_tsv(CONSTANTS_TSV)):
        where = f"{CONSTANTS_TSV.name} row {i + 2} ({row.get('name')})"
        specs.append(ConstantSpec(
            id=i,
            name=row["name"],
            value=_parse_constant_value(row["value"], where),
            type=type_named(row["type"]),
        ))
    return tuple(specs)


PRIMITIVES: tuple[PrimitiveSpec, ...] = _load_primitives()
CONSTANTS: tuple[ConstantSpec, ...] = _load_constants()
PRIMITIVES_BY_NAME: dict[str, PrimitiveSpec] = {p.name: p for p in PRIMITIVES}
CONSTANTS_BY_NAME: dict[str, ConstantSpec] = {c.name: c for c in CONSTANTS}

if len(PRIMITIVES_BY_NAME) != len(PRIMITIVES) or len(CONSTANTS_BY_NAME) != len(CONSTANTS):
    raise RegistryError("duplicate names in primitives.tsv or constants.tsv")
if set(PRIMITIVES_BY_NAME) & set(CONSTANTS_BY_NAME):
    raise RegistryError("a name is both a primitive and a constant")


def primitive(name: str) -> PrimitiveSpec:
    """The primitive called ``name``; KeyError naming it when there is none."""
    try:
        return PRIMITIVES_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown primitive {name!r}") from None


def constant(name: str) -> ConstantSpec:
    """The constant called ``name``; KeyError naming it when there is none."""
    try:
        return CONSTANTS_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown constant {name!r}") from None


@functools.cache
def _primitives_module():
    return importlib.import_module("codeit.dsl.primitives")


@functools.cache
def _function_value(name: str):
    impl = getattr(_primitives_module(), name)
    functions = importlib.import_module("codeit.dsl.functions")
    if isinstance(impl, functions.Primitive):
        return impl
    return functions.Primitive(name, impl)


def implementation_arity(spec: PrimitiveSpec) -> int:
    """Number of positional parameters of the Python implementation of ``spec``."""
    impl = spec.impl
    target = getattr(impl, "impl", impl)
    params = inspect.signature(target).parameters.values()
    return sum(1 for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
