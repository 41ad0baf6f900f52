"""PostgreSQL LISTEN/NOTIFY: the watcher wakes on commits (not on rollbacks), survives the server dropping its
connection, ignores stores in other schemas, and falls back to the revision poll. Needs RUNTUI_TEST_POSTGRES_URL."""

from __future__ import annotations

import os
import threading
import time

import pytest
from sqlalchemy import create_engine, text

from runtui.errors import InvalidTransitionError
from runtui.status import RunStatus
from runtui.store import NewRun, Store
from runtui.watch import PgListenWatcher, libpq_url, log_copy_watcher, store_watcher

PG_URL = os.environ.get("RUNTUI_TEST_POSTGRES_URL")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.timeout(120),
    pytest.mark.skipif(PG_URL is None, reason="needs RUNTUI_TEST_POSTGRES_URL"),
]
WAIT = 20.0  # an upper bound for a wake-up that takes milliseconds; never a timing assertion


@pytest.fixture
def pg_url(pg_schema_url: str) -> str:
    return pg_schema_url


@pytest.fixture
def pg_store(pg_url: str) -> Store:
    return Store(pg_url)


def _run(store: Store, n: int, status: RunStatus = RunStatus.RUNNING) -> str:
    run_id = f"pg_1_{n:08x}"
    store.create_runs([NewRun(id=run_id, experiment="pg", status=status, host="boxA")])
    return run_id


def _later(fn: object, delay: float = 0.1) -> None:
    threading.Timer(delay, fn).start()  # type: ignore[arg-type]


def test_store_watcher_for_postgresql_listens(pg_url: str, pg_store: Store) -> None:
    with store_watcher(pg_url) as watcher:
        assert isinstance(watcher, PgListenWatcher)
        assert watcher.mode == "events"


def test_a_status_change_wakes_through_notify_with_the_poll_disabled(pg_url: str, pg_store: Store) -> None:
    run_id = _run(pg_store, 1)
    with PgListenWatcher(pg_url, poll_interval=None) as watcher:  # no revision poll: only NOTIFY can wake it
        sub = watcher.subscribe()
        _later(lambda: pg_store.set_status(run_id, RunStatus.COMPLETED))
        assert sub.wait(WAIT) is True
        assert watcher.notifications >= 1
        changes = pg_store.changes_since(0)
        assert [r.status for r in changes.runs if r.id == run_id] == [RunStatus.COMPLETED]


def test_async_waiters_wake_too(pg_url: str, pg_store: Store) -> None:
    import asyncio

    run_id = _run(pg_store, 2)

    async def scenario() -> bool:
        with PgListenWatcher(pg_url, poll_interval=None) as watcher:
            sub = watcher.subscribe()
            _later(lambda: pg_store.set_tags(run_id, {"seen": None}))
            return await sub.wait_async(WAIT)

    assert asyncio.run(scenario()) is True


def test_a_rolled_back_write_notifies_nobody(pg_url: str, pg_store: Store) -> None:
    run_id = _run(pg_store, 3, RunStatus.COMPLETED)
    with PgListenWatcher(pg_url, poll_interval=None) as watcher:
        sub = watcher.subscribe()
        with pytest.raises(InvalidTransitionError):
            pg_store.set_status(run_id, RunStatus.RUNNING)  # refused inside the transaction: rolled back
        assert sub.wait(1.0) is False
        assert watcher.notifications == 0


def test_heartbeats_are_quiet(pg_url: str, pg_store: Store) -> None:
    run_id = _run(pg_store, 4)
    with PgListenWatcher(pg_url, poll_interval=None) as watcher:
        sub = watcher.subscribe()
        pg_store.heartbeat([run_id])
        assert sub.wait(1.0) is False


def test_stores_in_other_schemas_do_not_wake_it(pg_url: str, pg_store: Store, other_pg_schema_url: str) -> None:
    other = Store(other_pg_schema_url)
    with PgListenWatcher(pg_url, poll_interval=None) as watcher:
        sub = watcher.subscribe()
        _run(other, 5)  # same database, same channel, another schema
        assert sub.wait(1.0) is False
        _run(pg_store, 6)
        assert sub.wait(WAIT) is True


def test_the_revision_poll_catches_a_change_without_notify(pg_url: str, pg_store: Store) -> None:
    engine = create_engine(pg_url)
    try:
        with PgListenWatcher(pg_url, poll_interval=None) as quiet, PgListenWatcher(pg_url, poll_interval=0.2) as poll:
            q, p = quiet.subscribe(), poll.subscribe()
            with engine.begin() as conn:  # what a runtui without NOTIFY (or a lost notification) looks like
                conn.execute(text("UPDATE store_meta SET revision = revision + 1 WHERE id = 1"))
            assert p.wait(WAIT) is True
            assert q.wait(0.5) is False
    finally:
        engine.dispose()


def test_it_reconnects_when_the_server_drops_its_connection(pg_url: str, pg_store: Store) -> None:
    with PgListenWatcher(pg_url, poll_interval=None) as watcher:
        sub = watcher.subscribe()
        backend = watcher._conn.info.backend_pid
        admin = create_engine(pg_url)
        try:
            with admin.begin() as conn:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        finally:
            admin.dispose()
        assert sub.wait(WAIT) is True  # losing the connection wakes waiters: they re-read what they may have missed

        deadline = time.monotonic() + WAIT
        while watcher.reconnects < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert watcher.reconnects == 1
        assert watcher.mode == "events"
        sub.changed()  # the reconnect's own wake-up
        _run(pg_store, 7)
        assert sub.wait(WAIT) is True  # notifications flow again on the new connection


def test_an_unreachable_server_means_polling_not_a_crash(pg_url: str) -> None:
    from sqlalchemy.engine import make_url

    dead = make_url(pg_url).set(host="127.0.0.1", port=1).render_as_string(hide_password=False)
    watcher = PgListenWatcher(dead, poll_interval=0.2).start()
    try:
        assert watcher.mode == "polling"
        assert watcher.subscribe().wait(0.5) is False  # waiting works; nothing changed, nothing was faked
        assert watcher.reconnects == 0
    finally:
        watcher.close()
    assert watcher.mode == "closed"


def test_log_copy_watcher_wakes_only_for_its_run(pg_url: str, pg_store: Store) -> None:
    mine, other = _run(pg_store, 8), _run(pg_store, 9)
    watcher = log_copy_watcher(pg_url, mine)
    assert watcher is not None
    try:
        sub = watcher.subscribe()
        pg_store.append_log(other, "not for us\n", 0)
        assert sub.wait(1.0) is False
        pg_store.append_log(mine, "for us\n", 0)
        assert sub.wait(WAIT) is True
    finally:
        watcher.close()


def test_log_copy_watcher_is_none_for_sqlite() -> None:
    assert log_copy_watcher("sqlite:///runtui.db", "r") is None  # nothing is copied into a SQLite store


def test_libpq_url_drops_the_driver_and_keeps_options() -> None:
    url = "postgresql+psycopg://alice:s3cret@db.example:5433/runs?options=-csearch_path%3Dx"
    out = libpq_url(url)
    assert out.startswith("postgresql://alice:s3cret@db.example:5433/runs")
    assert "search_path" in out


def test_the_status_watcher_wakes_only_for_status_changes_of_the_runs_it_wants(pg_url: str, pg_store: Store) -> None:
    """A box agent's watcher: a metric batch, a tag or another box's run changing status wakes nothing (before,
    every revision bump of every box woke every agent for a status read); its own run's change does, with the new
    status in hand."""
    from runtui.watch import status_watcher

    mine, other = _run(pg_store, 10), _run(pg_store, 11)
    seen: list[tuple[str, str]] = []

    def on_status(run_id: str, status: str) -> bool:
        seen.append((run_id, status))
        return run_id == mine

    watcher = status_watcher(pg_url, on_status)
    try:
        assert isinstance(watcher, PgListenWatcher)
        sub = watcher.subscribe()
        pg_store.write_metrics([(mine, "loss", 0, 1.0, None, "scalar", time.time())])
        pg_store.set_tags(mine, {"seen": None})
        pg_store.set_status(other, RunStatus.CANCEL_REQUESTED)
        assert sub.wait(1.0) is False
        pg_store.set_status(mine, RunStatus.CANCEL_REQUESTED)
        assert sub.wait(WAIT) is True
        # Only status changes reach on_status, each with its run and its committed new status.
        assert seen == [(other, "CancelRequested"), (mine, "CancelRequested")]
    finally:
        watcher.close()


def test_a_status_change_refused_in_its_transaction_sends_no_status_notice(pg_url: str, pg_store: Store) -> None:
    from runtui.watch import status_watcher

    run_id = _run(pg_store, 12, RunStatus.COMPLETED)
    seen: list[tuple[str, str]] = []
    watcher = status_watcher(pg_url, lambda r, s: bool(seen.append((r, s))) or True)
    try:
        sub = watcher.subscribe()
        with pytest.raises(InvalidTransitionError):
            pg_store.set_status(run_id, RunStatus.RUNNING)
        assert sub.wait(1.0) is False
        assert seen == []
    finally:
        watcher.close()


def test_without_listen_the_status_watcher_polls_the_revision(
    pg_url: str, pg_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runtui.watch import status_watcher

    monkeypatch.setenv("RUNTUI_PGBOUNCER", "1")  # PgBouncer in transaction mode: no session to LISTEN on
    run_id = _run(pg_store, 13)
    watcher = status_watcher(pg_url, lambda r, s: True)
    try:
        assert not isinstance(watcher, PgListenWatcher)
        sub = watcher.subscribe()
        pg_store.set_status(run_id, RunStatus.CANCEL_REQUESTED)
        assert sub.wait(WAIT) is True
    finally:
        watcher.close()
