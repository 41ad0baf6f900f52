"""Fair SQLite writers (runtui/store/write_lock.py): write transactions get the lock first come, first served,
and a writer that dies holding its place never blocks the others. Real SQLite stores, real threads and
processes, real kernel locks."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from runtui.store import Store
from runtui.store.write_lock import available, lock_path

pytestmark = pytest.mark.skipif(not available("/tmp/x"), reason="needs Linux open-file-description locks")
ROOT = Path(__file__).resolve().parents[2]


def _wait_for(predicate: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)  # the polling period of this wait


def _tickets_taken(db: Path) -> int:
    raw = Path(lock_path(str(db))).read_bytes()[:8]
    return struct.unpack("<Q", raw)[0] if len(raw) == 8 else 0


def _warm(store: Store, n: int) -> None:
    """Open `n` pooled connections first: opening one waits on SQLite while another holds the write lock, and
    the test is about the queue, not about that."""
    conns = [store.engine.connect() for _ in range(n)]
    for conn in conns:
        conn.close()


def test_writers_get_the_lock_in_the_order_they_asked(tmp_path: Path) -> None:
    """Before: SQLite's busy handler let whoever polled at the right moment in, so a writer could wait 8 s while
    later ones went first. Now the second writer to ask is the second to write."""
    db = tmp_path / "runtui.db"
    store = Store(f"sqlite:///{db}")
    _warm(store, 4)
    order: list[str] = []
    holder = store.engine.connect()
    holder.begin()  # a write transaction (BEGIN IMMEDIATE): holds the turn and SQLite's write lock
    taken = _tickets_taken(db)

    def writer(name: str) -> None:
        with store.engine.begin() as conn:
            order.append(name)
            conn.exec_driver_sql("SELECT 1")

    threads = []
    for i, name in enumerate(["first", "second", "third"], start=1):
        t = threading.Thread(target=writer, args=(name,))
        t.start()
        threads.append(t)
        _wait_for(lambda i=i: _tickets_taken(db) == taken + i, f"{name} to queue")  # type: ignore[misc]
    assert order == []  # all wait for the holder
    holder.commit()
    holder.close()
    for t in threads:
        t.join(60)
    assert order == ["first", "second", "third"]


def test_a_writer_killed_in_the_queue_does_not_block_the_next(tmp_path: Path) -> None:
    db = tmp_path / "runtui.db"
    url = f"sqlite:///{db}"
    store = Store(url)
    _warm(store, 2)
    go = tmp_path / "go"
    code = (
        f"import os, sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "from runtui.store import Store\n"
        f"s = Store({url!r})\n"
        "with s.engine.begin() as c:\n"  # a warm connection, so that the next begin goes straight to the queue
        "    c.exec_driver_sql('SELECT 1')\n"
        "print('ready', flush=True)\n"
        f"while not os.path.exists({str(go)!r}):\n"
        "    pass\n"
        "with s.engine.begin() as c:\n"
        "    print('wrote', flush=True)\n"
    )
    victim = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert victim.stdout is not None and victim.stdout.readline().strip() == "ready"
        holder = store.engine.connect()
        holder.begin()
        taken = _tickets_taken(db)
        go.touch()
        _wait_for(lambda: _tickets_taken(db) == taken + 1, "the victim to queue behind the holder")
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(30)
        holder.commit()
        holder.close()
        started = time.monotonic()
        with store.engine.begin() as conn:  # queues behind the killed writer's place
            conn.exec_driver_sql("SELECT 1")
        assert time.monotonic() - started < 5.0
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait()
