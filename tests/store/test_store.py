"""The store contract: change feed, schema versions, errors, permissions, prefixes."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from runtui.errors import AmbiguousRunIdError, NotFoundError, StoreError, StoreVersionError
from runtui.status import RunStatus
from runtui.store import NewRun, Store
from runtui.store.db import Database
from runtui.store.engine import dispose_engine


def _run(rid: str, exp: str = "e", **kw: object) -> NewRun:
    return NewRun(id=rid, experiment=exp, status=RunStatus.RUNNING, **kw)  # type: ignore[arg-type]


def test_change_feed_returns_only_changed_runs(store: Store) -> None:
    store.create_runs([_run(f"r{i}") for i in range(20)])
    rev = store.current_revision()
    assert store.changes_since(rev).runs == []
    store.set_tags("r3", {"k": "v"})
    store.set_status("r7", RunStatus.COMPLETED)
    store.write_metrics([("r11", "loss", None, 1.0, None, "scalar", time.time())])
    changes = store.changes_since(rev)
    assert sorted(r.id for r in changes.runs) == ["r11", "r3", "r7"]
    assert changes.revision > rev
    assert store.changes_since(changes.revision).runs == []


def test_heartbeats_are_quiet(store: Store) -> None:
    store.create_runs([_run("r1")])
    rev = store.current_revision()
    store.heartbeat(["r1"])
    assert store.current_revision() == rev
    assert store.get_run("r1").heartbeat_at is not None


def test_set_status_records_times_and_only_from(store: Store) -> None:
    store.create_runs([NewRun(id="q", experiment="e", status=RunStatus.QUEUED)])
    assert store.get_run("q").started_at is None
    rec, changed = store.set_status("q", RunStatus.RUNNING)
    assert changed and rec.started_at is not None and rec.ended_at is None
    rec, changed = store.set_status("q", RunStatus.CANCELED, only_from=frozenset({RunStatus.QUEUED}))
    assert not changed and rec.status == RunStatus.RUNNING
    rec, changed = store.set_status("q", RunStatus.FAILED, error="boom", exit_code=3)
    assert changed and rec.ended_at is not None and rec.error == "boom" and rec.exit_code == 3


def test_resolve_prefixes(store: Store) -> None:
    store.create_runs([_run("abc_1"), _run("abc_2"), _run("abd_1"), _run("a%c")])
    assert store.resolve_run_id("abd") == "abd_1"
    assert store.resolve_run_id("abc_1") == "abc_1"
    with pytest.raises(AmbiguousRunIdError) as info:
        store.resolve_run_id("abc")
    assert info.value.candidates == ["abc_1", "abc_2"]
    with pytest.raises(NotFoundError):
        store.resolve_run_id("zzz")
    # wildcards in the prefix are data, not patterns
    with pytest.raises(NotFoundError):
        store.resolve_run_id("ab_")
    assert store.resolve_run_id("a%") == "a%c"


def test_query_runs_pages_without_overlap(store: Store) -> None:
    store.create_runs([_run(f"p{i:03d}") for i in range(55)])
    ids = [r.id for r in store.query_runs(batch_size=10)]
    assert len(ids) == len(set(ids)) == 55
    assert len(list(store.query_runs(limit=7, batch_size=3))) == 7


def test_newer_schema_is_refused(store_url: str) -> None:
    Store(store_url)
    engine = Store(store_url).engine
    with engine.begin() as conn:
        conn.execute(text("UPDATE store_meta SET schema_version = 999"))
    Database.forget_schema(store_url)
    with pytest.raises(StoreVersionError, match=r"newer runtui.*schema version 999"):
        Store(store_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE store_meta SET schema_version = 1"))


def test_older_schema_is_migrated(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from runtui.store import models, schema

    Store(store_url)
    calls: list[int] = []
    monkeypatch.setattr(models, "SCHEMA_VERSION", 3)
    monkeypatch.setitem(schema.MIGRATIONS, 2, lambda conn: calls.append(2))
    Database.forget_schema(store_url)
    s = Store(store_url)
    assert calls == [2]
    with s.engine.connect() as conn:
        assert conn.execute(text("SELECT schema_version FROM store_meta")).scalar() == 3
    Database.forget_schema(store_url)


def test_sqlite_store_is_private(tmp_path: Path) -> None:
    db = tmp_path / "home" / "runtui.db"
    url = f"sqlite:///{db}"
    try:
        Store(url)
        assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(db.parent).st_mode) == 0o700
    finally:
        dispose_engine(url)


def test_unwritable_store_path_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="cannot create the store"):
        Store(f"sqlite:///{blocker}/sub/runtui.db")


def test_bad_url_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="cannot open store"):
        Store("nosuchdb://x/y")


def test_unknown_run(store: Store) -> None:
    with pytest.raises(NotFoundError, match="no run with id 'ghost'"):
        store.get_run("ghost")
    with pytest.raises(NotFoundError):
        store.set_tags("ghost", {"a": "b"})
    with pytest.raises(NotFoundError):
        store.set_status("ghost", RunStatus.FAILED)


def test_metric_summaries_merge_across_batches(store: Store) -> None:
    store.create_runs([_run("m")])
    t = time.time()
    store.write_metrics([("m", "loss", None, 3.0, None, "scalar", t), ("m", "loss", None, 1.0, None, "scalar", t)])
    store.write_metrics([("m", "loss", None, 2.0, None, "scalar", t), ("m", "acc", 5, 0.5, None, "scalar", t)])
    summaries = {s.name: s for s in store.get_summaries(["m"])["m"]}
    loss = summaries["loss"]
    assert (loss.last, loss.min, loss.max, loss.count, loss.last_step) == (2.0, 1.0, 3.0, 3, 2)
    assert summaries["acc"].last_step == 5
    [series] = store.get_series("m", ["loss"])
    assert series.steps == [0, 1, 2] and series.values == [3.0, 1.0, 2.0]
