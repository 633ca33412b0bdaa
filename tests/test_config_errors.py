"""Settings refused at the start, in one line naming the setting: counts out of range, values of the
wrong type; numbers such as ``2e-4`` read as numbers; a model or checkpoint that is not there is
found before any work is done, and a failed start of ``codeit eval`` leaves no folder behind."""

from __future__ import annotations

import pytest

from codeit.cli import main
from codeit.commands.run import parse_overrides
from codeit.run.config import load_config, make_config


def refused(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("setting, named", [
    ("meta_iterations=-1", "config.meta_iterations"),
    ("initial_mutants=-5", "config.initial_mutants"),
    ("max_search_tasks=-2", "config.max_search_tasks"),
    ("tasks_per_step=0", "config.tasks_per_step"),
    ("sampling.samples_per_task=0", "config.sampling.samples_per_task"),
    ("sampling.batch_size=-1", "config.sampling.batch_size"),
    ("learner.batch_size=0", "config.learner.batch_size"),
    ("learner.epochs=-1", "config.learner.epochs"),
    ("learner.policy_experiences=-100", "config.learner.policy_experiences"),
    ("learner.lr=0", "config.learner.lr"),
    ("learner.checkpoint_seconds=-1", "config.learner.checkpoint_seconds"),
    ("execution.threads=-1", "config.execution.threads"),
])
def test_counts_out_of_range_are_refused_naming_the_setting(setting, named):
    with pytest.raises(ValueError) as refused_with:
        make_config("tiny", parse_overrides([setting]))
    line = str(refused_with.value)
    assert line.startswith(f"{named}: must be") and setting.split("=")[1] in line and "\n" not in line


def test_run_refuses_a_negative_count_in_one_line_before_anything_else(tmp_path, capsys):
    # (search_set=bad would stop the start too, later: the count is checked first.)
    run_dir = tmp_path / "run"
    line = refused(capsys, ["run", str(run_dir), "--preset", "tiny", "--set", "meta_iterations=-1",
                            "--set", "search_set=bad"])
    assert line == "codeit run: config.meta_iterations: must be at least 0, got -1"
    assert not run_dir.exists()


def test_zero_counts_that_mean_none_or_all_are_accepted():
    config = make_config("tiny", {"meta_iterations": 0, "initial_mutants": 0, "max_search_tasks": 0,
                                  "learner": {"warmup_epochs": 0, "checkpoint_seconds": 0}})
    assert config.meta_iterations == 0 and config.learner.checkpoint_seconds == 0


@pytest.mark.parametrize("text, value", [("2e-4", 2e-4), ("1E-3", 1e-3), ("-3e+2", -300.0), ("5e-5", 5e-5),
                                         ("0.5", 0.5), ("3", 3)])
def test_set_reads_exponent_numbers_as_numbers(text, value):
    parsed = parse_overrides([f"learner.lr={text}"])["learner"]["lr"]
    assert parsed == value and not isinstance(parsed, str)


def test_set_lr_in_exponent_form_makes_a_float_setting(tmp_path, capsys):
    config = make_config("tiny", parse_overrides(["learner.lr=2e-4"]))
    assert config.learner.lr == 2e-4
    path = tmp_path / "settings.yaml"
    path.write_text("preset: tiny\nlearner:\n  lr: 2e-4\n")
    assert load_config(path).learner.lr == 2e-4


@pytest.mark.parametrize("setting, named, expected", [
    ("learner.batch_size=true", "config.learner.batch_size", "expected int"),
    ("sampling.samples_per_task=false", "config.sampling.samples_per_task", "expected int"),
    ("learner.lr=fast", "config.learner.lr", "expected float"),
    ("meta_iterations=2.5", "config.meta_iterations", "expected int"),
])
def test_a_value_of_the_wrong_type_names_the_setting(setting, named, expected):
    with pytest.raises(ValueError, match=f"^{named}: {expected}, got "):
        make_config("tiny", parse_overrides([setting]))


def test_a_policy_model_that_is_not_there_stops_the_run_before_any_work(tmp_path, capsys):
    run_dir = tmp_path / "run"
    missing = tmp_path / "no-such-model"
    line = refused(capsys, ["run", str(run_dir), "--preset", "tiny", "--set", f"policy.model={missing}",
                            "--set", "initial_mutants=0", "--set", "meta_iterations=1"])
    assert "policy.model" in line and str(missing) in line
    assert not run_dir.exists()  # nothing built: no store, no initial buffer, no checkpoints


def test_eval_of_a_checkpoint_that_is_not_there_leaves_nothing(tmp_path, capsys):
    out = tmp_path / "eval"
    line = refused(capsys, ["eval", str(tmp_path / "no-checkpoint"), "--tasks", "arc1/evaluation",
                            "--max-tasks", "1", "--out", str(out)])
    assert "checkpoint" in line and "no-checkpoint" in line
    assert not out.exists()
    out.mkdir()  # a folder made beforehand stays, as empty as it was
    refused(capsys, ["eval", str(tmp_path / "no-checkpoint"), "--tasks", "arc1/evaluation", "--out", str(out)])
    assert list(out.iterdir()) == []


def test_eval_whose_sampler_cannot_start_leaves_nothing(tmp_path):
    from codeit.run.evaluation import evaluate_checkpoint
    from codeit.tasks import load_tasks

    checkpoint = tmp_path / "checkpoint"
    checkpoint.mkdir()
    (checkpoint / "config.json").write_text("{}")

    def broken(config, path, device):
        raise ValueError(f"{path}: not a model this sampler can load")

    out = tmp_path / "eval"
    with pytest.raises(ValueError, match="not a model"):
        evaluate_checkpoint(str(checkpoint), load_tasks("arc1/evaluation").tasks[:1], 1, out, make_config("tiny"),
                            "cpu", sampler_factory=broken)
    assert not out.exists()
