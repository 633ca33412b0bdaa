import json

import numpy as np
import pytest

from codeit.tasks import TaskError, load_file, load_folder, load_task, load_tasks


def test_public_sets_load_as_uint8():
    for spec, n in [("arc1/training", 400), ("arc1/evaluation", 400), ("arc1-corrected/evaluation", 400)]:
        tasks = load_tasks(spec)
        assert len(tasks) == n
        grid = tasks.tasks[0].train[0].input
        assert grid.dtype == np.uint8 and grid.ndim == 2
    assert len(load_tasks("arc2/training")) == 1000
    assert len(load_tasks("arc2/evaluation")) == 120


def test_load_task_by_id_finds_training_and_evaluation():
    assert load_task("007bbfb7").train[0].input.shape == (3, 3)
    evaluation_id = load_tasks("arc1/evaluation").ids[0]
    assert load_task(evaluation_id).id == evaluation_id
    with pytest.raises(KeyError, match="nope"):
        load_task("nope")


def _write(path, obj):
    path.write_text(json.dumps(obj))
    return path


GOOD = {"train": [{"input": [[1, 2], [3, 4]], "output": [[4, 3], [2, 1]]}], "test": [{"input": [[0]], "output": [[0]]}]}


@pytest.mark.parametrize(
    "task, fault",
    [
        ({"test": GOOD["test"]}, "missing 'train'"),
        ({"train": GOOD["train"]}, "missing 'test'"),
        ({"train": [{"input": [[1, 2], [3]], "output": [[1]]}], "test": GOOD["test"]}, "ragged grid"),
        ({"train": [{"input": [[1, 12]], "output": [[1]]}], "test": GOOD["test"]}, "colour 12, outside 0-9"),
        ({"train": [{"input": [[1] * 31], "output": [[1]]}], "test": GOOD["test"]}, "a side is over 30"),
        ({"train": [{"input": [[1]]}], "test": GOOD["test"]}, "train\\[0\\] has no 'output'"),
        ({"train": [{"input": [["a"]], "output": [[1]]}], "test": GOOD["test"]}, "not an integer colour"),
    ],
)
def test_bad_task_names_file_task_and_fault(tmp_path, task, fault):
    path = _write(tmp_path / "abc123.json", task)
    with pytest.raises(TaskError, match=fault) as info:
        load_file(path)
    assert "abc123.json" in str(info.value) and "task abc123" in str(info.value)


def test_not_json_names_file_and_position(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"train": [')
    with pytest.raises(TaskError, match=r"broken.json: not JSON: .* line 1"):
        load_file(path)


def test_folder_with_one_bad_file_skips_and_reports(tmp_path):
    _write(tmp_path / "good1.json", GOOD)
    _write(tmp_path / "good2.json", GOOD)
    (tmp_path / "bad.json").write_text("not json")
    with pytest.raises(TaskError, match="bad.json"):
        load_folder(tmp_path)
    tasks = load_tasks(str(tmp_path), skip_bad=True)
    assert tasks.ids == ["good1", "good2"]
    assert len(tasks.errors) == 1 and "bad.json" in str(tasks.errors[0])


def test_collection_file_and_unknown_spec(tmp_path):
    path = _write(tmp_path / "many.json", {"t1": GOOD, "t2": GOOD})
    assert load_tasks(str(path)).ids == ["t1", "t2"]
    with pytest.raises(ValueError, match="neither a task set"):
        load_tasks("arc9/training")
    with pytest.raises(ValueError, match="unknown split"):
        load_tasks("arc1/validation")
