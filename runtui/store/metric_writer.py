"""The metrics write path: `run.log()` only queues; one background thread per store batches into transactions.

What a crash can lose: points logged in the last flush interval before a SIGKILL or power loss: 0.25 s while
writes are cheap, up to 0.5 s when the store is busy (the default, adaptive interval; see `next_interval`).
`flush()`, run completion/failure, interpreter exit and SIGTERM (see core/owner.py) flush.
Store trouble never reaches the training thread: the writer keeps the points, retries with backoff and
reports on stderr; past `max_buffered` points the oldest are dropped (and counted, and reported).
Points for a run that has finished (Completed, Failed, Canceled) are refused by the store; the writer drops only
those, counts them (`refused`), remembers the runs (`refused_runs()`) and tells `on_refused` once per run.
A description set with `describe()` is sent with the first batch that holds a point of its metric.
"""

from __future__ import annotations

import atexit
import contextlib
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runtui.store.records import MetricWriteResult
    from runtui.store.store import PendingPoint, Store

FLUSH_INTERVAL_S = 0.5  # the longest wait between flushes: the most a SIGKILL can lose
# The wait while writes are cheap: a value logged is on a watching TUI in ~0.2 s median, not ~0.3 s. It costs
# 4 transactions a second per logging run instead of 2 (~1-1.5 ms of CPU each on SQLite, measured on a loaded
# 2-core box); a writer whose write (lock wait included) takes over 1/BUSY_SHARE of the fast wait stretches
# its wait toward FLUSH_INTERVAL_S, so many runs on one store go back to 2 a second each, not twice the load.
FAST_FLUSH_S = 0.25
BUSY_SHARE = 20
CHUNK = 20_000  # points per transaction: keeps the write lock short for other writers
MAX_BUFFERED = 2_000_000


class MetricWriter:
    def __init__(self, store: Store, flush_interval: float | None = None, max_buffered: int = MAX_BUFFERED):
        self.store = store
        # Where batches go: the store, or (a script whose supervisor uses the box agent; set by core/owner.py)
        # the agent, which merges the batches of every run of the box into one transaction.
        self.sink: Callable[[list[PendingPoint], dict[tuple[str, str], str]], MetricWriteResult] = (
            store.write_metric_batch
        )
        # None: adaptive, FAST_FLUSH_S to FLUSH_INTERVAL_S by how long writes take; a number: that fixed wait.
        self.adaptive = flush_interval is None
        self.flush_interval = FLUSH_INTERVAL_S if flush_interval is None else flush_interval
        self._interval = FAST_FLUSH_S if flush_interval is None else flush_interval
        self.max_buffered = max_buffered
        self._lock = threading.Lock()
        self._buf: list[PendingPoint] = []
        self._descriptions: dict[tuple[str, str], str] = {}
        self._queued = 0  # points ever queued
        self._done = 0  # points written or dropped
        self.dropped = 0
        self.last_error: str | None = None
        self._wake = threading.Event()
        self._progress = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._settled = 0  # points of the chunk being written that are already committed or dropped
        # SDK side of "a finished run takes no more points" (core/owner.py): run id -> its final status.
        self._closed: dict[str, str] = {}
        self._warned: set[str] = set()
        self._frozen = False  # the process is about to die of a signal: a later put() waits for the end
        self._frozen_wait = threading.Event()  # never set: a frozen put() blocks until the process is gone
        self.refused = 0  # points the store refused because their run had finished
        self._refused_runs: dict[str, int] = {}
        # Called (on the writer thread) once per run whose points were refused, with the run id and the count.
        self.on_refused: Callable[[str, int], None] | None = None

    # ---------------------------------------------------------------- training thread side

    def put(self, point: PendingPoint, description: str | None = None) -> None:
        """Queue one point (and its metric's description). Never blocks on I/O, never raises for store trouble."""
        with self._lock:
            if self._frozen or (self._closed and point[0] in self._closed):
                self._refuse_locked([point])
                return
            if description is not None:
                self._descriptions[(point[0], point[1])] = description
            self._buf.append(point)
            self._queued += 1
            size = len(self._buf)
            if size > self.max_buffered:
                self._drop_oldest_locked(size - self.max_buffered)
        if size >= CHUNK and not self._wake.is_set():
            # A full transaction's worth is waiting: write it now rather than at the next tick, so a fast
            # training loop's points go in while it runs (the store's work overlaps the logging).
            self._wake.set()
        if self._thread is None:
            self._start()

    def put_many(self, points: Sequence[PendingPoint]) -> None:
        with self._lock:
            if self._frozen or self._closed:
                points = [p for p in points if p[0] not in self._closed]
                self._refuse_locked([])
            self._buf.extend(points)
            self._queued += len(points)
            size = len(self._buf)
            if size > self.max_buffered:
                self._drop_oldest_locked(size - self.max_buffered)
        if size >= CHUNK and not self._wake.is_set():
            self._wake.set()
        if self._thread is None:
            self._start()

    @property
    def queued(self) -> int:
        """Points ever queued (a progress counter)."""
        return self._queued

    def close_run(self, run_id: str, status: str) -> None:
        """`run_id` has ended (`status`): its later points are dropped, with one warning."""
        with self._lock:
            self._closed[run_id] = status

    def freeze(self) -> None:
        """The process is about to end (a signal): every later put() blocks, so that a flush after this call
        covers every point the program could have seen as logged."""
        with self._lock:
            self._frozen = True

    def _refuse_locked(self, points: list[PendingPoint]) -> None:
        if self._frozen:
            self._lock.release()
            try:
                self._frozen_wait.wait()
            finally:
                self._lock.acquire()
            return
        for p in points:
            run_id = p[0]
            if run_id not in self._warned:
                self._warned.add(run_id)
                self._report(
                    f"runtui: run {run_id} is {self._closed[run_id]}: it takes no more metrics, so this and later "
                    f"points for it are dropped (shown once)"
                )

    def closed_by_store(self, run_id: str, refused: int) -> None:
        """The store refused points of `run_id` (it has finished): drop its later points too, and say so once.
        Installed as `on_refused` by core/owner.py."""
        with self._lock:
            self._closed.setdefault(run_id, "finished")
            first = run_id not in self._warned
            self._warned.add(run_id)
        if first:
            self._report(
                f"runtui: run {run_id} has ended: the store refused {refused} point(s) logged to it, and later "
                f"points for it are dropped (shown once)"
            )

    def report_unwritten(self, when: str) -> None:
        left = self._queued - self._done
        if left > 0:
            self._report(f"runtui: {left} metric points could not be written {when}")

    def describe(self, run_id: str, name: str, description: str) -> None:
        with self._lock:
            self._descriptions[(run_id, name)] = description

    def refused_runs(self) -> dict[str, int]:
        """Runs whose points the store refused because they had finished, and how many points each."""
        with self._lock:
            return dict(self._refused_runs)

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until everything queued before this call is in the store. False on timeout (points are kept)."""
        with self._lock:
            target = self._queued
        if self._done >= target:
            return True
        if self._thread is None:
            self._start()
        self._wake.set()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._progress:
            while self._done < target:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._progress.wait(timeout=0.05 if remaining is None else min(remaining, 0.05))
                self._wake.set()
        return True

    # ---------------------------------------------------------------- writer thread side

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._loop, name="runtui-metric-writer", daemon=True)
            self._thread.start()
        atexit.register(self._at_exit)

    def _drop_oldest_locked(self, n: int) -> None:
        del self._buf[:n]
        self.dropped += n
        self._done += n
        self._report(f"runtui: the metric buffer is full ({self.max_buffered} points); dropped the oldest {n}")

    def _take(self) -> tuple[list[PendingPoint], dict[tuple[str, str], str]]:
        with self._lock:
            batch, self._buf = self._buf, []
            if not self._descriptions:
                return batch, {}
            # A description travels with a point of its metric: one whose point is not in this batch yet
            # (describe() just before put()) waits for the next batch instead of being lost.
            keys = {(p[0], p[1]) for p in batch}
            descriptions = {k: v for k, v in self._descriptions.items() if k in keys}
            for k in descriptions:
                del self._descriptions[k]
        return batch, descriptions

    def _loop(self) -> None:
        backoff = 0.1
        while True:
            self._wake.wait(self._interval)
            self._wake.clear()
            batch, descriptions = self._take()
            if not batch:
                if self._stopping:
                    return
                continue
            committed = 0
            started = time.monotonic()
            try:
                # Chunks commit atomically, so after a failure what is unsent is exactly batch[committed:].
                while committed < len(batch):
                    chunk = batch[committed : committed + CHUNK]
                    self._settled = 0
                    # Every chunk gets the descriptions: the store applies those whose metric is in the chunk.
                    self._write_isolating(chunk, descriptions)
                    committed += len(chunk)
                backoff = 0.1
                if self.adaptive:
                    self._interval = next_interval(time.monotonic() - started)
                if self.last_error is not None:
                    self.last_error = None
                    self._report("runtui: metric logging has recovered")
            except Exception as exc:  # store trouble must never reach training: keep the points and retry
                self._report(f"runtui: could not write metrics ({exc}); will retry, training goes on")
                self.last_error = f"runtui: could not write metrics ({exc}); will retry, training goes on"
                with self._lock:
                    self._buf[:0] = batch[committed + self._settled :]
                    for k, v in descriptions.items():
                        self._descriptions.setdefault(k, v)
                time.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    def _account(self, n: int) -> None:
        with self._progress:
            self._done += n
            self._progress.notify_all()

    def _write_isolating(self, chunk: list[PendingPoint], descriptions: dict[tuple[str, str], str]) -> None:
        """Write a chunk; if the database rejects its *content* (not a busy, full or lost database), split it
        and drop only the points it cannot take, so one bad point never blocks every later one."""
        try:
            result = self.sink(chunk, descriptions)
            if result.refused:
                self._note_refused(result.refused)
            self._settled += len(chunk)
            self._account(len(chunk))
        except Exception as exc:
            if not _is_poison(exc):
                raise
            if len(chunk) == 1:
                self.dropped += 1
                self._settled += 1
                self._account(1)
                self._report(
                    f"runtui: dropped metric point {chunk[0][1]!r} of run {chunk[0][0]}: the store refused it ({exc})"
                )
                return
            half = len(chunk) // 2
            # Each settled part is counted in `_settled`, so a later transient error retries only the rest.
            self._write_isolating(chunk[:half], descriptions)
            self._write_isolating(chunk[half:], descriptions)

    def _note_refused(self, refused: dict[str, int]) -> None:
        new: list[tuple[str, int]] = []
        with self._lock:
            for run_id, n in refused.items():
                self.refused += n
                if run_id not in self._refused_runs:
                    new.append((run_id, n))
                self._refused_runs[run_id] = self._refused_runs.get(run_id, 0) + n
        callback = self.on_refused
        for run_id, n in new:
            if callback is not None:
                with contextlib.suppress(Exception):  # a broken callback must not stop the writer
                    callback(run_id, n)

    def _report(self, message: str) -> None:
        if message == self.last_error:
            return
        with contextlib.suppress(Exception):  # stderr may be closed at interpreter exit
            print(message, file=sys.stderr, flush=True)

    def _at_exit(self) -> None:
        self._stopping = True
        if not self.flush(timeout=30.0):
            self._report(f"runtui: {self._queued - self._done} metric points could not be written before exit")


_writers: dict[tuple[int, str], MetricWriter] = {}
_writers_lock = threading.Lock()


def writer_for(store: Store) -> MetricWriter:
    """The one writer of this process for `store` (a forked child gets its own)."""
    import os

    key = (os.getpid(), store.url)
    with _writers_lock:
        writer = _writers.get(key)
        if writer is None:
            writer = _writers[key] = MetricWriter(store)
        return writer


def _is_poison(exc: BaseException) -> bool:
    """True for errors about what was written (bad data), as opposed to the database being busy, full or away."""
    from sqlalchemy.exc import DataError, IntegrityError

    from runtui.errors import ValidationError

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (DataError, IntegrityError, ValidationError, UnicodeError, OverflowError)):
            return True
        seen = seen.__cause__
    return False


def next_interval(write_s: float) -> float:
    """The adaptive wait after a write that took `write_s` (the write lock's wait included): FAST_FLUSH_S while
    writes are cheap, longer as they take longer (a busy store), FLUSH_INTERVAL_S at most."""
    return min(FLUSH_INTERVAL_S, max(FAST_FLUSH_S, write_s * BUSY_SHARE))
