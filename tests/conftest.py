"""Shared fixtures: real stores on SQLite (always) and PostgreSQL (when RUNTUI_TEST_POSTGRES_URL is set).

Each PostgreSQL test gets its own schema (via the connection's search_path), so tests never see each
other's rows and the shared database stays clean.

Leak check: every process the tests start inherits RUNTUI_TEST_SESSION (a token for this session); at the end
of the session any process still carrying it (a supervisor, a script, a worker a test forgot) is reported by
pid and command line, killed, and the session fails.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

PG_URL = os.environ.get("RUNTUI_TEST_POSTGRES_URL")
SESSION_MARK = "RUNTUI_TEST_SESSION"
# A process a test ended may still be on its way out (a supervisor writing the run's end).
LEAK_GRACE_S = float(os.environ.get("RUNTUI_TEST_LEAK_GRACE", "15"))

STORE_KINDS = ["sqlite"] + (["postgres"] if PG_URL else [])


def pytest_configure(config: pytest.Config) -> None:
    os.environ[SESSION_MARK] = f"{os.getpid()}-{secrets.token_hex(8)}"


def _marked_processes(token: str) -> list[psutil.Process]:
    found = []
    me = os.getpid()
    for proc in psutil.process_iter():
        if proc.pid == me:
            continue
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if proc.environ().get(SESSION_MARK) == token:
                found.append(proc)
        except psutil.Error:  # gone meanwhile, or another user's: not ours
            continue
    return found


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session if a test left a process running (see the module docstring)."""
    token = os.environ.get(SESSION_MARK)
    if not token:
        return
    _, alive = psutil.wait_procs(_marked_processes(token), timeout=LEAK_GRACE_S)
    alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    if not alive:
        return
    lines = []
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            lines.append(f"  pid {proc.pid}: {' '.join(proc.cmdline())[:200]}")
            proc.kill()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    message = f"tests left {len(alive)} process(es) running (killed now):\n" + "\n".join(lines)
    if reporter is not None:
        reporter.write_line(message, red=True)
    else:
        print(message, file=sys.stderr)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may touch the real ~/.runtui."""
    monkeypatch.setenv("RUNTUI_HOME", str(tmp_path_factory.mktemp("runtui-home")))
    monkeypatch.delenv("RUNTUI_STORE_URL", raising=False)
    # start_logging() snapshots and creates ./outputs in the current folder (as Azure ML): not in the checkout.
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


def _pg_schema_url() -> Iterator[str]:
    from sqlalchemy import create_engine, text

    assert PG_URL is not None
    schema = "t_" + secrets.token_hex(6)
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        from runtui.store.engine import dispose_engine

        dispose_engine(url)
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A private, empty PostgreSQL schema (skipped without RUNTUI_TEST_POSTGRES_URL)."""
    if not PG_URL:
        pytest.skip("RUNTUI_TEST_POSTGRES_URL is not set")
    yield from _pg_schema_url()


@pytest.fixture
def other_pg_schema_url() -> Iterator[str]:
    """A second private PostgreSQL schema, for tests of two stores in one database."""
    if not PG_URL:
        pytest.skip("RUNTUI_TEST_POSTGRES_URL is not set")
    yield from _pg_schema_url()


@pytest.fixture(params=STORE_KINDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store URL: SQLite in tmp_path, and (when configured) a private PostgreSQL schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store' / 'runtui.db'}"
        yield url
        from runtui.store.engine import dispose_engine

        dispose_engine(url)
    else:
        yield from _pg_schema_url()


@pytest.fixture
def store(store_url: str):  # type: ignore[no-untyped-def]
    from runtui.store import Store

    return Store(store_url)


@pytest.fixture
def workspace_dir(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    path.mkdir()
    return path
