import numpy as np
import pytest

from codeit.dsl.interpreter import run
from codeit.dsl.program import check, parse, print_program
from codeit.execute.reference import ReferenceExecutor
from codeit.search.mutate import MutationConfig, grow_mutants, insert_line, mutate, prune
from codeit.tasks import load_tasks

SEEDS = {
    # Our own small programs for three ARC-AGI-1 training tasks.
    "67a3c6ac": "O = vmirror(I)",
    "68b16354": "O = hmirror(I)",
    "9172f3a0": "O = upscale(I, THREE)",
    "6150a2bd": "O = rot180(I)",
    "3c9b0459": "x1 = rot90(I)\nO = rot90(x1)",
}


class S:
    def __init__(self, task_id, text):
        self.task_id, self.program = task_id, parse(text)


@pytest.fixture(scope="module")
def training():
    return {t.id: t for t in load_tasks("arc1/training")}


def test_every_kept_mutant_is_valid(training):
    seeds = [S(k, v) for k, v in SEEDS.items()]
    mutants, stats = grow_mutants(seeds, training, 40, ReferenceExecutor(), np.random.default_rng(1), batch_size=64)
    assert len(mutants) == 40 and stats.kept >= 40 and stats.run >= 40
    texts = [m.text for m in mutants]
    assert len(set(texts)) == len(texts)
    for m in mutants:
        check(m.program)
        assert m.text not in {print_program(parse(v)) for v in SEEDS.values()}
        task = training[m.task_id]
        outputs = [run(m.program, pair.input) for pair in task.pairs]
        assert all(r.ok for r in outputs), m.text
        assert not all(np.array_equal(np.array(r.output), p.input) for r, p in zip(outputs, task.pairs)), m.text


def test_mutants_are_well_typed_and_differ():
    rng = np.random.default_rng(0)
    program = parse("x1 = objects(I, T, F, T)\nx2 = argmax(x1, size)\nx3 = subgrid(x2, I)\nO = hmirror(x3)")
    for _ in range(200):
        m = mutate(program, rng)
        assert m is not None and m != program
        check(m)


def test_operator_probabilities_are_settings():
    with pytest.raises(ValueError, match="sum to 1"):
        MutationConfig(p_replace_argument=0.9)
    only_function = MutationConfig(p_replace_argument=0.0, p_replace_function=1.0, p_regenerate_line=0.0)
    program = parse("x1 = vmirror(I)\nO = hmirror(x1)")
    rng = np.random.default_rng(3)
    for _ in range(50):
        m = mutate(program, rng, only_function)
        # Only a callee changed: same lines, same arguments, exactly one different function.
        assert [line.args for line in m.lines] == [line.args for line in program.lines]
        assert sum(a.func != b.func for a, b in zip(m.lines, program.lines)) == 1


def test_prune_and_insert_renumber_refs():
    program = parse("x1 = vmirror(I)\nx2 = rot90(I)\nO = hmirror(x1)")
    assert print_program(prune(program)) == "x1 = vmirror(I)\nO = hmirror(x1)\n"
    inserted = insert_line(parse("x1 = vmirror(I)\nO = hmirror(x1)"), 1, parse("O = rot90(I)").lines[0])
    assert print_program(inserted) == "x1 = vmirror(I)\nx2 = rot90(I)\nO = hmirror(x1)\n"
