import numpy as np
import pytest

from codeit.run.config import load_config, make_config, save_config
from codeit.run.report import plot_learning_curve, read_metrics, append_metrics, write_html, write_solutions
from codeit.relabel import Candidate
from codeit.tasks import Pair, Task


def test_paper_preset_has_codeits_settings():
    c = make_config("paper")
    assert c.sampling.samples_per_task == 24 and c.sampling.temperature == 0.95
    assert c.learner.lr == 5e-5 and c.learner.batch_size == 512
    assert (c.learner.policy_experiences, c.learner.mutation_experiences) == (90_000, 10_000)
    assert c.meta_iterations == 100 and c.max_search_tasks == 0
    assert c.policy.model == "Salesforce/codet5p-220m"
    assert make_config("paper-scratch").policy.architecture.num_layers == 12


def test_architecture_override_is_validated():
    c = make_config("tiny", {"policy": {"architecture": {"hidden_size": 96, "num_heads": 3}}})
    assert (c.policy.architecture.hidden_size, c.policy.architecture.num_heads) == (96, 3)
    with pytest.raises(ValueError, match="not a multiple of num_heads"):
        make_config("tiny", {"policy": {"architecture": {"hidden_size": 100, "num_heads": 3}}})


def test_yaml_round_trip_and_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("preset: paper\nmeta_iterations: 3\nsampling:\n  temperature: 1\nablation:\n  one_demo: true\n")
    c = load_config(path)
    assert c.meta_iterations == 3 and c.sampling.temperature == 1.0 and c.ablation.one_demo
    assert c.learner.batch_size == 512
    save_config(c, tmp_path / "saved.yaml")
    assert load_config(tmp_path / "saved.yaml") == c


@pytest.mark.parametrize(
    "text, fault",
    [
        ("meta_iteratons: 3\n", "unknown setting 'meta_iteratons'"),
        ("sampling: 3\n", "expected a mapping"),
        ("meta_iterations: three\n", "expected int"),
        ("preset: huge\n", "unknown preset 'huge'"),
        ("[1, 2\n", "not valid YAML"),
    ],
)
def test_bad_config_names_the_file_and_setting(tmp_path, text, fault):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=fault) as info:
        load_config(path)
    assert "bad.yaml" in str(info.value)


def test_reports_are_written(tmp_path):
    for k in range(2):
        append_metrics(tmp_path, {"iteration": k, "programs_sampled_total": 10 * (k + 1), "solved_cumulative": k, "solved_policy": k})
    metrics = read_metrics(tmp_path)
    assert [m["iteration"] for m in metrics] == [0, 1]
    png = plot_learning_curve(tmp_path, metrics)
    assert png is not None and png.read_bytes()[:4] == b"\x89PNG"
    grid = np.array([[1, 2]], dtype=np.uint8)
    task = Task("abc", (Pair(grid, grid),), (Pair(grid, grid),))
    selected = {"abc": [Candidate("abc", "O = identity(I)", 1.0, True, 1, (grid,))]}
    assert "identity" in write_solutions(tmp_path, selected).read_text()
    page = write_html(tmp_path, [task], selected, "run").read_text()
    assert "<h2>abc</h2>" in page and "O = identity(I)" in page and "1 solved task" in page
