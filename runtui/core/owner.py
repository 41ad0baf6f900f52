"""The owning side of runs made in this process: heartbeats, cancel requests, and clean endings.

One daemon thread per process, started when the process first owns a run. It
- heart-beats every owned live run (so other hosts can tell the owner is alive),
- notices `CancelRequested` on an owned run within ~0.3 s and acts (see `_check` and docs/architecture.md,
  "Cancel"): a run started with `start_logging` is interrupted like Ctrl-C (SIGINT to this process), so its
  `with` block ends and marks it Canceled. The process is never killed: when it ignores SIGINT, or catches the
  interrupt and keeps logging for INTERACTIVE_GRACE_S, the run is ended Canceled with a note that names the
  process still running, why, and what to do (the canceler shows it and fails); its later points are dropped
  with one warning. Child runs are marked Canceled directly (they are records inside their owner's process),
- brings an owned run back from NotResponding (a sweeper that saw us stalled) to Running.

Every process that logs metrics (an owner, or a submitted script through `Run.get_context()`) flushes them
before it goes: at interpreter exit (atexit), on KeyboardInterrupt (which unwinds to atexit), and on SIGTERM
and SIGHUP (`_on_exit_signal`; only where the signal still has its default action, so `nohup` and a user's
own handlers are respected). On those signals the process still dies of the signal, after the flush; an
interactive run it owns ends Failed ("terminated by signal SIGTERM" / "terminal hung up") at that moment.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import signal
import sys
import threading
import time
import traceback
from types import FrameType, TracebackType
from typing import TYPE_CHECKING

from runtui.execution.liveness import STILL_RUNNING
from runtui.status import LIVE, RunStatus

if TYPE_CHECKING:
    from runtui.store.metric_writer import MetricWriter
    from runtui.store.store import Store

HEARTBEAT_S = 5.0
CANCEL_POLL_S = 0.25
CHILD_CANCEL_GRACE_S = 2.0
# After the interrupt, how long an interactive run may take to end itself before the owner judges (see _check).
INTERACTIVE_GRACE_S = 3.0
# On SIGTERM/SIGHUP: the most time spent flushing before the process dies (a supervisor's grace is 10 s).
EXIT_FLUSH_S = 5.0
HUNG_UP = "terminal hung up"
_IGNORES_SIGINT = "it ignores SIGINT (started in the background with '&', or by a tool that ignores Ctrl-C)"
_CAUGHT_INTERRUPT = f"it caught the interrupt (KeyboardInterrupt) and kept logging for {INTERACTIVE_GRACE_S:g} s"
_EXIT_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class _Owned:
    __slots__ = ("interactive", "queued_at_cancel", "run_id", "seen_cancel_at", "store")

    def __init__(self, store: Store, run_id: str, interactive: bool) -> None:
        self.store = store
        self.run_id = run_id
        self.interactive = interactive
        self.seen_cancel_at: float | None = None
        self.queued_at_cancel = 0


class OwnerAgent:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owned: dict[str, _Owned] = {}
        self._writers: list[MetricWriter] = []
        self._thread: threading.Thread | None = None
        self._exception: BaseException | None = None
        self._installed = False
        self._signals_installed = False
        self._terminating: threading.Thread | None = None
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
                if writer.on_refused is None:  # the store refused points of a finished run: stop sending them
                    writer.on_refused = writer.closed_by_store
                _route_through_box_agent(writer)
        self.install_signal_handlers()

    def flush_all(self, timeout: float = 10.0) -> None:
        for writer in list(self._writers):
            writer.flush(timeout=timeout)

    def close_run(self, run_id: str, status: RunStatus) -> None:
        """The run has ended: this process's writers drop its later points (with one warning)."""
        for writer in list(self._writers):
            writer.close_run(run_id, status.value)

    def _queued(self) -> int:
        return sum(w.queued for w in list(self._writers))

    # ------------------------------------------------------------------ the thread

    def _loop(self) -> None:
        last_beat = 0.0
        revisions: dict[int, int] = {}
        while True:
            time.sleep(CANCEL_POLL_S)  # a poll period, not a synchronisation
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
                        store.heartbeat([o.run_id for o in items], _clock(store, now))
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
        """Act on the owned runs' current rows.

        Cancel of an interactive run: SIGINT to this process (Ctrl-C; in Jupyter, the kernel's Interrupt), whose
        `with` block then ends the run Canceled. Never more than that: a kernel or a script is not killed unasked.
        When SIGINT is ignored (`&`, `nohup`-style launches), or after INTERACTIVE_GRACE_S the run is still open
        and points were logged since the interrupt (the interrupt was caught), the run is ended Canceled with a
        STILL_RUNNING note; with no point since the interrupt, the work stopped (a notebook cell interrupted with
        the run left open) and the run is simply Canceled.
        """
        records = {r.id: r for r in store.get_runs_by_id([o.run_id for o in items])}
        interrupt = False
        for o in items:
            rec = records.get(o.run_id)
            if rec is None or rec.status.is_terminal:
                if rec is not None:
                    self.close_run(o.run_id, rec.status)
                self.release(o.run_id)
                continue
            if rec.status == RunStatus.NOT_RESPONDING:
                store.set_status(o.run_id, RunStatus.RUNNING, only_from=frozenset({RunStatus.NOT_RESPONDING}))
            elif rec.status == RunStatus.CANCEL_REQUESTED:
                interactive = o.interactive and not self.under_supervisor
                if o.seen_cancel_at is None:
                    o.seen_cancel_at = now
                    o.queued_at_cancel = self._queued()
                    if not interactive:
                        self._end_canceled(o, None)
                    elif signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
                        self._end_canceled(o, _IGNORES_SIGINT)
                    else:
                        interrupt = True
                elif now - o.seen_cancel_at >= INTERACTIVE_GRACE_S:
                    if self._queued() > o.queued_at_cancel:
                        self._end_canceled(o, _CAUGHT_INTERRUPT)
                    else:
                        self._end_canceled(o, None)
        if interrupt:
            # Like Ctrl-C: a real signal also wakes a main thread blocked in sleep() or I/O.
            os.kill(os.getpid(), signal.SIGINT)

    def _end_canceled(self, o: _Owned, still_running_because: str | None) -> None:
        """Flush, mark Canceled (with the STILL_RUNNING note when the process goes on), then stop taking its
        points; ownership is released only once the status write has committed."""
        from runtui.identity import current_host

        error = None
        if still_running_because is not None:
            pid = os.getpid()
            error = (
                f"{STILL_RUNNING}process {pid} on {current_host()} goes on: {still_running_because}. "
                f"The run is Canceled and its later metrics are dropped; to stop the process, interrupt it yourself "
                f"(Ctrl-C, or Jupyter's Interrupt) or `kill {pid}` (SIGTERM: its metrics are flushed first)"
            )
        self.flush_all()
        o.store.set_status(o.run_id, RunStatus.CANCELED, error=error, only_from=frozenset({RunStatus.CANCEL_REQUESTED}))
        self.close_run(o.run_id, RunStatus.CANCELED)
        self.release(o.run_id)

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
        self.install_signal_handlers()

    def install_signal_handlers(self) -> None:
        """Flush on SIGTERM/SIGHUP where they still have their default action (only the main thread can)."""
        if self._signals_installed or threading.current_thread() is not threading.main_thread():
            return
        self._signals_installed = True
        for signum in _EXIT_SIGNALS:
            with contextlib.suppress(ValueError, OSError):
                if signal.getsignal(signum) == signal.SIG_DFL:
                    signal.signal(signum, self._on_exit_signal)

    def _on_exit_signal(self, signum: int, _frame: FrameType | None) -> None:
        # The work runs in a thread: this handler may have interrupted the main thread inside a writer's lock,
        # which the flush needs. The main thread goes on meanwhile; its next point blocks (see MetricWriter.freeze).
        if self._terminating is not None:
            return
        self._terminating = threading.Thread(target=self._die_of, args=(signum,), name="runtui-exit", daemon=True)
        self._terminating.start()

    def _die_of(self, signum: int) -> None:
        deadline = time.monotonic() + EXIT_FLUSH_S
        writers = list(self._writers)
        for writer in writers:
            writer.freeze()
        for writer in writers:
            if not writer.flush(timeout=max(0.1, deadline - time.monotonic())):
                writer.report_unwritten("before the process ended")
        if not self.under_supervisor:
            reason = HUNG_UP if signum == signal.SIGHUP else f"terminated by signal {signal.Signals(signum).name}"
            self._finish_owned(RunStatus.FAILED, reason)
        _die(signum)

    def _at_exit(self) -> None:
        if self._terminating is not None:  # a signal is being handled: let it finish (and end the process)
            self._terminating.join(EXIT_FLUSH_S + 5.0)
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
        for o in owned:
            target = RunStatus.CANCELED if status == RunStatus.COMPLETED and o.seen_cancel_at else status
            try:
                rec = o.store.get_run(o.run_id)
                if not rec.status.is_terminal:
                    if rec.status == RunStatus.CANCEL_REQUESTED and target == RunStatus.COMPLETED:
                        target = RunStatus.CANCELED
                    o.store.set_status(o.run_id, target, error=error, only_from=_LIVE)
            except Exception as exc:
                print(f"runtui: could not finalize run {o.run_id} at exit ({exc})", file=sys.stderr)
            # Released after the write (or its failure): a canceler must not see an owner-less live run meanwhile.
            self.release(o.run_id)


def _clock(store: Store, fallback: float) -> float:
    """The store's clock (the database's on PostgreSQL, once the store offers it), else ours."""
    clock = getattr(store, "clock", None)
    if clock is None:
        return fallback
    try:
        return float(clock())
    except Exception:
        return fallback


def _die(signum: int) -> None:
    """End this process by `signum` with its default action, from any thread (Python's `signal.signal` only
    works on the main thread, which may be blocked). Falls back to an exit code of 128 + signum."""
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.signal.restype = ctypes.c_void_p
        libc.signal.argtypes = (ctypes.c_int, ctypes.c_void_p)
        libc.signal(signum, None)  # SIG_DFL is 0
        os.kill(os.getpid(), signum)
        time.sleep(1.0)  # the signal is delivered at once; this is never reached in practice
    os._exit(128 + signum)


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


def _route_through_box_agent(writer: MetricWriter) -> None:
    """A submitted script on PostgreSQL whose supervisor uses the box agent (`RUNTUI_METRICS_VIA_AGENT`): its
    metric batches go to the agent, which merges the box's batches into one transaction; with no agent
    answering they go to the store itself (a connection per transaction)."""
    from runtui.pg_settings import metrics_via_agent

    url = getattr(writer.store, "url", "")
    if not metrics_via_agent(url):
        return
    from runtui.execution.box_agent import AgentLink, AgentStore

    writer.sink = AgentStore(AgentLink(url)).write_metric_batch
