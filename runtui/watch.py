"""Change detection: wait, synchronously or with asyncio, until "the store (or a folder) may have changed".

A `Watcher` runs one background thread that notices changes and wakes every waiter. Waiters hold a
`Subscription` (each has its own "seen" mark, so many can wait on one watcher) and call `wait(timeout)`
or `await wait_async(timeout)`; both return True when something changed since that subscription last looked.
A wake-up only says "may have changed": the waiter then asks the store (e.g. `changes_since`).

Sources:
- `FileWatcher`: watchfiles (inotify) on a folder, optionally only some file names, plus a slow stat poll
  as the fallback (network filesystems miss events; a watcher that cannot start falls back to polling only).
  For a SQLite store it watches the database file and its `-wal`: measured, watchfiles saw a write in a median
  13 ms with `debounce=50, step=10` (100 ms with its defaults).
- `PollWatcher`: calls a cheap function at an interval and wakes waiters when its result changes; for stores
  without a file it polls the store's revision counter.

- `PgListenWatcher`: PostgreSQL LISTEN/NOTIFY on the change feed, with a slow revision poll as the fallback;
  without LISTEN (PgBouncer in transaction mode, `RUNTUI_PGBOUNCER=1` / `RUNTUI_PG_LISTEN=0`) a `PollWatcher`.

`store_watcher(url)` picks one by URL scheme; `register_store_watcher(scheme, factory)` plugs in others.
watchfiles is imported only when a FileWatcher starts, psycopg only when a PgListenWatcher does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

DEBOUNCE_MS = 50
STEP_MS = 10
DEFAULT_POLL_S = 1.0
REVISION_POLL_S = 0.25  # stores without a file to watch: one tiny query (the revision counter) per poll


class Watcher:
    """Base class: a background thread calls `notify()`; waiters wait through subscriptions."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._generation = 0
        self._async_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._default: Subscription | None = None
        self._listeners: list[Callable[[], None]] = []
        self.mode = "idle"  # what the watcher is using right now: "events", "polling", "closed"

    # -- lifecycle

    def start(self) -> Watcher:
        """Start watching: a change made after start() returns is noticed (the baseline is taken here)."""
        if self._thread is None:
            self.prepare()
            self._thread = threading.Thread(target=self._run_guarded, name=type(self).__name__, daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)
        self.mode = "closed"
        self.notify()  # release waiters: they will re-check and find nothing (or the closed state)

    @property
    def closed(self) -> bool:
        return self._stop.is_set()

    def __enter__(self) -> Watcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run_guarded(self) -> None:
        try:
            self.run()
        finally:
            if not self._stop.is_set():
                self.mode = "failed"

    def prepare(self) -> None:
        """Take the baseline to compare with (in the caller's thread, before the watcher thread starts)."""

    def run(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- notification

    @property
    def generation(self) -> int:
        return self._generation

    def notify(self) -> None:
        """Something may have changed: wake every waiter (thread-safe)."""
        with self._cond:
            self._generation += 1
            self._cond.notify_all()
            waiters = list(self._async_waiters)
        for loop, event in waiters:
            with contextlib.suppress(RuntimeError):  # the loop is closed; its waiter is gone
                loop.call_soon_threadsafe(event.set)
        for listener in list(self._listeners):
            listener()

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call `listener()` (from the watcher's thread; keep it quick) on every notification."""
        self._listeners.append(listener)

    def subscribe(self) -> Subscription:
        return Subscription(self)

    # -- convenience: a default subscription for a single consumer

    def wait(self, timeout: float | None = None) -> bool:
        if self._default is None:
            self._default = self.subscribe()
        return self._default.wait(timeout)

    async def wait_async(self, timeout: float | None = None) -> bool:
        if self._default is None:
            self._default = self.subscribe()
        return await self._default.wait_async(timeout)


class Subscription:
    """One waiter's view of a watcher: remembers which notifications it has already seen."""

    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher
        self._seen = watcher.generation

    def changed(self) -> bool:
        """True (once) when something changed since the last call; never blocks."""
        gen = self.watcher.generation
        if gen != self._seen:
            self._seen = gen
            return True
        return False

    def wait(self, timeout: float | None = None) -> bool:
        """Block until a change (True) or the timeout (False)."""
        w = self.watcher
        with w._cond:
            w._cond.wait_for(lambda: w._generation != self._seen or w.closed, timeout)
        return self.changed()

    async def wait_async(self, timeout: float | None = None) -> bool:
        """Await a change (True) or the timeout (False) without blocking the event loop."""
        if self.changed():
            return True
        w = self.watcher
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        key = (loop, event)
        with w._cond:
            w._async_waiters.add(key)
            if w._generation != self._seen:
                event.set()
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except asyncio.TimeoutError:
            pass
        finally:
            with w._cond:
                w._async_waiters.discard(key)
        return self.changed()


def _stat_signature(paths: Iterable[Path], folder_listing: Path | None = None) -> tuple[Any, ...]:
    """Sizes and mtimes of `paths` (and of the files in `folder_listing`): a cheap "did anything change"."""
    sig: list[Any] = []
    targets = list(paths)
    if folder_listing is not None:
        try:
            targets.extend(sorted(folder_listing.iterdir()))
        except OSError:
            sig.append(None)
    for p in targets:
        try:
            st = os.stat(p)
            sig.append((str(p), st.st_size, st.st_mtime_ns))
        except OSError:
            sig.append((str(p), None))
    return tuple(sig)


class FileWatcher(Watcher):
    """Changes to files in `folder` (only `names` when given), by watchfiles events plus a stat poll.

    `poll_interval` is the fallback: every that many seconds the files are stat-ed, and a change wakes waiters
    even if no event came (network filesystems). Without watchfiles, or when it fails, only the poll runs.
    """

    def __init__(
        self,
        folder: Path,
        names: Iterable[str] | None = None,
        *,
        poll_interval: float = DEFAULT_POLL_S,
        debounce_ms: int = DEBOUNCE_MS,
        step_ms: int = STEP_MS,
        use_events: bool = True,
    ) -> None:
        super().__init__()
        self.folder = Path(folder)
        self.names = frozenset(names) if names is not None else None
        self.poll_interval = poll_interval
        self.debounce_ms = debounce_ms
        self.step_ms = step_ms
        self.use_events = use_events
        self._baseline: tuple[Any, ...] = ()
        self._events = False

    def _signature(self) -> tuple[Any, ...]:
        if self.names is not None:
            return _stat_signature(self.folder / n for n in sorted(self.names))
        return _stat_signature((), self.folder)

    def prepare(self) -> None:
        self._baseline = self._signature()
        # Decided now, not in the thread: a folder that appears later is followed by polling.
        self._events = self.use_events and self.folder.is_dir()

    def run(self) -> None:
        sig = self._baseline
        if self._events:
            sig = self._run_events(sig)
        self._run_polling(sig)

    def _run_events(self, sig: tuple[Any, ...]) -> tuple[Any, ...]:
        try:
            import watchfiles
        except ImportError:
            return sig
        names = self.names
        folder = str(self.folder)

        def wanted(_change: object, path: str) -> bool:
            return names is None or os.path.basename(path) in names

        self.mode = "events"
        try:
            for changes in watchfiles.watch(
                folder,
                watch_filter=wanted,
                debounce=self.debounce_ms,
                step=self.step_ms,
                stop_event=self._stop,
                rust_timeout=max(1, int(self.poll_interval * 1000)),
                yield_on_timeout=True,
                recursive=False,
                raise_interrupt=False,
            ):
                new = self._signature()
                if changes or new != sig:
                    self.notify()
                sig = new
        except Exception:  # inotify limits, the folder vanished, ...: keep going by polling
            pass
        return sig

    def _run_polling(self, sig: tuple[Any, ...]) -> None:
        if self._stop.is_set():
            return
        self.mode = "polling"
        while not self._stop.wait(self.poll_interval):
            new = self._signature()
            if new != sig:
                sig = new
                self.notify()


class PollWatcher(Watcher):
    """Calls `probe()` every `interval` seconds and wakes waiters when its value changes."""

    def __init__(self, probe: Callable[[], object], interval: float = DEFAULT_POLL_S) -> None:
        super().__init__()
        self.probe = probe
        self.interval = interval
        self._last: object = None

    def prepare(self) -> None:
        self._last = self._safe_probe()

    def run(self) -> None:
        self.mode = "polling"
        last = self._last
        while not self._stop.wait(self.interval):
            value = self._safe_probe()
            if value != last:
                last = value
                self.notify()

    def _safe_probe(self) -> object:
        try:
            return self.probe()
        except Exception as exc:  # a store that is briefly unreachable: report "maybe changed" and retry
            return ("error", type(exc).__name__, str(exc))


class CombinedWatcher(Watcher):
    """Wakes when any of `watchers` does (e.g. the store and a run's log folder). Closing it closes them."""

    def __init__(self, watchers: Iterable[Watcher]) -> None:
        super().__init__()
        self.watchers = list(watchers)
        for w in self.watchers:
            w.add_listener(self.notify)

    def start(self) -> Watcher:
        for w in self.watchers:
            w.start()
        self.mode = "combined"
        return self

    def close(self) -> None:
        for w in self.watchers:
            w.close()
        self._stop.set()
        self.mode = "closed"
        self.notify()


# ---------------------------------------------------------------------- PostgreSQL: LISTEN/NOTIFY
#
# Every revision bump of a PostgreSQL store also sends `NOTIFY runtui_changes` in the same transaction (see
# `Store._bump`), delivered when it commits. `PgListenWatcher` holds one dedicated connection in autocommit mode
# that LISTENs, so a waiter (a supervisor waiting for a cancel request, the TUI's change feed) wakes within
# milliseconds of a commit on any host, instead of at the next poll.
#
# The server can go away (a restart, a network cut): the watcher then wakes its waiters once (they re-read the
# store and see whatever they missed), reconnects with a growing back-off, and meanwhile polls the revision.
# While connected it still reads the revision every `poll_interval` seconds on the listening connection (one
# tiny query), so a lost notification is noticed anyway; `poll_interval=None` turns that off (tests use it to
# prove the NOTIFY path). psycopg 3 is used directly, not through SQLAlchemy's pool: a LISTEN belongs to one
# connection for its lifetime. Without psycopg, PostgreSQL stores are polled.

CHANGES_CHANNEL = "runtui_changes"  # the same names as runtui.store.db (not imported: it loads SQLAlchemy)
LOGS_CHANNEL = "runtui_logs"
STATUS_CHANNEL = "runtui_status"  # a run's status changed; payload "<schema>:<run id> <new status>"
WAIT_SLICE_S = 0.25  # how long one wait for notifications lasts: bounds how long close() takes
BACKOFF_START_S = 0.5
BACKOFF_MAX_S = 15.0
CONNECT_TIMEOUT_S = 10


def libpq_url(url: str) -> str:
    """The libpq connection URI for a SQLAlchemy PostgreSQL URL (`postgresql+psycopg://...` -> `postgresql://...`)."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PgListenWatcher(Watcher):
    """Wakes waiters on NOTIFY of `channels` from the PostgreSQL store at `url`; polls the revision as a fallback.

    `poll_interval`: seconds between revision reads while listening (None: never, only notifications), and the
    polling rate while the server is unreachable (then at least every second). `log_runs`: also wake when a
    chunk of one of these runs' logs is copied into the store (LOGS_CHANNEL; other runs' chunks are ignored).
    `on_status`: listen to status changes only (STATUS_CHANNEL, not every revision bump): it is called on the
    watcher's thread with each change's run id and new status, and waiters wake when it returns True.
    """

    def __init__(
        self,
        url: str,
        *,
        poll_interval: float | None = 1.0,
        log_runs: frozenset[str] = frozenset(),
        on_status: Callable[[str, str], bool] | None = None,
    ) -> None:
        super().__init__()
        self.url = url
        self.poll_interval = poll_interval
        self.log_runs = log_runs
        self.on_status = on_status
        main = STATUS_CHANNEL if on_status is not None else CHANGES_CHANNEL
        self.channels = (main, LOGS_CHANNEL) if log_runs else (main,)
        self.reconnects = 0  # times the connection was lost and made again (tests and diagnostics look at it)
        self.notifications = 0
        self._conn: Any = None
        self._revision: int | None = None
        self._prefix = ":"

    # -- connection

    def _connect(self) -> Any:
        import psycopg

        # Keepalives and a TCP user timeout: a silently cut network shows up as an error within seconds,
        # instead of a LISTEN that waits forever on a dead socket.
        from runtui.pg_settings import application_name

        conn = psycopg.connect(
            libpq_url(self.url),
            autocommit=True,
            application_name=application_name("listen"),
            connect_timeout=CONNECT_TIMEOUT_S,
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=5,
            keepalives_count=3,
            tcp_user_timeout=15_000,
        )
        try:
            for channel in self.channels:
                conn.execute(f'LISTEN "{channel}"')
            # Payloads start with the schema of the store that sent them (see Store._bump): others are ignored.
            row = conn.execute("SELECT current_schema()").fetchone()
            self._prefix = f"{row[0] if row else ''}:"
        except BaseException:
            conn.close()
            raise
        return conn

    def _read_revision(self, conn: Any) -> int | None:
        row = conn.execute("SELECT revision FROM store_meta WHERE id = 1").fetchone()
        return None if row is None else int(row[0])

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def prepare(self) -> None:
        # Connect (and LISTEN) before start() returns: a change committed after that is always notified.
        try:
            self._conn = self._connect()
            self._revision = self._read_revision(self._conn)
            self.mode = "events"
        except Exception:
            self._drop()
            self.mode = "polling"

    def close(self) -> None:
        super().close()
        self._drop()

    # -- the thread

    def run(self) -> None:
        backoff = BACKOFF_START_S
        next_attempt = 0.0
        while not self._stop.is_set():
            if self._conn is None:
                now = time.monotonic()
                if now >= next_attempt:
                    try:
                        self._conn = self._connect()
                    except Exception:
                        next_attempt = now + backoff
                        backoff = min(backoff * 2, BACKOFF_MAX_S)
                    else:
                        backoff = BACKOFF_START_S
                        self.reconnects += 1
                        self.mode = "events"
                        self.notify()  # whatever happened while we were away: waiters re-read the store
                        continue
                self.mode = "polling"
                self._poll_while_away(min(max(next_attempt - time.monotonic(), 0.05), self._away_poll_s()))
                continue
            try:
                self._listen(self._conn)
            except Exception:  # the server went away (or the connection broke): wake waiters, reconnect
                self._drop()
                if not self._stop.is_set():
                    self.notify()
                    next_attempt = time.monotonic() + backoff

    def _away_poll_s(self) -> float:
        return 1.0 if self.poll_interval is None else min(self.poll_interval, 1.0)

    def _listen(self, conn: Any) -> None:
        next_poll = None if self.poll_interval is None else time.monotonic() + self.poll_interval
        while not self._stop.is_set():
            timeout = WAIT_SLICE_S
            if next_poll is not None:
                timeout = max(0.0, min(timeout, next_poll - time.monotonic()))
            got = list(conn.notifies(timeout=timeout, stop_after=1))
            if self._stop.is_set():
                return
            prefix = self._prefix
            ours = [(n.channel, n.payload[len(prefix) :]) for n in got if n.payload.startswith(prefix)]
            wanted = [(channel, rest) for channel, rest in ours if self._wants(channel, rest)]
            if wanted:
                self.notifications += len(wanted)
                for channel, rest in wanted:
                    if channel == CHANGES_CHANNEL and rest.isdigit():
                        self._revision = max(int(rest), self._revision or 0)
                self.notify()
            if next_poll is not None and time.monotonic() >= next_poll:
                next_poll = time.monotonic() + (self.poll_interval or 0.0)
                revision = self._read_revision(conn)
                if revision != self._revision:
                    self._revision = revision
                    self.notify()  # a notification was lost (or sent by a runtui without NOTIFY)

    def _wants(self, channel: str, rest: str) -> bool:
        if channel == CHANGES_CHANNEL:
            return True
        if channel == STATUS_CHANNEL:
            run_id, _, status = rest.partition(" ")
            try:
                return self.on_status is not None and self.on_status(run_id, status)
            except Exception:  # a broken callback must not read as a lost connection: wake, let the waiter re-read
                return True
        return rest in self.log_runs

    def _poll_while_away(self, wait: float) -> None:
        """Poll the revision through the store's own engine while the listening connection is down."""
        if self._stop.wait(wait):
            return
        try:
            from runtui.store import open_store

            revision = open_store(self.url).current_revision()
        except Exception:
            return
        if revision != self._revision:
            self._revision = revision
            self.notify()


def log_watcher(url: str, run_id: str, poll_interval: float = 1.0) -> Watcher | None:
    """A started watcher that also wakes when a chunk of `run_id`'s log reaches the PostgreSQL store at `url`;
    None for other stores (or without psycopg), where the caller's own poll has to do."""
    from runtui.pg_settings import listen_enabled

    if not url.startswith("postgresql") or not listen_enabled():
        return None
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return None
    return PgListenWatcher(url, poll_interval=poll_interval, log_runs=frozenset({run_id})).start()


def status_watcher(url: str, on_status: Callable[[str, str], bool]) -> Watcher:
    """A started watcher that wakes when a run's status may have changed.

    PostgreSQL with LISTEN: the status channel only (a metric batch or a log chunk wakes nothing), and no
    revision poll: `on_status(run_id, new_status)` is called for each change (on the watcher's thread) and the
    waiters wake when it returns True. The caller is expected to re-read on its own now and then, which covers a
    lost notification and a writer (an older runtui) that sends none. Without LISTEN (PgBouncer) and on other
    stores: the store watcher, which wakes for every change (on_status is never called)."""
    from runtui.pg_settings import listen_enabled

    if url.startswith("postgresql") and listen_enabled():
        try:
            import psycopg  # noqa: F401
        except ImportError:
            pass
        else:
            return PgListenWatcher(url, poll_interval=None, on_status=on_status).start()
    return store_watcher(url)


def pg_watcher(url: str, poll_interval: float) -> Watcher:
    """The store watcher for PostgreSQL URLs (registered in `runtui.watch`).

    Behind PgBouncer in transaction mode (RUNTUI_PGBOUNCER=1) or with RUNTUI_PG_LISTEN=0 there is no session to
    LISTEN on: the store revision is polled instead (every 0.25 s at most), through short transactions."""
    from runtui.pg_settings import listen_enabled

    if not listen_enabled():
        return _revision_watcher(url, min(poll_interval, REVISION_POLL_S))
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return _revision_watcher(url, min(poll_interval, REVISION_POLL_S))
    return PgListenWatcher(url, poll_interval=poll_interval)


# ---------------------------------------------------------------------- stores

StoreWatcherFactory = Callable[[str, float], Watcher]
_factories: dict[str, StoreWatcherFactory] = {}


def register_store_watcher(scheme: str, factory: StoreWatcherFactory) -> None:
    """Use `factory(url, poll_interval)` for store URLs whose scheme starts with `scheme` (e.g. "postgresql")."""
    _factories[scheme] = factory


def sqlite_file_of(url: str) -> Path | None:
    """The database file of a `sqlite:///...` URL (None for in-memory databases)."""
    from runtui.store.peek import sqlite_path

    # The common plain URL is read without SQLAlchemy: the TUI starts this watcher before its first paint,
    # when the store layer is not imported yet (see runtui.store.peek).
    db = sqlite_path(url)
    if db is None:
        from sqlalchemy.engine import make_url

        db = make_url(url).database
    return Path(db) if db and db != ":memory:" else None


def _sqlite_watcher(url: str, poll_interval: float) -> Watcher:
    path = sqlite_file_of(url)
    if path is None:
        return _revision_watcher(url, poll_interval)
    names = {path.name, path.name + "-wal", path.name + "-journal"}
    return FileWatcher(path.parent, names, poll_interval=poll_interval)


def _revision_watcher(url: str, poll_interval: float) -> Watcher:
    from runtui.store import open_store

    store = open_store(url)
    return PollWatcher(store.current_revision, poll_interval)


register_store_watcher("postgresql", pg_watcher)


def store_watcher(url: str, *, poll_interval: float | None = None) -> Watcher:
    """A started watcher that wakes when the store at `url` may have changed.

    SQLite: file events (+ a 1 s stat poll). PostgreSQL: LISTEN/NOTIFY (+ a 1 s revision poll; `PgListenWatcher`).
    Other stores: the registered factory for the scheme, else a poll of the store revision every 0.25 s.
    """
    scheme = url.split(":", 1)[0]
    for prefix, factory in sorted(_factories.items(), key=lambda kv: -len(kv[0])):
        if scheme.startswith(prefix):
            return factory(url, poll_interval if poll_interval is not None else DEFAULT_POLL_S).start()
    if scheme.startswith("sqlite"):
        return _sqlite_watcher(url, poll_interval if poll_interval is not None else DEFAULT_POLL_S).start()
    return _revision_watcher(url, poll_interval if poll_interval is not None else REVISION_POLL_S).start()


def log_copy_watcher(url: str, run_id: str) -> Watcher | None:
    """A started watcher that wakes when a chunk of `run_id`'s log is copied into the store at `url` (PostgreSQL:
    LISTEN/NOTIFY), or None for stores without such events (the caller's own poll then has to do)."""
    return log_watcher(url, run_id)


def folder_watcher(folder: Path, *, poll_interval: float = DEFAULT_POLL_S) -> Watcher:
    """A started watcher on the files of one folder (e.g. a run's `logs/`, to follow its log files)."""
    return FileWatcher(Path(folder), poll_interval=poll_interval).start()
