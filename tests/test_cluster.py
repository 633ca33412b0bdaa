"""The Ray backend against the local one, on a local two-CPU Ray cluster started here.

Execution: seed programs on their own training tasks and generated programs on real ARC inputs,
run by ``RayExecutor`` and by ``NativeExecutor``, must agree job for job, whether collected with
``run``, streamed with ``submit``, or rerun after an actor is killed mid-call; what the actors keep
(programs and grids by content, compiled program lists, call contexts) is sent once, sent again to a
replacement actor, and renewed past its limits. ``codeit mutate --executor ray`` finds what the local
run finds, and its sharded scoring survives a dead actor; ``codeit eval`` on the actors scores what
the local shared scorer does. Sampling: a
``SamplerPool`` over stand-in samplers keeps task order, reaches every replica with new weights,
ships checkpoints a replica cannot see, and survives a replica's death.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

import pytest

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow  # a local Ray cluster per module

from codeit.cluster import ClusterError  # noqa: E402
from codeit.execute.ray import RayExecutor, RayExecutorConfig  # noqa: E402
from codeit.policy.ray_pool import SamplerPool, SamplerPoolConfig, SamplerReplica, read_folder  # noqa: E402
from codeit.dsl.generate import random_program  # noqa: E402
from codeit.dsl.program import parse, print_program  # noqa: E402
from codeit.execute.native import NativeExecutor  # noqa: E402
from codeit.execute.limits import Limits  # noqa: E402
from codeit.seeds import load_seeds  # noqa: E402
from codeit.tasks import load_tasks  # noqa: E402

# The step budget, not the clock, must end long runs here: a job that timed out on one backend
# and not on the other would be a difference of load, not of behaviour.
LIMITS = Limits(time_limit=30.0, max_steps=20_000, max_value_size=200_000)


@pytest.fixture(scope="module")
def cluster():
    # Stand-in samplers live in this module; workers cannot import it by name, so ship it by value.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def corpus():
    """(programs, grids, jobs): 60 seeds on their tasks' inputs, 50 generated programs on 8 inputs, shuffled."""
    training = load_tasks("arc1/training")
    by_id = {t.id: t for t in training}
    programs, grids, jobs = [], [], []
    for seed in [s for s in load_seeds() if s.task_id in by_id][:60]:
        first = len(grids)
        grids.extend(p.input for p in by_id[seed.task_id].pairs)
        jobs.extend((len(programs), g) for g in range(first, len(grids)))
        programs.append(seed.program)
    rng = np.random.default_rng(7)
    shared = len(grids)
    grids.extend(p.input for t in list(training)[:4] for p in t.train[:2])
    for _ in range(50):
        jobs.extend((len(programs), g) for g in range(shared, len(grids)))
        programs.append(random_program(rng))
    jobs = np.array(jobs, dtype=np.int64)[rng.permutation(len(jobs))]
    return programs, grids, jobs


@pytest.fixture(scope="module")
def local_result(corpus):
    return NativeExecutor(limits=LIMITS, threads=1).run(*corpus)


def assert_same(result, expected, rows=slice(None)):
    np.testing.assert_array_equal(result.status, expected.status[rows])
    np.testing.assert_array_equal(result.steps, expected.steps[rows])
    np.testing.assert_array_equal(result.outputs.shapes, expected.outputs.shapes[rows])
    np.testing.assert_array_equal(result.outputs.data, expected.outputs.data[rows])


def test_corpus_is_mixed(corpus, local_result):
    statuses = set(np.unique(local_result.status).tolist())
    assert len(corpus[2]) >= 500
    assert 0 in statuses and len(statuses) >= 3


def test_run_matches_local_backend(cluster, corpus, local_result):
    with RayExecutor(LIMITS, RayExecutorConfig(actors=2, batch_size=64)) as executor:
        result = executor.run(*corpus)
    assert_same(result, local_result)


def test_stream_delivers_every_batch_once(cluster, corpus, local_result):
    programs, grids, jobs = corpus
    with RayExecutor(LIMITS, RayExecutorConfig(actors=2, batch_size=50)) as executor:
        stream = executor.submit(programs, grids, jobs, collect=False)
        covered = np.zeros(len(jobs), dtype=np.int64)
        seen = []
        for batch in stream:
            seen.append(batch.batch_id)
            covered[batch.start : batch.stop] += 1
            assert_same(batch, local_result, slice(batch.start, batch.stop))
        with pytest.raises(ClusterError, match="collect=False"):
            stream.result()
    assert sorted(seen) == list(range(len(stream))) and len(stream) == -(-len(jobs) // 50)
    assert (covered == 1).all()


def test_killed_actor_work_is_retried_once(cluster, corpus, local_result):
    programs, grids, jobs = corpus
    with RayExecutor(LIMITS, RayExecutorConfig(actors=2, batch_size=20)) as executor:
        stream = executor.submit(programs, grids, jobs)
        first = next(stream)
        covered = np.zeros(len(jobs), dtype=np.int64)
        covered[first.start : first.stop] += 1
        # The actor that just finished has a free slot, so the next dispatch sends it work after it died.
        ray.kill(executor.handle(first.actor))
        retried = []
        for batch in stream:
            covered[batch.start : batch.stop] += 1
            if batch.attempts > 1:
                retried.append(batch.batch_id)
        result = stream.result()
        assert len(executor.live_actors()) == 2 and first.actor not in {a.serial for a in executor.live_actors()}
    assert stream.retries >= 1 and retried
    assert (covered == 1).all()
    assert_same(result, local_result)


def test_bad_jobs_are_named(cluster, corpus):
    programs, grids, _ = corpus
    with RayExecutor(LIMITS, RayExecutorConfig(actors=1)) as executor:
        with pytest.raises(IndexError, match="job 1 "):
            executor.submit(programs, grids, np.array([[0, 0], [len(programs), 0]]))
        empty = executor.run(programs, grids, np.zeros((0, 2), dtype=np.int64))
    assert len(empty.status) == 0


# --- what stays on the actors ------------------------------------------------------------------------

def kill(handle, ping=lambda handle: handle.ready.remote()) -> None:
    """Kill an actor and wait until ``ping`` gets no answer (the kill lands asynchronously: a call
    sent at once may still be answered)."""
    ray.kill(handle)
    deadline = time.time() + 60
    while True:
        try:
            ray.get(ping(handle), timeout=60)
        except ray.exceptions.RayActorError:
            return
        assert time.time() < deadline, "the killed actor still answers"
        time.sleep(0.05)


def resident(executor):
    """Per live actor: (epoch, programs resident, grids resident, programs compiled so far)."""
    return [ray.get(a.resident.remote()) for a in executor.actors]


def test_repeated_call_ships_and_compiles_nothing_new(cluster, corpus, local_result):
    programs, grids, jobs = corpus
    with RayExecutor(LIMITS, RayExecutorConfig(actors=2, batch_size=64)) as executor:
        assert_same(executor.run(programs, grids, jobs), local_result)
        first = resident(executor)
        distinct_grids = len({(np.asarray(g).shape, np.asarray(g).tobytes()) for g in grids})
        distinct = len({print_program(p) for p in programs})  # a program drawn twice crosses once
        assert distinct < len(programs)
        assert [r[:3] for r in first] == [(0, distinct, distinct_grids)] * 2
        assert all(r[3] == len(programs) for r in first)  # each actor compiled the call's programs once
        deltas = len(executor._catalog.deltas)
        # The same programs as new objects, the grids as copies: found by content, nothing is sent or compiled.
        again = [parse(print_program(p)) for p in programs]
        assert_same(executor.run(again, [np.array(g) for g in grids], jobs), local_result)
        assert len(executor._catalog.deltas) == deltas
        assert resident(executor) == first
        # A call on a part of them, with one new program twice: only that program crosses, once.
        extra = random_program(np.random.default_rng(99))
        part = [programs[5], extra, programs[3], extra]
        part_jobs = np.array([[0, 0], [1, 1], [2, 2], [3, 1], [1, 3]])
        got = executor.run(part, grids, part_jobs)
        want = NativeExecutor(limits=LIMITS, threads=1).run(part, grids, part_jobs)
        assert_same(got, want)
        # One batch: only the actor that ran it was sent the new program (the other gets it with its next batch).
        assert sorted(r[1:3] for r in resident(executor)) == [(distinct, distinct_grids), (distinct + 1, distinct_grids)]
        assert len(executor._catalog.deltas) == deltas + 1


def test_dropped_contexts_are_sent_again(cluster, corpus, local_result):
    programs, grids, jobs = corpus
    with RayExecutor(LIMITS, RayExecutorConfig(actors=2, batch_size=100, inflight_per_actor=1)) as executor:
        streams = [executor.submit(programs, grids, jobs) for _ in range(20)]
        # Every stream sends its context with its first batches; 20 calls outnumber what an actor keeps (16).
        firsts = [next(s) for s in streams]
        results = [s.result() for s in streams]
    assert all(f.attempts == 1 for f in firsts)
    assert sum(s.resent_context for s in streams) >= 1
    for r in results:
        assert_same(r, local_result)


def test_catalogue_starts_afresh_past_its_limit(cluster, corpus, local_result):
    programs, grids, jobs = corpus
    config = RayExecutorConfig(actors=2, batch_size=8, inflight_per_actor=1, max_resident_programs=len(programs) + 10)
    with RayExecutor(LIMITS, config) as executor:
        assert_same(executor.run(programs, grids, jobs), local_result)
        fresh = [random_program(np.random.default_rng(1000 + k)) for k in range(20)]
        fresh_jobs = np.array([[k % 20, k % len(grids)] for k in range(40)])
        got = executor.run(fresh, grids, fresh_jobs)
        assert_same(got, NativeExecutor(limits=LIMITS, threads=1).run(fresh, grids, fresh_jobs))
        assert {r[0] for r in resident(executor)} == {1} and {r[1] for r in resident(executor)} == {20}
        # A stream of the old epoch that still had batches to send cannot run on the new one.
        stale = executor.submit(fresh, grids, fresh_jobs)
        executor.run(programs, grids, jobs)
        with pytest.raises(ClusterError, match="renewed"):
            stale.result()


def test_replacement_actor_is_sent_everything(cluster, corpus, local_result):
    programs, grids, jobs = corpus
    with RayExecutor(LIMITS, RayExecutorConfig(actors=2, batch_size=64)) as executor:
        executor.run(programs, grids, jobs)
        kill(executor._actors[0].handle)
        stream = executor.submit(programs, grids, jobs)
        result = stream.result()
        assert stream.retries >= 1
        assert_same(result, local_result)
        assert len(executor.live_actors()) == 2
        assert [r[:3] for r in resident(executor)] == [resident(executor)[1][:3]] * 2


# --- the mutation baseline on the actors ------------------------------------------------------------

def test_mutate_with_ray_executor_solves_what_the_local_run_solves(cluster, tmp_path):
    from codeit.cli import main

    common = ["mutate", "--mutants", "400", "--search-set", "arc1/training", "--max-tasks", "30", "--chunk", "200",
              "--time-limit", "30", "--max-steps", "20000"]
    assert main(common + ["--out", str(tmp_path / "local"), "--threads", "1"]) == 0
    assert main(common + ["--out", str(tmp_path / "ray"), "--executor", "ray"]) == 0
    local, remote = (json.loads((tmp_path / d / "state.json").read_text()) for d in ("local", "ray"))
    solved = [row["tasks"] for row in local["curve"]]
    assert solved == [row["tasks"] for row in remote["curve"]]
    assert solved[-1], "the small budget solves nothing: the comparison would be empty"
    assert local["counts"]["runs"] == remote["counts"]["runs"]
    assert local["candidates"] == remote["candidates"]
    summary = json.loads((tmp_path / "ray" / "summary.json").read_text())
    assert summary["executor"] == "ray" and summary["scoring"].startswith("shared")


def test_sharded_scoring_survives_a_dead_actor(cluster):
    from codeit.search.baseline import SearchSet, SharedScorer, _group_by_seed
    from codeit.search.mutate import grow_mutants

    training = load_tasks("arc1/training")
    by_id = {t.id: t for t in training}
    seeds = [s for s in load_seeds() if s.task_id in by_id][:40]
    search = SearchSet(list(training)[:12])
    local = NativeExecutor(limits=LIMITS, threads=1)
    mutants, _ = grow_mutants(seeds, by_id, 150, local, np.random.default_rng(3), with_outputs=False)
    groups = _group_by_seed(mutants)
    want = SharedScorer(LIMITS, 1).run(groups, search)
    with RayExecutor(LIMITS, RayExecutorConfig(actors=2)) as executor:
        scorer = executor.sharded_scorer()
        got = scorer.run(groups, search)
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)
        kill(executor._actors[0].handle)
        got = scorer.run(groups, search)
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)
        assert scorer.retries >= 1 and len(executor.live_actors()) == 2


# --- sampling --------------------------------------------------------------------------------------

@dataclass
class StandInSettings:
    n: int
    seed: int | None


class StandInSampler:
    """A sampler whose programs name the weights, task, seed and draw: what the pool must route right."""

    def __init__(self, config, policy_path, device):
        self.weights = Path(policy_path).joinpath("tag").read_text()
        self.sampling = StandInSettings(n=config["n"], seed=config["seed"])
        self.draws = 0

    def set_samples(self, n, seed=None):
        self.sampling = replace(self.sampling, n=n, seed=self.sampling.seed if seed is None else seed)

    def sample_tasks(self, tasks):
        self.draws += 1
        return [[f"{self.weights} {t.id} {self.sampling.seed} {self.draws} {k}" for k in range(self.sampling.n)]
                for t in tasks]

    def load_weights(self, path):
        self.weights = Path(path).joinpath("tag").read_text()

    def close(self):
        pass


def make_stand_in(config, policy_path, device):
    return StandInSampler(config, policy_path, device)


def checkpoint(folder: Path, tag: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tag").write_text(tag)
    return folder


# Stand-ins take no CPU, so three replicas fit next to anything else on the two-CPU cluster.
POOL = SamplerPoolConfig(replicas=3, cpus_per_replica=0)


@pytest.fixture(scope="module")
def tasks():
    return list(load_tasks("arc1/evaluation"))[:7]


@pytest.fixture(scope="module")
def pool(cluster, tmp_path_factory):
    # One pool for the sampling tests: starting replica processes is most of their cost.
    pool = SamplerPool({"n": 2, "seed": 5}, checkpoint(tmp_path_factory.mktemp("w") / "w0", "w0"), POOL,
                       make=make_stand_in)
    yield pool
    pool.close()


def test_pool_keeps_task_order_and_splits_tasks(pool, tasks):
    pool.set_samples(2, seed=5)
    out = pool.sample_tasks(tasks)
    assert [row[0].split()[1] for row in out] == [t.id for t in tasks]
    assert all(len(row) == 2 for row in out)
    seeds_used = {row[0].split()[2] for row in out}
    # Replica 0 keeps the seed given; the other two draw from their own streams.
    assert len(seeds_used) == 3 and "5" in seeds_used
    pool.set_samples(4, seed=11)
    out = pool.sample_tasks(tasks[:2])
    assert [len(row) for row in out] == [4, 4]
    assert out[0][0].split()[2] == "11"


def test_new_weights_reach_every_replica(pool, tasks, tmp_path):
    pool.load_weights(checkpoint(tmp_path / "w1", "w1"))
    assert {row[0].split()[0] for row in pool.sample_tasks(tasks)} == {"w1"}
    pool.load_weights(checkpoint(tmp_path / "w2", "w2"))
    assert {row[0].split()[0] for row in pool.sample_tasks(tasks)} == {"w2"}


def test_dead_replica_restarts_on_current_weights(pool, tasks, tmp_path):
    pool.load_weights(checkpoint(tmp_path / "w3", "w3"))
    pool.set_samples(3, seed=1)
    restarts = pool.restarts
    victim = pool.replicas[1]
    kill(victim, ping=lambda replica: replica.samples_setting.remote())
    out = pool.sample_tasks(tasks)
    assert [row[0].split()[1] for row in out] == [t.id for t in tasks]
    assert {row[0].split()[0] for row in out} == {"w3"}
    assert all(len(row) == 3 for row in out)
    assert pool.restarts == restarts + 1


def test_shipped_checkpoint_is_written_where_the_replica_loads_it(tmp_path):
    source = checkpoint(tmp_path / "iter_001", "shipped")
    (source / "nested").mkdir()
    (source / "nested" / "blob.bin").write_bytes(bytes(range(256)))
    replica = SamplerReplica(0, {"n": 1, "seed": 0}, "cpu", 0, make_stand_in)
    replica.start("/nowhere/iter_001", read_folder(source), None, None)
    assert replica.sampler.weights == "shipped"
    local = replica._shipped[0] / "iter_001"
    assert (local / "nested" / "blob.bin").read_bytes() == bytes(range(256))
    replica.close()
    assert not local.exists()


def test_eval_on_ray_actors_scores_what_the_local_shared_scorer_does(tmp_path, cluster):
    """``codeit eval --ray``: the step's programs run on the actors from the overlap's worker thread,
    through the straightforward search step; the local run scores them on the shared scorer."""
    from test_eval import ListSampler

    from codeit.execute.limits import SEARCH_LIMITS
    from codeit.policy.model import PolicyConfig, create_policy
    from codeit.run.config import make_config
    from codeit.run.evaluation import evaluate_checkpoint

    training = {t.id: t for t in load_tasks("arc1/training")}
    seeds = [s for s in load_seeds() if s.task_id in training][:6]
    tasks = [training[s.task_id] for s in seeds]
    rng = np.random.default_rng(3)
    texts = {s.task_id: [print_program(s.program)] + [print_program(random_program(rng)) for _ in range(5)]
             for s in seeds}
    checkpoint = tmp_path / "policy"
    create_policy(PolicyConfig(hidden_size=64, num_layers=1, num_heads=1, intermediate_size=128,
                               max_positions=256)).save(checkpoint)
    config = make_config("tiny", {"tasks_per_step": 2, "sampling": {"samples_per_task": 8},
                                  "execution": {"threads": 1, "limits": SEARCH_LIMITS.to_dict()}})

    def evaluate(out, executor=None):
        return evaluate_checkpoint(str(checkpoint), tasks, 16, tmp_path / out, config, "cpu", executor=executor,
                                   sampler_factory=lambda *a: ListSampler(texts))

    local = evaluate("local")
    with RayExecutor(SEARCH_LIMITS, RayExecutorConfig(actors=2, threads_per_actor=1)) as executor:
        remote = evaluate("ray", executor)
    assert local["scoring"].startswith("shared") and not remote["scoring"].startswith("shared")
    assert local["solved"] >= 3  # the seed programs solve their tasks
    for key in ("programs_sampled", "valid_rate", "mean_demo_accuracy", "solved", "solved_ids"):
        assert remote[key] == pytest.approx(local[key]), key
    assert (tmp_path / "ray" / "solutions.json").read_text() == (tmp_path / "local" / "solutions.json").read_text()
