"""PostgreSQL settings for many boxes (runtui.pg_settings, applied in runtui.store.engine and runtui.watch):
pools, PgBouncer mode, connection names. Needs RUNTUI_TEST_POSTGRES_URL for the PostgreSQL legs."""

from __future__ import annotations

import secrets
import threading

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool, QueuePool

from runtui.errors import StoreError
from runtui.pg_settings import application_name, listen_enabled
from runtui.status import RunStatus
from runtui.store import NewRun, Store
from runtui.store.engine import dispose_engine, get_engine
from runtui.watch import PgListenWatcher, PollWatcher, log_copy_watcher, store_watcher

WAIT = 20.0  # an upper bound for a wake-up; never a timing assertion


def test_listen_is_off_behind_pgbouncer_or_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNTUI_PGBOUNCER", raising=False)
    monkeypatch.delenv("RUNTUI_PG_LISTEN", raising=False)
    assert listen_enabled()
    monkeypatch.setenv("RUNTUI_PGBOUNCER", "1")
    assert not listen_enabled()
    monkeypatch.delenv("RUNTUI_PGBOUNCER")
    monkeypatch.setenv("RUNTUI_PG_LISTEN", "0")
    assert not listen_enabled()


def test_connections_are_named_by_role_and_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNTUI_HOST", "gpu-07")
    monkeypatch.delenv("RUNTUI_PG_ROLE", raising=False)
    assert application_name() == "runtui:sdk@gpu-07"
    assert application_name("agent") == "runtui:agent@gpu-07"
    monkeypatch.setenv("RUNTUI_HOST", "h" * 100)
    assert len(application_name().encode()) == 63  # PostgreSQL's limit


def _conn_setting(url: str, sql: str) -> object:
    with get_engine(url).connect() as conn:
        return conn.exec_driver_sql(sql).scalar_one()


def test_pool_null_holds_no_connection(pg_schema_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNTUI_PG_POOL", "null")
    monkeypatch.setenv("RUNTUI_HOST", "poolbox")
    engine = get_engine(pg_schema_url)
    try:
        assert isinstance(engine.pool, NullPool)
        assert _conn_setting(pg_schema_url, "SHOW application_name") == "runtui:sdk@poolbox"
        # Seen from another session: after the transaction, nothing of this process is left open.
        admin = create_engine(pg_schema_url, poolclass=NullPool)
        with admin.connect() as conn:
            held = conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'runtui:sdk@poolbox'")
            ).scalar_one()
        admin.dispose()
        assert held == 0
    finally:
        dispose_engine(pg_schema_url)


def test_pool_of_n_is_bounded(pg_schema_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNTUI_PG_POOL", "1")
    engine = get_engine(pg_schema_url)
    try:
        assert isinstance(engine.pool, QueuePool)
        assert engine.pool.size() == 1 and engine.pool._max_overflow == 0
    finally:
        dispose_engine(pg_schema_url)


def test_a_bad_pool_setting_is_one_clear_error(pg_schema_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNTUI_PG_POOL", "lots")
    with pytest.raises(StoreError, match=r"RUNTUI_PG_POOL must be 'null' or a number of connections, not 'lots'"):
        get_engine(pg_schema_url)


def test_behind_pgbouncer_no_prepared_statements_and_no_listen(
    pg_schema_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNTUI_PGBOUNCER", "1")
    store = Store(pg_schema_url)
    try:
        with store.engine.connect() as conn:
            assert conn.connection.driver_connection.prepare_threshold is None  # type: ignore[union-attr]
        assert log_copy_watcher(pg_schema_url, "any") is None
        run_id = "pgb_1_00000001"
        store.create_runs([NewRun(id=run_id, experiment="pgb", status=RunStatus.RUNNING, host="boxA")])
        with store_watcher(pg_schema_url) as watcher:
            assert isinstance(watcher, PollWatcher) and not isinstance(watcher, PgListenWatcher)
            sub = watcher.subscribe()
            threading.Timer(0.1, lambda: store.set_status(run_id, RunStatus.COMPLETED)).start()
            assert sub.wait(WAIT) is True  # the revision poll notices the commit
    finally:
        dispose_engine(pg_schema_url)


def test_a_box_opens_at_most_its_slots_of_short_lived_connections(
    pg_schema_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNTUI_PG_POOL", "null")
    monkeypatch.setenv("RUNTUI_PG_BOX_SLOTS", "1")
    monkeypatch.setenv("RUNTUI_HOST", "slotbox-" + secrets.token_hex(3))
    engine = get_engine(pg_schema_url)
    got = threading.Event()

    def second() -> None:
        with engine.connect():
            got.set()

    try:
        first = engine.connect()  # holds the box's only slot
        thread = threading.Thread(target=second)
        thread.start()
        assert not got.wait(1.0)  # a bounded window: the second connection must not open while the first is
        first.close()
        assert got.wait(WAIT)  # the slot is free again
        thread.join()
    finally:
        dispose_engine(pg_schema_url)
