"""Smoke tests of the commands that had none: exec, seeds, mutate, profile and eval, each run through
``codeit.cli.main`` in this process on tiny inputs, checked on what it prints, returns and writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codeit.cli import main
from codeit.dsl import registry
from codeit.dsl.program import parse
from codeit.seeds import load_seeds
from codeit.tasks import load_tasks

VMIRROR_TASK = "67a3c6ac"  # solved by O = vmirror(I) (its seed)
MIRROR_TASKS = ("68b16354", "74dd1130", "3c9b0459")  # hmirror, dmirror, rot180: one mutation away


@pytest.fixture(scope="module")
def training():
    return {t.id: t for t in load_tasks("arc1/training")}


def write_task_folder(folder: Path, tasks) -> Path:
    """ARC JSON files, one per task, named by id (a task set given by path)."""
    folder.mkdir(parents=True, exist_ok=True)
    for t in tasks:
        data = {split: [{"input": p.input.tolist(), "output": p.output.tolist()} for p in pairs]
                for split, pairs in (("train", t.train), ("test", t.test))}
        (folder / f"{t.id}.json").write_text(json.dumps(data))
    return folder


def write_programs(folder: Path, programs: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in programs.items():
        (folder / f"{name}.dsl").write_text(text + "\n")
    return folder


# -- exec ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("executor", ["native", "reference"])
def test_exec_solves_a_task_and_shows_every_pair(executor, training, capsys):
    code = main(["exec", "O = vmirror(I)", "--task", VMIRROR_TASK, "--color", "never", "--executor", executor])
    out, err = capsys.readouterr()
    n = len(training[VMIRROR_TASK].pairs)
    assert code == 0
    assert f"task {VMIRROR_TASK}: {n}/{n} pairs match (solved)" in out
    assert out.count(": match") == n and "MISMATCH" not in out
    assert err.startswith(f"executor: {executor}")
    # The test pair's block: expected and produced columns, each the task's test output digit for digit.
    lines = out.splitlines()
    at = lines.index("test 0: match  (1 steps)")
    assert lines[at + 1].split() == ["expected", "produced"]
    rows = ["".join(str(v) for v in row) for row in training[VMIRROR_TASK].test[0].output]
    assert [line.split() for line in lines[at + 2 : at + 2 + len(rows)]] == [[r, r] for r in rows]


def test_exec_reports_a_mismatch_and_reads_a_program_file(tmp_path, capsys):
    path = tmp_path / "p.dsl"
    path.write_text("O = hmirror(I)\n")
    code = main(["exec", str(path), "--task", VMIRROR_TASK, "--color", "never", "--show-input"])
    out = capsys.readouterr().out
    assert code == 1
    assert "MISMATCH" in out and "pairs match (solved)" not in out
    assert f"task {VMIRROR_TASK}: 0/" in out
    assert "input" in out.splitlines()[1]  # --show-input adds the input column


def test_exec_refuses_what_does_not_parse_and_unknown_tasks(capsys):
    assert main(["exec", "O = nosuch(I)", "--task", VMIRROR_TASK]) == 2
    assert "unknown name 'nosuch'" in capsys.readouterr().err
    assert main(["exec", "O = vmirror(I)", "--task", "zzzzzzzz"]) == 2
    assert "no task 'zzzzzzzz'" in capsys.readouterr().err


# -- seeds ---------------------------------------------------------------------------------------


def test_seeds_reports_the_installed_library(capsys):
    assert main(["seeds"]) == 0
    out = capsys.readouterr().out
    seeds = load_seeds()
    assert f"seed programs: {len(seeds)}\n" in out
    assert "ARC-AGI-1 training tasks covered: " in out and " / 400\n" in out
    used_line = next(line for line in out.splitlines() if line.startswith("primitives used: "))
    n_used = int(used_line.split()[2])
    never_line = next(line for line in out.splitlines() if line.startswith("primitives never used"))
    assert never_line.startswith(f"primitives never used ({len(registry.PRIMITIVES) - n_used})")


def test_seeds_verify_names_the_seed_that_fails(tmp_path, capsys):
    folder = write_programs(tmp_path / "seeds", {
        VMIRROR_TASK: "O = vmirror(I)",
        "68b16354": "O = vmirror(I)",  # that task wants hmirror
        "zzzzzzzz": "O = rot90(I)",  # names no training task
    })
    assert main(["seeds", "--folder", str(folder), "--verify"]) == 1
    out = capsys.readouterr().out
    assert "seed programs: 3\n" in out
    assert "ARC-AGI-1 training tasks covered: 2 / 400" in out
    assert "files naming no ARC-AGI-1 training task: zzzzzzzz" in out
    assert "program length (lines): min 1, median 1, mean 1.0, max 1" in out
    assert "primitives used: 2 / " in out
    assert "FAIL 68b16354 pair 0" in out and f"FAIL {VMIRROR_TASK}" not in out
    assert "verified: 1 / 2 solve every train and test pair" in out

    write_programs(folder, {"68b16354": "O = hmirror(I)"})
    assert main(["seeds", "--folder", str(folder), "--verify"]) == 0
    assert "verified: 2 / 2" in capsys.readouterr().out


# -- mutate --------------------------------------------------------------------------------------


def test_mutate_solves_one_mutation_away_and_resumes(tmp_path, training, capsys):
    seeds = write_programs(tmp_path / "seeds", {VMIRROR_TASK: "O = vmirror(I)"})
    search = write_task_folder(tmp_path / "search", [training[t] for t in MIRROR_TASKS])
    out_dir = tmp_path / "out"
    common = ["mutate", "--seeds", str(seeds), "--search-set", str(search), "--out", str(out_dir),
              "--threads", "1", "--chunk", "8"]
    assert main(common + ["--mutants", "16"]) == 0
    first_lines = (out_dir / "mutants.jsonl").read_text().splitlines()
    assert len(first_lines) == 16
    assert json.loads((out_dir / "state.json").read_text())["evaluated"] == 16
    capsys.readouterr()

    assert main(common + ["--mutants", "32"]) == 0  # the same folder: continues from 16
    out = capsys.readouterr().out
    lines = (out_dir / "mutants.jsonl").read_text().splitlines()
    assert len(lines) == 32 and lines[:16] == first_lines
    rows = [json.loads(line) for line in lines]
    assert {r["task_id"] for r in rows} == {VMIRROR_TASK}
    for r in rows:
        parse(r["program"])  # every kept mutant is a valid program
    assert len({r["program"] for r in rows}) == 32
    csv_rows = (out_dir / "solved.csv").read_text().splitlines()
    assert csv_rows[0] == "mutants,tasks_solved,seconds" and csv_rows[-1].startswith("32,")
    # hmirror, dmirror and rot180 are each one primitive swap from vmirror.
    solved = sorted(MIRROR_TASKS)
    assert f"solved {len(solved)} / {len(solved)}: {' '.join(solved)}" in out
    assert f"wrote {out_dir / 'solved.csv'}" in out


def test_mutate_takes_seeds_from_several_folders(tmp_path, training, capsys):
    ours = write_programs(tmp_path / "ours", {VMIRROR_TASK: "O = vmirror(I)"})
    imported = write_programs(tmp_path / "imported", {"68b16354": "O = hmirror(I)"})
    search = write_task_folder(tmp_path / "search", [training[t] for t in MIRROR_TASKS])
    args = ["mutate", "--search-set", str(search), "--threads", "1", "--chunk", "8", "--mutants", "8"]
    assert main(args + ["--seeds", str(ours), str(imported), "--out", str(tmp_path / "both")]) == 0
    assert "2 seeds, " in capsys.readouterr().out
    assert main(args + ["--seeds", str(imported), "--out", str(tmp_path / "one")]) == 0
    assert "1 seeds, " in capsys.readouterr().out


# -- profile -------------------------------------------------------------------------------------


def _profile_rows(out: str) -> dict[str, list[str]]:
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("primitive"))
    return {line.split()[0]: line.split()[1:] for line in lines[start + 1:] if line.strip()}


def test_profile_counts_each_primitive_on_both_interpreters(tmp_path, training, capsys):
    folder = write_programs(tmp_path / "progs", {VMIRROR_TASK: "O = vmirror(I)",
                                                  "c59eb873": "x1 = upscale(I, TWO)\nO = vmirror(x1)"})
    n_a, n_b = len(training[VMIRROR_TASK].pairs), len(training["c59eb873"].pairs)
    assert main(["profile", str(folder), "--reps", "2"]) == 0
    out = capsys.readouterr().out
    assert f"corpus: 2 programs, {n_a + n_b} runs" in out
    assert "reference / native wall" in out
    rows = _profile_rows(out)
    assert set(rows) == {"vmirror", "upscale"}
    # Columns: calls, native ms, ns/call, ref calls, ref ms, us/call, ref/native.
    assert float(rows["vmirror"][0]) == float(rows["vmirror"][3]) == n_a + n_b
    assert float(rows["upscale"][0]) == float(rows["upscale"][3]) == n_b

    assert main(["profile", str(folder / f"{VMIRROR_TASK}.dsl"), "--no-reference", "--top", "1"]) == 0
    out = capsys.readouterr().out
    rows = _profile_rows(out)
    assert list(rows) == ["vmirror"] and len(rows["vmirror"]) == 3 and float(rows["vmirror"][0]) == n_a
    assert "reference:" not in out


def test_profile_names_a_program_without_its_task(tmp_path, capsys):
    folder = write_programs(tmp_path / "progs", {"zzzzzzzz": "O = vmirror(I)"})
    assert main(["profile", str(folder)]) == 2
    assert "no task 'zzzzzzzz'" in capsys.readouterr().err


# -- eval ----------------------------------------------------------------------------------------

EVAL_SETTINGS = ["tasks_per_step=2", "sampling.samples_per_task=2", "sampling.max_new_tokens=24",
                 "sampling.max_prompt_tokens=256", "execution.threads=1"]


@pytest.fixture(scope="module")
def hmirror_policy(tmp_path_factory, training):
    """A tiny policy taught, on 68b16354's own prompt, to write its solution O = hmirror(I)."""
    import torch

    from codeit.commands.run import parse_overrides
    from codeit.policy.model import PolicyConfig, create_policy
    from codeit.run.config import make_config
    from codeit.run.prompts import prompt_text

    config = make_config("tiny", parse_overrides(EVAL_SETTINGS))
    policy = create_policy(PolicyConfig(hidden_size=64, num_layers=1, num_heads=1, intermediate_size=128,
                                        max_positions=512))
    ids = policy.format.training_ids(prompt_text(policy.format, training["68b16354"], config), "O = hmirror(I)\n")
    inputs, labels = torch.tensor([ids["input_ids"]]), torch.tensor([ids["labels"]])
    torch.manual_seed(0)
    optimizer = torch.optim.AdamW(policy.model.parameters(), lr=1e-2)
    policy.model.train()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # ops this small: more threads only wait on each other
    try:
        for _ in range(60):  # plain teacher forcing on the one example
            policy.model(input_ids=inputs, labels=labels).loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    finally:
        torch.set_num_threads(threads)
    policy.model.eval()
    path = tmp_path_factory.mktemp("policy") / "hmirror"
    policy.save(path)
    return path


def test_eval_solves_what_the_policy_writes_and_resumes(tmp_path, training, hmirror_policy, capsys):
    tasks = write_task_folder(tmp_path / "tasks", [training["68b16354"], training["3c9b0459"]])
    out_dir = tmp_path / "eval"
    args = ["eval", str(hmirror_policy), "--tasks", str(tasks), "--samples", "3", "--out", str(out_dir)]
    for setting in EVAL_SETTINGS:
        args += ["--set", setting]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "solved 1 / 2 tasks with 3 samples per task (6 programs, 100% parse" in out
    assert "solved: 68b16354" in out.splitlines()
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["programs_sampled"] == 6 and summary["solved"] == 1 and summary["tasks"] == 2
    written = json.loads((out_dir / "evaluation.json").read_text())
    assert written["solved_ids"] == ["68b16354"] and written["samples_per_task"] == 3
    solutions = json.loads((out_dir / "solutions.json").read_text())
    assert any(c["test_correct"] and parse(c["program"]) == parse("O = hmirror(I)")
               for c in solutions["68b16354"])

    assert main(args) == 0  # the same folder again: everything is done, nothing is sampled twice
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert again["programs_sampled"] == 6 and again["solved"] == 1

    other = [a if a != "3" else "4" for a in args]  # another budget in the same folder is refused
    assert main(other) == 2
    assert "other settings" in capsys.readouterr().err
