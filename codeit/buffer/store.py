"""The durable experience store: SQLite in WAL mode (stdlib ``sqlite3``).

Tables:

- ``experiences``: one program run relabelled into a training task. ``(task_id, program_hash)``
  is UNIQUE and rows are inserted with ``INSERT OR IGNORE``, so a duplicate (task, program) pair
  is kept once (the first one written wins). ``program_hash`` is the 128-bit BLAKE2b digest of
  the program text: the index holds 16 bytes instead of the whole text, which doubles append
  throughput, and a false duplicate would need two programs with equal 128-bit digests.
  ``id`` grows with insertion order, which is what lets a reader follow the rows other
  processes append (``rows_after``). ``outputs`` is a blob of :mod:`codeit.buffer.codec`;
  ``inputs_hash`` points into ``grid_sets``.
- ``grid_sets``: input grids, stored once per distinct set (content-addressed by the BLAKE2b
  digest of the blob): every experience of a task shares that task's inputs, so storing them
  per row would double the database and halve append throughput.
- ``solutions``: programs that solve a task's demonstrations, with their test outputs.
- ``run_state``: key/value (values are JSON text) for the loop's own bookkeeping.
- ``metrics``: one JSON row per finished meta-iteration, committed together with the run state
  that counts the iteration (:meth:`ExperienceStore.commit_iteration`), so the two never disagree.
- ``output_hashes``: ``(task_id, hash)`` of the demo outputs of stored policy experiences, written
  in the same transaction as those experiences, so a resumed run rebuilds its deduplication set
  without decoding any grid blob. Hashes are unsigned 64-bit; SQLite keeps them as signed integers.

Schema version: ``PRAGMA user_version``. Opening a database whose version is newer than
``SCHEMA_VERSION`` raises :class:`StoreVersionError` after a read-only look, so the file (and
its journal mode) is not touched. Version 1 (no ``metrics`` and ``output_hashes`` tables) is
upgraded in place when opened for writing: the two tables are added, nothing else changes.

Durability: every write method is one transaction. In WAL mode with ``synchronous=NORMAL`` a
committed transaction survives the writer being killed (SIGKILL included); only an OS crash or
power loss can lose the last commits. Use ``synchronous="FULL"`` to survive those too.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from codeit.buffer.codec import Grid, decode_grids, encode_grids

SCHEMA_VERSION = 2

ORIGINS = ("seed", "mutation", "policy", "relabel")
ORIGIN_CODE = {name: code for code, name in enumerate(ORIGINS)}

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS experiences (
  id INTEGER PRIMARY KEY,
  task_id TEXT NOT NULL,
  origin TEXT NOT NULL CHECK (origin IN ({", ".join(repr(o) for o in ORIGINS)})),
  program TEXT NOT NULL,
  program_hash BLOB NOT NULL,
  inputs_hash BLOB NOT NULL REFERENCES grid_sets (hash),
  outputs BLOB NOT NULL,
  demo_accuracy REAL NOT NULL,
  priority REAL NOT NULL CHECK (priority >= 0),
  iteration INTEGER NOT NULL,
  created REAL NOT NULL,
  UNIQUE (task_id, program_hash)
);
CREATE TABLE IF NOT EXISTS grid_sets (
  hash BLOB PRIMARY KEY,
  grids BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS solutions (
  id INTEGER PRIMARY KEY,
  task_id TEXT NOT NULL,
  program TEXT NOT NULL,
  test_outputs BLOB NOT NULL,
  demo_accuracy REAL NOT NULL,
  iteration INTEGER NOT NULL,
  created REAL NOT NULL,
  UNIQUE (task_id, program)
);
CREATE TABLE IF NOT EXISTS run_state (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
"""

# Added by schema version 2 (also what the upgrade from version 1 runs).
_SCHEMA_V2 = """
CREATE TABLE IF NOT EXISTS metrics (
  iteration INTEGER PRIMARY KEY,
  row TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS output_hashes (
  task_id TEXT NOT NULL,
  hash INTEGER NOT NULL,
  PRIMARY KEY (task_id, hash)
) WITHOUT ROWID;
"""

_U64 = 1 << 64
_I64_MAX = (1 << 63) - 1


def _signed(h: int) -> int:
    """An unsigned 64-bit hash as the signed integer SQLite stores."""
    h = int(h)
    if not 0 <= h < _U64:
        raise ValueError(f"output hash {h} is not an unsigned 64-bit integer")
    return h - _U64 if h > _I64_MAX else h


def _unsigned(h: int) -> int:
    return h + _U64 if h < 0 else h


_EXPERIENCE_SELECT = (
    "SELECT e.id, e.task_id, e.origin, e.program, e.inputs_hash, e.outputs, e.demo_accuracy, e.priority, "
    "e.iteration, e.created, g.grids FROM experiences AS e JOIN grid_sets AS g ON g.hash = e.inputs_hash"
)


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


class StoreVersionError(RuntimeError):
    """The database was written by a newer (or unknown) schema; nothing was changed."""


@dataclass(slots=True)
class Experience:
    """One relabelled program run: a training task (inputs -> realized outputs) and its program."""

    task_id: str
    """The ARC task whose inputs the program ran on."""
    origin: str
    """How the program came about: 'seed', 'mutation', 'policy' or 'relabel'."""
    program: str
    """Program text in the DSL format (data; never evaluated by Python)."""
    inputs: Sequence[Grid]
    """Input grids the program ran on."""
    outputs: Sequence[Grid]
    """The grids the program produced on them (the relabelled targets)."""
    demo_accuracy: float = 0.0
    """Fraction of the task's demonstration outputs the program reproduced."""
    priority: float = 1.0
    """Raw replay priority (finite, >= 0); the buffer's alpha is applied by the sum tree."""
    iteration: int = 0
    """Meta-iteration that produced it."""
    id: int | None = None
    """Row id in the store (set when read back; ignored on insert)."""
    created: float | None = None
    """Unix time of the insert (set when read back)."""


@dataclass(slots=True)
class Solution:
    """A program that solves a task's demonstrations, with what it predicts for the test inputs."""

    task_id: str
    """The ARC task solved."""
    program: str
    """Program text."""
    test_outputs: Sequence[Grid]
    """The program's outputs on the task's test inputs."""
    demo_accuracy: float = 1.0
    """Fraction of demonstrations reproduced (1.0 for an exact solution)."""
    iteration: int = 0
    """Meta-iteration at which it was found."""
    id: int | None = None
    """Row id (set when read back)."""
    created: float | None = None
    """Unix time of the insert (set when read back)."""


@dataclass
class StoreConfig:
    """How the SQLite connection is set up."""

    synchronous: str = "NORMAL"
    """SQLite synchronous level: NORMAL survives process kills; FULL also survives power loss."""
    busy_timeout_s: float = 60.0
    """How long a write waits for another process's write transaction before failing."""
    read_only: bool = False
    """Open without writing anything (no schema creation, no journal-mode change)."""
    page_size: int = 65536
    """SQLite page size of a new database (ignored for an existing one). Large pages mean fewer
    WAL frames, hence fewer write calls per commit: appends run about twice as fast as with 4 KiB."""
    mmap_bytes: int = 1 << 30
    """Memory-map up to this many bytes of the database, so reads do not copy whole pages."""
    cache_kib: int = 65536
    """SQLite page cache per connection, in KiB."""


def _schema_version_of(path: Path) -> int | None:
    """The user_version of an existing database, read through a read-only connection."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as err:
        raise StoreVersionError(f"{path}: not a readable SQLite database ({err})") from None
    finally:
        conn.close()


class ExperienceStore:
    """The experiences, solutions and run state of one run, in one SQLite file."""

    def __init__(self, path: str | os.PathLike, config: StoreConfig | None = None):
        self.path = Path(path)
        self.config = config or StoreConfig()
        if self.config.synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"StoreConfig.synchronous: {self.config.synchronous!r} is not OFF/NORMAL/FULL/EXTRA")
        version = _schema_version_of(self.path)
        if version is not None and version > SCHEMA_VERSION:
            raise StoreVersionError(
                f"{self.path}: schema_version {version} is newer than this codeit supports ({SCHEMA_VERSION}); "
                "the database was not changed. Upgrade codeit to open it."
            )
        if self.config.read_only:
            if version is None:
                raise FileNotFoundError(f"{self.path}: no experience store to open read-only")
            self._conn = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, timeout=self.config.busy_timeout_s, isolation_level=None
            )
        else:
            self._conn = sqlite3.connect(self.path, timeout=self.config.busy_timeout_s, isolation_level=None)
            if version is None:
                self._conn.execute(f"PRAGMA page_size={int(self.config.page_size)}")  # before the first write
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(f"PRAGMA synchronous={self.config.synchronous.upper()}")
            if version in (None, 0):
                self._create_tables(_SCHEMA + _SCHEMA_V2, expect=0)
            elif version == 1:
                self._create_tables(_SCHEMA_V2, expect=1)
            elif version < SCHEMA_VERSION:  # pragma: no cover - every older version is handled above
                raise StoreVersionError(f"{self.path}: no migration from schema_version {version}")
        self._conn.execute(f"PRAGMA mmap_size={int(self.config.mmap_bytes)}")
        self._conn.execute(f"PRAGMA cache_size={-int(self.config.cache_kib)}")

    # -- plumbing -------------------------------------------------------------------------------

    class _Tx:
        def __init__(self, conn: sqlite3.Connection):
            self.conn = conn

        def __enter__(self):
            # IMMEDIATE takes the write lock up front, so two writers queue instead of one failing
            # at its first write with SQLITE_BUSY in the middle of a transaction.
            self.conn.execute("BEGIN IMMEDIATE")
            return self.conn

        def __exit__(self, exc_type, exc, tb):
            self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")
            return False

    def _transaction(self) -> "_Tx":
        return ExperienceStore._Tx(self._conn)

    def _create_tables(self, schema: str, expect: int) -> None:
        """Run ``schema`` and set the current version, in one transaction; skipped when another
        process did it first (the version read under the write lock is no longer ``expect``)."""
        with self._transaction() as conn:
            if conn.execute("PRAGMA user_version").fetchone()[0] != expect:
                return
            for statement in schema.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "ExperienceStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return self._conn.execute("PRAGMA user_version").fetchone()[0]

    # -- experiences ----------------------------------------------------------------------------

    def add_experiences(self, experiences: Sequence[Experience],
                        output_hashes: Iterable[tuple[str, int]] = (), *, solutions: Sequence[Solution] = (),
                        state: dict[str, Any] | None = None) -> int:
        """Insert a batch in one transaction; duplicates of an existing (task_id, program) are
        skipped. Validates the whole batch first (nothing is written if any item is bad).
        ``output_hashes``: (task_id, unsigned 64-bit hash) pairs recorded in the same transaction
        (see :meth:`seen_output_hashes`); a repeated pair is kept once. ``solutions`` (as
        :meth:`add_solutions`) and ``state`` (``key -> JSON value``, as :meth:`set_state`) are
        written in the same transaction too: a step of work and the progress that counts it.
        Returns the number of rows actually inserted."""
        now = time.time()
        rows = []
        grid_sets: dict[bytes, bytes] = {}
        # The experiences of one task usually share one inputs object: encode it once per batch.
        # (id() is safe as a key here: the batch keeps every inputs object alive.)
        inputs_hash_of: dict[int, bytes] = {}
        for k, e in enumerate(experiences):
            if e.origin not in ORIGIN_CODE:
                raise ValueError(f"add_experiences: experiences[{k}].origin {e.origin!r} is not one of {ORIGINS}")
            p = e.priority
            if not (p >= 0.0) or math.isinf(p):
                raise ValueError(
                    f"add_experiences: experiences[{k}].priority = {p!r} (task {e.task_id}); "
                    "priorities must be finite and >= 0 (nothing was written)"
                )
            try:
                inputs_hash = inputs_hash_of.get(id(e.inputs))
                if inputs_hash is None:
                    blob = encode_grids(e.inputs)
                    inputs_hash = _digest(blob)
                    grid_sets[inputs_hash] = blob
                    inputs_hash_of[id(e.inputs)] = inputs_hash
                outputs = encode_grids(e.outputs)
            except ValueError as err:
                raise ValueError(f"add_experiences: experiences[{k}] (task {e.task_id}): {err}") from None
            program = e.program
            rows.append(
                (
                    e.task_id,
                    e.origin,
                    program,
                    _digest(program.encode()),
                    inputs_hash,
                    outputs,
                    float(e.demo_accuracy),
                    float(p),
                    int(e.iteration),
                    now,
                )
            )
        hash_rows = [(str(task_id), _signed(h)) for task_id, h in output_hashes]
        solution_rows = _solution_rows(solutions, now)
        state_rows = [(key, json.dumps(value)) for key, value in (state or {}).items()]
        with self._transaction() as conn:
            if solution_rows:
                conn.executemany(_INSERT_SOLUTION, solution_rows)
            if state_rows:
                conn.executemany("INSERT OR REPLACE INTO run_state (key, value) VALUES (?, ?)", state_rows)
            conn.executemany("INSERT OR IGNORE INTO grid_sets (hash, grids) VALUES (?, ?)", grid_sets.items())
            if hash_rows:
                conn.executemany("INSERT OR IGNORE INTO output_hashes (task_id, hash) VALUES (?, ?)", hash_rows)
            before = conn.total_changes
            conn.executemany(
                "INSERT OR IGNORE INTO experiences "
                "(task_id, origin, program, program_hash, inputs_hash, outputs, demo_accuracy, priority, iteration, "
                "created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            return conn.total_changes - before

    def count_experiences(self) -> int:
        return self._conn.execute("SELECT COUNT(*) FROM experiences").fetchone()[0]

    def max_experience_id(self) -> int:
        return self._conn.execute("SELECT COALESCE(MAX(id), 0) FROM experiences").fetchone()[0]

    def rows_after(self, last_id: int, limit: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ids int64, origin codes int8, priorities float64) of rows with id > last_id, in id
        order: what a sum tree needs to follow the store."""
        sql = "SELECT id, origin, priority FROM experiences WHERE id > ? ORDER BY id"
        params: tuple = (int(last_id),)
        if limit is not None:
            sql += " LIMIT ?"
            params += (int(limit),)
        rows = self._conn.execute(sql, params).fetchall()
        if not rows:
            return np.empty(0, np.int64), np.empty(0, np.int8), np.empty(0, np.float64)
        ids, origins, priorities = zip(*rows)
        codes = np.fromiter((ORIGIN_CODE[o] for o in origins), dtype=np.int8, count=len(origins))
        return np.array(ids, dtype=np.int64), codes, np.array(priorities, dtype=np.float64)

    def get_experiences(self, ids: Iterable[int]) -> list[Experience]:
        """Decoded rows for ids, in the order given (repeats allowed). Unknown ids raise KeyError."""
        ids = [int(i) for i in ids]
        by_id: dict[int, Experience] = {}
        unique = list(dict.fromkeys(ids))
        decoded_inputs: dict[bytes, tuple] = {}
        chunk = 900  # below SQLite's smallest host-parameter limit
        for start in range(0, len(unique), chunk):
            part = unique[start : start + chunk]
            marks = ",".join("?" * len(part))
            for row in self._conn.execute(f"{_EXPERIENCE_SELECT} WHERE e.id IN ({marks})", part):
                by_id[row[0]] = _experience_from_row(row, decoded_inputs)
        missing = [i for i in unique if i not in by_id]
        if missing:
            raise KeyError(f"{self.path}: no experience with id {missing[0]} ({len(missing)} missing)")
        return [by_id[i] for i in ids]

    def iter_experiences(self, after_id: int = 0, batch: int = 10_000):
        """All experiences with id > after_id, decoded, in id order."""
        last = after_id
        decoded_inputs: dict[bytes, tuple] = {}
        while True:
            rows = self._conn.execute(
                f"{_EXPERIENCE_SELECT} WHERE e.id > ? ORDER BY e.id LIMIT ?", (last, batch)
            ).fetchall()
            if not rows:
                return
            for row in rows:
                yield _experience_from_row(row, decoded_inputs)
            last = rows[-1][0]

    def seen_output_hashes(self) -> dict[str, set[int]]:
        """The recorded output hashes per task (what ``add_experiences(output_hashes=...)`` wrote).
        Reads that small table only: no experience or grid blob is touched."""
        seen: dict[str, set[int]] = {}
        for task_id, h in self._conn.execute("SELECT task_id, hash FROM output_hashes"):
            seen.setdefault(task_id, set()).add(_unsigned(h))
        return seen

    def update_priorities(self, ids: Sequence[int], priorities: Sequence[float]) -> None:
        """Set the priority of rows by id, in one transaction (validated first)."""
        ids = np.asarray(ids, dtype=np.int64)
        priorities = np.asarray(priorities, dtype=np.float64)
        if ids.shape != priorities.shape or ids.ndim != 1:
            raise ValueError(f"update_priorities: ids {ids.shape} and priorities {priorities.shape} differ in shape")
        bad = np.flatnonzero(~np.isfinite(priorities) | (priorities < 0))
        if bad.size:
            k = int(bad[0])
            raise ValueError(
                f"update_priorities: priorities[{k}] = {float(priorities[k])} is not finite and >= 0 (nothing was written)"
            )
        with self._transaction() as conn:
            conn.executemany(
                "UPDATE experiences SET priority = ? WHERE id = ?", zip(priorities.tolist(), ids.tolist())
            )

    # -- solutions ------------------------------------------------------------------------------

    def add_solutions(self, solutions: Sequence[Solution]) -> int:
        """Insert solutions in one transaction; a repeated (task_id, program) is kept once."""
        rows = _solution_rows(solutions, time.time())
        with self._transaction() as conn:
            before = conn.total_changes
            conn.executemany(_INSERT_SOLUTION, rows)
            return conn.total_changes - before

    def solutions(self, task_id: str | None = None) -> list[Solution]:
        sql = "SELECT id, task_id, program, test_outputs, demo_accuracy, iteration, created FROM solutions"
        params: tuple = ()
        if task_id is not None:
            sql += " WHERE task_id = ?"
            params = (task_id,)
        return [
            Solution(task_id=t, program=p, test_outputs=decode_grids(o), demo_accuracy=a, iteration=it, id=i, created=c)
            for i, t, p, o, a, it, c in self._conn.execute(sql + " ORDER BY id", params)
        ]

    # -- run state ------------------------------------------------------------------------------

    def set_state(self, key: str, value: Any) -> None:
        """Store a JSON-serializable value under key (replacing any previous one)."""
        text = json.dumps(value)
        with self._transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO run_state (key, value) VALUES (?, ?)", (key, text))

    def get_state(self, key: str, default: Any = None) -> Any:
        row = self._conn.execute("SELECT value FROM run_state WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def state_keys(self) -> list[str]:
        """Every key of the run state, sorted."""
        return [k for (k,) in self._conn.execute("SELECT key FROM run_state ORDER BY key")]

    # -- metrics --------------------------------------------------------------------------------

    def commit_iteration(self, iteration: int, metrics_row: dict, state: dict[str, Any]) -> None:
        """Record a finished meta-iteration: its metrics row and the run state that counts it
        (``key -> JSON-serializable value``), in ONE transaction, so after a kill at any moment
        either both are stored or neither. A second row for the same iteration raises
        ``sqlite3.IntegrityError`` and writes nothing."""
        row_text = json.dumps(metrics_row, sort_keys=True)
        state_rows = [(key, json.dumps(value)) for key, value in state.items()]
        with self._transaction() as conn:
            conn.execute("INSERT INTO metrics (iteration, row) VALUES (?, ?)", (int(iteration), row_text))
            conn.executemany("INSERT OR REPLACE INTO run_state (key, value) VALUES (?, ?)", state_rows)

    def metrics_rows(self) -> list[dict]:
        """Every committed metrics row, in iteration order."""
        return [json.loads(text) for (text,) in self._conn.execute("SELECT row FROM metrics ORDER BY iteration")]

    def integrity_check(self) -> str:
        """SQLite's own check of the file; 'ok' when intact."""
        return self._conn.execute("PRAGMA integrity_check").fetchone()[0]


_INSERT_SOLUTION = ("INSERT OR IGNORE INTO solutions (task_id, program, test_outputs, demo_accuracy, iteration, created) "
                    "VALUES (?, ?, ?, ?, ?, ?)")


def _solution_rows(solutions: Sequence[Solution], now: float) -> list[tuple]:
    return [(s.task_id, s.program, encode_grids(s.test_outputs), float(s.demo_accuracy), int(s.iteration), now)
            for s in solutions]


def _experience_from_row(row, decoded_inputs: dict[bytes, tuple]) -> Experience:
    i, task_id, origin, program, inputs_hash, outputs, acc, priority, iteration, created, inputs = row
    grids = decoded_inputs.get(inputs_hash)
    if grids is None:
        grids = decoded_inputs[inputs_hash] = decode_grids(inputs)
    return Experience(
        task_id=task_id,
        origin=origin,
        program=program,
        inputs=grids,
        outputs=decode_grids(outputs),
        demo_accuracy=acc,
        priority=priority,
        iteration=iteration,
        id=i,
        created=created,
    )
