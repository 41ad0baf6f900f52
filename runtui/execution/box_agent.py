"""The box agent: one process per (host, PostgreSQL store) that talks to the database for every supervisor on the box.

Why: a supervisor used to hold up to three PostgreSQL connections (its pool, a LISTEN watcher, the log copy), so
about 30 concurrent runs exhausted PostgreSQL's default `max_connections` (100). With the agent, a box holds
two: the agent's LISTEN connection and its one work connection, whatever the number of runs. The supervisors
hold none; their scripts (the SDK's metric writes) open one per transaction and hold none idle
(`RUNTUI_PG_POOL=null`, set by the supervisor). See docs/architecture.md, "Many boxes on one PostgreSQL".

What it does, over a Unix socket (`/tmp/runtui-<uid>/agent-<hash of host and URL>.sock`, folder 0700):
- runs the supervisors' store calls (`AgentStore` forwards every public `Store` method) one at a time on its
  single connection, retrying a call whose connection was dropped (a restarted server, `pg_terminate_backend`);
- turns the supervisors' heartbeats into one UPDATE per ~0.2 s for the whole box, stamped with the database's
  clock (`Store.clock()`), so boxes whose clocks disagree do not flap between Running and NotResponding;
- LISTENs once for the box to the status channel, whose notifications carry the run id, and wakes only for its
  own runs (or polls the revision where LISTEN is off: PgBouncer in transaction mode); reads the status of every
  watched run in one query per such change (and every STATUS_POLL_S), and pushes a run's new status to its
  supervisor (a cancel from any host reaches the supervisor in milliseconds).

Lifecycle: the first supervisor that needs it starts it (under a lock file, so twenty supervisors starting at
once make one agent); it runs detached (own session, not in any run's process tree) and exits after
`RUNTUI_BOX_AGENT_IDLE_S` (10 s) without clients. If it dies, each supervisor sees its socket close, re-reads its
run's status, and the next call starts a new agent and re-registers; a supervisor that cannot reach any agent
talks to the store itself, with a connection per transaction. `RUNTUI_BOX_AGENT=0` turns the agent off.

Wire format: a 4-byte big-endian length, then a pickle. Only this user can reach the socket (0700 folder, 0600
socket); nothing else is ever unpickled.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import fcntl
import inspect
import os
import pickle
import socket
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtui.pg_settings import (
    AGENT_ENV,
    METRICS_AGENT_ENV,
    POOL_ENV,
    ROLE_ENV,
    agent_enabled,
    box_folder,
    box_key,
)

if TYPE_CHECKING:
    from runtui.store import Store
    from runtui.watch import Watcher

URL_ENV = "RUNTUI_AGENT_STORE_URL"  # how the agent gets its URL: argv would show a password in `ps`
IDLE_ENV = "RUNTUI_BOX_AGENT_IDLE_S"
DEFAULT_IDLE_S = 10.0
START_TIMEOUT_S = 30.0
CALL_TIMEOUT_S = 300.0  # a store call waits its turn on the agent's one connection; bounded, never forever
CALL_RETRY_S = 60.0  # how long the agent retries a call whose connection dropped (a server restart)
BEAT_COALESCE_S = 0.2  # heartbeats that arrive within this window go out in one UPDATE
STATUS_POLL_S = 2.0  # the agent reads its runs' statuses at least this often, even without a notification
STATUS_COALESCE_S = 0.1  # at most ~10 status reads a second per box, however busy the change feed is
# Statuses of a run on its way out: its last log chunks and metric batches (the supervisor's final log copy, the
# script's flush on SIGTERM) go ahead of the box's bulk copies, since a cancel waits for them before Canceled.
ENDING = frozenset({"CancelRequested", "Canceled", "Completed", "Failed"})
# Statuses a supervisor acts on without reading them back (a cancel is never taken back): the agent pushes them
# straight from the database's status notification, before its read of the box's statuses.
CANCELS = frozenset({"CancelRequested", "Canceled"})
# A supervisor's calls on the way to acting on a status (cancel): before log copies and sampled metrics.
STATUS_PATH_CALLS = frozenset({"get_run", "get_runs_by_id", "set_status", "set_statuses", "update_run", "descendants"})
SUPERVISOR_STATUS_POLL_S = 10.0  # a supervisor linked to an agent re-reads on its own only this rarely
SLOW_CALL_S = 2.0
# Metric batches of the box's runs (scripts and supervisors) that the agent merges into one transaction; the
# supervisors' log copies (append_log) are merged the same way.
COALESCED_CALLS = frozenset({"write_metric_batch", "write_metrics"})


def _append_log_signature(run_id: str, data: str, offset: int, stream: str = "output") -> None:
    """Store.append_log's parameters, to read a forwarded call's arguments by name."""


_HEADER = struct.Struct("!I")
MAX_MESSAGE = 256 * 1024 * 1024


class AgentUnavailable(Exception):
    """No agent could be reached or started."""


# ---------------------------------------------------------------------- where


def agent_folder() -> Path:
    return box_folder()


def agent_key(url: str, host: str) -> str:
    return box_key(url, host)


def socket_path(url: str, host: str) -> Path:
    # Unix socket paths are limited to ~107 bytes: a short hashed name in a short folder, never the URL itself.
    return agent_folder() / f"agent-{agent_key(url, host)}.sock"


def _private_folder() -> Path:
    folder = agent_folder()
    folder.mkdir(mode=0o700, exist_ok=True)
    st = folder.stat()
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise AgentUnavailable(f"{folder} must belong to this user and be private (mode 0700)")
    return folder


# ---------------------------------------------------------------------- framing


def send_msg(sock: socket.socket, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(_HEADER.pack(len(data)) + data)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    parts = []
    while n:
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the connection")
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)


def recv_msg(sock: socket.socket) -> Any:
    (size,) = _HEADER.unpack(_recv_exact(sock, _HEADER.size))
    if size > MAX_MESSAGE:
        raise EOFError(f"message of {size} bytes refused")
    return pickle.loads(_recv_exact(sock, size))


# ---------------------------------------------------------------------- the database clock


def store_now(store: Any) -> float:
    """The store's clock: the database's on PostgreSQL (`Store.clock()`), this host's on SQLite."""
    clock = getattr(store, "clock", None)
    if clock is not None:
        return float(clock())
    if getattr(store, "sqlite", True):
        return time.time()
    # A store without clock() (before schema v2): ask the server directly.
    with store.engine.connect() as conn:
        return float(conn.exec_driver_sql("SELECT extract(epoch FROM clock_timestamp())").scalar_one())


def _is_connection_error(exc: BaseException) -> bool:
    """A dropped or refused connection (worth retrying), as opposed to an answer from the database."""
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            return False
        if getattr(seen, "connection_invalidated", False):
            return True
        name = type(seen).__name__
        text = str(seen).lower()
        if name in ("AdminShutdown", "ConnectionFailure", "ConnectionTimeout") or any(
            s in text
            for s in (
                "terminating connection",
                "server closed the connection",
                "connection refused",
                "could not connect",
                "connection is closed",
                "the database system is starting up",
                "the database system is shutting down",
                "consuming input failed",
            )
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


# ---------------------------------------------------------------------- the agent process


class _Client:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.send_lock = threading.Lock()
        self.runs: set[str] = set()
        self.sent: dict[str, str] = {}  # run -> last status pushed

    def send(self, obj: Any) -> bool:
        try:
            with self.send_lock:
                send_msg(self.sock, obj)
            return True
        except OSError:
            return False


class _Combiner:
    """Flat combining on the agent's one connection: the first caller to find no write in progress becomes the
    writer and writes every request queued meanwhile (bounded per transaction) in one store call; the others wait
    for their share of the result. With 200 runs on a box that is a few transactions a second instead of one per
    request. A merged write the database rejects for its content is retried request by request, so one bad
    request fails only its own caller."""

    limit = 50_000  # per transaction, in the units of `_size`

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self._lock = threading.Lock()
        self._pending: list[tuple[Any, list[Any]]] = []
        self._writing = False
        self.transactions = 0
        self.requests = 0

    def submit(self, item: Any) -> Any:
        slot: list[Any] = [threading.Event(), None, None]  # done, result, error
        with self._lock:
            self._pending.append((item, slot))
            lead = not self._writing
            self._writing = True
        if lead:
            self._drain()
        slot[0].wait()
        if slot[2] is not None:
            raise slot[2]
        return slot[1]

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    self._writing = False
                    return
                take, size = 0, 0
                for item, _ in self._pending:
                    if take and size + self._size(item) > self.limit:
                        break
                    size += self._size(item)
                    take += 1
                group, self._pending = self._pending[:take], self._pending[take:]
            self._write(group)

    def _write(self, group: list[tuple[Any, list[Any]]]) -> None:
        self.requests += len(group)
        items = [item for item, _ in group]
        ending = self.agent.ending
        level = 1 if ending and any(self._runs(item) & ending for item in items) else 2
        try:
            self.transactions += 1
            results = self.agent.call(lambda s: self._merged(s, items), level=level)
        except Exception as exc:
            if len(group) == 1 or _is_connection_error(exc):
                for _, slot in group:
                    slot[2] = exc
                    slot[0].set()
                return
            for one in group:  # the content of some request was refused: each on its own, to find whose
                self._write([one])
            return
        for (_, slot), result in zip(group, results, strict=True):
            slot[1] = result
            slot[0].set()

    def _size(self, item: Any) -> int:
        raise NotImplementedError

    def _runs(self, item: Any) -> set[str]:
        """The runs a request writes to (to give the requests of ending runs their turn first)."""
        raise NotImplementedError

    def _merged(self, store: Store, items: list[Any]) -> list[Any]:
        """One store call for all `items`; one result per item."""
        raise NotImplementedError


class _MetricMerger(_Combiner):
    """Metric batches `(points, descriptions)` of the box's runs (scripts and supervisors): one write_metric_batch."""

    def _size(self, item: Any) -> int:
        return len(item[0])

    def _runs(self, item: Any) -> set[str]:
        return {p[0] for p in item[0]}

    def _merged(self, store: Store, items: list[Any]) -> list[Any]:
        from runtui.store.records import MetricWriteResult

        merged = [p for points, _ in items for p in points]
        descriptions = {k: v for _, d in items for k, v in d.items()}
        result = store.write_metric_batch(merged, descriptions)
        out = []
        for points, _ in items:
            mine: dict[str, int] = {}
            if result.refused:  # a finished run refuses all of its points in a batch
                for p in points:
                    if p[0] in result.refused:
                        mine[p[0]] = mine.get(p[0], 0) + 1
            out.append(MetricWriteResult(len(points) - sum(mine.values()), mine))
        return out


class _LogMerger(_Combiner):
    """Log chunks `(run_id, data, offset, stream)` the supervisors copy: one append_logs (sequence numbers back)."""

    limit = 8 * 2**20  # characters per transaction

    def _size(self, item: Any) -> int:
        return len(item[1])

    def _runs(self, item: Any) -> set[str]:
        return {item[0]}

    def _merged(self, store: Store, items: list[Any]) -> list[Any]:
        return store.append_logs(items)


class Agent:
    """The agent's state; `serve()` runs it until it has been idle for `idle_s`."""

    def __init__(self, url: str, host: str, idle_s: float) -> None:
        self.url = url
        self.host = host
        self.idle_s = idle_s
        self._store: Store | None = None
        self._turns = threading.Condition()  # one call at a time on the one connection (see _turn)
        self._busy = False
        self._waiting = [0, 0, 0]  # callers waiting per level (see _turn)
        self._lock = threading.Lock()
        self._clients: set[_Client] = set()
        self._pending_beats: set[str] = set()
        self._beat_wake = threading.Event()
        self._status_wake = threading.Event()
        self._stop = threading.Event()
        self._watcher: Watcher | None = None
        self.calls = 0
        self._metrics = _MetricMerger(self)
        self._logs = _LogMerger(self)
        # Watched runs last read in an ending status (replaced whole, read without a lock by the combiners).
        self.ending: frozenset[str] = frozenset()
        # Every client's watched runs (replaced whole under _lock, read without it by the watcher's thread).
        self.watched: frozenset[str] = frozenset()
        self.status_reads = 0
        self._notified: dict[str, str] = {}  # watched run -> the last status the database notified (committed)

    # -- the store, on one connection

    def _get_store(self) -> Store:
        if self._store is None:
            from runtui.store import open_store

            self._store = open_store(self.url)
        return self._store

    @contextlib.contextmanager
    def _turn(self, level: int) -> Iterator[None]:
        """The connection, one caller at a time; a lower level goes first (0: the box's heartbeats and status
        reads, 1: a supervisor's status path, 2: bulk copies), so a saturated connection delays logs, not liveness."""
        with self._turns:
            self._waiting[level] += 1
            try:
                while self._busy or any(self._waiting[:level]):
                    self._turns.wait()
            finally:
                self._waiting[level] -= 1
            self._busy = True
        try:
            yield
        finally:
            with self._turns:
                self._busy = False
                self._turns.notify_all()

    def call(self, fn: Callable[[Store], Any], *, level: int = 2) -> Any:
        """Run `fn(store)` on the agent's connection; a dropped connection is retried for up to CALL_RETRY_S."""
        delay = 0.05
        give_up = time.monotonic() + CALL_RETRY_S
        while True:
            try:
                queued = time.monotonic()
                with self._turn(level):
                    self.calls += 1
                    started = time.monotonic()
                    try:
                        return fn(self._get_store())
                    finally:
                        done = time.monotonic()
                        if done - queued > SLOW_CALL_S:  # diagnostics: a box whose one connection is a bottleneck
                            _log(f"slow store call: waited {started - queued:.2f} s, ran {done - started:.2f} s")
            except Exception as exc:
                if not _is_connection_error(exc) or time.monotonic() > give_up or self._stop.is_set():
                    raise
            self._stop.wait(delay)
            delay = min(delay * 2, 2.0)

    # -- threads

    def _beats(self) -> None:
        """Write the heartbeats the supervisors sent, for the whole box at once, at the database's clock."""
        while not self._stop.is_set():
            self._beat_wake.wait(1.0)
            if self._stop.wait(BEAT_COALESCE_S):
                return
            self._beat_wake.clear()
            with self._lock:
                ids, self._pending_beats = sorted(self._pending_beats), set()
            if not ids:
                continue
            try:
                beat = lambda s, ids=ids: s.heartbeat(ids, now=store_now(s))  # noqa: E731
                self.call(beat, level=0)
            except Exception as exc:
                _log(f"heart-beating {len(ids)} runs failed: {exc}")
                with self._lock:
                    self._pending_beats.update(ids)  # the next round tries again

    def _statuses(self) -> None:
        """Read every watched run's status once per change (or STATUS_POLL_S) and push the changes."""
        last_read = -STATUS_COALESCE_S
        while not self._stop.is_set():
            self._status_wake.wait(STATUS_POLL_S)
            # A rate limit, not a pause after every read: a change after a quiet spell is read at once (a cancel
            # on a box whose feed is calm), and a busy feed still costs at most one read per STATUS_COALESCE_S.
            if (gap := last_read + STATUS_COALESCE_S - time.monotonic()) > 0 and self._stop.wait(gap):
                return
            self._status_wake.clear()
            if self._stop.is_set():
                return
            last_read = time.monotonic()
            with self._lock:
                clients = list(self._clients)
            ids = sorted({r for c in clients for r in c.runs})
            if ids:
                self.status_reads += 1
                try:
                    records = self.call(lambda s, ids=ids: s.get_runs_by_id(ids), level=0)  # type: ignore[misc]
                except Exception as exc:
                    _log(f"reading {len(ids)} run statuses failed: {exc}")
                    records = None
                if records is not None:
                    current = self.note_statuses(records)
                    for c in clients:
                        changed = {
                            r: current[r]
                            for r in list(c.runs)
                            if r in current and c.sent.get(r) != current[r] and not self._stale(r, current[r])
                        }
                        if changed and c.send(("push", changed)):
                            c.sent.update(changed)

    def _stale(self, run_id: str, status: str) -> bool:
        """A read that began before a notified cancel committed: CancelRequested only moves on to an ending."""
        return self._notified.get(run_id) == "CancelRequested" and status not in ENDING

    def note_statuses(self, records: list[Any]) -> dict[str, str]:
        """Take in a read of the watched runs' records: their statuses by run, and which runs are ending."""
        current = {r.id: r.status.value for r in records}
        notified = self._notified
        self.ending = frozenset(r for r, status in current.items() if status in ENDING or notified.get(r) in ENDING)
        return current

    def _on_status(self, run_id: str, status: str) -> bool:
        """A committed status change, from the database's notification (the watcher's thread): wake the status
        read only for this box's runs, and push a cancel to its supervisor at once (no read on the way)."""
        if run_id not in self.watched:
            return False
        with self._lock:
            self._notified[run_id] = status
            clients = [c for c in self._clients if run_id in c.runs]
        if status in ENDING:  # its last metric flush and log copy go ahead of the box's bulk copies
            self.ending = self.ending | {run_id}
        if status in CANCELS:
            for c in clients:
                if c.sent.get(run_id) != status and c.send(("push", {run_id: status})):
                    c.sent[run_id] = status
        return True

    def _serve_client(self, client: _Client) -> None:
        try:
            while not self._stop.is_set():
                try:
                    req_id, op, args = recv_msg(client.sock)
                except (EOFError, OSError, pickle.UnpicklingError, ValueError):
                    return
                if op == "call":
                    # In a thread of its own: a supervisor's status read must not queue behind its own log copy.
                    threading.Thread(
                        target=self._answer, args=(client, req_id, op, args), name="call", daemon=True
                    ).start()
                elif not self._answer(client, req_id, op, args):
                    return
        finally:
            with self._lock:
                self._clients.discard(client)
                self._last_client_left = time.monotonic()
                self._rewatch_locked()
            with contextlib.suppress(OSError):
                client.sock.close()

    def _answer(self, client: _Client, req_id: int, op: str, args: Any) -> bool:
        try:
            reply: Any = (req_id, True, self._handle(client, op, args))
        except Exception as exc:
            reply = (req_id, False, _picklable(exc))
        try:
            return client.send(reply)
        except Exception as exc:  # a result that cannot be pickled: say so instead of leaving the caller waiting
            return client.send((req_id, False, _picklable(RuntimeError(f"unpicklable result: {exc}"))))

    def _handle(self, client: _Client, op: str, args: Any) -> Any:
        if op == "watch":
            with self._lock:
                client.runs.update(args)
                for run_id in args:
                    client.sent.pop(run_id, None)  # push the current status even if it did not change
                self._rewatch_locked()
            self._status_wake.set()
            return None
        if op == "unwatch":
            with self._lock:
                client.runs.difference_update(args)
                self._rewatch_locked()
            return None
        if op == "beat":
            with self._lock:
                self._pending_beats.update(args)
            self._beat_wake.set()
            return None
        if op == "call":
            name, call_args, call_kwargs = args
            if name.startswith("_"):
                raise AttributeError(f"the box agent does not run private store methods ({name})")
            if name in COALESCED_CALLS:
                points = call_args[0] if call_args else call_kwargs.get("points", [])
                descriptions = call_args[1] if len(call_args) > 1 else call_kwargs.get("descriptions")
                try:
                    result = self._metrics.submit((list(points), dict(descriptions or {})))
                except Exception as exc:
                    if _refused_content(exc):  # the SDK's writer isolates bad points on this type (the cause
                        from runtui.errors import ValidationError  # chain does not survive the socket)

                        raise ValidationError(str(exc)) from None
                    raise
                return result.written if name == "write_metrics" else result
            if name == "append_log":
                bound = inspect.signature(_append_log_signature).bind(*call_args, **call_kwargs)
                bound.apply_defaults()
                a = bound.arguments
                return self._logs.submit((a["run_id"], a["data"], a["offset"], a["stream"]))
            level = 1 if name in STATUS_PATH_CALLS else 2
            return self.call(lambda s: getattr(s, name)(*call_args, **call_kwargs), level=level)
        if op == "clock":
            return self.call(store_now, level=1)
        if op == "ping":
            merged = self._metrics
            return {
                "pid": os.getpid(),
                "host": self.host,
                "calls": self.calls,
                "metric_batches": merged.requests,
                "metric_transactions": merged.transactions,
                "log_chunks": self._logs.requests,
                "log_transactions": self._logs.transactions,
                "status_reads": self.status_reads,
            }
        raise ValueError(f"unknown box agent request {op!r}")

    def _rewatch_locked(self) -> None:
        self.watched = frozenset(r for c in self._clients for r in c.runs)
        self._notified = {r: s for r, s in self._notified.items() if r in self.watched}

    # -- main

    def serve(self, listener: socket.socket) -> None:
        from runtui.watch import status_watcher

        self._last_client_left = time.monotonic()
        try:
            # Only status changes of this box's runs wake the status read (PostgreSQL's status channel): waking
            # for every revision bump meant a read per metric batch of every box, ten boxes' agents at once.
            self._watcher = status_watcher(self.url, self._on_status)
            self._watcher.add_listener(self._status_wake.set)
        except Exception as exc:  # the database is away: the status thread's poll keeps going
            _log(f"watching the store failed ({exc}); polling every {STATUS_POLL_S:g} s")
        threads = [
            threading.Thread(target=self._beats, name="beats", daemon=True),
            threading.Thread(target=self._statuses, name="statuses", daemon=True),
        ]
        for t in threads:
            t.start()
        listener.settimeout(0.5)
        try:
            while True:
                try:
                    sock, _ = listener.accept()
                except TimeoutError:
                    with self._lock:
                        idle = not self._clients and time.monotonic() - self._last_client_left > self.idle_s
                    if idle:
                        return
                    continue
                sock.settimeout(None)
                client = _Client(sock)
                with self._lock:
                    self._clients.add(client)
                threading.Thread(target=self._serve_client, args=(client,), name="client", daemon=True).start()
        finally:
            self._stop.set()
            self._beat_wake.set()
            self._status_wake.set()
            if self._watcher is not None:
                self._watcher.close()
            with self._lock:
                ids = sorted(self._pending_beats)
            if ids:  # the last beats sent before the last client left
                with contextlib.suppress(Exception):
                    s = self._get_store()
                    s.heartbeat(ids, now=store_now(s))


def _picklable(exc: Exception) -> Exception:
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        from runtui.errors import StoreError, ValidationError

        if _refused_content(exc):  # the caller (the SDK's metric writer) isolates bad points on this type
            return ValidationError(f"{type(exc).__name__}: {exc}")
        return StoreError(f"{type(exc).__name__}: {exc}")


def _refused_content(exc: BaseException) -> bool:
    """The database refused what was written (bad data), as opposed to being busy or away."""
    from sqlalchemy.exc import DataError, IntegrityError

    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            return False
        if isinstance(seen, (DataError, IntegrityError, UnicodeError, OverflowError)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _log(message: str) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} box-agent[{os.getpid()}]: {message}", file=sys.stderr, flush=True)


def run_agent(url: str, host: str, idle_s: float) -> int:
    """The agent's main: take the box's lock (or leave: another agent lives), listen, serve until idle."""
    os.environ["RUNTUI_HOST"] = host
    os.environ[ROLE_ENV] = "agent"
    os.environ[POOL_ENV] = "1"  # the one work connection; the watcher holds the other
    folder = _private_folder()
    path = socket_path(url, host)
    lock_fd = os.open(folder / (path.stem + ".lock"), os.O_CREAT | os.O_RDWR, 0o600)
    try:
        give_up = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > give_up:
                    return 0
                if _reachable(path):
                    return 0  # another agent serves this box
                time.sleep(0.05)  # an agent that is shutting down still holds the lock
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(path))
        os.chmod(path, 0o600)
        listener.listen(512)
        _log(f"serving {host} on {path}")
        try:
            Agent(url, host, idle_s).serve(listener)
        finally:
            # Unlink before the lock is released: a new agent binds only after it holds the lock.
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            listener.close()
            _log("no clients left; exiting")
        return 0
    finally:
        os.close(lock_fd)


def _reachable(path: Path) -> bool:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(1.0)
        sock.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        sock.close()


# ---------------------------------------------------------------------- starting it

PR_SET_CHILD_SUBREAPER = 36
PR_GET_CHILD_SUBREAPER = 37


def _subreaper(value: int | None) -> int:
    """Read (value None) or set this process's child-subreaper flag; 0 where unsupported."""
    if not sys.platform.startswith("linux"):
        return 0
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if value is None:
            flag = ctypes.c_int(0)
            libc.prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(flag), 0, 0, 0)
            return flag.value
        libc.prctl(PR_SET_CHILD_SUBREAPER, value, 0, 0, 0)
        return value
    except (OSError, AttributeError):
        return 0


def spawn_agent(url: str, host: str) -> None:
    """Start the agent detached: own session, and re-parented to init rather than to us.

    A supervisor is a child subreaper, so a process it forks stays in its run's tree and a cancel would kill
    it: the flag is cleared around the double fork (a few milliseconds), so the agent lands outside the tree.
    """
    env = dict(os.environ, **{URL_ENV: url, "RUNTUI_HOST": host})
    log_path = agent_folder() / (socket_path(url, host).stem + ".log")
    argv = [sys.executable, "-m", "runtui.execution.box_agent"]
    was_subreaper = _subreaper(None)
    if was_subreaper:
        _subreaper(0)
    try:
        pid = os.fork()
        if pid == 0:  # the intermediate: a new session, fork the agent, leave at once
            try:
                os.setsid()
                if os.fork() == 0:
                    fd = os.open(log_path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
                    null = os.open(os.devnull, os.O_RDONLY)
                    os.dup2(null, 0)
                    os.dup2(fd, 1)
                    os.dup2(fd, 2)
                    os.execve(sys.executable, argv, env)
            finally:
                os._exit(0)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
    finally:
        if was_subreaper:
            _subreaper(1)


# ---------------------------------------------------------------------- the client side


class AgentLink:
    """A supervisor's connection to its box's agent: requests, status pushes, reconnects (starting an agent)."""

    def __init__(self, url: str, host: str | None = None) -> None:
        from runtui.identity import current_host

        self.url = url
        self.host = host or current_host()
        self.path = socket_path(url, self.host)
        self._lock = threading.Lock()  # guards the connection and the pending table
        self._send_lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._pending: dict[int, list[Any]] = {}
        self._next_id = 0
        self._watched: set[str] = set()
        self._closed = False
        self.statuses: dict[str, str] = {}  # run -> last status the agent pushed
        self.on_push: list[Callable[[dict[str, str]], None]] = []
        self.on_lost: list[Callable[[], None]] = []
        self.reconnects = 0

    # -- connection

    def _connect_once(self) -> socket.socket | None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(str(self.path))
            return sock
        except OSError:
            sock.close()
            return None

    def _open(self) -> socket.socket:
        sock = self._connect_once()
        if sock is not None:
            return sock
        folder = _private_folder()
        # One starter at a time per box: the others wait here and then find the new agent's socket.
        with open(folder / (self.path.stem + ".start"), "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            sock = self._connect_once()
            if sock is not None:
                return sock
            spawn_agent(self.url, self.host)
            give_up = time.monotonic() + START_TIMEOUT_S
            while time.monotonic() < give_up:
                sock = self._connect_once()
                if sock is not None:
                    return sock
                time.sleep(0.02)  # the agent is starting (imports, then bind): poll its socket
        raise AgentUnavailable(f"no box agent answered on {self.path} within {START_TIMEOUT_S:g} s")

    def _ensure(self) -> None:
        with self._lock:
            if self._sock is not None:
                return
            if self._closed:
                raise AgentUnavailable("the link is closed")
            sock = self._open()
            self._sock = sock
            threading.Thread(target=self._reader, args=(sock,), name="agent-link", daemon=True).start()
            watched = sorted(self._watched)
        if watched:  # a new agent (the old one died): register again; it pushes the current statuses
            self._request_on(sock, "watch", watched)
            self.reconnects += 1

    def _reader(self, sock: socket.socket) -> None:
        try:
            while True:
                msg = recv_msg(sock)
                if msg[0] == "push":
                    self.statuses.update(msg[1])
                    for fn in list(self.on_push):
                        fn(msg[1])
                    continue
                req_id, ok, payload = msg
                with self._lock:
                    slot = self._pending.pop(req_id, None)
                if slot is not None:
                    slot[1], slot[2] = ok, payload
                    slot[0].set()
        except (EOFError, OSError, pickle.UnpicklingError, ValueError):
            pass
        with self._lock:
            if self._sock is sock:
                self._sock = None
            pending, self._pending = self._pending, {}
        with contextlib.suppress(OSError):
            sock.close()
        for slot in pending.values():
            slot[1], slot[2] = False, AgentUnavailable("the box agent went away")
            slot[0].set()
        if not self._closed:
            for lost in list(self.on_lost):
                lost()

    def _request_on(self, sock: socket.socket, op: str, args: Any, timeout: float = CALL_TIMEOUT_S) -> Any:
        slot: list[Any] = [threading.Event(), False, None]
        with self._lock:
            self._next_id += 1
            req_id = self._next_id
            self._pending[req_id] = slot
        try:
            with self._send_lock:
                send_msg(sock, (req_id, op, args))
        except OSError as exc:
            with self._lock:
                self._pending.pop(req_id, None)
            raise AgentUnavailable(f"the box agent went away: {exc}") from exc
        if not slot[0].wait(timeout):
            with self._lock:
                self._pending.pop(req_id, None)
            raise AgentUnavailable(f"the box agent did not answer within {timeout:g} s")
        if not slot[1]:
            raise slot[2]
        return slot[2]

    def request(self, op: str, args: Any = None) -> Any:
        """Send one request; a lost agent is replaced (once) before giving up with AgentUnavailable."""
        for attempt in range(2):
            self._ensure()
            sock = self._sock
            if sock is None:
                continue
            try:
                return self._request_on(sock, op, args)
            except AgentUnavailable:
                if attempt == 1:
                    raise
                with self._lock:
                    if self._sock is sock:
                        self._sock = None
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        raise AgentUnavailable("no box agent")

    def watch(self, run_id: str) -> None:
        self._watched.add(run_id)
        self.request("watch", [run_id])

    def close(self) -> None:
        self._closed = True
        with self._lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class AgentStore:
    """The `Store` a supervisor uses on PostgreSQL: every call runs in the box agent.

    `heartbeat` only tells the agent (it writes the box's beats together, at the database's clock). When no
    agent can be reached, calls go to a direct store, which opens a connection per transaction.
    """

    sqlite = False

    def __init__(self, link: AgentLink) -> None:
        self.link = link
        self.url = link.url
        self._direct: Store | None = None
        self.fallbacks = 0

    def __repr__(self) -> str:
        return f"AgentStore({self.link.path})"

    def _direct_store(self) -> Store:
        if self._direct is None:
            from runtui.store import open_store

            self._direct = open_store(self.url)
        self.fallbacks += 1
        return self._direct

    def heartbeat(self, run_ids: list[str], now: float | None = None) -> None:
        if now is not None:  # an explicit time (tests, tools): write it as given
            self.__getattr__("heartbeat")(run_ids, now)
            return
        try:
            self.link.request("beat", list(run_ids))
        except AgentUnavailable:
            direct = self._direct_store()
            direct.heartbeat(list(run_ids), now=store_now(direct))

    def clock(self) -> float:
        try:
            return float(self.link.request("clock"))
        except AgentUnavailable:
            return store_now(self._direct_store())

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)

        def forward(*args: Any, **kwargs: Any) -> Any:
            try:
                return self.link.request("call", (name, args, kwargs))
            except AgentUnavailable:
                return getattr(self._direct_store(), name)(*args, **kwargs)

        return forward


def _make_agent_watcher(link: AgentLink, run_id: str) -> Watcher:
    from runtui.watch import Watcher

    class AgentWatcher(Watcher):
        """Wakes the supervisor when the agent pushes a new status of its run, or when the agent goes away."""

        status_poll_s = SUPERVISOR_STATUS_POLL_S

        def pushed_status(self) -> str | None:
            """The run's status as the agent last pushed it (read at the database moments ago): the supervisor
            acts on a pushed cancel without reading it back through the agent (one round trip less)."""
            return link.statuses.get(run_id)

        def start(self) -> Watcher:
            self.mode = "agent"
            link.on_push.append(lambda changed: self.notify() if run_id in changed else None)
            link.on_lost.append(self.notify)
            link.watch(run_id)
            return self

        def close(self) -> None:
            # The link stays open: the supervisor's store calls still go through it until the process exits.
            self._stop.set()
            self.mode = "closed"
            self.notify()

    return AgentWatcher().start()


def uses_agent(url: str) -> bool:
    return url.startswith("postgresql") and agent_enabled()


def supervisor_store(url: str) -> Any:
    """The store a supervisor (and, through its environment, its script) uses for `url`.

    PostgreSQL: an `AgentStore` on this box's agent; the script's SDK gets `RUNTUI_PG_POOL=null` (a connection per
    transaction, none held idle) unless the user chose a pool. Other stores: the ordinary `open_store(url)`.
    """
    if not uses_agent(url):
        from runtui.store import open_store

        return open_store(url)
    os.environ.setdefault(POOL_ENV, "null")
    os.environ.setdefault(METRICS_AGENT_ENV, "1")  # the script's metric batches go through the agent too
    return AgentStore(AgentLink(url))


def supervisor_watcher(url: str, run_id: str, store: Any) -> Watcher:
    """The watcher that wakes a supervisor when its run may have changed: pushed by the agent on PostgreSQL (if
    the agent cannot be reached: an ordinary store watcher), file events on SQLite."""
    from runtui.watch import store_watcher

    if isinstance(store, AgentStore):
        try:
            return _make_agent_watcher(store.link, run_id)
        except AgentUnavailable:
            pass
    return store_watcher(url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m runtui.execution.box_agent",
        description=f"The per-box agent of a PostgreSQL runtui store (started by supervisors; URL in ${URL_ENV}).",
    )
    parser.parse_args(argv)
    url = os.environ.get(URL_ENV)
    if not url:
        print(f"box agent: ${URL_ENV} is not set", file=sys.stderr)
        return 2
    from runtui.identity import current_host

    try:
        idle = float(os.environ.get(IDLE_ENV) or DEFAULT_IDLE_S)
    except ValueError:
        print(f"box agent: ${IDLE_ENV} must be a number of seconds", file=sys.stderr)
        return 2
    try:
        return run_agent(url, current_host(), idle)
    except Exception:
        _log("failed:\n" + traceback.format_exc())
        return 1


__all__ = [
    "AGENT_ENV",
    "Agent",
    "AgentLink",
    "AgentStore",
    "AgentUnavailable",
    "socket_path",
    "store_now",
    "supervisor_store",
    "supervisor_watcher",
]

if __name__ == "__main__":
    sys.exit(main())
