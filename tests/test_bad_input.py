"""Bad input to every command: one line on standard error that names the file, task or program
line and the fault (bounded, control characters escaped), exit status 2, no traceback, and
nothing written, followed or left behind. ``codeit --debug`` shows the traceback instead."""

from __future__ import annotations

import json
import os

import pytest

from codeit.cli import main
from codeit.commands.errors import MAX_LINE, MAX_PIECE, one_line
from codeit.textfile import TextFileError

VMIRROR_TASK = "67a3c6ac"  # solved by O = vmirror(I)
NOT_UTF8 = b"x1 = vmirror(I)\n\x83\xfe\x00 garbage\n"  # a bad byte at line 2, column 1


def refused(capsys, argv: list[str], *, also_logged: int = 0) -> str:
    """The one line ``argv`` is refused with (after ``also_logged`` lines the command logs first,
    such as the executor line), having checked its exit status and that nothing else was said."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == also_logged + 1, err
    return lines[-1]


@pytest.fixture
def binary(tmp_path):
    """Files of every kind a command reads, each holding bytes that are not UTF-8."""
    files = {}
    for name in ("program.dsl", "solvers.py", "task.json", "settings.yaml"):
        files[name] = tmp_path / name
        files[name].write_bytes(NOT_UTF8)
    (tmp_path / "seeds").mkdir()
    files["seeds"] = tmp_path / "seeds"
    (files["seeds"] / f"{VMIRROR_TASK}.dsl").write_bytes(NOT_UTF8)
    return files


# -- item 1: what gave a traceback, or a word, now gives one line ---------------------------------


def test_binary_program_and_solver_files_name_the_file_and_the_byte(binary, capsys):
    line = refused(capsys, ["exec", str(binary["program.dsl"]), "--task", VMIRROR_TASK])
    assert line == f"codeit exec: {binary['program.dsl']}: not UTF-8 text: byte 0x83 at line 2, column 1"
    line = refused(capsys, ["import-solvers", str(binary["solvers.py"]), "--out", str(binary["seeds"].parent / "out")])
    assert line == f"codeit import-solvers: {binary['solvers.py']}: not UTF-8 text: byte 0x83 at line 2, column 1"
    assert not (binary["seeds"].parent / "out").exists()


def test_binary_task_file_names_the_file_and_the_fault(binary, capsys):
    # It said "error: utf-8": the UnicodeDecodeError's first argument, neither file nor fault.
    line = refused(capsys, ["exec", "O = vmirror(I)", "--task", VMIRROR_TASK, "--tasks", str(binary["task.json"])])
    assert line == f"codeit exec: {binary['task.json']}: not UTF-8 text: byte 0x83 at line 2, column 1"


def test_task_file_nested_past_the_parser_is_one_line(tmp_path, capsys):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000)
    line = refused(capsys, ["exec", "O = vmirror(I)", "--task", VMIRROR_TASK, "--tasks", str(deep)])
    assert line == f"codeit exec: {deep}: nested too deeply to read"


def test_unknown_task_sets_of_eval_and_mutate_are_one_line(tmp_path, capsys):
    known = "is neither a task set (arc1/training, arc1/evaluation"
    line = refused(capsys, ["eval", str(tmp_path / "checkpoint"), "--tasks", "BAD", "--out", str(tmp_path / "eval")])
    assert line.startswith("codeit eval: 'BAD' ") and known in line
    line = refused(capsys, ["mutate", "--search-set", "BAD", "--out", str(tmp_path / "mutate")])
    assert line.startswith("codeit mutate: 'BAD' ") and known in line
    assert not (tmp_path / "eval").exists() and not (tmp_path / "mutate").exists()


def test_import_solvers_out_naming_a_file_is_refused(tmp_path, capsys):
    solvers = tmp_path / "solvers.py"
    solvers.write_text(f"def solve_{VMIRROR_TASK}(I):\n    O = vmirror(I)\n    return O\n")
    taken = tmp_path / "taken"
    taken.write_text("mine\n")
    line = refused(capsys, ["import-solvers", str(solvers), "--out", str(taken)])
    assert line == f"codeit import-solvers: --out {taken}: exists and is not a folder"
    assert taken.read_text() == "mine\n"


# -- item 2: the line itself -----------------------------------------------------------------------


def test_every_command_refuses_a_binary_input_with_one_line(binary, tmp_path, capsys):
    bad = "not UTF-8 text: byte 0x83 at line 2, column 1"
    task_json, settings = str(binary["task.json"]), str(binary["settings.yaml"])
    commands = {
        "exec": ["exec", str(binary["program.dsl"]), "--task", VMIRROR_TASK],
        "seeds": ["seeds", "--folder", str(binary["seeds"])],
        "import-solvers": ["import-solvers", str(binary["solvers.py"]), "--out", str(tmp_path / "imported")],
        "mutate": ["mutate", "--search-set", task_json, "--out", str(tmp_path / "mutate")],
        "run": ["run", str(tmp_path / "run"), "--preset", "tiny", "--set", f"search_set={task_json}"],
        "eval": ["eval", str(tmp_path / "checkpoint"), "--tasks", task_json, "--out", str(tmp_path / "eval")],
        "profile": ["profile", str(binary["program.dsl"]), "--task", VMIRROR_TASK],
        "synth": ["synth", "--source", task_json, "--out", str(tmp_path / "synth"), "--no-exclude"],
        "pretrain": ["pretrain", "--config", settings, "--out", str(tmp_path / "pretrain")],
    }
    from codeit.cli import COMMANDS

    assert set(commands) == set(COMMANDS)
    for name, argv in commands.items():
        line = refused(capsys, argv)
        assert line.startswith(f"codeit {name}: ") and line.endswith(bad), line
        assert any(str(path) in line for path in binary.values()), line
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in binary.values())


def test_an_overlong_program_line_is_cut(tmp_path, capsys):
    program = tmp_path / "long.dsl"
    program.write_text("x1 = vmirror(" + "a" * 600_000 + ")\nO = x1\n")
    line = refused(capsys, ["exec", str(program), "--task", VMIRROR_TASK])
    assert line.startswith(f"codeit exec: {program}: line 1: unknown name 'aaaa")
    assert len(line) < 2 * MAX_PIECE + 100 + len(str(program)) and "a" * (MAX_PIECE + 1) not in line
    assert "a\u2026" in line


def test_control_bytes_are_escaped_not_echoed(tmp_path, capsys):
    program = tmp_path / "nul.dsl"
    program.write_bytes(b"x1 = vmirror(I)\x00\x1b[31m\nO = x1\n")
    line = refused(capsys, ["exec", str(program), "--task", VMIRROR_TASK])
    assert "\x00" not in line and "\x1b" not in line
    assert line == (f"codeit exec: {program}: line 1: unexpected character '\\x00'  "
                    "[x1 = vmirror(I)\\x00\\x1b[31m]")


def test_one_line_escapes_and_bounds_any_text():
    assert one_line("a\nb\tc\x00d\x7f\u202ee\udcff") == "a\\nb\\tc\\x00d\\x7f\\u202ee\\udcff"
    assert one_line("é ü ✓") == "é ü ✓"  # printable text stays as it is
    assert one_line("name " + "x" * 5000 + " end") == "name " + "x" * MAX_PIECE + "\u2026 end"
    many = one_line("word " * 10_000)
    assert len(many) == MAX_LINE and many.endswith("\u2026")


def test_debug_shows_the_traceback(binary):
    with pytest.raises(TextFileError, match="not UTF-8"):
        main(["--debug", "exec", str(binary["program.dsl"]), "--task", VMIRROR_TASK])


# -- item 3: a path that names no file ------------------------------------------------------------


@pytest.mark.parametrize("argument", ["missing.dsl", "solver.py", "notes.txt", "some/folder/prog", "a/b.dsl"])
def test_exec_says_no_such_file_for_a_path_that_is_not_there(tmp_path, capsys, argument):
    missing = str(tmp_path / argument) if "/" in argument else argument
    line = refused(capsys, ["exec", missing, "--task", VMIRROR_TASK])
    assert line == f"codeit exec: {missing}: no such file"


def test_exec_still_reads_program_text_with_a_slash_in_a_comment(capsys):
    assert main(["exec", "O = vmirror(I)  # see a/b", "--task", VMIRROR_TASK, "--color", "never"]) == 0
    assert "(solved)" in capsys.readouterr().out


# -- item 4: a failed start leaves nothing behind --------------------------------------------------


@pytest.mark.parametrize("setting", ["search_set=bad", "seed_tasks=bad", "report_set=bad",
                                     "execution.backend=bad"])
def test_a_failed_start_of_a_new_run_leaves_nothing(tmp_path, capsys, setting):
    run_dir = tmp_path / "run"
    line = refused(capsys, ["run", str(run_dir), "--preset", "tiny", "--set", setting])
    assert line.startswith("codeit run: ") and "bad" in line
    assert not run_dir.exists()
    # A folder made beforehand stays, as empty as it was.
    run_dir.mkdir()
    refused(capsys, ["run", str(run_dir), "--preset", "tiny", "--set", setting])
    assert list(run_dir.iterdir()) == []


def test_a_failed_start_in_an_existing_run_folder_deletes_nothing(tmp_path, capsys):
    from codeit.run.config import make_config
    from codeit.run.driver import Run

    run_dir = tmp_path / "run"
    Run(run_dir, make_config("tiny", {"meta_iterations": 0, "initial_mutants": 0}), log=lambda _: None).store.close()
    before = {p.name: p.stat().st_size for p in run_dir.iterdir()}
    line = refused(capsys, ["run", str(run_dir), "--preset", "tiny", "--set", "search_set=bad"])
    assert "already holds a run with a different configuration" in line
    assert {p.name: p.stat().st_size for p in run_dir.iterdir()} == before


# -- item 5: import-solvers never writes through a link --------------------------------------------


def test_import_solvers_refuses_a_symbolic_link_in_the_output_folder(tmp_path, capsys):
    solvers = tmp_path / "solvers.py"
    solvers.write_text(f"def solve_{VMIRROR_TASK}(I):\n    O = vmirror(I)\n    return O\n\n"
                       "def solve_68b16354(I):\n    O = hmirror(I)\n    return O\n")
    outside = tmp_path / "outside.txt"
    outside.write_text("not yours\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / f"{VMIRROR_TASK}.dsl").symlink_to(outside)
    line = refused(capsys, ["import-solvers", str(solvers), "--out", str(out)])
    assert line == (f"codeit import-solvers: {out / VMIRROR_TASK}.dsl: is a symbolic link; "
                    "codeit does not write through links (remove it first)")
    assert outside.read_text() == "not yours\n"
    assert sorted(os.listdir(out)) == [f"{VMIRROR_TASK}.dsl"]  # the other solver was not written either


def test_import_solvers_writes_nothing_through_a_link_made_after_the_check(tmp_path, monkeypatch):
    from codeit.commands import import_solvers

    outside = tmp_path / "outside.txt"
    outside.write_text("not yours\n")
    link = tmp_path / "target.dsl"
    link.symlink_to(outside)
    with pytest.raises(OSError):
        import_solvers.write_file(link, "O = vmirror(I)\n")
    assert outside.read_text() == "not yours\n"


def test_a_task_file_with_crlf_line_ends_still_loads(tmp_path):
    # The reader keeps what Python's text files did: CRLF line ends read as LF.
    from codeit.tasks import load_tasks

    task = {"train": [{"input": [[1]], "output": [[2]]}], "test": [{"input": [[3]], "output": [[4]]}]}
    path = tmp_path / "crlf.json"
    path.write_bytes(json.dumps(task, indent=1).replace("\n", "\r\n").encode())
    assert [t.id for t in load_tasks(str(path))] == ["crlf"]
