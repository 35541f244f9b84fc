"""The run store: one SQLite database per run directory (`<run>/store.sqlite`, WAL mode).

Tables and their write policy (ids are stable, so a resumed run rewrites the same keys):

- `tasks` (id) and `episodes` (id): first write wins (`ON CONFLICT DO NOTHING`). Writing an
  episode again after a crash is a no-op, never a duplicate. `rewrite_verdict` is the one
  explicit update (re-verification after a verifier change).
- `datasets` (round, name), `checkpoints` (round, name), `metrics` (round, stage, name),
  `stages` (round, stage): last write wins (upsert), so re-running a stage replaces its records.

Every write is one transaction (`BEGIN IMMEDIATE`), an episode with its steps, snapshot and
verdict included, so a process killed at any moment loses at most the episode in flight.
Each thread gets its own connection, so rollout workers write concurrently.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from domplay.agent.episode import Episode
from domplay.errors import ConfigError, StoreError
from domplay.tasks.model import Task
from domplay.verify.verdict import Verdict

STORE_FILE = "store.sqlite"
SCHEMA_VERSION = 1
DEFAULT_BUSY_TIMEOUT_MS = 30_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
  id TEXT PRIMARY KEY, round INTEGER NOT NULL, split TEXT, site TEXT NOT NULL, template TEXT,
  json TEXT NOT NULL, created_s REAL NOT NULL);
CREATE INDEX IF NOT EXISTS tasks_split_round ON tasks (split, round);
CREATE TABLE IF NOT EXISTS episodes (
  id TEXT PRIMARY KEY, task_id TEXT NOT NULL, policy TEXT NOT NULL, round INTEGER NOT NULL,
  sample INTEGER NOT NULL, status TEXT NOT NULL, success INTEGER NOT NULL, score REAL,
  n_steps INTEGER NOT NULL, meta TEXT NOT NULL, steps TEXT NOT NULL, snapshot TEXT, verdict TEXT,
  created_s REAL NOT NULL);
CREATE INDEX IF NOT EXISTS episodes_round_task ON episodes (round, task_id, policy);
CREATE TABLE IF NOT EXISTS datasets (
  round INTEGER NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, path TEXT, rows INTEGER NOT NULL,
  config TEXT NOT NULL, yield TEXT NOT NULL, created_s REAL NOT NULL, PRIMARY KEY (round, name));
CREATE TABLE IF NOT EXISTS checkpoints (
  round INTEGER NOT NULL, name TEXT NOT NULL, path TEXT NOT NULL, config TEXT NOT NULL,
  git_revision TEXT, metrics TEXT NOT NULL, created_s REAL NOT NULL, PRIMARY KEY (round, name));
CREATE TABLE IF NOT EXISTS metrics (
  round INTEGER NOT NULL, stage TEXT NOT NULL, name TEXT NOT NULL, value REAL NOT NULL,
  time_s REAL NOT NULL, PRIMARY KEY (round, stage, name));
CREATE TABLE IF NOT EXISTS stages (
  round INTEGER NOT NULL, stage TEXT NOT NULL, status TEXT NOT NULL, time_s REAL NOT NULL,
  PRIMARY KEY (round, stage));
"""

_EPISODE_PARTS = ("steps", "snapshot", "verdict")


@dataclass(frozen=True)
class DatasetRecord:
    round: int
    name: str
    kind: str
    """sft, step, trajectory, reference, spin, ..."""
    path: str | None
    rows: int
    config: dict[str, Any]
    yield_numbers: dict[str, Any]
    """The round's yield table row (`YieldTable.as_row()`)."""


@dataclass(frozen=True)
class CheckpointRecord:
    round: int
    name: str
    path: str
    config: dict[str, Any]
    git_revision: str | None
    metrics: dict[str, Any]
    """Numbers of the training run (rows, final_loss, seconds, ...) and its logged `losses` list."""


@dataclass(frozen=True)
class MetricRecord:
    round: int
    stage: str
    name: str
    value: float
    time_s: float


class RunStore:
    """Tasks, episodes, datasets, checkpoints, metrics and finished stages of one run."""

    def __init__(
        self, run_dir: str | Path, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS, read_only: bool = False
    ) -> None:
        """Open (creating it unless `read_only`) the store of `run_dir`. Read-only stores open SQLite in
        read-only mode and take no lock, so a report can read a run whose writer is stopped or running."""
        if busy_timeout_ms < 0:
            raise ConfigError(f"busy_timeout_ms={busy_timeout_ms} must be >= 0 (how long a writer waits for the lock)")
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / STORE_FILE
        self.busy_timeout_ms = busy_timeout_ms
        self.read_only = read_only
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        if read_only:
            if not self.path.is_file():
                raise StoreError(f"{self.path} does not exist; pass the directory of a `domplay run`")
            self._check_version(self._query("PRAGMA user_version")[0][0], read_only=True)
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with self._tx() as conn:
            self._check_version(conn.execute("PRAGMA user_version").fetchone()[0], read_only=False)
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _check_version(self, version: int, read_only: bool) -> None:
        if version == 0 and read_only:
            raise StoreError(
                f"{self.path} holds no run store (an empty or foreign SQLite file); "
                "pass the directory of a `domplay run`"
            )
        if version not in (0, SCHEMA_VERSION):
            raise StoreError(
                f"{self.path} has schema version {version}, this domplay reads {SCHEMA_VERSION}; "
                f"use a new run directory or the domplay version that wrote it"
            )

    # -- connections -------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                # check_same_thread=False only so that close() may close every thread's connection;
                # each connection is used by the thread that opened it.
                if self.read_only:
                    conn = sqlite3.connect(
                        f"{self.path.resolve().as_uri()}?mode=ro",
                        uri=True,
                        timeout=self.busy_timeout_ms / 1000,
                        isolation_level=None,
                        check_same_thread=False,
                    )
                else:
                    conn = sqlite3.connect(
                        self.path, timeout=self.busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False
                    )
                    conn.execute("PRAGMA journal_mode=WAL")
                    # NORMAL is durable against a killed process in WAL mode (not against power loss).
                    conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute(f"PRAGMA busy_timeout={self.busy_timeout_ms}")
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"cannot open run store {self.path}: {exc}; is it a domplay run store?") from exc
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        if self.read_only:
            raise StoreError(f"{self.path} was opened read-only; open it with RunStore(run_dir) to write")
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot write run store {self.path}: {exc}") from exc
        try:
            yield conn
        except sqlite3.DatabaseError as exc:
            conn.execute("ROLLBACK")
            raise StoreError(f"run store {self.path} refused a write: {exc}") from exc
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        try:
            return self._conn().execute(sql, tuple(args)).fetchall()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot read run store {self.path}: {exc}; is it a domplay run store?") from exc

    def close(self) -> None:
        """Close every thread's connection (call once writers are done)."""
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def integrity_check(self) -> str:
        """SQLite's own check: "ok" when the file is sound."""
        return self._query("PRAGMA integrity_check")[0][0]

    # -- tasks -------------------------------------------------------------------------------
    def add_tasks(self, tasks: Sequence[Task], round: int = 0) -> int:
        """Insert tasks (first write wins); return how many were new. `round` is when they were proposed."""
        now = time.time()
        with self._tx() as conn:
            before = conn.total_changes
            conn.executemany(
                "INSERT INTO tasks (id, round, split, site, template, json, created_s) VALUES (?,?,?,?,?,?,?) "
                "ON CONFLICT(id) DO NOTHING",
                [
                    (t.id, round, t.provenance.split, t.site, t.provenance.template, t.model_dump_json(), now)
                    for t in tasks
                ],
            )
            return conn.total_changes - before

    def tasks(self, split: str | None = None, round: int | None = None) -> list[Task]:
        """Tasks, by id, optionally of one split ("train", "heldout") and/or proposed in one round."""
        where, args = _where(split=split, round=round)
        return [Task.model_validate_json(r[0]) for r in self._query(f"SELECT json FROM tasks{where} ORDER BY id", args)]

    def task(self, task_id: str) -> Task | None:
        rows = self._query("SELECT json FROM tasks WHERE id = ?", [task_id])
        return Task.model_validate_json(rows[0][0]) if rows else None

    # -- episodes ----------------------------------------------------------------------------
    def add_episode(self, episode: Episode) -> bool:
        """Write one episode in its own transaction; False when its id was already stored."""
        data = episode.model_dump(mode="json")
        parts = {k: data.pop(k) for k in _EPISODE_PARTS}
        verdict = episode.verdict
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT INTO episodes (id, task_id, policy, round, sample, status, success, score, n_steps, meta, "
                "steps, snapshot, verdict, created_s) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO NOTHING",
                (
                    episode.id,
                    episode.task_id,
                    episode.policy,
                    episode.round,
                    episode.sample,
                    episode.status,
                    int(episode.success),
                    verdict.score if verdict is not None else None,
                    len(episode.steps),
                    json.dumps(data),
                    json.dumps(parts["steps"]),
                    _dumps_or_none(parts["snapshot"]),
                    _dumps_or_none(parts["verdict"]),
                    time.time(),
                ),
            )
            return cur.rowcount == 1

    def rewrite_verdict(self, episode_id: str, verdict: Verdict) -> None:
        """Replace an episode's verdict (re-verification with a newer verifier)."""
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE episodes SET verdict = ?, success = ?, score = ? WHERE id = ?",
                (verdict.model_dump_json(), int(verdict.success), verdict.score, episode_id),
            )
            if cur.rowcount != 1:
                raise StoreError(f"no episode {episode_id!r} in {self.path}; store it with add_episode first")

    def has_episode(self, episode_id: str) -> bool:
        return bool(self._query("SELECT 1 FROM episodes WHERE id = ?", [episode_id]))

    def episode_ids(self, round: int | None = None, task_id: str | None = None, policy: str | None = None) -> set[str]:
        """Ids already stored (a resumed rollout skips these)."""
        where, args = _where(round=round, task_id=task_id, policy=policy)
        return {r[0] for r in self._query(f"SELECT id FROM episodes{where}", args)}

    def episodes(
        self,
        round: int | None = None,
        task_id: str | None = None,
        policy: str | None = None,
        success: bool | None = None,
    ) -> list[Episode]:
        """Episodes matching every given filter, ordered by (round, task, policy, sample)."""
        where, args = _where(
            round=round, task_id=task_id, policy=policy, success=None if success is None else int(success)
        )
        rows = self._query(
            f"SELECT id, meta, steps, snapshot, verdict FROM episodes{where} "
            f"ORDER BY round, task_id, policy, sample, id",
            args,
        )
        return [_episode(r, self.path) for r in rows]

    def successes(self, round: int | None = None) -> list[Episode]:
        return self.episodes(round=round, success=True)

    def episode(self, episode_id: str) -> Episode | None:
        rows = self._query("SELECT id, meta, steps, snapshot, verdict FROM episodes WHERE id = ?", [episode_id])
        return _episode(rows[0], self.path) if rows else None

    def count_episodes(self, round: int | None = None) -> int:
        where, args = _where(round=round)
        return self._query(f"SELECT COUNT(*) FROM episodes{where}", args)[0][0]

    # -- datasets, checkpoints, metrics, stages -----------------------------------------------
    def record_dataset(self, record: DatasetRecord) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO datasets (round, name, kind, path, rows, config, yield, created_s) "
                "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(round, name) DO UPDATE SET kind=excluded.kind, "
                "path=excluded.path, rows=excluded.rows, config=excluded.config, yield=excluded.yield, "
                "created_s=excluded.created_s",
                (
                    record.round,
                    record.name,
                    record.kind,
                    record.path,
                    record.rows,
                    json.dumps(record.config),
                    json.dumps(record.yield_numbers),
                    time.time(),
                ),
            )

    def datasets(self, round: int | None = None, kind: str | None = None) -> list[DatasetRecord]:
        where, args = _where(round=round, kind=kind)
        rows = self._query(
            f"SELECT round, name, kind, path, rows, config, yield FROM datasets{where} ORDER BY round, name", args
        )
        return [DatasetRecord(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), json.loads(r[6])) for r in rows]

    def record_checkpoint(self, record: CheckpointRecord) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO checkpoints (round, name, path, config, git_revision, metrics, created_s) "
                "VALUES (?,?,?,?,?,?,?) ON CONFLICT(round, name) DO UPDATE SET path=excluded.path, "
                "config=excluded.config, git_revision=excluded.git_revision, metrics=excluded.metrics, "
                "created_s=excluded.created_s",
                (
                    record.round,
                    record.name,
                    record.path,
                    json.dumps(record.config),
                    record.git_revision,
                    json.dumps(record.metrics),
                    time.time(),
                ),
            )

    def checkpoints(self, round: int | None = None) -> list[CheckpointRecord]:
        where, args = _where(round=round)
        rows = self._query(
            f"SELECT round, name, path, config, git_revision, metrics FROM checkpoints{where} ORDER BY round, name",
            args,
        )
        return [CheckpointRecord(r[0], r[1], r[2], json.loads(r[3]), r[4], json.loads(r[5])) for r in rows]

    def record_metrics(self, round: int, stage: str, values: dict[str, float]) -> None:
        """Upsert metrics of one stage of one round (re-running the stage replaces them)."""
        now = time.time()
        with self._tx() as conn:
            conn.executemany(
                "INSERT INTO metrics (round, stage, name, value, time_s) VALUES (?,?,?,?,?) "
                "ON CONFLICT(round, stage, name) DO UPDATE SET value=excluded.value, time_s=excluded.time_s",
                [(round, stage, name, float(value), now) for name, value in values.items()],
            )

    def metrics(self, round: int | None = None, stage: str | None = None) -> list[MetricRecord]:
        where, args = _where(round=round, stage=stage)
        rows = self._query(
            f"SELECT round, stage, name, value, time_s FROM metrics{where} ORDER BY round, stage, name", args
        )
        return [MetricRecord(*r) for r in rows]

    def mark_stage(self, round: int, stage: str, status: str = "done") -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO stages (round, stage, status, time_s) VALUES (?,?,?,?) "
                "ON CONFLICT(round, stage) DO UPDATE SET status=excluded.status, time_s=excluded.time_s",
                (round, stage, status, time.time()),
            )

    def stage_status(self, round: int, stage: str) -> str | None:
        rows = self._query("SELECT status FROM stages WHERE round = ? AND stage = ?", [round, stage])
        return rows[0][0] if rows else None

    def stage_done(self, round: int, stage: str) -> bool:
        return self.stage_status(round, stage) == "done"

    def last_round(self) -> int | None:
        """The highest round with any finished stage, None for a fresh run."""
        return self._query("SELECT MAX(round) FROM stages WHERE status = 'done'")[0][0]


def _where(**filters: Any) -> tuple[str, list[Any]]:
    given = [(k, v) for k, v in filters.items() if v is not None]
    if not given:
        return "", []
    return " WHERE " + " AND ".join(f"{k} = ?" for k, _ in given), [v for _, v in given]


def _dumps_or_none(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def _episode(row: tuple, path: Path) -> Episode:
    episode_id, meta, steps, snapshot, verdict = row
    try:
        data = json.loads(meta)
        data["steps"] = json.loads(steps)
        data["snapshot"] = json.loads(snapshot) if snapshot is not None else None
        data["verdict"] = json.loads(verdict) if verdict is not None else None
        return Episode.model_validate(data)
    except ValueError as exc:  # json and pydantic errors alike
        raise StoreError(f"episode {episode_id!r} in {path} cannot be read back: {exc}") from exc
