"""The native tables are generated from the registry: native/interp/gen_tables.py turns
dsl/primitives.tsv and dsl/constants.tsv into prim_table.inc and const_table.inc (CMake runs it
at build time). These tests run the generator, check its output against the registry, the
installed module and the build tree, and check that a changed registry changes the output."""

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

from codeit.dsl import registry
from codeit.execute import native  # a broken build must fail here, never skip

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / "native" / "interp" / "gen_tables.py"

_PRIM_ROW = re.compile(r'^    \{"(\w+)", (\d+), p_(\w+)\},  // (\d+)$', re.M)
_PRIM_DECL = re.compile(r"^Value p_(\w+)\(Ctx& c, const Value\* a\);$", re.M)
_CONST_ROW = re.compile(r'^    \{"(\w+)", Value::(\w+)\(([^)]*)\)\},  // (\d+)$', re.M)


def _run_generator(out_dir, primitives=None, constants=None):
    """Run the generator as CMake does (a separate Python); (returncode, stderr)."""
    cmd = [sys.executable, str(GENERATOR),
           "--primitives", str(primitives or registry.PRIMITIVES_TSV),
           "--constants", str(constants or registry.CONSTANTS_TSV),
           "--out-dir", str(out_dir)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    return done.returncode, done.stderr


def _generate(out_dir, primitives=None, constants=None):
    """(prim_table.inc text, const_table.inc text) generated into out_dir."""
    rc, err = _run_generator(out_dir, primitives, constants)
    assert rc == 0, err
    return (Path(out_dir) / "prim_table.inc").read_text(), (Path(out_dir) / "const_table.inc").read_text()


def _prim_rows(text):
    rows = _PRIM_ROW.findall(text)
    for name, _, fn, _ in rows:
        assert fn == name
    assert [int(k) for *_, k in rows] == list(range(len(rows)))
    return [(name, int(arity)) for name, arity, _, _ in rows]


def _const_value(kind, args):
    if kind == "boolean":
        return {"true": True, "false": False}[args]
    if kind == "integer":
        return int(args)
    assert kind == "pair", kind
    return tuple(int(x) for x in args.split(","))


def _const_rows(text):
    rows = _CONST_ROW.findall(text)
    assert [int(k) for *_, k in rows] == list(range(len(rows)))
    return [(name, _const_value(kind, args)) for name, kind, args, _ in rows]


def _copy_with(tmp_path, src, edit):
    """A copy of a TSV with edit(list of data lines) applied; its path."""
    header, *lines = Path(src).read_text().splitlines()
    out = tmp_path / "in" / Path(src).name
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join([header, *edit(lines)]) + "\n")
    return out


def _rename_first_field(lines, old, new):
    hits = [k for k, line in enumerate(lines) if line.split("\t", 1)[0] == old]
    assert len(hits) == 1
    k = hits[0]
    lines = list(lines)
    lines[k] = new + lines[k][len(old):]
    return lines


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    return _generate(tmp_path_factory.mktemp("gen"))


def test_generated_primitives_are_the_registry_in_id_order(generated):
    prim_text, _ = generated
    expected = [(p.name, p.arity) for p in registry.PRIMITIVES]
    assert len(expected) == 160
    assert _prim_rows(prim_text) == expected
    assert _PRIM_DECL.findall(prim_text) == [p.name for p in registry.PRIMITIVES]
    assert f"kNumPrimitives == {len(expected)}" in prim_text
    # What the installed module was built from (the import check already compared it).
    from codeit import _interp
    assert [tuple(p) for p in _interp.PRIMITIVES] == expected


def test_generated_constants_are_the_registry_in_id_order(generated):
    _, const_text = generated
    rows = _const_rows(const_text)
    assert [name for name, _ in rows] == [c.name for c in registry.CONSTANTS]
    assert len(rows) == 28
    for (name, value), spec in zip(rows, registry.CONSTANTS):
        # type() too: True == 1 and (1, 0) == (1, 0) whatever built it
        assert (type(value), value) == (type(spec.value), spec.value), name
    assert f"kNumConstants == {len(rows)}" in const_text
    from codeit import _interp
    assert list(_interp.CONSTANTS) == [name for name, _ in rows]


def test_generator_output_is_deterministic(generated, tmp_path):
    assert _generate(tmp_path) == generated


def test_build_tree_holds_the_current_generated_tables(generated):
    """The tables the editable build compiled (build/<wheel tag>/generated) are today's output."""
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}-"
    dirs = sorted(d for d in ROOT.glob("build/*/generated") if d.parent.name.startswith(tag))
    assert dirs, "no scikit-build-core build tree under build/: install as the README says (pip install -e .)"
    for d in dirs:
        assert ((d / "prim_table.inc").read_text(), (d / "const_table.inc").read_text()) == generated, \
            f"{d} is stale: rebuild (pip install -e .)"


def test_a_renamed_primitive_changes_the_table(generated, tmp_path):
    spec = registry.PRIMITIVES[5]
    tsv = _copy_with(tmp_path, registry.PRIMITIVES_TSV,
                     lambda lines: _rename_first_field(lines, spec.name, spec.name + "_renamed"))
    prim_text, const_text = _generate(tmp_path / "out", primitives=tsv)
    assert prim_text != generated[0] and const_text == generated[1]
    rows = _prim_rows(prim_text)
    expected = [(p.name, p.arity) for p in registry.PRIMITIVES]
    changed = [k for k, (a, b) in enumerate(zip(rows, expected)) if a != b]
    assert len(rows) == len(expected) and changed == [5]
    assert rows[5] == (spec.name + "_renamed", spec.arity)
    assert f"Value p_{spec.name}_renamed(Ctx& c, const Value* a);" in prim_text
    assert f"p_{spec.name}," not in prim_text and f"p_{spec.name}(" not in prim_text
    # The module built from the real registry no longer matches this table.
    from codeit import _interp
    assert [tuple(p) for p in _interp.PRIMITIVES] != rows


def test_reordered_primitives_change_the_ids(generated, tmp_path):
    tsv = _copy_with(tmp_path, registry.PRIMITIVES_TSV, lambda lines: [lines[1], lines[0], *lines[2:]])
    rows = _prim_rows(_generate(tmp_path / "out", primitives=tsv)[0])
    p0, p1 = registry.PRIMITIVES[0], registry.PRIMITIVES[1]
    assert rows[:2] == [(p1.name, p1.arity), (p0.name, p0.arity)]
    assert rows[2:] == [(p.name, p.arity) for p in registry.PRIMITIVES[2:]]


def test_an_added_primitive_changes_the_count(tmp_path):
    tsv = _copy_with(tmp_path, registry.PRIMITIVES_TSV,
                     lambda lines: [*lines, "newprim\t1\tx: Any\tAny\tother\tno\tno\tno\t0\t0\tnew."])
    prim_text, _ = _generate(tmp_path / "out", primitives=tsv)
    assert _prim_rows(prim_text)[-1] == ("newprim", 1)
    assert f"kNumPrimitives == {len(registry.PRIMITIVES) + 1}" in prim_text


def test_a_changed_constant_changes_the_table(generated, tmp_path):
    def edit(lines):
        lines = _rename_first_field(lines, "UNITY", "UNITY2")
        return [line.replace("\t(3, 3)\t", "\t(3, 4)\t") if line.startswith("THREE_BY_THREE\t") else line
                for line in lines]

    tsv = _copy_with(tmp_path, registry.CONSTANTS_TSV, edit)
    prim_text, const_text = _generate(tmp_path / "out", constants=tsv)
    assert prim_text == generated[0] and const_text != generated[1]
    rows = dict(_const_rows(const_text))
    assert "UNITY" not in rows and rows["UNITY2"] == (1, 1)
    assert rows["THREE_BY_THREE"] == (3, 4)


@pytest.mark.parametrize("which, edit, message", [
    ("primitives", lambda ls: [ls[0].replace("\t1\t", "\t2\t", 1), *ls[1:]], "arity 2 but 1 parameter"),
    ("primitives", lambda ls: [*ls, ls[0]], "appears twice"),
    ("primitives", lambda ls: ["bad-name" + ls[0][len(registry.PRIMITIVES[0].name):], *ls[1:]],
     "not a C++ identifier"),
    ("constants", lambda ls: [ls[0].replace("\tFalse\t", "\tfalse\t"), *ls[1:]], "is not True, False"),
    ("constants", lambda ls: [ls[0].replace("\tFalse\t", "\t(1, 2, 3)\t"), *ls[1:]], "is not True, False"),
])
def test_malformed_registry_rows_fail_the_generator(tmp_path, which, edit, message):
    src = registry.PRIMITIVES_TSV if which == "primitives" else registry.CONSTANTS_TSV
    tsv = _copy_with(tmp_path, src, edit)
    rc, err = _run_generator(tmp_path / "out", **{which: tsv})
    assert rc != 0 and message in err
    assert "row 0" in err or "appears twice" in err
    assert not (tmp_path / "out").exists()


def test_import_check_names_a_drifted_primitive(monkeypatch):
    """The import-time check (what a stale build meets) names the first disagreeing row."""
    original = registry.PRIMITIVES
    renamed = list(original)
    renamed[7] = dataclasses.replace(renamed[7], name=renamed[7].name + "_renamed")
    monkeypatch.setattr(native.registry, "PRIMITIVES", tuple(renamed))
    with pytest.raises(native.NativeMismatchError, match=rf"primitive 7 .*{renamed[7].name}"):
        native._check_tables()
    monkeypatch.setattr(native.registry, "PRIMITIVES", original[:-1])
    with pytest.raises(native.NativeMismatchError, match="primitive 159"):
        native._check_tables()
