from codeit.execute.reference import ReferenceExecutor
from codeit.search.step import search_step
from codeit.tasks import load_tasks


def test_search_step_counts_parses_runs_and_relabels():
    training = load_tasks("arc1/training")
    hmirror_task, vmirror_task = training["68b16354"], training["67a3c6ac"]
    samples = [
        ["O = hmirror(I)", "O  =  hmirror( I )", "O = vmirror(I)", "not a program", "O = nosuch(I)"],
        ["O = vmirror(I)", "x1 = tophalf(I)\nO = vmirror(x1)"],
    ]
    seen = {}
    r = search_step([hmirror_task, vmirror_task], samples, ReferenceExecutor(), iteration=2, seen_hashes=seen)
    s = r.stats
    assert (s.sampled, s.parsed) == (7, 5)
    # hmirror twice (one program, run once) and vmirror on task 1; two programs on task 2.
    assert s.runs == 2 * len(hmirror_task.pairs) + 2 * len(vmirror_task.pairs)
    assert s.valid == 4
    # Per sample: hmirror 1, hmirror 1, vmirror 0 on task 1; vmirror 1, tophalf+vmirror 0 on task 2.
    assert abs(s.mean_demo_accuracy - 3 / 5) < 1e-6
    assert {(e.task_id, e.program) for e in r.experiences} >= {("68b16354", "O = hmirror(I)\n")}
    assert all(e.iteration == 2 and e.origin == "policy" for e in r.experiences)
    solved = {c.task_id for c in r.candidates if c.test_correct}
    assert solved == {"68b16354", "67a3c6ac"}
    again = search_step([hmirror_task], [["O = hmirror(I)"]], ReferenceExecutor(), seen_hashes=seen)
    assert again.experiences == [] and again.candidates


def test_relabeled_tasks_reproduce_from_their_program():
    from codeit.dsl.interpreter import run
    from codeit.dsl.program import parse

    import numpy as np

    task = load_tasks("arc1/training")["0d3d703e"]
    programs = ["O = vmirror(I)", "O = rot90(I)", "x1 = switch(I, ONE, FIVE)\nO = switch(x1, TWO, SIX)",
                "x1 = replace(I, THREE, FOUR)\nO = hmirror(x1)"]
    r = search_step([task], [programs], ReferenceExecutor())
    assert len(r.experiences) == 4
    for e in r.experiences:
        program = parse(e.program)
        for grid_in, grid_out in zip(e.inputs, e.outputs):
            assert np.array_equal(np.array(run(program, grid_in).output), grid_out)
        assert e.priority == e.demo_accuracy
