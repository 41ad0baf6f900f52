"""One SQLAlchemy engine per store URL, tuned for many writers and one reader.

SQLite: WAL journal, a busy timeout, writes in `BEGIN IMMEDIATE` (so a writer waits for the lock up front,
instead of failing on upgrade from a read lock), retries with backoff on the rare `SQLITE_BUSY` that escapes
the busy handler. PostgreSQL: a plain pool; the change feed's single counter row serialises writers briefly.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError, SQLAlchemyError

from runtui.errors import StoreError, ValidationError

T = TypeVar("T")

BUSY_TIMEOUT_S = 30.0
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
                engine = create_engine(url, pool_pre_ping=True, pool_size=4, max_overflow=8)
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise StoreError(f"cannot open store {redact(url)}: {exc}") from exc
        _engines[url] = engine
        return engine


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
