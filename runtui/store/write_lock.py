"""Fair turns at a SQLite store's write lock: writers queue first come, first served.

SQLite's own busy handler sleeps and retries (up to 100 ms between tries), so a writer that has just committed,
already awake, takes the lock again and again while a sleeping one keeps missing it: with 16 writer processes
one waited 8 s (12.6 s at load 9). Here a write transaction (BEGIN IMMEDIATE) first takes a ticket and waits
for the ticket before it, like a queue at a counter:

- the lock file `<db>-wlock` (0600, beside the database) holds the next ticket number in its first 8 bytes;
  taking a ticket is a read-increment-write under a brief `flock`;
- holding ticket t means holding an open-file-description lock (`F_OFD_SETLK`) on byte BASE + t of that file,
  taken in the same `flock` section, so the next writer always finds it held;
- a writer with ticket t waits (`F_OFD_SETLKW`: the kernel wakes it the moment the byte is released) for byte
  BASE + t - 1, then lets go of it and goes on to BEGIN IMMEDIATE; it releases its own byte after its
  transaction has ended (the connection's return to the pool: after COMMIT or ROLLBACK).

What can go wrong, and why it stays safe: SQLite's lock remains the real mutual exclusion (this only orders
who asks first), so a mistake here costs fairness, never correctness. A writer that dies (even SIGKILL) closes
its file and the kernel drops its byte lock, so the queue moves on. A thread that already holds a ticket does
not queue again for a second connection (it would wait for itself). Where OFD locks do not exist (not Linux)
or the lock file cannot be made (a read-only folder), writers fall back to SQLite's busy handler.
"""

from __future__ import annotations

import contextlib
import os
import struct
import threading
from typing import Any

BASE = 4096  # byte offset of ticket 0's lock byte (the counter lives in bytes 0-7)
WRAP = 1 << 40  # ticket bytes wrap around here: 10^12 transactions
_F_OFD_SETLK: int | None = getattr(__import__("fcntl"), "F_OFD_SETLK", None) if os.name == "posix" else None
_F_OFD_SETLKW: int | None = getattr(__import__("fcntl"), "F_OFD_SETLKW", None) if os.name == "posix" else None
# struct flock on Linux: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid (+ padding).
_FLOCK = "hhqqi4x"

_held = threading.local()  # this thread's ticket holder, if any (a second connection must not queue behind it)


def _range_lock(fd: int, cmd: int, kind: int, offset: int) -> None:
    import fcntl

    fcntl.fcntl(fd, cmd, struct.pack(_FLOCK, kind, os.SEEK_SET, offset, 1, 0))


class Ticket:
    """One connection's place in the queue (the connection's own open file description)."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self.byte: int | None = None

    def acquire(self) -> None:
        import fcntl

        if self.byte is not None or getattr(_held, "ticket", None) is not None:
            return
        assert _F_OFD_SETLK is not None and _F_OFD_SETLKW is not None
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        try:
            raw = os.pread(self.fd, 8, 0)
            number = struct.unpack("<Q", raw)[0] if len(raw) == 8 else 0
            os.pwrite(self.fd, struct.pack("<Q", (number + 1) % WRAP), 0)
            mine = BASE + number
            _range_lock(self.fd, _F_OFD_SETLK, fcntl.F_WRLCK, mine)
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        self.byte = mine
        _held.ticket = self
        if number > 0:
            before = mine - 1
            try:
                _range_lock(self.fd, _F_OFD_SETLKW, fcntl.F_WRLCK, before)  # wait for the writer ahead
                _range_lock(self.fd, _F_OFD_SETLK, fcntl.F_UNLCK, before)
            except OSError:  # EDEADLK and the like: fall back to SQLite's busy handler for this turn
                pass

    def release(self) -> None:
        import fcntl

        if self.byte is None or _F_OFD_SETLK is None:
            return
        byte, self.byte = self.byte, None
        if getattr(_held, "ticket", None) is self:
            _held.ticket = None
        with contextlib.suppress(OSError):
            _range_lock(self.fd, _F_OFD_SETLK, fcntl.F_UNLCK, byte)

    def close(self) -> None:
        self.release()
        with contextlib.suppress(OSError):
            os.close(self.fd)


def lock_path(db_path: str) -> str:
    return db_path + "-wlock"


def available(db_path: str) -> bool:
    """True when fair queueing works here (Linux OFD locks, a writable lock file)."""
    if _F_OFD_SETLK is None or _F_OFD_SETLKW is None:
        return False
    try:
        fd = os.open(lock_path(db_path), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:
        return False
    os.close(fd)
    return True


def install(engine: Any, db_path: str) -> None:
    """Queue this engine's write transactions (BEGIN IMMEDIATE/EXCLUSIVE) fairly; see the module docstring."""
    from sqlalchemy import event

    if os.environ.get("RUNTUI_SQLITE_FAIR_LOCK", "1") == "0" or not available(db_path):
        return
    path = lock_path(db_path)

    def ticket_of(info: dict[str, Any]) -> Ticket:
        ticket = info.get("runtui_ticket")
        if ticket is None or ticket.fd < 0:
            ticket = info["runtui_ticket"] = Ticket(path)
        return ticket

    @event.listens_for(engine, "begin")  # installed before engine.py's listener that issues BEGIN IMMEDIATE
    def _queue(conn: Any) -> None:
        if conn.get_execution_options().get("sqlite_begin", "IMMEDIATE") != "DEFERRED":
            ticket_of(conn.connection.info).acquire()

    def _release(_dbapi_conn: Any, record: Any, *_args: Any) -> None:
        ticket = record.info.get("runtui_ticket") if record is not None else None
        if ticket is not None:
            ticket.release()

    event.listen(engine, "checkin", _release)  # after COMMIT/ROLLBACK: the connection is back in the pool
    event.listen(engine, "invalidate", _release)

    @event.listens_for(engine, "close")
    def _close(_dbapi_conn: Any, record: Any) -> None:
        ticket = record.info.pop("runtui_ticket", None) if record is not None else None
        if ticket is not None:
            ticket.close()
