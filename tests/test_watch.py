"""Change detection on real files and real stores: events, polling fallback, sync and async waiting."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from runtui.status import RunStatus
from runtui.store import NewRun, Store
from runtui.watch import (
    CombinedWatcher,
    FileWatcher,
    PollWatcher,
    Watcher,
    folder_watcher,
    register_store_watcher,
    store_watcher,
)

pytestmark = pytest.mark.timeout(60)
WAIT = 20.0  # an upper bound for a wake-up that should take milliseconds; never a timing assertion


def _later(fn: object, delay: float = 0.1) -> threading.Thread:
    t = threading.Timer(delay, fn)  # type: ignore[arg-type]
    t.start()
    return t


def _new_run(store: Store, n: int) -> None:
    store.create_runs([NewRun(id=f"w_1_{n:08x}", experiment="w", status=RunStatus.RUNNING)])


def test_store_watcher_wakes_on_a_write(store_url: str, store: Store) -> None:
    _new_run(store, 0)  # the database (and its -wal) exist before watching starts
    with store_watcher(store_url, poll_interval=0.2) as watcher:
        sub = watcher.subscribe()
        assert sub.wait(0.3) is False  # nothing happened
        _later(lambda: _new_run(store, 1))
        assert sub.wait(WAIT) is True
        assert watcher.mode == "events"  # SQLite: file events; PostgreSQL: LISTEN/NOTIFY


def test_sqlite_watcher_watches_the_wal_not_the_folder(store_url: str, store: Store, tmp_path: Path) -> None:
    if not store_url.startswith("sqlite"):
        pytest.skip("SQLite only")
    _new_run(store, 0)
    with store_watcher(store_url, poll_interval=5.0) as watcher:
        sub = watcher.subscribe()
        db_folder = Path(store_url.removeprefix("sqlite:///")).parent
        (db_folder / "unrelated.txt").write_text("x")  # another file in the folder: no wake-up
        assert sub.wait(0.5) is False
        _new_run(store, 1)
        assert sub.wait(WAIT) is True


def test_each_subscription_sees_each_change_once(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    target.write_text("0")
    with FileWatcher(tmp_path, {"f.txt"}, poll_interval=0.2) as watcher:
        a, b = watcher.subscribe(), watcher.subscribe()
        _later(lambda: target.write_text("1"))
        assert a.wait(WAIT) and b.wait(WAIT)
        time.sleep(0.3)  # let a debounced second event (if any) land, then drain it
        a.changed()
        assert a.wait(0.2) is False


def test_polling_fallback_without_events(tmp_path: Path) -> None:
    target = tmp_path / "data.db"
    target.write_text("0")
    with FileWatcher(tmp_path, {"data.db"}, poll_interval=0.05, use_events=False) as watcher:
        assert watcher.wait(0.2) is False
        assert watcher.mode == "polling"
        target.write_text("changed size")
        assert watcher.wait(WAIT) is True


def test_a_missing_folder_falls_back_to_polling_and_sees_it_appear(tmp_path: Path) -> None:
    folder = tmp_path / "later"
    with FileWatcher(folder, {"runtui.db"}, poll_interval=0.05) as watcher:
        sub = watcher.subscribe()
        folder.mkdir()
        (folder / "runtui.db").write_text("x")
        assert sub.wait(WAIT) is True
        assert watcher.mode == "polling"


def test_folder_watcher_follows_log_files(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    with folder_watcher(logs, poll_interval=0.2) as watcher:
        sub = watcher.subscribe()
        _later(lambda: (logs / "output.log").write_text("line 1\n"))
        assert sub.wait(WAIT)
        with open(logs / "output.log", "a") as fh:
            fh.write("line 2\n")
        assert sub.wait(WAIT)


def test_poll_watcher_wakes_when_the_value_changes() -> None:
    value = [0]
    with PollWatcher(lambda: value[0], interval=0.02) as watcher:
        assert watcher.wait(0.1) is False
        value[0] = 1
        assert watcher.wait(WAIT) is True


def test_poll_watcher_survives_a_failing_probe() -> None:
    calls = [0]

    def probe() -> int:
        calls[0] += 1
        if calls[0] == 3:
            raise OSError("store briefly away")
        return 7

    with PollWatcher(probe, interval=0.02) as watcher:
        assert watcher.wait(WAIT) is True  # the error counts as "may have changed"
        assert watcher.mode == "polling"


def test_async_wait(tmp_path: Path) -> None:
    target = tmp_path / "f"
    target.write_text("")

    async def main() -> tuple[bool, bool]:
        with FileWatcher(tmp_path, {"f"}, poll_interval=0.2) as watcher:
            sub = watcher.subscribe()
            quiet = await sub.wait_async(0.2)
            _later(lambda: target.write_text("x"))
            woke = await sub.wait_async(WAIT)
            return quiet, woke

    assert asyncio.run(main()) == (False, True)


def test_combined_watcher(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with CombinedWatcher([folder_watcher(tmp_path / "a"), folder_watcher(tmp_path / "b")]) as watcher:
        sub = watcher.subscribe()
        _later(lambda: (tmp_path / "b" / "x").write_text("x"))
        assert sub.wait(WAIT)
    assert watcher.closed and all(w.closed for w in watcher.watchers)


def test_close_releases_waiters(tmp_path: Path) -> None:
    watcher = FileWatcher(tmp_path, poll_interval=0.2).start()
    sub = watcher.subscribe()
    _later(watcher.close)
    started = time.monotonic()
    sub.wait(WAIT)
    assert time.monotonic() - started < WAIT  # woke because of close, not the timeout
    assert watcher.closed


def test_register_a_store_watcher_for_a_scheme() -> None:
    made: list[tuple[str, float]] = []

    class Dummy(Watcher):
        def run(self) -> None:
            self._stop.wait()

    def factory(url: str, poll: float) -> Watcher:
        made.append((url, poll))
        return Dummy()

    register_store_watcher("dummydb", factory)
    try:
        with store_watcher("dummydb+driver://host/db", poll_interval=0.5):
            pass
    finally:
        from runtui import watch

        watch._factories.pop("dummydb")
    assert made == [("dummydb+driver://host/db", 0.5)]


def test_importing_watch_does_not_import_watchfiles() -> None:
    code = "import sys, runtui.watch; print('watchfiles' in sys.modules)"
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_sqlite_file_of_reads_urls_as_sqlalchemy_does() -> None:
    from sqlalchemy.engine import make_url

    from runtui.watch import sqlite_file_of

    for url in (
        "sqlite:////abs/dir/runtui.db",
        "sqlite:///relative/runtui.db",
        "sqlite:////abs/dir/runtui.db?mode=ro",
        "sqlite:////abs/with%20space/runtui.db",
        "sqlite:///:memory:",
    ):
        db = make_url(url).database
        assert sqlite_file_of(url) == (Path(db) if db and db != ":memory:" else None), url
