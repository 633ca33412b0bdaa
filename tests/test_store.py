"""The SQLite experience store: round trips, duplicates, schema versions, validation, and
durability of committed batches when the writer is killed with SIGKILL."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from codeit.buffer.store import (
    SCHEMA_VERSION,
    Experience,
    ExperienceStore,
    Solution,
    StoreConfig,
    StoreVersionError,
)

GRID_A = ((0, 1, 2), (3, 4, 5))
GRID_B = ((9,),)


def make(i, task="t0", origin="policy", priority=1.0):
    return Experience(
        task_id=task,
        origin=origin,
        program=f"x1 = rot90(I)\nO = x{i}",
        inputs=[GRID_A, GRID_B],
        outputs=[GRID_B],
        demo_accuracy=0.5,
        priority=priority,
        iteration=3,
    )


def test_experiences_round_trip(tmp_path):
    with ExperienceStore(tmp_path / "s.db") as store:
        assert store.schema_version == SCHEMA_VERSION
        e = make(1)
        e.inputs = [np.array(GRID_A, dtype=np.int64)]  # numpy grids are accepted too
        assert store.add_experiences([e, make(2, origin="mutation", priority=0.0)]) == 2
        got = store.get_experiences([2, 1, 2])
        assert [g.id for g in got] == [2, 1, 2]
        first = got[1]
        assert first.inputs == (GRID_A,) and first.outputs == (GRID_B,)
        assert (first.task_id, first.origin, first.program) == ("t0", "policy", e.program)
        assert (first.demo_accuracy, first.priority, first.iteration) == (0.5, 1.0, 3)
        assert first.created == pytest.approx(time.time(), abs=60)
        assert got[0].origin == "mutation" and got[0].priority == 0.0
        with pytest.raises(KeyError, match="no experience with id 7"):
            store.get_experiences([1, 7])
        assert [x.id for x in store.iter_experiences(after_id=1)] == [2]


def test_duplicate_task_program_pairs_are_kept_once(tmp_path):
    with ExperienceStore(tmp_path / "s.db") as store:
        assert store.add_experiences([make(1), make(1, priority=5.0), make(2)]) == 2
        assert store.add_experiences([make(1), make(1, task="t1")]) == 1  # same program, other task: new
        assert store.count_experiences() == 3
        ids, codes, priorities = store.rows_after(0)
        np.testing.assert_array_equal(ids, [1, 2, 3])
        assert priorities[0] == 1.0  # the first write wins


def test_bad_experiences_write_nothing(tmp_path):
    with ExperienceStore(tmp_path / "s.db") as store:
        store.add_experiences([make(1)])
        for bad in (float("nan"), -1.0, float("inf")):
            with pytest.raises(ValueError, match=r"experiences\[1\]\.priority"):
                store.add_experiences([make(2), make(3, priority=bad)])
        with pytest.raises(ValueError, match=r"experiences\[0\]\.origin 'oracle'"):
            store.add_experiences([make(4, origin="oracle")])
        ragged = make(5)
        ragged.outputs = [((1, 2), (3,))]
        with pytest.raises(ValueError, match=r"experiences\[0\] \(task t0\).*ragged"):
            store.add_experiences([ragged])
        assert store.count_experiences() == 1


def test_priority_updates_are_validated_then_written(tmp_path):
    with ExperienceStore(tmp_path / "s.db") as store:
        store.add_experiences([make(1), make(2)])
        store.update_priorities([2, 1], [0.25, 4.0])
        assert store.rows_after(0)[2].tolist() == [4.0, 0.25]
        with pytest.raises(ValueError, match=r"priorities\[1\] = nan"):
            store.update_priorities([1, 2], [1.0, float("nan")])
        assert store.rows_after(0)[2].tolist() == [4.0, 0.25]


def test_solutions_and_run_state(tmp_path):
    with ExperienceStore(tmp_path / "s.db") as store:
        sol = Solution(task_id="t9", program="O = rot90(I)", test_outputs=[GRID_A], iteration=2)
        assert store.add_solutions([sol, sol]) == 1
        (got,) = store.solutions("t9")
        assert (got.task_id, got.program, got.test_outputs, got.iteration) == ("t9", sol.program, (GRID_A,), 2)
        assert store.solutions("other") == []
        store.set_state("iteration", {"n": 4, "done": [1, 2]})
        assert store.get_state("iteration") == {"n": 4, "done": [1, 2]}
        assert store.get_state("missing", 17) == 17
    with ExperienceStore(tmp_path / "s.db") as store:  # durable across reopen
        assert store.get_state("iteration")["n"] == 4


def test_iteration_commit_is_one_transaction(tmp_path):
    with ExperienceStore(tmp_path / "s.db") as store:
        store.set_state("other", 1)
        store.commit_iteration(2, {"iteration": 2, "x": [1]}, {"run": {"done": 2}})
        store.commit_iteration(1, {"iteration": 1}, {"run": {"done": 1}, "other": 5})
        assert store.metrics_rows() == [{"iteration": 1}, {"iteration": 2, "x": [1]}]  # in iteration order
        assert store.get_state("run") == {"done": 1} and store.get_state("other") == 5
        assert store.state_keys() == ["other", "run"]
        # A repeated iteration fails as a whole: no row, no state change.
        with pytest.raises(sqlite3.IntegrityError):
            store.commit_iteration(1, {"iteration": 1, "again": True}, {"run": {"done": 9}})
        assert store.get_state("run") == {"done": 1} and len(store.metrics_rows()) == 2
    with ExperienceStore(tmp_path / "s.db") as store:  # durable across reopen
        assert [m["iteration"] for m in store.metrics_rows()] == [1, 2]


def test_output_hashes_are_stored_with_their_experiences(tmp_path):
    big = (1 << 64) - 1  # unsigned 64-bit hashes, above SQLite's signed range too
    with ExperienceStore(tmp_path / "s.db") as store:
        assert store.seen_output_hashes() == {}
        store.add_experiences([make(1), make(2, task="t1")],
                              output_hashes=[("t0", 5), ("t1", big), ("t1", 1 << 63), ("t0", 5)])
        assert store.seen_output_hashes() == {"t0": {5}, "t1": {big, 1 << 63}}
        # A batch that fails validation writes none of its hashes either.
        with pytest.raises(ValueError):
            store.add_experiences([make(3, priority=-1.0)], output_hashes=[("t2", 7)])
        store.add_experiences([], output_hashes=[("t2", 0)])
        assert store.seen_output_hashes() == {"t0": {5}, "t1": {big, 1 << 63}, "t2": {0}}
        with pytest.raises(ValueError, match="unsigned 64-bit"):
            store.add_experiences([make(4)], output_hashes=[("t0", -1)])
        assert store.count_experiences() == 2


def test_version_1_store_is_upgraded_in_place(tmp_path):
    path = tmp_path / "s.db"
    with ExperienceStore(path) as store:
        store.add_experiences([make(1)])
        store.set_state("k", [1])
    conn = sqlite3.connect(path)  # what schema version 1 wrote: no metrics, no output hashes
    conn.execute("DROP TABLE metrics")
    conn.execute("DROP TABLE output_hashes")
    conn.execute("PRAGMA user_version=1")
    conn.close()
    with ExperienceStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION == 2
        assert store.count_experiences() == 1 and store.get_state("k") == [1]
        assert store.metrics_rows() == [] and store.seen_output_hashes() == {}
        store.commit_iteration(1, {"iteration": 1}, {"run": {}})
        assert store.metrics_rows() == [{"iteration": 1}]


def test_store_is_in_wal_mode(tmp_path):
    ExperienceStore(tmp_path / "s.db").close()
    conn = sqlite3.connect(tmp_path / "s.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_newer_schema_is_refused_and_the_file_untouched(tmp_path):
    path = tmp_path / "s.db"
    with ExperienceStore(path) as store:
        store.add_experiences([make(1)])
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=DELETE")  # a single file, so "untouched" is one comparison
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    conn.close()
    before = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    with pytest.raises(StoreVersionError, match=rf"schema_version {SCHEMA_VERSION + 1} is newer"):
        ExperienceStore(path)
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.db"]


def test_read_only_store_reads_without_writing(tmp_path):
    path = tmp_path / "s.db"
    with ExperienceStore(path) as store:
        store.add_experiences([make(1)])
    with ExperienceStore(path, StoreConfig(read_only=True)) as ro:
        assert ro.count_experiences() == 1
        with pytest.raises(sqlite3.OperationalError):
            ro.add_experiences([make(2)])
    with pytest.raises(FileNotFoundError):
        ExperienceStore(tmp_path / "absent.db", StoreConfig(read_only=True))


WRITER = textwrap.dedent(
    """
    import sys
    from codeit.buffer.store import Experience, ExperienceStore
    store = ExperienceStore(sys.argv[1])
    batch_size = int(sys.argv[2])
    grid = tuple(tuple((r * 7 + c) % 10 for c in range(12)) for r in range(12))
    committed = 0
    batch = 0
    while True:
        rows = [Experience(task_id=f"task{batch}", origin="policy", program=f"O = p{batch}_{i}(I)",
                           inputs=[grid, grid, grid], outputs=[grid, grid, grid], priority=1.0 + i)
                for i in range(batch_size)]
        committed += store.add_experiences(rows)
        batch += 1
        print(committed, flush=True)
    """
)


def test_sigkill_mid_batch_loses_nothing_committed(tmp_path):
    path = tmp_path / "s.db"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    batch_size = 2000
    proc = subprocess.Popen(
        [sys.executable, str(script), str(path), str(batch_size)], stdout=subprocess.PIPE, text=True
    )
    last_reported = 0
    try:
        for _ in range(8):
            line = proc.stdout.readline()
            assert line, "the writer died before reporting a commit"
            last_reported = int(line)
        # The writer is now inside its next batch (encoding or in the transaction): kill it there.
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with ExperienceStore(path) as store:
        assert store.integrity_check() == "ok"
        count = store.count_experiences()
        assert count >= last_reported
        assert count % batch_size == 0, "a batch was committed in part"
        ids, _, priorities = store.rows_after(0)
        np.testing.assert_array_equal(ids, np.arange(1, count + 1))
        rows = store.get_experiences(range(1, last_reported + 1))
        expected = [(f"task{b}", f"O = p{b}_{i}(I)") for b in range(last_reported // batch_size) for i in range(batch_size)]
        assert [(r.task_id, r.program) for r in rows] == expected
        assert rows[-1].outputs[0][11][11] == (11 * 7 + 11) % 10
