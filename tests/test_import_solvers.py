from codeit.cli import main
from codeit.dsl.program import parse
from codeit.seeds import load_seeds


def _solver_file(seeds) -> str:
    out = ["from dsl import *", "from constants import *", ""]
    for s in seeds:
        out.append(f"def solve_{s.task_id}(I):")
        out += ["    " + line for line in s.text.strip().splitlines()]
        out += ["    return O", "", ""]
    return "\n".join(out)


def test_import_round_trips_our_own_seeds(tmp_path):
    seeds = load_seeds()
    assert len(seeds) >= 30
    path = tmp_path / "solvers.py"
    path.write_text(_solver_file(seeds))
    assert main(["import-solvers", str(path), "--out", str(tmp_path / "out")]) == 0
    imported = {p.stem: parse(p.read_text()) for p in (tmp_path / "out").glob("*.dsl")}
    assert imported == {s.task_id: s.program for s in seeds}


def test_import_rejects_a_branching_solver_with_its_line(tmp_path, capsys):
    path = tmp_path / "bad.py"
    path.write_text("def solve_abc(I):\n    x1 = rot90(I)\n    for k in x1:\n        pass\n    return O\n")
    assert main(["import-solvers", str(path), "--out", str(tmp_path / "out")]) == 2
    message = capsys.readouterr().err
    assert "bad.py:3" in message and "solve_abc" in message
    assert not (tmp_path / "out").exists()


def test_import_rejects_a_nested_call(tmp_path, capsys):
    path = tmp_path / "nested.py"
    path.write_text("def solve_abc(I):\n    O = rot90(vmirror(I))\n    return O\n")
    assert main(["import-solvers", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "nested.py:2" in capsys.readouterr().err
