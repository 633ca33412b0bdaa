"""Program text: parser rejections with their line numbers, canonical printing, the IR forms."""

from pathlib import Path

import numpy as np
import pytest

from codeit.dsl import registry
from codeit.dsl.program import (
    INPUT, Line, Program, ProgramArrays, ProgramError, Ref, check, parse, print_program,
)

SEEDS = sorted((Path(registry.__file__).resolve().parent / "seeds").glob("*.dsl"))

REAL = """x1 = objects(I, T, F, T)
x2 = argmax(x1, size)
O = subgrid(x2, I)
"""


def rejects(text: str, line: int, *fragments: str) -> ProgramError:
    with pytest.raises(ProgramError) as info:
        parse(text)
    err = info.value
    assert err.line == line, f"{err} (expected line {line})"
    for fragment in fragments:
        assert fragment in err.reason, f"{fragment!r} not in {err.reason!r}"
    assert f"line {line}" in str(err) and err.reason in str(err)
    return err


def test_parse_real_program_into_the_ir():
    p = parse(REAL)
    assert p.lines == (
        Line(Ref("prim", "objects"), (INPUT, Ref("const", "T"), Ref("const", "F"), Ref("const", "T"))),
        Line(Ref("prim", "argmax"), (Ref("var", 0), Ref("prim", "size"))),
        Line(Ref("prim", "subgrid"), (Ref("var", 1), INPUT)),
    )
    assert print_program(p) == REAL


def test_comments_blank_lines_and_names_are_normalised():
    text = "# find the biggest object\n\n  big = objects(I, T, F, T)  # all of them\nb = argmax(big, size)\n\nO = subgrid(b, I)\n"
    p = parse(text)
    assert print_program(p) == REAL
    assert p.source_lines == (3, 4, 6)
    assert p == parse(REAL)  # source lines do not take part in equality


def test_callee_may_be_a_variable_holding_a_function():
    p = parse("x1 = rbind(bordering, I)\nx2 = objects(I, T, F, T)\nx3 = first(x2)\nx4 = x1(x3)\nO = branch(x4, I, I)\n")
    assert p.lines[3].func == Ref("var", 0)


@pytest.mark.parametrize("text, line, fragments", [
    ("x1 = frobnicate(I)\nO = x1(I)", 1, ("unknown name", "frobnicate")),
    ("x1 = size(I)\n\nO = fill(I, x1, nowhere)", 3, ("unknown name", "nowhere")),
    ("x1 = size(I, I)\nO = I", 1, ("size takes 1 argument", "got 2")),
    ("x1 = asindices(I)\nO = fill(I, ONE)", 2, ("fill takes 3 arguments",)),
    ("x1 = fill(I, ONE, x2)\nx2 = asindices(I)\nO = fill(I, ONE, x2)", 1, ("x2 is used before its definition", "line 2")),
    ("x1 = asindices(I)\nx1 = asindices(I)\nO = fill(I, ONE, x1)", 2, ("redefinition of x1", "line 1")),
    ("x1 = asindices(I)\nx2 = fill(I, ONE, x1)", 2, ("never assigns O",)),
    ("O = asindices(I)\nx2 = fill(I, ONE, O)", 2, ("follows the output O", "line 1")),
    ("x1 = size(asindices(I))\nO = I", 1, ("nested call",)),
    ("x1 = size(3)", 1, ("literal",)),
    ("x1 = size('abc')", 1, ("literal",)),
    ("x1 = crop(I, (0, 0), UNITY)", 1, ("'('",)),
    ("x1 = size(I.shape)", 1, ("attribute access",)),
    ("x1 = I.copy()", 1, ("attribute access",)),
    ("x1 = size(container=I)", 1, ("keyword argument",)),
    ("x1 = size(*I)", 1, ("star argument",)),
    ("x1 = size(**I)", 1, ("star argument",)),
    ("x1 = I", 1, ("not a call",)),
    ("x1 = size(I)(I)", 1, ("calling the result of a call",)),
    ("x1 = size(I,)", 1, ("trailing comma",)),
    ("x1 = size(I", 1, ("missing ')'",)),
    ("x1, x2 = size(I)", 1, ("several assignment targets",)),
    ("size(I)", 1, ("not an assignment",)),
    ("return O", 1, ("return",)),
    ("x1 = size(I); O = I", 1, ("';'",)),
    ("x1 = lambda: I", 1, ()),
    ("I = size(I)", 1, ("cannot assign to I",)),
    ("ONE = size(I)", 1, ("constant",)),
    ("size = asindices(I)", 1, ("primitive",)),
    ("O = ZERO(I)", 1, ("not a function",)),
    ("O = I(I)", 1, ("not a function",)),
    ("x1 = size(I)\nO = x1(I)", 2, ("x1 is Integer, not a function",)),
    ("x1 = size(I)\nO = fill(I, ONE, x1)", 2, ("argument 3 of fill (patch) must be Patch", "x1 is Integer")),
    ("x1 = asindices(I)\nO = fill(x1, ONE, x1)", 2, ("argument 1 of fill (grid) must be Grid", "x1 is Indices")),
    ("O = add(I, ONE)", 1, ("argument 1 of add", "I is Grid")),
    ("O = apply(ONE, I)", 1, ("argument 1 of apply", "must be Callable", "ONE is Integer")),
    ("O = fill(I, size, I)", 1, ("argument 2 of fill", "size is Callable")),
    ("", 1, ("empty program",)),
    ("# only a comment\n\n", 1, ("empty program",)),
])
def test_rejections_name_the_line_and_the_reason(text, line, fragments):
    rejects(text, line, *fragments)


def test_first_error_by_line_wins():
    # a syntax error on line 3 does not hide an unknown name on line 2, and vice versa
    rejects("x1 = size(I)\nx2 = nothing(I)\nx3 = size(3)\nO = I", 2, "unknown name")
    rejects("x1 = size(I)\nx2 = size(3)\nx3 = nothing(I)\nO = I", 2, "literal")


def test_error_carries_the_source_text():
    err = rejects("x1 = size(I)\nx2 = frob(x1)\nO = I", 2)
    assert err.text == "x2 = frob(x1)"
    assert "x2 = frob(x1)" in str(err)


def test_arity_of_function_valued_variables_is_inferred():
    # rbind of a 2-parameter primitive takes 1; lbind of a 3-parameter one takes 2
    rejects("x1 = rbind(bordering, I)\nO = x1(I, I)", 2, "function of 1 argument", "called with 2")
    rejects("x1 = lbind(fill, I)\nO = x1(ONE)", 2, "function of 2 arguments", "called with 1")
    parse("x1 = lbind(fill, I)\nx2 = asindices(I)\nO = x1(ONE, x2)")
    # compose, fork, chain and matcher make one-parameter functions (arc-dsl's lambda x: ...)
    rejects("x1 = compose(flip, bordering)\nO = x1(I, I)", 2, "function of 1 argument")
    rejects("x1 = fork(add, size, size)\nO = x1(I, I)", 2, "function of 1 argument")
    rejects("x1 = chain(size, first, last)\nO = x1(I, I)", 2, "function of 1 argument")
    rejects("x1 = matcher(size, ONE)\nO = x1(I, I)", 2, "function of 1 argument")
    # lbind of objects (4 parameters) takes 3
    parse("x1 = lbind(objects, I)\nx2 = x1(T, F, T)\nx3 = first(x2)\nO = subgrid(x3, I)")
    rejects("x1 = lbind(objects, I)\nx2 = x1(T, F, T)\nO = subgrid(x2, I)", 3, "x2 is Objects")
    # unknown arity (a function picked from a container) is accepted
    parse("x1 = initset(size)\nx2 = first(x1)\nx3 = x2(I, I, I)\nO = identity(x3)")


def test_types_flow_through_identity_branch_and_valmax():
    rejects("x1 = identity(size)\nO = fill(I, x1, I)", 2, "x1 is Callable")
    rejects("x1 = branch(T, ONE, TWO)\nO = fill(I, ONE, x1)", 2, "x1 is Integer")
    parse("x1 = objects(I, T, F, T)\nx2 = valmax(x1, shape)\nO = canvas(ZERO, x2)")  # shape's pair


def test_arc_dsl_usage_that_annotations_miss_is_accepted():
    parse("x1 = astuple(I, I)\nO = first(x1)")                    # astuple of two grids
    parse("x1 = asobject(I)\nx2 = totuple(x1)\nO = paint(I, x2)")  # paint of a tuple of cells
    parse("x1 = asindices(I)\nx2 = mapply(neighbors, x1)\nO = fill(I, ONE, x2)")
    parse("x1 = shape(I)\nx2 = maximum(x1)\nO = canvas(ZERO, x1)")  # maximum of a pair


@pytest.mark.parametrize("path", SEEDS, ids=[p.stem for p in SEEDS])
def test_seed_text_round_trips(path):
    text = path.read_text()
    p = parse(text)
    canonical = print_program(p)
    assert parse(canonical) == p
    assert print_program(parse(canonical)) == canonical
    assert canonical.endswith("\n") and canonical.splitlines()[-1].startswith("O = ")


def test_to_arrays_codes_and_inverse():
    p = parse(REAL)
    arrays = p.to_arrays()
    assert isinstance(arrays, ProgramArrays)
    assert arrays.callee.dtype == np.int32 and arrays.args.dtype == np.int32
    objects, argmax, size, subgrid = (registry.primitive(n).id for n in ("objects", "argmax", "size", "subgrid"))
    t, f = registry.constant("T").id, registry.constant("F").id
    assert arrays.callee.tolist() == [[3, objects], [3, argmax], [3, subgrid]]
    assert arrays.arg_offsets.tolist() == [0, 4, 6, 8]
    assert arrays.args.tolist() == [[0, 0], [2, t], [2, f], [2, t], [1, 0], [3, size], [1, 1], [0, 0]]
    assert Program.from_arrays(arrays) == p


def test_check_validates_an_ir_built_by_hand():
    good = Program((Line(Ref("prim", "asindices"), (INPUT,)), Line(Ref("prim", "fill"), (INPUT, Ref("const", "ONE"), Ref("var", 0)))))
    infos = check(good)
    assert infos[0].type.name == "Indices" and infos[1].type.name == "Grid"
    with pytest.raises(ProgramError, match="line 1: variable x2 is used before its definition"):
        check(Program((Line(Ref("prim", "size"), (Ref("var", 1),)), Line(Ref("prim", "size"), (INPUT,)))))
    with pytest.raises(ProgramError, match="unknown primitive 'nope'"):
        check(Program((Line(Ref("prim", "nope"), (INPUT,)),)))
    with pytest.raises(ProgramError, match="line 2: size takes 1"):
        check(Program((Line(Ref("prim", "size"), (INPUT,)), Line(Ref("prim", "size"), (INPUT, INPUT)))))
    with pytest.raises(ValueError):
        Ref("local", 0)


# --- arc-dsl solver files -----------------------------------------------------------------------

from codeit.dsl.arcdsl_import import SolverImportError, import_solvers, read_solvers  # noqa: E402

SOLVER_FILE = '''from dsl import *
from constants import *


def solve_00000001(I):
    x1 = objects(I, T, F, T)
    x2 = argmax(x1, size)
    O = subgrid(x2, I)
    return O


def solve_00000002(I):
    O = rot90(I)
    return O
'''


def test_solver_file_becomes_programs():
    programs = import_solvers(SOLVER_FILE, "solvers.py")
    assert sorted(programs) == ["00000001", "00000002"]
    assert print_program(programs["00000001"]) == REAL
    assert programs["00000001"].source_lines == (6, 7, 8)  # lines of the file


@pytest.mark.parametrize("body, line, fragment", [
    ("    x1 = objects(I, T, F, T)\n    if x1:\n        O = I\n    return O\n", 3, "'if' statement"),
    ("    x1 = objects(I, T, F, T)\n    for x in x1:\n    return O\n", 3, "'for' statement"),
    ("    x1 = objects(I, T, F, T)\n    O = subgrid(x1, I)\n", 3, "without 'return O'"),
    ("    x1 = objects(I, T, F, T)\n    O = frob(x1)\n    return O\n", 3, "unknown name 'frob'"),
    ("    O = size(3)\n    return O\n", 2, "literal"),
])
def test_solver_file_rejections_name_the_file_line(body, line, fragment):
    text = "def solve_0000000a(I):\n" + body
    with pytest.raises(SolverImportError) as info:
        import_solvers(text, "s.py")
    assert info.value.line == line and fragment in info.value.reason, str(info.value)
    assert f"s.py:{line}" in str(info.value) and info.value.task_id == "0000000a"


def test_solver_file_keeps_good_solvers_when_one_is_bad():
    text = SOLVER_FILE + "\n\ndef solve_00000003(I):\n    x1 = lambda_(I)\n    return x1\nprint('hello')\n"
    result = read_solvers(text, "s.py")
    assert sorted(result.programs) == ["00000001", "00000002"]
    assert "00000003" in result.errors
    assert any("not a solver definition" in e.reason for e in result.errors.values())
