"""LISTEN/NOTIFY works with the psycopg the package allows: `conn.notifies(timeout=, stop_after=)`, which
runtui.watch uses, exists only from psycopg 3.2; on 3.1 LISTEN silently never worked and the watcher
reconnected forever. Before: pyproject allowed psycopg>=3.1."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.reliability

ROOT = Path(__file__).resolve().parents[2]


def _floor() -> tuple[int, ...]:
    # Every psycopg requirement in pyproject.toml (the `postgres` extra and the test extras).
    specs = re.findall(r'"(psycopg[^"]*)"', (ROOT / "pyproject.toml").read_text())
    floors = {tuple(int(x) for x in m.group(1).split(".")) for s in specs if (m := re.search(r">=\s*([\d.]+)", s))}
    assert floors, f"no psycopg floor in {specs}"
    return min(floors)


def test_pyproject_requires_a_psycopg_with_notifies_stop_after() -> None:
    assert _floor() >= (3, 2)


def test_listen_receives_a_notify_with_timeout_and_stop_after(pg_schema_url: str) -> None:
    psycopg = pytest.importorskip("psycopg")
    installed = tuple(int(x) for x in re.findall(r"\d+", psycopg.__version__)[:2])
    assert installed >= _floor()[:2]
    from sqlalchemy.engine import make_url

    url = make_url(pg_schema_url).set(drivername="postgresql")
    dsn = url.render_as_string(hide_password=False).split("?")[0]
    with psycopg.connect(dsn, autocommit=True) as listener, psycopg.connect(dsn, autocommit=True) as sender:
        listener.execute("LISTEN runtui_floor_test")
        # Nothing sent yet: the call returns after its timeout instead of blocking forever.
        assert list(listener.notifies(timeout=0.2, stop_after=1)) == []
        sender.execute("NOTIFY runtui_floor_test, 'hello'")  # queued for the listener until it reads
        got = list(listener.notifies(timeout=30, stop_after=1))
    assert [(n.channel, n.payload) for n in got] == [("runtui_floor_test", "hello")]
