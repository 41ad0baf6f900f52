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


# ---------------------------------------------------------------------- schema v2: experiments


def test_experiments_have_ids_and_archive_and_reactivate_through_the_change_feed(store: Store) -> None:
    first = store.ensure_experiment("exp")
    assert len(first.id) == 36 and first.archived_at is None and first.tags == {}
    assert store.ensure_experiment("exp") == first  # idempotent: same id, same record
    rev = store.current_revision()
    archived = store.archive_experiment("exp")
    assert archived.archived and archived.id == first.id
    assert [e.name for e in store.changes_since(rev).experiments] == ["exp"]
    assert store.list_experiments() == []
    assert [e.name for e in store.list_experiments(include_archived=True)] == ["exp"]
    again = store.archive_experiment("exp")
    assert again.archived_at == archived.archived_at  # archiving twice keeps the first time
    rev = store.current_revision()
    assert not store.reactivate_experiment("exp").archived
    assert [e.name for e in store.changes_since(rev).experiments] == ["exp"]
    assert [e.name for e in store.list_experiments()] == ["exp"]
    with pytest.raises(NotFoundError, match="no experiment named 'nope'"):
        store.archive_experiment("nope")


def test_experiment_tags_are_set_replaced_and_removed(store: Store) -> None:
    store.ensure_experiment("exp")
    rev = store.current_revision()
    assert store.set_experiment_tags("exp", {"team": "vision", "flag": None}).tags == {"team": "vision", "flag": None}
    assert store.set_experiment_tags("exp", {"team": "nlp"}).tags == {"team": "nlp", "flag": None}
    changes = store.changes_since(rev)
    assert [(e.name, e.tags) for e in changes.experiments] == [("exp", {"team": "nlp", "flag": None})]
    assert store.remove_experiment_tags("exp", ["flag", "absent"]) == ["flag"]
    assert store.get_experiment("exp").tags == {"team": "nlp"}  # type: ignore[union-attr]
    with pytest.raises(NotFoundError):
        store.set_experiment_tags("nope", {"a": "b"})


def test_delete_experiment_removes_its_runs_and_everything_of_theirs(store: Store) -> None:
    store.create_runs([_run("a1", "gone"), _run("a2", "gone", parent_id="a1"), _run("k1", "kept")])
    now = time.time()
    store.write_metrics([(r, "loss", None, 1.0, None, "scalar", now) for r in ("a1", "a2", "k1")])
    for r in ("a1", "k1"):
        store.set_tags(r, {"t": "v"})
        store.add_properties(r, {"p": "v"})
        store.add_artifact(r, "outputs/x", 3)
        store.append_log(r, "hello\n", 0)
    store.set_experiment_tags("gone", {"x": "y"})
    assert sorted(store.delete_experiment("gone")) == ["a1", "a2"]
    assert store.get_experiment("gone") is None
    assert [r.id for r in store.query_runs()] == ["k1"]
    assert store.count_points("a1") == 0 and store.get_summaries(["a1"]) == {"a1": []}
    assert store.get_tags(["a1"]) == {"a1": {}} and store.list_artifacts("a1") == []
    assert store.read_log_chunks("a1") == []
    # the other experiment's rows are untouched
    assert store.count_points("k1") == 1 and store.get_tags(["k1"]) == {"k1": {"t": "v"}}
    assert store.read_log_chunks("k1") != [] and store.list_artifacts("k1") != []
    assert store.delete_runs(["k1", "ghost"]) == 1
    assert store.count_runs() == 0 and store.count_points("k1") == 0
    with pytest.raises(NotFoundError):
        store.delete_experiment("gone")


# ---------------------------------------------------------------------- schema v2: runs


def test_runs_are_numbered_per_experiment_and_carry_description_and_snapshot(store: Store) -> None:
    made = store.create_runs([_run("a", "x"), _run("b", "x", description="first try"), _run("c", "y")])
    assert [(r.id, r.number) for r in made] == [("a", 1), ("b", 2), ("c", 1)]
    assert made[1].description == "first try"
    assert store.create_runs([_run("d", "x", snapshot_id="snap-1")])[0].number == 3
    assert store.get_run("d").snapshot_id == "snap-1"
    rec = store.update_run("a", description="better", snapshot_id="snap-2")
    assert (rec.description, rec.snapshot_id) == ("better", "snap-2")
    with pytest.raises(ValueError, match="not updatable"):
        store.update_run("a", number=9)


def test_set_status_refuses_unknown_fields_and_forbidden_transitions(store: Store) -> None:
    from runtui.errors import InvalidTransitionError
    from runtui.store.store import StatusChange

    store.create_runs([_run("r")])
    with pytest.raises(ValueError, match="not settable"):
        store.set_status("r", RunStatus.COMPLETED, revision=0)
    with pytest.raises(ValueError, match="not settable"):
        store.set_statuses([StatusChange("r", RunStatus.COMPLETED, fields={"status": "Running"})])
    assert store.get_run("r").status == RunStatus.RUNNING  # nothing was written
    store.set_status("r", RunStatus.COMPLETED, ended_at=123.0)
    assert store.get_run("r").ended_at == 123.0  # a lost run ends at its last heartbeat
    with pytest.raises(InvalidTransitionError):
        store.set_status("r", RunStatus.RUNNING)


def test_clock_is_the_databases(store: Store) -> None:
    before = time.time()
    now = store.clock()
    assert before - 5 < now < time.time() + 5  # same box: the clocks agree
    store.create_runs([_run("r")])
    store.heartbeat(["r"])
    beat = store.get_run("r").heartbeat_at
    assert beat is not None and now - 1 < beat < store.clock() + 1


# ---------------------------------------------------------------------- atomic get-or-create


def test_concurrent_get_or_create_never_errors(store: Store) -> None:
    """8 threads (each its own connection) create one new experiment, run, tag and series at one instant."""
    import threading

    trials, workers = 10, 8
    errors: list[BaseException] = []
    for t in range(trials):
        barrier = threading.Barrier(workers)
        exp = f"race-{t}"
        store.create_runs([_run(f"base-{t}", "base")])

        def work(k: int, exp: str = exp, t: int = t, barrier: threading.Barrier = barrier) -> None:
            try:
                barrier.wait()
                store.ensure_experiment(exp)
                store.create_runs([_run(f"{exp}-{k}", exp)])
                store.set_tags(f"base-{t}", {"shared": str(k)})
                store.add_properties(f"base-{t}", {"same": "value"})
                store.write_metrics([(f"base-{t}", "loss", None, float(k), None, "scalar", time.time())])
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(workers)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert errors == []
        numbers = sorted(r.number or 0 for r in store.query_runs(experiment=exp))
        assert numbers == list(range(1, workers + 1))  # no number handed out twice
        [series] = store.get_series(f"base-{t}")
        assert sorted(series.steps) == list(range(workers))  # steps continue, never collide
        assert store.get_summaries([f"base-{t}"])[f"base-{t}"][0].count == workers


def test_get_or_create_knows_what_it_created(store: Store) -> None:
    """An upsert that inserted bumps the revision (viewers see the new row); one that found the row does not.

    On PostgreSQL the insert's row count used to read -1 (SQLAlchemy 2.1 drops INSERT row counts unless asked),
    so a new experiment kept revision 0 and a repeated property write bumped the revision every time.
    """
    before = store.current_revision()
    created = store.ensure_experiment("fresh")
    assert created.revision > before
    assert store.ensure_experiment("fresh").revision == created.revision
    store.create_runs([_run("p", "fresh")])
    store.add_properties("p", {"k": "v"})
    after_first = store.current_revision()
    store.add_properties("p", {"k": "v"})  # already there: nothing changed, nothing to announce
    assert store.current_revision() == after_first
