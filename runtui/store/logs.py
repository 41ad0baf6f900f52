"""Logs copied into the store, so that a run on another host can be tailed (shared stores).

On a shared store, supervisors copy each run's log here in chunks. The log is one byte stream per run (the UTF-8
encoding of its chunks, in `seq` order); a chunk's `offset` is where its bytes start in that stream, so a reader
can seek (read_log_range) without reading what came before.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import LargeBinary, cast, func, insert, select
from sqlalchemy.engine import Connection

from runtui.errors import ValidationError
from runtui.store.db import Database, log_t

# PostgreSQL NOTIFY channel of every appended chunk (payload "<schema>:<run id>").
LOGS_CHANNEL = "runtui_logs"
_LOG_LOCK_CLASS = 0x72756E74  # advisory lock class ("runt") for the per-run log sequence; see append_log


def append_log(db: Database, run_id: str, data: str, offset: int, stream: str = "output") -> int:
    """Append one chunk of the run's log; returns its sequence number.

    `offset` is the chunk's byte offset in the run's stored log (the caller's running total of the UTF-8
    bytes it appended before). The text must not hold NUL characters (PostgreSQL text cannot store them).
    """
    if "\x00" in data:
        raise ValidationError("log text copied to the store cannot contain NUL characters; replace them first")

    def work(conn: Connection) -> int:
        if conn.dialect.name == "postgresql":
            # Two appenders of one run would read the same max(seq) under READ COMMITTED; a per-run advisory
            # lock (released at commit) serialises them without touching the run row. SQLite's BEGIN
            # IMMEDIATE already serialises every writer.
            conn.execute(select(func.pg_advisory_xact_lock(_LOG_LOCK_CLASS, func.hashtext(run_id))))
        # max(seq) of one run: a backward scan of the (run_id, seq) primary key, one index entry.
        seq = conn.execute(select(func.coalesce(func.max(log_t.c.seq), -1)).where(log_t.c.run_id == run_id))
        nxt = int(seq.scalar_one()) + 1
        conn.execute(
            insert(log_t).values(run_id=run_id, seq=nxt, stream=stream, offset=offset, data=data, time=time.time())
        )
        if conn.dialect.name == "postgresql":
            conn.execute(select(func.pg_notify(LOGS_CHANNEL, func.concat(func.current_schema(), ":", run_id))))
        return nxt

    return db.write("copying log output", work)


def append_logs(db: Database, items: Sequence[tuple[str, str, int, str]]) -> list[int]:
    """Append many chunks `(run_id, data, offset, stream)`, of one or many runs, in ONE transaction; returns
    their sequence numbers (in order). The box agent merges the log copies of a box's supervisors with it."""
    for _, data, _, _ in items:
        if "\x00" in data:
            raise ValidationError("log text copied to the store cannot contain NUL characters; replace them first")

    def work(conn: Connection) -> list[int]:
        pg = conn.dialect.name == "postgresql"
        runs = sorted({item[0] for item in items})  # locks in one order: two merged appenders never deadlock
        nxt: dict[str, int] = {}
        for run_id in runs:
            if pg:
                conn.execute(select(func.pg_advisory_xact_lock(_LOG_LOCK_CLASS, func.hashtext(run_id))))
            seq = conn.execute(select(func.coalesce(func.max(log_t.c.seq), -1)).where(log_t.c.run_id == run_id))
            nxt[run_id] = int(seq.scalar_one()) + 1
        now = time.time()
        rows: list[dict[str, Any]] = []
        out: list[int] = []
        for run_id, data, offset, stream in items:
            out.append(nxt[run_id])
            rows.append(
                {"run_id": run_id, "seq": nxt[run_id], "stream": stream, "offset": offset, "data": data, "time": now}
            )
            nxt[run_id] += 1
        conn.execute(insert(log_t), rows)
        if pg:
            for run_id in runs:
                conn.execute(select(func.pg_notify(LOGS_CHANNEL, func.concat(func.current_schema(), ":", run_id))))
        return out

    return db.write("copying log output", work) if items else []


def read_log_chunks(db: Database, run_id: str, after_seq: int = -1) -> list[tuple[int, int, str]]:
    """(seq, offset, data) of the run's log chunks after `after_seq`."""
    with db.read() as conn:
        rows = conn.execute(
            select(log_t.c.seq, log_t.c.offset, log_t.c.data)
            .where(log_t.c.run_id == run_id, log_t.c.seq > after_seq)
            .order_by(log_t.c.seq)
        ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def _octet_length(db: Database) -> Any:
    if db.sqlite:
        return func.length(cast(log_t.c.data, LargeBinary))
    return func.octet_length(log_t.c.data)


def log_extent(db: Database, run_id: str) -> int | None:
    """The size in bytes of the run's stored log, or None when nothing of it is in the store."""
    with db.read() as conn:
        row = conn.execute(
            select(log_t.c.offset, _octet_length(db))
            .where(log_t.c.run_id == run_id)
            .order_by(log_t.c.seq.desc())
            .limit(1)
        ).first()
    return None if row is None else int(row[0]) + int(row[1])


def read_log_range(db: Database, run_id: str, start: int, end: int) -> list[tuple[int, str]]:
    """(offset, data) of the chunks that overlap bytes [start, end) of the run's stored log, in order."""
    if end <= start:
        return []
    with db.read() as conn:
        # The chunk holding `start` is the last one starting at or before it (offsets grow with seq).
        first = conn.execute(
            select(log_t.c.seq)
            .where(log_t.c.run_id == run_id, log_t.c.offset <= start)
            .order_by(log_t.c.seq.desc())
            .limit(1)
        ).scalar()
        rows = conn.execute(
            select(log_t.c.offset, log_t.c.data)
            .where(log_t.c.run_id == run_id, log_t.c.seq >= (first if first is not None else 0))
            .where(log_t.c.offset < end)
            .order_by(log_t.c.seq)
        ).all()
    return [(int(r[0]), r[1]) for r in rows]
