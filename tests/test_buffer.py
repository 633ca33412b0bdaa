"""ReplayBuffer: prioritized batches across origins, CodeIt's per-iteration mix without
replacement, priority updates (tree and store), following other writers, checkpoints."""

import math
import sqlite3
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from codeit.buffer import (
    BufferConfig,
    Experience,
    ExperienceStore,
    ReplayBuffer,
    SCHEMA_VERSION,
    StoreVersionError,
)

GRID = ((1, 2), (3, 4))


def chi_square_critical(df: int, z: float = 3.719) -> float:
    """Wilson-Hilferty upper quantile of chi-square(df); z = 3.719 is the 1e-4 tail."""
    a = 2.0 / (9.0 * df)
    return df * (1.0 - a + z * math.sqrt(a)) ** 3


def experiences(n, origin="policy", start=0, priority=lambda i: 1.0 + i % 5):
    inputs = [GRID, GRID]
    return [
        Experience(
            task_id=f"task{(start + i) % 7}",
            origin=origin,
            program=f"O = f{start + i}(I)",
            inputs=inputs,
            outputs=[(((start + i) % 10,),)],
            priority=float(priority(start + i)),
        )
        for i in range(n)
    ]


@pytest.fixture
def buffer(tmp_path):
    buf = ReplayBuffer(tmp_path / "store.db", BufferConfig(seed=3, initial_capacity=8))
    buf.add(experiences(60, "policy", 0))
    buf.add(experiences(30, "mutation", 100, priority=lambda i: 0.0 if i % 3 == 0 else 2.0))
    buf.add(experiences(10, "seed", 200))
    yield buf
    buf.close()


def test_batches_follow_priorities_across_origins(buffer):
    store_rows = {e.id: e for e in buffer.store.iter_experiences()}
    ids = np.array(sorted(store_rows))
    p = np.array([store_rows[i].priority for i in ids])
    draws = np.concatenate([buffer.sample_ids(500)[0] for _ in range(200)])
    counts = np.array([np.count_nonzero(draws == i) for i in ids])
    assert counts[p == 0].sum() == 0
    expected = draws.size * p / p.sum()
    cells = p > 0
    stat = float(((counts[cells] - expected[cells]) ** 2 / expected[cells]).sum())
    assert stat < chi_square_critical(int(cells.sum()) - 1)


def test_batch_is_decoded_and_carries_probabilities(buffer):
    batch = buffer.sample(16, origins=["mutation"])
    assert len(batch.experiences) == 16
    assert all(e.origin == "mutation" and e.priority == 2.0 for e in batch.experiences)
    assert [e.id for e in batch.experiences] == batch.ids.tolist()
    assert batch.experiences[0].inputs == (GRID, GRID)
    np.testing.assert_allclose(batch.probabilities, 2.0 / buffer.total_priority("mutation"))
    assert batch.population == 30
    w = batch.importance_weights(0.5)
    assert w.max() == pytest.approx(1.0)


def test_mix_without_replacement_per_origin(buffer):
    mix = buffer.draw_without_replacement({"policy": 50, "mutation": 25})
    assert set(mix) == {"policy", "mutation"}
    assert mix["policy"].size == 50 and np.unique(mix["policy"]).size == 50
    assert mix["mutation"].size == 25 and np.unique(mix["mutation"]).size == 25
    rows = {e.id: e for e in buffer.experiences(np.concatenate(list(mix.values())))}
    assert all(rows[i].origin == "policy" for i in mix["policy"].tolist())
    mutation_priorities = [rows[i].priority for i in mix["mutation"].tolist()]
    # 20 mutation items have priority 2 and 10 have 0: all positive ones come first.
    assert mutation_priorities[:20] == [2.0] * 20 and mutation_priorities[20:] == [0.0] * 5
    only_positive = buffer.draw_without_replacement({"mutation": 25}, positive_only=True)["mutation"]
    assert only_positive.size == 20
    assert buffer.draw_without_replacement({"seed": 1000})["seed"].size == 10  # all there are


def test_update_priorities_reaches_tree_and_store(buffer):
    ids = buffer.sample_ids(5, origins=["policy"])[0][:3]
    ids = np.unique(ids)
    buffer.update_priorities(ids, np.full(ids.size, 0.125))
    np.testing.assert_array_equal(buffer.priorities(ids), 0.125)
    stored = {e.id: e.priority for e in buffer.store.get_experiences(ids)}
    assert all(stored[i] == 0.125 for i in ids.tolist())


def test_deferred_priorities_are_flushed(tmp_path):
    buf = ReplayBuffer(tmp_path / "s.db", BufferConfig(persist_priorities=False))
    buf.add(experiences(10))
    buf.update_priorities([1, 2, 1], [5.0, 6.0, 7.0])  # last one wins for id 1
    assert buf.store.get_experiences([1])[0].priority == 1.0
    assert buf.flush_priorities() == 2
    assert [e.priority for e in buf.store.get_experiences([1, 2])] == [7.0, 6.0]
    buf.close()


@pytest.mark.parametrize(
    "ids, priorities, message",
    [
        ([1, 2], [1.0, float("nan")], r"priorities\[1\] = nan"),
        ([1, 2], [-1.0, 1.0], r"priorities\[0\] = -1.0"),
        ([1, 2], [1.0, float("inf")], r"priorities\[1\] = inf"),
        ([1, 99999], [1.0, 1.0], r"ids\[1\] = 99999 is not an experience"),
        ([0, 1], [1.0, 1.0], r"ids\[0\] = 0 is not an experience"),
        ([-4, 1], [1.0, 1.0], r"ids\[0\] = -4 is not an experience"),
        ([1, 2, 3], [1.0, 1.0], r"3 ids but 2 priorities"),
    ],
)
def test_bad_updates_change_nothing(buffer, ids, priorities, message):
    all_ids = np.arange(1, 101)
    before_tree = buffer.priorities(all_ids)
    before_store = [e.priority for e in buffer.store.get_experiences(all_ids)]
    with pytest.raises(ValueError, match=message):
        buffer.update_priorities(ids, priorities)
    np.testing.assert_array_equal(buffer.priorities(all_ids), before_tree)
    assert [e.priority for e in buffer.store.get_experiences(all_ids)] == before_store


def test_duplicates_are_kept_once(buffer):
    size = len(buffer)
    assert buffer.add(experiences(60, "policy", 0)) == 0
    assert len(buffer) == size
    assert buffer.store.count_experiences() == size


def test_refresh_follows_rows_other_processes_append(buffer, tmp_path):
    size = len(buffer)
    writer = textwrap.dedent(
        f"""
        from codeit.buffer import Experience, ExperienceStore
        store = ExperienceStore({str(tmp_path / "store.db")!r})
        store.add_experiences([Experience(task_id="other", origin="relabel", program=f"O = g{{i}}(I)",
                                          inputs=[((5,),)], outputs=[((6,),)], priority=3.0) for i in range(25)])
        """
    )
    subprocess.run([sys.executable, "-c", writer], check=True)
    assert len(buffer) == size  # the owner has not looked yet
    assert buffer.refresh() == 25
    assert buffer.size("relabel") == 25 and len(buffer) == size + 25
    batch = buffer.sample(8, origins=["relabel"])
    assert {e.task_id for e in batch.experiences} == {"other"}
    assert buffer.refresh() == 0


def test_reopening_rebuilds_the_trees_from_the_store(buffer, tmp_path):
    buffer.update_priorities([5], [0.0])
    other = ReplayBuffer(tmp_path / "store.db")
    assert len(other) == len(buffer)
    assert other.total_priority() == pytest.approx(buffer.total_priority())
    other.close()


def test_save_and_load_state_give_the_same_draws(buffer, tmp_path):
    buffer.sample_ids(7)
    buffer.save_state(tmp_path / "state.npz")
    restored = ReplayBuffer(tmp_path / "store.db", BufferConfig(seed=999))
    restored.load_state(tmp_path / "state.npz")
    for _ in range(3):
        np.testing.assert_array_equal(restored.sample_ids(64)[0], buffer.sample_ids(64)[0])
    a = restored.draw_without_replacement({"policy": 40, "mutation": 10})
    b = buffer.draw_without_replacement({"policy": 40, "mutation": 10})
    for origin in a:
        np.testing.assert_array_equal(a[origin], b[origin])
    restored.close()


def test_newer_store_schema_is_refused_by_the_buffer(tmp_path):
    path = tmp_path / "s.db"
    ExperienceStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 5}")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreVersionError, match="newer"):
        ReplayBuffer(path)
    assert path.read_bytes() == before


def test_unknown_origin_is_a_clear_error(buffer):
    with pytest.raises(ValueError, match="unknown origin 'oracle'"):
        buffer.sample(4, origins=["oracle"])
    with pytest.raises(ValueError, match="no experience with a positive priority"):
        ReplayBuffer(buffer.store.path).sample(4, origins=["relabel"])
