import json

import numpy as np

from codeit.search.baseline import report_points, run_baseline
from codeit.dsl.interpreter import run
from codeit.dsl.program import parse
from codeit.execute.reference import ReferenceExecutor
from codeit.tasks import load_tasks


class Seed:
    def __init__(self, task_id, text):
        self.task_id, self.program = task_id, parse(text)


SEEDS = [Seed("67a3c6ac", "O = vmirror(I)"), Seed("68b16354", "O = hmirror(I)"), Seed("6150a2bd", "O = rot180(I)")]


def test_report_points_double_from_9600():
    assert report_points(19_200) == [9_600, 19_200]
    assert report_points(50_000) == [9_600, 19_200, 38_400, 50_000]
    assert report_points(100) == [100]


def test_baseline_solves_what_a_mutant_solves_and_resumes(tmp_path):
    training = {t.id: t for t in load_tasks("arc1/training")}
    # Search tasks whose answers are plain mirrors/rotations: mutants of the seeds solve some.
    search = [training[t] for t in ("68b16354", "3c9b0459", "74dd1130")]
    executor = ReferenceExecutor()
    first = run_baseline(SEEDS, training, search, 8, tmp_path, executor, chunk=4, seed=3)
    assert first.mutants == 8
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["evaluated"] == 8
    resumed = run_baseline(SEEDS, training, search, 16, tmp_path, executor, chunk=4, seed=3)
    assert resumed.mutants == 16
    lines = (tmp_path / "mutants.jsonl").read_text().splitlines()
    texts = [json.loads(line)["program"] for line in lines]
    assert len(texts) == 16 == len(set(texts))
    assert set(first.solved) <= set(resumed.solved)
    assert resumed.solved, "a rotation mutant should solve 3c9b0459"
    csv_rows = (tmp_path / "solved.csv").read_text().splitlines()
    assert csv_rows[0] == "mutants,tasks_solved,seconds" and csv_rows[-1].startswith("16,")
    # Every solved task has a selected candidate that really gets its tests right.
    final = json.loads((tmp_path / "state.json").read_text())
    for task_id in resumed.solved:
        right = [c for c in final["candidates"] if c["task_id"] == task_id and c["test_correct"]]
        assert right
        program = parse(right[0]["program"])
        for pair in training[task_id].test:
            assert np.array_equal(np.array(run(program, pair.input).output), pair.output)
