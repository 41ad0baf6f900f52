"""One SQLAlchemy engine per store URL, tuned for many writers and one reader.

SQLite: WAL journal, a busy timeout, writes in `BEGIN IMMEDIATE` (so a writer waits for the lock up front,
instead of failing on upgrade from a read lock), retries with backoff on the rare `SQLITE_BUSY` that escapes
the busy handler. PostgreSQL: a plain pool; the change feed's single counter row serialises writers briefly.
Many boxes on one PostgreSQL (docs/architecture.md, "Many boxes"): `RUNTUI_PG_POOL=null` opens a connection per
transaction and holds none idle (supervisors set it for their scripts), `RUNTUI_PG_POOL=N` holds at most N;
`RUNTUI_PGBOUNCER=1` turns psycopg's server-side prepared statements off (PgBouncer in transaction mode hands
each transaction to any server connection); see `runtui.pg_settings`.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError, SQLAlchemyError

from runtui.errors import StoreError, ValidationError
from runtui.pg_settings import POOL_ENV, application_name, behind_pgbouncer, box_folder, box_key, box_slots

T = TypeVar("T")

BUSY_TIMEOUT_S = 30.0
POOL_WAIT_S = 300.0  # a bounded pool (RUNTUI_PG_POOL=N) queues its callers rather than failing them
_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sqlite_path(url: str) -> str | None:
    """The database file of a SQLite URL (None for in-memory)."""
    if not is_sqlite(url):
        return None
    db = make_url(url).database
    return db if db and db != ":memory:" else None


def _prepare_sqlite_file(path: str) -> None:
    """Create the folder (0700) and the file (0600) ourselves so that nobody else can read the runs."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        if not os.path.exists(path):
            fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
            os.close(fd)
    except OSError as exc:
        raise StoreError(f"cannot create the store at {path}: {exc.strerror or exc}") from exc
    if not os.access(path, os.R_OK | os.W_OK) or not os.access(folder, os.W_OK):
        raise StoreError(f"the store at {path} is not writable (check the permissions of {folder})")
    from runtui.store.filesystem import warn_if_network

    warn_if_network(path)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below decide how transactions start.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        cur.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL mode: a commit survives a process crash; only a power loss can drop the last commits.
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = OFF")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


def get_engine(url: str) -> Engine:
    """The one engine for `url` in this process (created on first use)."""
    with _engines_lock:
        engine = _engines.get(url)
        if engine is not None:
            return engine
        try:
            if is_sqlite(url):
                path = sqlite_path(url)
                if path:
                    _prepare_sqlite_file(path)
                engine = create_engine(
                    url,
                    connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False},
                    pool_size=8,
                    max_overflow=8,
                )
                if path:
                    from runtui.store.write_lock import install

                    # First, so that its "begin" listener runs before BEGIN IMMEDIATE: writers queue, then lock.
                    install(engine, path)
                _configure_sqlite(engine)
            else:
                engine = create_engine(url, **postgresql_engine_options(url))
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise StoreError(f"cannot open store {redact(url)}: {exc}") from exc
        _engines[url] = engine
        return engine


def postgresql_engine_options(url: str) -> dict[str, Any]:
    """Pool and connection settings for a PostgreSQL engine, from RUNTUI_PG_POOL / RUNTUI_PGBOUNCER."""

    connect_args: dict[str, Any] = {}
    if "application_name" not in make_url(url).query:
        connect_args["application_name"] = application_name()
    if behind_pgbouncer():
        connect_args["prepare_threshold"] = None  # a prepared statement lives on one server connection
    options: dict[str, Any] = {"connect_args": connect_args}
    raw = os.environ.get(POOL_ENV, "").strip().lower()
    if raw in ("null", "none", "0"):
        options["poolclass"] = _slot_pool_class(url)
    elif raw:
        try:
            size = int(raw)
        except ValueError:
            raise StoreError(f"{POOL_ENV} must be 'null' or a number of connections, not {raw!r}") from None
        if size < 0:
            raise StoreError(f"{POOL_ENV} must be 'null' or a number of connections, not {raw!r}")
        options.update(pool_pre_ping=True, pool_size=size, max_overflow=0, pool_timeout=POOL_WAIT_S)
    else:
        options.update(pool_pre_ping=True, pool_size=4, max_overflow=8)
    return options


SLOT_WAIT_S = 60.0  # past this, a connection is opened without a slot (and said so): slower beats stuck


def _acquire_slot(prefix: Path, slots: int) -> int | None:
    """Take one of the box's `slots` lock files (the fd holds it until closed); None after SLOT_WAIT_S."""
    import fcntl

    give_up = time.monotonic() + SLOT_WAIT_S
    delay = 0.002
    while True:
        for i in random.sample(range(slots), slots):
            fd = os.open(f"{prefix}-{i}", os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except OSError:
                os.close(fd)
        if time.monotonic() > give_up:
            import sys

            print(
                f"runtui: no free database connection slot on this box after {SLOT_WAIT_S:g} s; connecting anyway",
                file=sys.stderr,
            )
            return None
        time.sleep(delay)  # a slot frees when another process's transaction ends: poll with back-off
        delay = min(delay * 2, 0.05)


def _slot_pool_class(url: str) -> type[Any]:
    """A NullPool whose connections each hold one of the box's RUNTUI_PG_BOX_SLOTS slots while open: short-lived
    connections, and never more than that many at once from one box, however many processes it runs."""
    from sqlalchemy.pool import ConnectionPoolEntry, NullPool

    from runtui.identity import current_host

    folder = box_folder()
    folder.mkdir(mode=0o700, exist_ok=True)
    prefix = folder / f"slot-{box_key(url, current_host())}"
    slots = box_slots()
    held: dict[int, int] = {}
    held_lock = threading.Lock()

    class BoxSlotPool(NullPool):
        def _do_get(self) -> ConnectionPoolEntry:
            fd = _acquire_slot(prefix, slots)
            try:
                record = super()._do_get()
            except BaseException:
                if fd is not None:
                    os.close(fd)
                raise
            if fd is not None:
                with held_lock:
                    held[id(record)] = fd
            return record

        def _do_return_conn(self, record: ConnectionPoolEntry) -> None:
            try:
                super()._do_return_conn(record)
            finally:
                with held_lock:
                    fd = held.pop(id(record), None)
                if fd is not None:
                    os.close(fd)  # closing the file releases the slot

    return BoxSlotPool


def dispose_engine(url: str) -> None:
    with _engines_lock:
        engine = _engines.pop(url, None)
    if engine is not None:
        engine.dispose()


def dispose_all_after_fork() -> None:
    """A forked child must not reuse its parent's pooled connections."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose(close=False)
        _engines.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=dispose_all_after_fork)


def redact(url: str) -> str:
    """A URL fit for an error message: no password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid store URL>"


def _is_busy(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "database is locked" in text or "database is busy" in text or "could not serialize" in text


def _describe(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig if orig is not None else exc).strip().splitlines()[0]


@contextmanager
def translate_errors(url: str, what: str) -> Iterator[None]:
    """Turn database exceptions into StoreError with a message a user can act on."""
    try:
        yield
    except StoreError:
        raise
    except UnicodeEncodeError as exc:  # raised by the driver before the database sees anything
        raise ValidationError(
            f"{what} failed: text with unpaired surrogate characters cannot be stored or searched ({exc.object!r:.80})"
        ) from exc
    except DBAPIError as exc:
        raise StoreError(f"{what} failed on store {redact(url)}: {_describe(exc)}") from exc
    except SQLAlchemyError as exc:
        raise StoreError(f"{what} failed on store {redact(url)}: {exc}") from exc


def with_retry(fn: Callable[[], T], deadline_s: float = 60.0) -> T:
    """Run a write unit of work, retrying with jittered backoff when the database says it is busy."""
    delay = 0.005
    give_up = time.monotonic() + deadline_s
    while True:
        try:
            return fn()
        except OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() > give_up:
                raise
        except DBAPIError as exc:  # PostgreSQL serialization failures surface as DBAPIError subclasses
            if not _is_busy(exc) or time.monotonic() > give_up:
                raise
        time.sleep(delay * (0.5 + random.random()))
        delay = min(delay * 2, 0.5)
