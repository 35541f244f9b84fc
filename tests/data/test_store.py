import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from domplay.data.store import CheckpointRecord, DatasetRecord, RunStore
from domplay.errors import StoreError
from tests.data.factory import make_episode, make_task

ROOT = Path(__file__).resolve().parents[2]
WRITER = """
import sys
from domplay.data.store import RunStore
from tests.data.factory import make_episode
store = RunStore(sys.argv[1])
for i in range(int(sys.argv[2])):
    steps = [f"click({j})" for j in range(40)]
    store.add_episode(make_episode(f"t{i % 7}", steps, i % 3 == 0, sample=i))
"""
POLL_S = 0.01
DEADLINE_S = 60.0


def _sample_episodes(n=6):
    return [
        make_episode(
            f"t{i % 3}", ["click(1)", "junk", "click(2)"], i % 2 == 0, policy=f"p{i % 2}", sample=i, round=i // 3
        )
        for i in range(n)
    ]


def test_round_trip_and_filters(tmp_path):
    with RunStore(tmp_path) as store:
        tasks = [make_task("t0"), make_task("t1", split="heldout"), make_task("t2", template=None)]
        assert store.add_tasks(tasks, round=1) == 3
        assert store.add_tasks(tasks, round=2) == 0  # first write wins
        assert [t.id for t in store.tasks(split="heldout")] == ["t1"]
        assert store.tasks(round=1) == tasks and store.tasks(round=2) == []
        assert store.task("t2") == tasks[2] and store.task("nope") is None

        eps = _sample_episodes()
        assert all(store.add_episode(e) for e in eps)
        assert not any(store.add_episode(e) for e in eps)
        assert store.count_episodes() == 6
        assert store.episode(eps[0].id) == eps[0]
        assert {e.id for e in store.episodes(round=1)} == {e.id for e in eps if e.round == 1}
        assert {e.id for e in store.episodes(task_id="t0", policy="p0")} == {eps[0].id}
        assert {e.id for e in store.successes()} == {e.id for e in eps if e.success}
        assert store.episode_ids(round=0) == {e.id for e in eps[:3]}


def test_rewrite_verdict_is_the_one_update(tmp_path):
    store = RunStore(tmp_path)
    failed = make_episode("t0", ["click(1)"], False)
    store.add_episode(failed)
    better = make_episode("t0", ["click(1)"], True).verdict
    store.rewrite_verdict(failed.id, better)
    assert store.episode(failed.id).verdict == better and store.successes() != []
    with pytest.raises(StoreError, match="no episode"):
        store.rewrite_verdict("missing", better)


def test_records_are_upserted(tmp_path):
    store = RunStore(tmp_path)
    store.record_dataset(DatasetRecord(0, "sft", "sft", "a.parquet", 5, {"seed": 0}, {"episodes": 9}))
    store.record_dataset(DatasetRecord(0, "sft", "sft", "b.parquet", 7, {"seed": 1}, {"episodes": 9}))
    assert [(d.path, d.rows, d.config) for d in store.datasets(round=0)] == [("b.parquet", 7, {"seed": 1})]
    store.record_checkpoint(CheckpointRecord(1, "sft", "ckpt/1", {"lr": 1e-4}, "abc123", {"loss": 0.5}))
    assert store.checkpoints(round=1)[0].git_revision == "abc123"
    store.record_metrics(1, "eval", {"success_rate": 0.25})
    store.record_metrics(1, "eval", {"success_rate": 0.5, "episodes": 8})
    assert {m.name: m.value for m in store.metrics(1, "eval")} == {"success_rate": 0.5, "episodes": 8.0}
    assert store.last_round() is None and not store.stage_done(1, "rollout")
    store.mark_stage(1, "rollout", "running")
    store.mark_stage(1, "rollout")
    assert store.stage_done(1, "rollout") and store.last_round() == 1
    store.close()
    assert RunStore(tmp_path).stage_status(1, "rollout") == "done"  # persisted


def test_concurrent_writers_never_duplicate(tmp_path):
    store = RunStore(tmp_path)
    eps = [make_episode(f"t{i % 4}", ["click(1)"], True, sample=i) for i in range(40)]
    inserted = []

    def write(offset):
        for i in range(40):  # every thread writes every episode, starting at a different place
            inserted.append(store.add_episode(eps[(i + offset) % 40]))

    threads = [threading.Thread(target=write, args=(k * 10,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(inserted) == 40 and len(inserted) == 160
    assert store.count_episodes() == 40 and store.episode_ids() == {e.id for e in eps}
    assert store.integrity_check() == "ok"
    store.close()


def _writer(run_dir, n):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    return subprocess.Popen([sys.executable, "-c", WRITER, str(run_dir), str(n)], env=env, cwd=ROOT)


def test_killed_writer_loses_at_most_the_episode_in_flight(tmp_path):
    total = 400
    child = _writer(tmp_path, total)
    reader = None
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline and child.poll() is None:
        if (tmp_path / "store.sqlite").exists():
            reader = reader or RunStore(tmp_path)
            if reader.count_episodes() >= 30:
                break
        time.sleep(POLL_S)
    assert child.poll() is None, "the writer finished before it could be killed; raise `total`"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    reader.close()

    store = RunStore(tmp_path)
    assert store.integrity_check() == "ok"
    stored = store.episodes()
    assert 30 <= len(stored) < total
    assert len({e.id for e in stored}) == len(stored)
    assert all(len(e.steps) == 40 for e in stored)  # no half-written episode
    store.close()

    assert _writer(tmp_path, total).wait() == 0  # re-running completes it
    store = RunStore(tmp_path)
    assert store.count_episodes() == total and store.integrity_check() == "ok"
    assert {e.sample for e in store.episodes()} == set(range(total))


def test_a_read_only_store_reads_past_a_stopped_writers_lock_and_writes_nothing(tmp_path):
    import sqlite3

    with RunStore(tmp_path) as store:
        store.add_episode(make_episode("t0", ["click(1)"], True))
    writer = sqlite3.connect(tmp_path / "store.sqlite", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a writer that stopped holding the write lock
    try:
        with RunStore(tmp_path, busy_timeout_ms=0, read_only=True) as reader:  # 0: a lock wait would fail at once
            assert len(reader.episodes()) == 1
            with pytest.raises(StoreError, match="read-only"):
                reader.add_episode(make_episode("t1", ["click(1)"], True))
    finally:
        writer.execute("ROLLBACK")
        writer.close()


@pytest.mark.parametrize("content", [b"", b"this is not a database"], ids=["empty", "garbage"])
def test_a_read_only_store_refuses_a_file_that_holds_no_run(tmp_path, content):
    (tmp_path / "store.sqlite").write_bytes(content)
    with pytest.raises(StoreError, match="store"):
        RunStore(tmp_path, read_only=True)
    assert (tmp_path / "store.sqlite").read_bytes() == content


def test_a_writable_store_over_garbage_is_a_store_error(tmp_path):
    (tmp_path / "store.sqlite").write_bytes(b"this is not a database")
    with pytest.raises(StoreError, match="is it a domplay run store"):
        RunStore(tmp_path)
