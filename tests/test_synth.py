"""Tasks generated from the DSL (codeit.synth): valid, non-trivial, deterministic, disjoint from
the held-out set, reachable as synth/NAME by every command, and written by `codeit synth`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from codeit import synth
from codeit.cli import main as cli_main
from codeit.dsl.interpreter import run as reference_run
from codeit.dsl.program import parse, print_program
from codeit.execute.backends import make_executor
from codeit.execute.executor import cross_jobs
from codeit.tasks import load_tasks

SMALL = synth.SynthConfig(n_tasks=16, seed=11, batch_size=512)


@pytest.fixture(scope="module")
def sources():
    return load_tasks("arc1/training").tasks


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("codeit-cache")


@pytest.fixture(scope="module")
def small(sources) -> synth.SynthResult:
    return synth.generate(SMALL, sources, workers=1)


@pytest.fixture(scope="module")
def heldout(cache) -> list[synth.SynthTask]:
    return synth.read_set(synth.ensure_set("heldout", load_tasks, cache=cache))


@pytest.fixture(scope="module")
def corpus(cache) -> synth.SynthResult:
    return synth.generate_corpus(synth.SynthConfig(n_tasks=16, seed=5, batch_size=512), load_tasks, cache=cache,
                                 workers=1)


@pytest.fixture
def isolated_cache(cache, monkeypatch) -> Path:
    monkeypatch.setenv("CODEIT_CACHE", str(cache))
    return cache


def test_generates_the_tasks_asked_for_half_mutants(small):
    assert len(small.tasks) == 16
    assert sorted(t.origin for t in small.tasks).count("mutant") == 8
    assert small.stats.kept == 16 and small.stats.candidates >= small.stats.run >= 16
    assert "kept 16 tasks" in small.stats.summary()


def test_programs_have_2_to_6_lines_and_parse(small, heldout, corpus):
    for task in [*small.tasks, *heldout, *corpus.tasks]:
        program = parse(task.program)
        assert 2 <= len(program.lines) <= 6, task.program
        assert print_program(program) == task.program  # canonical text
        assert not any(line.func.kind == "prim" and line.func.value == "identity" for line in program.lines)


def test_every_task_is_non_trivial(small, heldout, corpus):
    for task in [*small.tasks, *heldout, *corpus.tasks]:
        assert task.n_train >= 1 and len(task.outputs) > task.n_train
        for grid in task.outputs:
            assert grid.ndim == 2 and 1 <= min(grid.shape) and max(grid.shape) <= 30
            assert len(np.unique(grid)) > 1, f"{task.id}: a single-colour output"
        train = list(zip(task.inputs[: task.n_train], task.outputs[: task.n_train]))
        assert not all(i.shape == o.shape and (i == o).all() for i, o in train), f"{task.id}: identity"
        first = task.outputs[0]
        assert not all(o.shape == first.shape and (o == first).all() for o in task.outputs[: task.n_train]), \
            f"{task.id}: constant output"


def test_no_task_is_one_primitive_call_in_disguise(small):
    executor = make_executor("native", limits=synth.SYNTH_LIMITS)
    programs = synth.one_call_programs()
    texts = {print_program(p) for p in programs}
    assert "O = rot180(I)\n" in texts and "O = vconcat(I, I)\n" in texts and "O = replace(I, ONE, TWO)\n" in texts
    for task in small.tasks:
        result = executor.run(programs, list(task.inputs), cross_jobs(len(programs), range(len(task.inputs))))
        n = len(task.inputs)
        for p in range(len(programs)):
            rows = range(p * n, (p + 1) * n)
            same = all(result.status[k] == 0 and np.array_equal(result.outputs.grid(k), task.outputs[j])
                       for j, k in enumerate(rows))
            assert not same, f"{task.id} is {print_program(programs[p])}"


def test_the_reference_interpreter_reproduces_every_output(small, heldout):
    for task in [*small.tasks, *heldout[:16]]:
        program = parse(task.program)
        for grid_in, grid_out in zip(task.inputs, task.outputs):
            result = reference_run(program, grid_in, max_steps=synth.SYNTH_LIMITS.max_steps, time_limit=10.0,
                                   max_value_size=synth.SYNTH_LIMITS.max_value_size)
            assert result.ok, f"{task.id}: {result.status.name} {result.error}"
            assert np.array_equal(np.array(result.output, dtype=np.uint8), grid_out), task.id


def test_tasks_run_on_the_inputs_of_one_arc_task(small, sources):
    by_id = {t.id: t for t in sources}
    for task in small.tasks:
        source = by_id[task.source]
        assert task.n_train == len(source.train) and len(task.inputs) == len(source.pairs)
        for mine, theirs in zip(task.inputs, source.pairs):
            assert np.array_equal(mine, theirs.input)


def test_programs_and_outputs_are_deduplicated(small, heldout):
    for tasks in (small.tasks, heldout):
        assert len({t.program for t in tasks}) == len(tasks)
        assert len({t.output_hash for t in tasks}) == len(tasks)
        assert len({t.id for t in tasks}) == len(tasks)


def test_same_seed_gives_byte_identical_task_files(small, sources, tmp_path):
    again = synth.generate(SMALL, sources, workers=1)
    assert [t.dumps() for t in again.tasks] == [t.dumps() for t in small.tasks]
    a = synth.write_set(tmp_path / "a", small.tasks, synth.manifest_of(small))
    b = synth.write_set(tmp_path / "b", again.tasks, synth.manifest_of(again))
    names = sorted(p.name for p in a.glob("*.json"))
    assert names == sorted(p.name for p in b.glob("*.json")) and len(names) == 16
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes()
    other = synth.generate(synth.SynthConfig(n_tasks=16, seed=12, batch_size=512), sources, workers=1)
    assert {t.program for t in other.tasks} != {t.program for t in small.tasks}


def test_files_read_back_as_arc_tasks_with_their_program(small, tmp_path):
    folder = synth.write_set(tmp_path / "set", small.tasks, synth.manifest_of(small, name="x"))
    loaded = load_tasks(str(folder))
    assert sorted(loaded.ids) == sorted(t.id for t in small.tasks)
    for task in small.tasks:
        data = json.loads((folder / f"{task.id}.json").read_text())
        assert set(data) >= {"train", "test", "program"} and data["program"] == task.program
        arc = loaded[task.id]
        assert len(arc.train) == task.n_train
        for pair, grid_in, grid_out in zip(arc.pairs, task.inputs, task.outputs):
            assert np.array_equal(pair.input, grid_in) and np.array_equal(pair.output, grid_out)
    back = synth.read_set(folder)
    assert [t.dumps() for t in back] == [t.dumps() for t in small.tasks]
    assert [t.output_hash for t in back] == [t.output_hash for t in small.tasks]


def test_the_corpus_is_disjoint_from_the_heldout_set(heldout, corpus):
    assert len(heldout) == 64 and len(corpus.tasks) == 16
    assert not {t.program for t in heldout} & {t.program for t in corpus.tasks}
    assert not {t.output_hash for t in heldout} & {t.output_hash for t in corpus.tasks}
    # ... and no corpus program solves a held-out task (another text for the same behaviour).
    executor = make_executor("native", limits=synth.SYNTH_LIMITS)
    programs = [parse(t.program) for t in corpus.tasks]
    for task in heldout:
        n = len(task.inputs)
        result = executor.run(programs, list(task.inputs), cross_jobs(len(programs), range(n)))
        for p in range(len(programs)):
            assert not all(result.status[p * n + j] == 0 and np.array_equal(result.outputs.grid(p * n + j), out)
                           for j, out in enumerate(task.outputs)), f"corpus program solves {task.id}"


def test_an_exclusion_removes_the_tasks_a_config_would_give(small, sources):
    # The same config again, with its own tasks excluded: none of them may come back.
    again = synth.generate(SMALL, sources, exclusion=synth.Exclusion.of(small.tasks), workers=1)
    assert len(again.tasks) == 16
    assert not {t.program for t in again.tasks} & {t.program for t in small.tasks}
    assert not {t.output_hash for t in again.tasks} & {t.output_hash for t in small.tasks}
    assert again.stats.rejected["excluded_program"] > 0


def test_heldout_resolves_through_load_tasks_and_is_cached(isolated_cache, heldout, monkeypatch):
    tasks = load_tasks("synth/heldout")
    assert len(tasks) == 64 and tasks.name == "synth/heldout"
    assert sorted(tasks.ids) == sorted(t.id for t in heldout)
    folder = synth.set_folder("heldout")
    assert folder.parent.parent == isolated_cache and (folder / synth.MANIFEST).is_file()

    def no_generation(*args, **kwargs):
        raise AssertionError("a cached set was generated again")

    monkeypatch.setattr(synth, "generate", no_generation)
    assert load_tasks("synth/heldout").ids == tasks.ids


def test_a_stale_cached_set_is_regenerated(tmp_path, monkeypatch):
    monkeypatch.setitem(synth.NAMED_SETS, "tiny", synth.NamedSet(synth.SynthConfig(n_tasks=4, seed=3, batch_size=256)))
    folder = synth.ensure_set("tiny", load_tasks, cache=tmp_path)
    first = sorted(p.read_bytes() for p in folder.glob("*.json"))
    manifest = synth.read_manifest(folder)
    manifest["key"] = "something else"
    (folder / synth.MANIFEST).write_text(json.dumps(manifest))
    folder = synth.ensure_set("tiny", load_tasks, cache=tmp_path)
    assert synth.read_manifest(folder)["key"] != "something else"
    assert sorted(p.read_bytes() for p in folder.glob("*.json")) == first
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no temporary folders left


def test_an_unknown_set_name_says_how_to_make_it(isolated_cache):
    with pytest.raises(ValueError, match="codeit synth --name nosuchset"):
        load_tasks("synth/nosuchset")


def test_config_is_checked():
    with pytest.raises(ValueError):
        synth.SynthConfig(min_lines=1)
    with pytest.raises(ValueError):
        synth.SynthConfig(mutant_share=1.5)
    config = synth.SynthConfig(n_tasks=5, seed=2)
    assert synth.SynthConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_the_synth_command_writes_tasks_and_a_named_set(isolated_cache, heldout, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli_main(["synth", "--n", "6", "--seed", "3", "--out", str(out), "--name", "mine"]) == 0
    printed = capsys.readouterr().out
    assert "kept 6 tasks" in printed and "candidates" in printed and "rejected:" in printed
    files = sorted(out.glob("*.json"))
    assert len(files) == 6
    data = json.loads(files[0].read_text())
    assert data["train"] and data["test"] and parse(data["program"])
    assert sorted(load_tasks("synth/mine").ids) == sorted(p.stem for p in files)
    # the same options again: the same bytes (the old files are replaced, nothing else is left)
    before = {p.name: p.read_bytes() for p in files}
    assert cli_main(["synth", "--n", "6", "--seed", "3", "--out", str(out)]) == 0
    assert {p.name: p.read_bytes() for p in out.glob("*.json")} == before
    # it excluded the held-out set
    assert not {json.loads(b)["program"] for b in before.values()} & {t.program for t in heldout}


def test_the_synth_command_refuses_to_change_a_registered_set(isolated_cache, capsys):
    assert cli_main(["synth", "--name", "heldout", "--n", "10"]) == 2
    assert "fixed config" in capsys.readouterr().err
    assert cli_main(["synth"]) == 2


def test_exec_finds_a_heldout_task(isolated_cache, heldout, capsys):
    task = heldout[0]
    assert cli_main(["exec", task.program, "--tasks", "synth/heldout", "--task", task.id, "--color", "never"]) == 0
    assert "(solved)" in capsys.readouterr().out


def test_chained_generation_leaves_fewer_dead_lines_and_keeps_the_default():
    from codeit.dsl.generate import GeneratorConfig, random_program
    from codeit.search.mutate import prune

    assert GeneratorConfig().p_chain == 0.0
    rng = np.random.default_rng(0)
    free = [random_program(rng, GeneratorConfig(min_lines=3, max_lines=3)) for _ in range(200)]
    rng = np.random.default_rng(0)
    chained = [random_program(rng, GeneratorConfig(min_lines=3, max_lines=3, p_chain=1.0)) for _ in range(200)]
    def live(programs) -> int:
        return sum(len(prune(p).lines) == 3 for p in programs)

    assert live(chained) > 2 * live(free)


@pytest.mark.slow
def test_worker_processes_give_the_same_tasks(sources):
    config = synth.SynthConfig(n_tasks=48, seed=4, batch_size=256)
    here = synth.generate(config, sources, workers=1)
    there = synth.generate(config, sources, workers=2)
    assert [t.dumps() for t in there.tasks] == [t.dumps() for t in here.tasks]
