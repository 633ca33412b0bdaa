"""ReplayBuffer: CodeIt's per-iteration mix without replacement, drawn by priority; following
other writers; rebuilding from the store; refusing a newer store."""

import math
import sqlite3
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from codeit.buffer.replay import BufferConfig, ReplayBuffer
from codeit.buffer.store import SCHEMA_VERSION, Experience, ExperienceStore, StoreVersionError

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
    store = ExperienceStore(tmp_path / "store.db")
    store.add_experiences(experiences(60, "policy", 0))
    store.add_experiences(experiences(30, "mutation", 100, priority=lambda i: 0.0 if i % 3 == 0 else 2.0))
    store.add_experiences(experiences(10, "seed", 200))
    store.close()
    buf = ReplayBuffer(tmp_path / "store.db", BufferConfig(seed=3, initial_capacity=8))
    yield buf
    buf.close()


def test_first_draws_follow_priorities(buffer):
    rows = {e.id: e for e in buffer.store.iter_experiences() if e.origin == "policy"}
    ids = np.array(sorted(rows))
    p = np.array([rows[i].priority for i in ids])
    draws = np.concatenate([buffer.draw_without_replacement({"policy": 1})["policy"] for _ in range(6000)])
    counts = np.array([np.count_nonzero(draws == i) for i in ids])
    expected = draws.size * p / p.sum()
    stat = float(((counts - expected) ** 2 / expected).sum())
    assert stat < chi_square_critical(ids.size - 1)


def test_mix_without_replacement_per_origin(buffer):
    mix = buffer.draw_without_replacement({"policy": 50, "mutation": 25})
    assert set(mix) == {"policy", "mutation"}
    assert mix["policy"].size == 50 and np.unique(mix["policy"]).size == 50
    assert mix["mutation"].size == 25 and np.unique(mix["mutation"]).size == 25
    rows = {e.id: e for e in buffer.experiences(np.concatenate(list(mix.values())))}
    assert all(rows[i].origin == "policy" for i in mix["policy"].tolist())
    assert rows[int(mix["policy"][0])].inputs == (GRID, GRID)
    mutation_priorities = [rows[i].priority for i in mix["mutation"].tolist()]
    # 20 mutation items have priority 2 and 10 have 0: all positive ones come first.
    assert mutation_priorities[:20] == [2.0] * 20 and mutation_priorities[20:] == [0.0] * 5
    only_positive = buffer.draw_without_replacement({"mutation": 25}, positive_only=True)["mutation"]
    assert only_positive.size == 20
    assert buffer.draw_without_replacement({"seed": 1000})["seed"].size == 10  # all there are


def test_duplicates_are_kept_once(buffer):
    size = len(buffer)
    assert buffer.store.add_experiences(experiences(60, "policy", 0)) == 0
    assert buffer.refresh() == 0
    assert len(buffer) == size == buffer.store.count_experiences()


def test_refresh_follows_rows_other_processes_append(buffer, tmp_path):
    size = len(buffer)
    writer = textwrap.dedent(
        f"""
        from codeit.buffer.store import Experience, ExperienceStore
        store = ExperienceStore({str(tmp_path / "store.db")!r})
        store.add_experiences([Experience(task_id="other", origin="relabel", program=f"O = g{{i}}(I)",
                                          inputs=[((5,),)], outputs=[((6,),)], priority=3.0) for i in range(25)])
        """
    )
    subprocess.run([sys.executable, "-c", writer], check=True)
    assert len(buffer) == size  # the owner has not looked yet
    assert buffer.refresh() == 25
    assert buffer.size("relabel") == 25 and len(buffer) == size + 25
    drawn = buffer.draw_without_replacement({"relabel": 8})["relabel"]
    assert {e.task_id for e in buffer.experiences(drawn)} == {"other"}
    assert buffer.refresh() == 0


def test_reopening_rebuilds_the_trees_from_the_store(buffer, tmp_path):
    other = ReplayBuffer(tmp_path / "store.db", BufferConfig(seed=3, initial_capacity=8))
    assert len(other) == len(buffer)
    for origin in ("seed", "mutation", "policy", "relabel"):
        assert other.size(origin) == buffer.size(origin)
    a = other.draw_without_replacement({"policy": 40, "mutation": 10})
    b = buffer.draw_without_replacement({"policy": 40, "mutation": 10})
    for origin in a:  # same seed, same store: the same draws
        np.testing.assert_array_equal(a[origin], b[origin])
    other.close()


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


def test_bad_draws_are_clear_errors(buffer):
    with pytest.raises(ValueError, match="unknown origin 'oracle'"):
        buffer.draw_without_replacement({"oracle": 4})
    with pytest.raises(ValueError, match="negative"):
        buffer.draw_without_replacement({"policy": -1})


def test_draws_with_replacement_follow_priorities_plus_floor(tmp_path):
    store = ExperienceStore(tmp_path / "store.db")
    store.add_experiences(experiences(12, "policy", 0, priority=lambda i: 1.0 if i < 2 else 0.0))
    store.close()
    with ReplayBuffer(tmp_path / "store.db", BufferConfig(seed=1, priority_floor=0.1)) as buf:
        rows = {e.id: e for e in buf.store.iter_experiences()}
        ids = np.array(sorted(rows))
        weight = np.array([rows[i].priority + 0.1 for i in ids])
        draws = buf.draw_with_replacement({"policy": 20_000})["policy"]
        assert draws.size == 20_000  # more draws than items: repeats
        counts = np.array([np.count_nonzero(draws == i) for i in ids])
        expected = draws.size * weight / weight.sum()
        stat = float(((counts - expected) ** 2 / expected).sum())
        assert stat < chi_square_critical(ids.size - 1)
        # The store keeps the raw priorities; only the trees add the floor.
        assert sorted(e.priority for e in buf.experiences(ids)) == [0.0] * 10 + [1.0, 1.0]


def test_draws_with_replacement_without_weight_are_uniform_and_empty_origins_give_nothing(tmp_path):
    store = ExperienceStore(tmp_path / "store.db")
    store.add_experiences(experiences(5, "policy", 0, priority=lambda i: 0.0))
    store.close()
    with ReplayBuffer(tmp_path / "store.db", BufferConfig(seed=2)) as buf:
        drawn = buf.draw_with_replacement({"policy": 5_000, "mutation": 10})
        assert drawn["mutation"].size == 0
        counts = np.unique(drawn["policy"], return_counts=True)[1]
        assert counts.size == 5 and counts.min() > 800
        with pytest.raises(ValueError, match="negative"):
            buf.draw_with_replacement({"policy": -1})
