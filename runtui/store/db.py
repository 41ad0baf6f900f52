"""The store's internal layer: engine plumbing, short read/write units of work, the revision bump, row -> record.

Everything in `runtui/store/` builds on this (the `Store` facade, metrics, logs, overview, sync); nothing
outside the package uses it. One `Database` per store URL and process (the engine is shared per URL).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, TypeVar

from sqlalchemy import Text, bindparam, cast, func, select, update
from sqlalchemy.engine import Connection, Engine

from runtui.store import schema
from runtui.store.engine import get_engine, is_sqlite, translate_errors, with_retry
from runtui.store.models import (
    artifact_table,
    experiment_table,
    experiment_tag_table,
    log_table,
    meta_table,
    model_table,
    point_table,
    property_table,
    run_table,
    series_table,
    tag_table,
)
from runtui.store.records import RUN_FIELDS

T = TypeVar("T")

# Short names used throughout the store package.
run_t = run_table
tag_t = tag_table
prop_t = property_table
series_t = series_table
point_t = point_table
artifact_t = artifact_table
experiment_t = experiment_table
exp_tag_t = experiment_tag_table
meta_t = meta_table
log_t = log_table
model_t = model_table

RUN_COLUMNS = [run_t.c[name] for name in RUN_FIELDS]
STATUS_AT = 5
STARTED_AT = 7

# Built once: constructing a 24-column select costs ~0.2 ms of CPU per call, more than running it.
SELECT_RUN = select(*RUN_COLUMNS).where(run_t.c.id == bindparam("run_id"))

IN_CHUNK = 500  # keep IN (...) lists under SQLite's variable limit

# PostgreSQL NOTIFY channel of every revision bump (payload "<schema>:<revision>"); see runtui.watch.
CHANGES_CHANNEL = "runtui_changes"
# PostgreSQL NOTIFY channel of every run status change (payload "<schema>:<run id> <new status>"), besides the
# bump's: a box agent waits for its own runs' status changes (a cancel) without waking for every metric batch of
# every box, and can pass a cancel on without reading it back.
STATUS_CHANNEL = "runtui_status"


def chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def dialect_insert(conn_or_sqlite: Connection | bool, table: Any) -> Any:
    """INSERT with ON CONFLICT support for the connection's backend.

    Its result's rowcount says how many rows an upsert really inserted: SQLAlchemy 2.1 reports -1 for an INSERT
    on psycopg unless asked to keep the count (`preserve_rowcount`), which made every get-or-create on
    PostgreSQL look like "already there" (no revision bump, nothing counted as created).
    """
    sqlite = conn_or_sqlite if isinstance(conn_or_sqlite, bool) else conn_or_sqlite.dialect.name == "sqlite"
    if sqlite:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).execution_options(preserve_rowcount=True)
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    return pg_insert(table).execution_options(preserve_rowcount=True)


def bump(conn: Connection, run_ids: Iterable[str] = ()) -> int:
    """Advance the store revision and stamp `run_ids` with it.

    The UPDATE takes the counter row's lock until commit, so revisions are handed out in commit order on
    PostgreSQL too: a viewer that has seen revision R can never later miss a commit numbered <= R. It also
    serialises writers on PostgreSQL, which the metric write path relies on (step numbering, refusal of points
    for finished runs).
    """
    stmt = update(meta_t).where(meta_t.c.id == 1).values(revision=meta_t.c.revision + 1)
    if conn.dialect.name == "postgresql":
        # For LISTEN/NOTIFY (runtui.watch.PgListenWatcher): delivered at commit, never for a rolled-back
        # write; riding on the same statement costs no extra round trip.
        notify = func.pg_notify(CHANGES_CHANNEL, func.concat(func.current_schema(), ":", cast(meta_t.c.revision, Text)))
        rev: int = conn.execute(stmt.returning(meta_t.c.revision, notify)).scalar_one()
    else:
        rev = conn.execute(stmt.returning(meta_t.c.revision)).scalar_one()
    stamp(conn, rev, run_ids)
    return rev


def status_notice(conn: Connection) -> Any | None:
    """On PostgreSQL, a column to put in the RETURNING of an UPDATE of runs' status: it sends STATUS_CHANNEL with
    each updated run's id and new status (RETURNING sees the updated row), delivered at commit and never for a
    rolled-back write, without an extra round trip. None on SQLite."""
    if conn.dialect.name != "postgresql":
        return None
    return func.pg_notify(STATUS_CHANNEL, func.concat(func.current_schema(), ":", run_t.c.id, " ", run_t.c.status))


def stamp(conn: Connection, revision: int, run_ids: Iterable[str]) -> None:
    """Stamp runs with a revision already taken in this transaction."""
    ids = list(dict.fromkeys(run_ids))
    for chunk in chunks(ids):
        conn.execute(update(run_t).where(run_t.c.id.in_(chunk)).values(revision=revision))


class Database:
    """One store URL: its engine, its schema made ready once per process, and short units of work."""

    _schema_ready: ClassVar[set[str]] = set()
    _schema_lock = threading.Lock()

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = is_sqlite(url)
        self.engine: Engine = get_engine(url)
        self._ensure_schema()

    def _ensure_schema(self) -> None:
        with Database._schema_lock:
            if self.url in Database._schema_ready:
                return
            with translate_errors(self.url, "opening the store"):
                schema.ensure(self.engine, self.url)
                schema.refresh_statistics(self.engine)
            Database._schema_ready.add(self.url)

    @classmethod
    def forget_schema(cls, url: str) -> None:
        """Make the next open of `url` check (and migrate) its schema again (tests that swap a store file)."""
        with cls._schema_lock:
            cls._schema_ready.discard(url)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A short read transaction (a long one would starve SQLite's WAL checkpoints)."""
        with translate_errors(self.url, "reading"), self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="DEFERRED")
            with conn.begin():
                yield conn

    def write(self, what: str, fn: Callable[[Connection], T]) -> T:
        """One write transaction (BEGIN IMMEDIATE on SQLite), retried when the database is busy."""

        def attempt() -> T:
            with self.engine.begin() as conn:
                return fn(conn)

        with translate_errors(self.url, what):
            return with_retry(attempt)

    def clock(self) -> float:
        """Now, in UTC epoch seconds: the database server's clock on PostgreSQL (one clock for every host that
        shares the store, so heartbeats and liveness do not depend on the hosts' clocks agreeing)."""
        if self.sqlite:
            return time.time()
        with self.read() as conn:
            return float(conn.execute(select(func.extract("epoch", func.clock_timestamp()))).scalar_one())
