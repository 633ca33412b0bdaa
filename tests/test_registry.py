"""The registry: one row per catalogued primitive and constant, with sound signatures."""

import csv
from pathlib import Path

import pytest

from codeit.dsl import registry, types
from codeit.dsl.types import ANY, GRID, INTEGER, BOOLEAN, PATCH, OBJECT, CALLABLE, is_compatible, is_subtype, type_named

DSL_DIR = Path(registry.__file__).resolve().parent


def _tsv(name):
    with open(DSL_DIR / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def test_counts_and_ids_follow_row_order():
    assert len(registry.PRIMITIVES) == 160
    assert len(registry.CONSTANTS) == 28
    assert [p.id for p in registry.PRIMITIVES] == list(range(160))
    assert [c.id for c in registry.CONSTANTS] == list(range(28))
    rows = _tsv("primitives.tsv")
    assert [p.name for p in registry.PRIMITIVES] == [r["name"] for r in rows]


def test_arities_match_the_catalogue():
    for spec, row in zip(registry.PRIMITIVES, _tsv("primitives.tsv")):
        assert spec.arity == int(row["arity"]), spec.name
        assert len(spec.param_types) == spec.arity
        assert spec.param_names == tuple(p.split(":")[0].strip() for p in row["params"].split(", "))


def test_known_signatures():
    fill = registry.primitive("fill")
    assert fill.param_names == ("grid", "value", "patch")
    assert fill.param_types[0] == GRID and fill.param_types[1] == INTEGER
    assert fill.return_type == GRID
    objects = registry.primitive("objects")
    assert objects.arity == 4 and objects.return_type.name == "Objects"
    assert registry.primitive("prapply").param_types[0] == ANY  # "Any(untyped)" in the catalogue
    assert registry.primitive("compose").returns_callable
    assert registry.primitive("apply").takes_callable


def test_every_implementation_takes_its_arity():
    for spec in registry.PRIMITIVES:
        assert registry.implementation_arity(spec) == spec.arity, spec.name
        fn = spec.function
        assert fn.arity == spec.arity, spec.name
        assert fn.name == spec.name


def test_constants_values_and_types():
    from codeit.dsl.constants import CONSTANTS

    assert [c.name for c in registry.CONSTANTS] == list(CONSTANTS)
    for c in registry.CONSTANTS:
        assert c.value == CONSTANTS[c.name] and type(c.value) is type(CONSTANTS[c.name]), c.name
        assert is_subtype(types.type_of_value(c.value), c.type), c.name
    assert registry.constant("DOWN").value == (1, 0)
    assert registry.constant("NEG_TWO").value == -2
    assert registry.constant("F").value is False


def test_unknown_names_raise_naming_them():
    with pytest.raises(KeyError, match="frobnicate"):
        registry.primitive("frobnicate")
    with pytest.raises(KeyError, match="ELEVEN"):
        registry.constant("ELEVEN")
    with pytest.raises(ValueError, match="Gridd"):
        type_named("Gridd")


def test_compatibility_rejects_only_what_is_visibly_wrong():
    assert not is_compatible(GRID, INTEGER)
    assert not is_compatible(INTEGER, GRID)
    assert not is_compatible(CALLABLE, GRID)
    assert not is_compatible(GRID, CALLABLE)
    for t in types.ALL_TYPES:
        assert is_compatible(ANY, t) and is_compatible(t, ANY)
        assert is_compatible(t, t)
    assert is_compatible(OBJECT, PATCH) and is_compatible(PATCH, OBJECT)
    assert is_compatible(BOOLEAN, INTEGER) and is_compatible(INTEGER, BOOLEAN)
    assert is_compatible(type_named("Container"), GRID)  # combine may give a grid
    assert not is_compatible(type_named("Objects"), GRID)
    assert not is_compatible(type_named("IntegerTuple"), type_named("Object"))


def test_subtype_is_stricter_than_compatible():
    assert is_subtype(OBJECT, PATCH) and not is_subtype(PATCH, OBJECT)
    assert is_subtype(GRID, ANY) and not is_subtype(ANY, GRID)
