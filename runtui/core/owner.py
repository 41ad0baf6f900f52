"""The owning side of runs made in this process: heartbeats, cancel requests, and clean endings.

One daemon thread per process, started when the process first owns a run. It
- heart-beats every owned live run (so other hosts can tell the owner is alive),
- notices `CancelRequested` on an owned run within ~0.3 s: a run started with `start_logging` is interrupted
  like Ctrl-C (SIGINT to this process), so its `with` block ends and marks it Canceled; other owned runs (child
  runs) are marked Canceled directly,
- brings an owned run back from NotResponding (a sweeper that saw us stalled) to Running.
At interpreter exit, owned runs still live are completed (or failed, if the interpreter is dying of an
uncaught exception); on SIGTERM, metrics are flushed first and the default action then runs.
"""

from __future__ import annotations

import atexit
import gc
import os
import signal
import sys
import threading
import time
import traceback
from types import FrameType, TracebackType
from typing import TYPE_CHECKING

from runtui.status import LIVE, RunStatus

if TYPE_CHECKING:
    from runtui.store.metric_writer import MetricWriter
    from runtui.store.store import Store

HEARTBEAT_S = 5.0
CANCEL_POLL_S = 0.25
CHILD_CANCEL_GRACE_S = 2.0


class _Owned:
    __slots__ = ("interactive", "run_id", "seen_cancel_at", "store")

    def __init__(self, store: Store, run_id: str, interactive: bool) -> None:
        self.store = store
        self.run_id = run_id
        self.interactive = interactive
        self.seen_cancel_at: float | None = None


class OwnerAgent:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owned: dict[str, _Owned] = {}
        self._writers: list[MetricWriter] = []
        self._thread: threading.Thread | None = None
        self._exception: BaseException | None = None
        self._installed = False
        self.under_supervisor = bool(os.environ.get("RUNTUI_RUN_ID"))

    # ------------------------------------------------------------------ registration

    def own(self, store: Store, run_id: str, interactive: bool) -> None:
        with self._lock:
            self._owned[run_id] = _Owned(store, run_id, interactive)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="runtui-owner", daemon=True)
                self._thread.start()
        self._install_hooks()

    def release(self, run_id: str) -> None:
        with self._lock:
            self._owned.pop(run_id, None)

    def owns(self, run_id: str) -> bool:
        return run_id in self._owned

    def add_writer(self, writer: MetricWriter) -> None:
        with self._lock:
            if writer not in self._writers:
                self._writers.append(writer)

    def flush_all(self, timeout: float = 10.0) -> None:
        for writer in list(self._writers):
            writer.flush(timeout=timeout)

    # ------------------------------------------------------------------ the thread

    def _loop(self) -> None:
        last_beat = 0.0
        revisions: dict[int, int] = {}
        while True:
            time.sleep(CANCEL_POLL_S)
            with self._lock:
                owned = list(self._owned.values())
            if not owned:
                continue
            now = time.time()
            by_store: dict[int, tuple[Store, list[_Owned]]] = {}
            for o in owned:
                by_store.setdefault(id(o.store), (o.store, []))[1].append(o)
            for key, (store, items) in by_store.items():
                try:
                    if now - last_beat >= HEARTBEAT_S:
                        store.heartbeat([o.run_id for o in items], now)
                    rev = store.current_revision()
                    if revisions.get(key) == rev and not any(o.seen_cancel_at for o in items):
                        continue
                    revisions[key] = rev
                    self._check(store, items, now)
                except Exception as exc:  # the store being away must not kill the agent
                    print(f"runtui: run owner check failed ({exc}); will retry", file=sys.stderr)
            if now - last_beat >= HEARTBEAT_S:
                last_beat = now

    def _check(self, store: Store, items: list[_Owned], now: float) -> None:
        records = {r.id: r for r in store.get_runs_by_id([o.run_id for o in items])}
        interrupt = False
        for o in items:
            rec = records.get(o.run_id)
            if rec is None or rec.status.is_terminal:
                self.release(o.run_id)
                continue
            if rec.status == RunStatus.NOT_RESPONDING:
                store.set_status(o.run_id, RunStatus.RUNNING, only_from=frozenset({RunStatus.NOT_RESPONDING}))
            elif rec.status == RunStatus.CANCEL_REQUESTED:
                if o.seen_cancel_at is None:
                    o.seen_cancel_at = now
                    interrupt = interrupt or (o.interactive and not self.under_supervisor)
                elif now - o.seen_cancel_at >= CHILD_CANCEL_GRACE_S or not o.interactive:
                    self.flush_all()
                    store.set_status(o.run_id, RunStatus.CANCELED, only_from=frozenset({RunStatus.CANCEL_REQUESTED}))
                    self.release(o.run_id)
        if interrupt:
            # Like Ctrl-C: a real signal also wakes a main thread blocked in sleep() or I/O.
            os.kill(os.getpid(), signal.SIGINT)

    # ------------------------------------------------------------------ process exit

    def _install_hooks(self) -> None:
        if self._installed:
            return
        self._installed = True
        # Registered first, so it runs last: freezing the heap skips the final garbage collection of
        # SQLAlchemy's many objects (measured: ~0.25 s of CPU off every training script's exit).
        atexit.register(gc.freeze)
        atexit.register(self._at_exit)
        previous_hook = sys.excepthook

        def hook(tp: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
            self._exception = value
            previous_hook(tp, value, tb)

        sys.excepthook = hook
        if threading.current_thread() is threading.main_thread():
            try:
                if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
                    signal.signal(signal.SIGTERM, self._on_sigterm)
            except ValueError:
                pass

    def _on_sigterm(self, signum: int, _frame: FrameType | None) -> None:
        self.flush_all(timeout=5.0)
        if not self.under_supervisor:
            self._finish_owned(RunStatus.FAILED, "terminated by signal SIGTERM")
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    def _at_exit(self) -> None:
        self.flush_all(timeout=30.0)
        exc = self._exception
        if exc is not None and not isinstance(exc, SystemExit):
            if isinstance(exc, KeyboardInterrupt):
                self._finish_owned(RunStatus.CANCELED, None)
            else:
                text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
                self._finish_owned(RunStatus.FAILED, text[-4000:])
        else:
            self._finish_owned(RunStatus.COMPLETED, None)

    def _finish_owned(self, status: RunStatus, error: str | None) -> None:
        with self._lock:
            owned = list(self._owned.values())
            self._owned.clear()
        for o in owned:
            target = RunStatus.CANCELED if status == RunStatus.COMPLETED and o.seen_cancel_at else status
            try:
                rec = o.store.get_run(o.run_id)
                if rec.status.is_terminal:
                    continue
                if rec.status == RunStatus.CANCEL_REQUESTED and target == RunStatus.COMPLETED:
                    target = RunStatus.CANCELED
                o.store.set_status(o.run_id, target, error=error, only_from=_LIVE)
            except Exception as exc:
                print(f"runtui: could not finalize run {o.run_id} at exit ({exc})", file=sys.stderr)


_LIVE = LIVE

_agent: OwnerAgent | None = None
_agent_lock = threading.Lock()


def agent() -> OwnerAgent:
    global _agent
    with _agent_lock:
        if _agent is None or _agent_pid != os.getpid():
            _reset_for(os.getpid())
        assert _agent is not None
        return _agent


_agent_pid = -1


def _reset_for(pid: int) -> None:
    global _agent, _agent_pid
    _agent = OwnerAgent()
    _agent_pid = pid
