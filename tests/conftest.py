"""Shared fixtures: real stores on SQLite (always) and PostgreSQL (when RUNTUI_TEST_POSTGRES_URL is set).

Each PostgreSQL test gets its own schema (via the connection's search_path), so tests never see each
other's rows and the shared database stays clean.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_URL = os.environ.get("RUNTUI_TEST_POSTGRES_URL")

STORE_KINDS = ["sqlite"] + (["postgres"] if PG_URL else [])


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
