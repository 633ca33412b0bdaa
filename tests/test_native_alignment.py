"""Native versus reference on whole programs over real ARC inputs: every seed program on its
task's inputs, seeded samples of generated programs and of mutated seeds. Outputs, statuses,
step counts and failing lines must agree (TIMEOUTs aside); known reference behaviours that
follow CPython's set order (codeit.execute.align) are set aside, and there must be few."""

import numpy as np
import pytest

from codeit.dsl.generate import GeneratorConfig, random_program

from codeit.execute.limits import Limits
from codeit.execute import native  # a broken build must fail here, never skip

from codeit.execute.align import align  # noqa: E402

LIMITS = Limits(time_limit=2.0)


@pytest.fixture(scope="module")
def training():
    from codeit.tasks import load_tasks

    return load_tasks("arc1/training")


@pytest.fixture(scope="module")
def seeds():
    from codeit.seeds import load_seeds

    return load_seeds()


@pytest.fixture(scope="module")
def interpreter():
    return native.NativeInterpreter(threads=2, limits=LIMITS)


def _assert_aligned(result, programs, max_known=0):
    detail = "\n".join(m.describe(programs) for m in result.mismatches[:3])
    assert not result.mismatches, f"{len(result.mismatches)} mismatches; first:\n{detail}"
    assert len(result.known) <= max_known


def test_every_seed_program_matches_on_its_task(training, seeds, interpreter):
    assert seeds, "no seed programs found"
    programs, grids, jobs = [], [], []
    for seed in seeds:
        task = training[seed.task_id]
        for pair in task.pairs:
            jobs.append((len(programs), len(grids)))
            grids.append(pair.input)
        programs.append(seed.program)
    result = align(programs, grids, np.array(jobs), limits=LIMITS, interpreter=interpreter)
    _assert_aligned(result, programs)
    # The seeds solve their tasks, so nearly every run is OK: the comparison is of real outputs.
    assert np.mean(result.native.status == 0) > 0.95


@pytest.mark.parametrize("seed, max_lines", [(11, 8), (12, 16)])
def test_generated_programs_match_on_training_inputs(training, interpreter, seed, max_lines):
    rng = np.random.default_rng(seed)
    grids = [t.train[0].input for t in training]
    config = GeneratorConfig(max_lines=max_lines, p_call_variable=0.3)
    programs = [random_program(rng, config) for _ in range(1500)]
    jobs = np.array([(k, int(rng.integers(len(grids)))) for k in range(len(programs))])
    result = align(programs, grids, jobs, limits=LIMITS, interpreter=interpreter)
    _assert_aligned(result, programs, max_known=2)
    statuses = set(result.native.status.tolist())
    assert {0, 4, 5, 6} <= statuses  # OK, TYPE_ERROR, RUNTIME_ERROR and BAD_OUTPUT all occur


def test_mutated_seeds_match_on_their_task_inputs(training, seeds, interpreter):
    from codeit.search.mutate import mutate

    rng = np.random.default_rng(13)
    programs, grids, jobs, where = [], [], [], {}
    while len(programs) < 1200:
        seed = seeds[int(rng.integers(len(seeds)))]
        program = seed.program
        for _ in range(int(rng.integers(1, 4))):
            program = mutate(program, rng) or program
        for k, pair in enumerate(training[seed.task_id].train[:2]):
            if (seed.task_id, k) not in where:
                where[(seed.task_id, k)] = len(grids)
                grids.append(pair.input)
            jobs.append((len(programs), where[(seed.task_id, k)]))
        programs.append(program)
    result = align(programs, grids, np.array(jobs), limits=LIMITS, interpreter=interpreter)
    _assert_aligned(result, programs, max_known=3)
    assert np.mean(result.native.status == 0) > 0.1


def test_indices_of_an_empty_grid_match(interpreter):
    # tophalf of a one-row grid is the empty grid; arc-dsl's asindices gives it no indices.
    from codeit.dsl.program import parse

    programs = [parse("x1 = tophalf(I)\nx2 = asindices(x1)\nO = fill(I, ONE, x2)\n"),
                parse("x1 = tophalf(I)\nx2 = asindices(x1)\nx3 = size(x2)\nx4 = increment(x3)\nO = canvas(x4, UNITY)\n")]
    grids = [np.array([[3, 4, 5]], dtype=np.uint8), np.array([[7]], dtype=np.uint8)]
    result = align(programs, grids, limits=LIMITS, interpreter=interpreter)
    _assert_aligned(result, programs)
    assert result.native.status.tolist() == [0, 0, 0, 0]
    assert [r.output for r in result.reference] == [((3, 4, 5),), ((7,),), ((1,),), ((1,),)]
