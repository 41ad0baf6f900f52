"""LISTEN/NOTIFY works with the psycopg the package allows: `conn.notifies(timeout=, stop_after=)`, which
runtui.watch uses, exists only from psycopg 3.2; on 3.1 LISTEN silently never worked and the watcher
reconnected forever. Before: pyproject allowed psycopg>=3.1.

The floor itself is proven, not only the installed psycopg: `.ci/run` installs exactly the floor version into a
folder of its own and names it in RUNTUI_TEST_PSYCOPG_FLOOR; a subprocess with that folder first on `sys.path`
runs runtui's own LISTEN path (the store watcher the box agent and the TUI use) against PostgreSQL."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.reliability

ROOT = Path(__file__).resolve().parents[2]
FLOOR_ENV = "RUNTUI_TEST_PSYCOPG_FLOOR"  # a `pip install --target` folder holding psycopg at the floor version


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


# Runs in a fresh interpreter with the floor psycopg first on sys.path (SQLAlchemy's psycopg dialect then loads it
# too). The watcher is the real one (`store_watcher`, as the box agent opens it); the write is a real status change
# through the store, whose NOTIFY is sent at commit. `notifications` counts only NOTIFYs, never the revision poll.
_FLOOR_CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
sys.path.insert(1, sys.argv[2])
import psycopg
from runtui.status import RunStatus
from runtui.store import NewRun, Store
from runtui.watch import PgListenWatcher, store_watcher

url = sys.argv[3]
store = Store(url)
store.create_runs([NewRun(id="floor_1_00000001", experiment="floor", status=RunStatus.RUNNING, host="boxA")])
with store_watcher(url, poll_interval=60.0) as watcher:
    sub = watcher.subscribe()
    store.set_status("floor_1_00000001", RunStatus.COMPLETED)
    woke = sub.wait(30.0)
    print(json.dumps({
        "version": psycopg.__version__,
        "file": psycopg.__file__,
        "listen_watcher": isinstance(watcher, PgListenWatcher),
        "mode": watcher.mode,
        "woke": woke,
        "notifications": watcher.notifications,
    }))
"""


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get(FLOOR_ENV),
    reason=f"{FLOOR_ENV} is not set: .ci/run installs the floor psycopg (pip install --target) and sets it",
)
def test_runtui_listen_path_works_with_the_floor_psycopg(pg_schema_url: str) -> None:
    folder = Path(os.environ[FLOOR_ENV])
    assert (folder / "psycopg").is_dir(), f"{FLOOR_ENV}={folder} holds no psycopg package"
    out = subprocess.run(
        [sys.executable, "-c", _FLOOR_CHILD, str(folder), str(ROOT), pg_schema_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    floor = ".".join(str(x) for x in (*_floor(), 0, 0)[:3])
    assert got["version"] == floor, got
    assert Path(got["file"]).resolve().is_relative_to(folder.resolve()), got
    assert got["listen_watcher"] and got["mode"] == "events", got
    assert got["woke"] is True and got["notifications"] >= 1, got
