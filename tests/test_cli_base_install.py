"""A base install (no policy, plot or cluster extra) runs every command that needs none of them,
and the ones that do need one say which, in one line, with exit status 2.

Each case runs in a fresh interpreter whose import system refuses the optional modules (a finder
put first on ``sys.meta_path``), the way a base ``pip install -e .`` would be missing them, then
calls ``codeit.cli.main`` in it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from codeit.cli import COMMANDS

OPTIONAL = ("torch", "transformers", "tokenizers", "matplotlib", "ray", "vllm")

# argv[1]: JSON list of modules to refuse; argv[2]: JSON command line; argv[3]: "cli" or "python"
# (run argv[2][0] as Python source instead). Exit status: the command's, or 97 for an import
# error that escaped, 98 for any other exception; a line on stdout lists the refused modules that
# were asked for.
BLOCKED = textwrap.dedent("""
    import importlib.abc, json, sys, traceback
    refused = set(json.loads(sys.argv[1]))
    asked = []

    class Refuse(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in refused:
                asked.append(name)
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Refuse())
    argv = json.loads(sys.argv[2])
    try:
        if sys.argv[3] == "python":
            exec(argv[0], {})
            code = 0
        else:
            from codeit.cli import main
            code = main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except ImportError:
        traceback.print_exc()
        code = 97
    except BaseException:
        traceback.print_exc()
        code = 98
    loaded = sorted(m for m in sys.modules if m.partition(".")[0] in refused)
    sys.stdout.flush()
    print("REFUSED-ASKED " + json.dumps({"asked": sorted(set(asked)), "loaded": loaded}))
    sys.exit(code)
""")


class Result:
    def __init__(self, proc: subprocess.CompletedProcess):
        self.code = proc.returncode
        lines = proc.stdout.splitlines()
        marker = [line for line in lines if line.startswith("REFUSED-ASKED ")]
        assert marker, f"the child died before its report (code {self.code}):\n{proc.stdout}\n{proc.stderr}"
        self.refused = json.loads(marker[-1].split(" ", 1)[1])
        self.out = "\n".join(line for line in lines if not line.startswith("REFUSED-ASKED "))
        self.err = proc.stderr

    def __repr__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


def blocked(argv: list[str], cwd: Path, refuse=OPTIONAL, mode: str = "cli") -> Result:
    proc = subprocess.run([sys.executable, "-c", BLOCKED, json.dumps(list(refuse)), json.dumps(argv), mode],
                          cwd=cwd, capture_output=True, text=True, timeout=300)
    result = Result(proc)
    assert result.code not in (97, 98), f"an exception escaped: {result!r}"
    assert "Traceback" not in result.err, repr(result)
    assert not result.refused["loaded"], repr(result)
    return result


def test_help_lists_every_command_without_importing_one(tmp_path):
    r = blocked(["--help"], tmp_path)
    assert r.code == 0, r
    for name in COMMANDS:
        assert name in r.out, name


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_help_works(tmp_path, command):
    r = blocked([command, "--help"], tmp_path)
    assert r.code == 0, r
    assert r.out.startswith(f"usage: codeit {command}"), r


def test_exec_solves_and_mismatches(tmp_path):
    r = blocked(["exec", "O = vmirror(I)", "--task", "67a3c6ac", "--color", "never"], tmp_path)
    assert r.code == 0 and "pairs match (solved)" in r.out, r
    r = blocked(["exec", "O = hmirror(I)", "--task", "67a3c6ac", "--color", "never"], tmp_path)
    assert r.code == 1 and "MISMATCH" in r.out, r


def test_seeds(tmp_path):
    r = blocked(["seeds"], tmp_path)
    assert r.code == 0 and "seed programs: " in r.out and "primitives used: " in r.out, r


def test_mutate(tmp_path):
    out = tmp_path / "mut"
    r = blocked(["mutate", "--mutants", "8", "--max-tasks", "2", "--out", str(out), "--threads", "1"], tmp_path)
    assert r.code == 0, r
    assert (out / "solved.csv").read_text().splitlines()[-1].startswith("8,")
    assert len((out / "mutants.jsonl").read_text().splitlines()) == 8


def test_import_solvers(tmp_path):
    solvers = tmp_path / "solvers.py"
    solvers.write_text("from dsl import *\n\n\ndef solve_67a3c6ac(I):\n    x1 = vmirror(I)\n    O = rot90(x1)\n"
                       "    return O\n\n\ndef solve_68b16354(I):\n    O = hmirror(I)\n    return O\n")
    r = blocked(["import-solvers", str(solvers), "--out", str(tmp_path / "seeds")], tmp_path)
    assert r.code == 0 and "imported 2 solvers" in r.out, r
    assert sorted(p.name for p in (tmp_path / "seeds").iterdir()) == ["67a3c6ac.dsl", "68b16354.dsl"]
    assert (tmp_path / "seeds" / "68b16354.dsl").read_text() == "O = hmirror(I)\n"


def test_profile(tmp_path):
    folder = tmp_path / "progs"
    folder.mkdir()
    (folder / "67a3c6ac.dsl").write_text("O = vmirror(I)\n")
    r = blocked(["profile", str(folder), "--reps", "1"], tmp_path)
    assert r.code == 0, r
    assert any(line.split()[:1] == ["vmirror"] for line in r.out.splitlines()), r


HINT = 'pip install -c constraints/cpu.txt -e ".[{}]"'


@pytest.mark.parametrize("argv", [["run", "RUN"], ["eval", "CHECKPOINT", "--max-tasks", "1"]], ids=["run", "eval"])
def test_run_and_eval_name_the_policy_extra(tmp_path, argv):
    argv = [str(tmp_path / a) if a.isupper() else a for a in argv]
    r = blocked(argv, tmp_path)
    assert r.code == 2, r
    lines = r.err.strip().splitlines()
    assert lines == [f"codeit {argv[0]} needs the policy extra (no module named 'torch'): {HINT.format('policy')}"], r
    assert not (tmp_path / "RUN").exists()


def test_ray_names_the_cluster_extra_when_only_ray_is_missing(tmp_path):
    r = blocked(["run", str(tmp_path / "run"), "--ray", "local"], tmp_path, refuse=("ray",))
    assert r.code == 2, r
    assert r.err.strip() == f"codeit run --ray needs the cluster extra (no module named 'ray'): {HINT.format('cluster')}"


def test_run_config_and_report_need_no_extra(tmp_path):
    source = textwrap.dedent(f"""
        from pathlib import Path
        from codeit.run.config import make_config, save_config, load_config
        from codeit.policy.config import PolicyConfig
        from codeit.run import report
        config = make_config("paper-scratch", {{"policy": {{"architecture": {{"hidden_size": 64, "num_heads": 1}}}}}})
        assert config.policy.architecture == PolicyConfig(hidden_size=64, num_layers=12, num_heads=1,
                                                          intermediate_size=3072, max_positions=4096)
        save_config(config, Path({str(tmp_path)!r}) / "config.yaml")
        assert load_config(Path({str(tmp_path)!r}) / "config.yaml") == config
        metrics = [{{"programs_sampled_total": 8, "solved_cumulative": 1, "solved_policy": 1}}]
        assert report.plot_learning_curve(Path({str(tmp_path)!r}), metrics) is None
        assert report.plot_learning_curve(Path({str(tmp_path)!r}), metrics) is None
    """)
    r = blocked([source], tmp_path, mode="python")
    assert r.code == 0, r
    assert not (tmp_path / "learning_curve.png").exists()
    # The plot is skipped with one note, once per process, naming the plot extra.
    assert r.err.strip().splitlines() == [
        f"learning_curve.png skipped: matplotlib is not installed ({HINT.format('plot')})"], r
    assert r.refused["asked"] == ["matplotlib"], r


def test_command_modules_import_no_optional_dependency():
    """Importing the CLI and every command module (as building its parser does) loads none of the
    optional dependencies, even where they are installed."""
    source = ("import sys, importlib, codeit.cli\n"
              "for m in codeit.cli.COMMANDS.values(): importlib.import_module('codeit.commands.' + m)\n"
              "codeit.cli.build_parser()\n"
              f"print(sorted(m for m in sys.modules if m.partition('.')[0] in {OPTIONAL!r}))\n")
    proc = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
