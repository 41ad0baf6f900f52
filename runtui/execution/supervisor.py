"""The supervisor of one submitted run: `python -m runtui.execution.supervisor --spec RUN_DIR/supervisor.json`.

Started detached by `launch.start_supervisor` (own session, stdin /dev/null, a second fork). It
- becomes a child subreaper, so everything the script spawns stays its descendant (see `process_tree`),
- records itself as the run's owner (pid + create time) and moves the run Queued -> Preparing -> Starting,
- starts the script (cwd = source folder; RUNTUI_RUN_ID, RUNTUI_STORE_URL, RUNTUI_HOME, RUNTUI_RUNS_DIR,
  PYTHONUNBUFFERED=1 added to the environment), stdout and stderr appended to `logs/output.log`; stdout goes
  to the file directly, stderr through a pipe so that its tail (the traceback) is kept for the error
  (both unbuffered; a stderr write is copied within a moment, so lines of the two streams written in the
  same millisecond may swap places, which a terminal would not show),
- records the script's pid + create time and sets Running,
- on a shared (non-SQLite) store, copies the log into the store as it grows (`log_shipping`), so that other
  hosts can tail it; the rest is copied before the final status is set,
- heart-beats, samples the tree's CPU/RSS/threads/processes (and GPU) into `sys/...` metrics, and brings the run
  back from NotResponding (another host's sweep that saw the heartbeats stop) to Running,
- watches the store (file events, `runtui.watch`) and on CancelRequested takes the whole tree down:
  SIGTERM, the grace period, SIGKILL, then Canceled,
- when the script exits: stops what it left running, and sets Completed (exit 0, unless the script already
  ended the run itself), or Failed with the exit code or signal and the stderr tail as the error,
- ends child runs whose owner was a process of the tree and that are still open (Canceled on cancel).

It wakes on SIGCHLD and on store changes through one self-pipe, so reacting takes milliseconds, not a poll.
A SIGTERM/SIGINT sent to the supervisor itself is handled like a cancel request.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import signal
import sys
import threading
import time
import traceback
from collections import deque
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from runtui.execution.spec import SupervisorSpec
from runtui.status import RunStatus

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Callable

    from runtui.execution.log_shipping import LogShipper
    from runtui.execution.process_tree import ProcessTree, Reaper
    from runtui.store import Store
    from runtui.store.records import RunRecord
    from runtui.watch import Subscription

STATUS_POLL_S = 2.0  # look at the store at least this often, even without a file event
STDERR_TAIL_BYTES = 32 * 1024
ERROR_TAIL_LINES = 60
ERROR_TAIL_CHARS = 8000
PUMP_JOIN_S = 5.0
CANCEL_SETTLE_S = 1.0  # after a cancel, how long child runs are watched for late CancelRequested writes
FINAL_WRITE_S = 30.0  # how long the run's final status is retried through store errors

LIVE = frozenset(s for s in RunStatus if s.is_live)
S = RunStatus


def log(message: str) -> None:
    """A line in the supervisor's own log (RUN_DIR/supervisor.log)."""
    now = time.time()
    # Milliseconds: a cancel's steps (seen, tree gone, recorded) take tens of them; bench.connections reads these.
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now)) + f".{int(now * 1000) % 1000:03d}"
    print(f"{stamp} supervisor[{os.getpid()}]: {message}", file=sys.stderr, flush=True)


class StderrPump(threading.Thread):
    """Copies the script's stderr into the log file and keeps its last bytes for the error message."""

    def __init__(self, pipe_fd: int, log_fd: int) -> None:
        super().__init__(name="stderr-pump", daemon=True)
        self.pipe_fd = pipe_fd
        self.log_fd = log_fd
        self.tail: deque[bytes] = deque()
        self._tail_size = 0

    def run(self) -> None:
        try:
            while True:
                try:
                    data = os.read(self.pipe_fd, 65536)
                except InterruptedError:
                    continue
                if not data:
                    return
                view = memoryview(data)
                while view:
                    written = os.write(self.log_fd, view)
                    view = view[written:]
                self.tail.append(data)
                self._tail_size += len(data)
                while self._tail_size - len(self.tail[0]) >= STDERR_TAIL_BYTES:
                    self._tail_size -= len(self.tail.popleft())
        except OSError as exc:
            log(f"stderr copy stopped: {exc}")
        finally:
            os.close(self.pipe_fd)

    def text(self) -> str:
        data = b"".join(self.tail).decode("utf-8", errors="replace")
        lines = data.rstrip("\n").splitlines()[-ERROR_TAIL_LINES:]
        return "\n".join(lines)[-ERROR_TAIL_CHARS:]


class Supervisor:
    def __init__(self, spec: SupervisorSpec) -> None:
        self.spec = spec
        self.run_id = spec.run_id
        self.stop_reason: str | None = None
        self.canceled = False
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self.store: Store
        self.tree: ProcessTree
        self.reaper: Reaper
        self.proc: subprocess.Popen[bytes] | None = None
        self.pump: StderrPump | None = None
        self.log_fd = -1
        self.shipper: LogShipper | None = None
        self._sub: Subscription | None = None
        # The script's real end (status, error, exit code) once known: a store error never replaces it.
        self.outcome: tuple[RunStatus, str | None, int | None] | None = None

    # ------------------------------------------------------------------ waking up

    def poke(self) -> None:
        """Wake the main loop (from any thread)."""
        with contextlib.suppress(BlockingIOError):  # a full pipe wakes the loop anyway
            os.write(self._wake_w, b"!")

    def wait(self, timeout: float) -> None:
        """Sleep until a signal (SIGCHLD, SIGTERM), a store change, or `timeout`."""
        with contextlib.suppress(InterruptedError):
            select.select([self._wake_r], [], [], max(0.0, timeout))
        while True:
            try:
                if not os.read(self._wake_r, 4096):
                    break
            except BlockingIOError:
                break

    def _on_stop_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.stop_reason = f"the supervisor received {signal.Signals(signum).name}"

    def _install_signals(self) -> None:
        signal.set_wakeup_fd(self._wake_w, warn_on_full_buffer=False)
        # Python-level handlers (not SIG_IGN): they are reset to the default in the script at exec.
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGHUP, lambda *_: None)
        signal.signal(signal.SIGTERM, self._on_stop_signal)
        signal.signal(signal.SIGINT, self._on_stop_signal)

    # ------------------------------------------------------------------ store helpers

    def _safely(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """A store call whose failure (a store briefly away) must not end supervision."""
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            log(f"{what} failed: {exc}")
            return None

    def _status(self) -> RunStatus:
        return self.store.get_run(self.run_id).status

    # ------------------------------------------------------------------ the run

    def run(self) -> int:
        from runtui.execution.box_agent import supervisor_store
        from runtui.execution.process_tree import ProcessTree, Reaper, set_child_subreaper

        if not set_child_subreaper():
            log("could not become a child subreaper; orphaned grandchildren may escape supervision")
        self._install_signals()
        self.store = supervisor_store(self.spec.store_url)  # PostgreSQL: through the box agent
        self.tree = ProcessTree()
        self.reaper = Reaper()
        try:
            self._supervise()
            return 0
        except BaseException as exc:
            log("unexpected error:\n" + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
            self._emergency(exc)
            return 1
        finally:
            if self.log_fd >= 0:
                os.close(self.log_fd)

    def _emergency(self, exc: BaseException) -> None:
        try:
            report = self.tree.terminate(min(self.spec.grace, 2.0), wait=self.wait, reaper=self.reaper)
            if report.terminated:
                log(f"stopped {len(report.terminated)} processes of the run")
        except Exception as err:
            log(f"could not stop the run's processes: {err}")
        self._collect_outputs()
        self._finish_shipping()
        problem = f"supervisor error: {type(exc).__name__}: {exc}"
        if self.outcome is not None:
            # The script's end is known: record it, with the store trouble next to it (not instead of it).
            target, error, code = self.outcome
            self._safely(
                "recording the script's end",
                self.store.set_status,
                self.run_id,
                target,
                error=(f"{error}\n" if error else "") + f"(recorded late: {problem})",
                exit_code=code,
                only_from=LIVE,
            )
            return
        self._safely(
            "recording the failure", self.store.set_status, self.run_id, S.FAILED, error=problem, only_from=LIVE
        )

    def _retrying(self, what: str, write: Any) -> Any:
        """A final store write, retried through store errors for FINAL_WRITE_S (a store briefly away, a dropped
        connection); the last error is raised after that, and `_emergency` records the outcome next to it."""
        deadline = time.monotonic() + FINAL_WRITE_S
        delay = 0.1
        while True:
            try:
                return write()
            except Exception as exc:
                if time.monotonic() + delay > deadline:
                    raise
                log(f"{what} failed ({exc}); retrying in {delay:g} s")
                time.sleep(delay)  # a backoff between retries, not a synchronisation
                delay = min(delay * 2, 2.0)

    def _supervise(self) -> None:
        from runtui.execution.box_agent import supervisor_watcher
        from runtui.execution.process_tree import self_identity

        me = self_identity()
        rec, changed = self.store.set_status(
            self.run_id,
            S.PREPARING,
            only_from=frozenset({S.QUEUED, S.NOT_STARTED}),
            owner_pid=me.pid,
            owner_create_time=me.create_time,
        )
        if not changed:
            self._not_started(rec.status)
            return
        watcher = supervisor_watcher(self.spec.store_url, self.run_id, self.store)
        sub = self._sub = watcher.subscribe()
        watcher.add_listener(self.poke)
        try:
            rec, changed = self.store.set_status(self.run_id, S.STARTING, only_from=frozenset({S.PREPARING}))
            if not changed:
                self._not_started(rec.status)
                return
            if not self._start_script():
                return
            self._loop(sub)
        finally:
            watcher.close()

    def _not_started(self, status: RunStatus) -> None:
        """The run changed under us before the script started (typically: canceled while queued)."""
        if status == S.CANCEL_REQUESTED:
            self.store.set_status(self.run_id, S.CANCELED, only_from=frozenset({S.CANCEL_REQUESTED}))
            log("canceled before the script started")
        else:
            log(f"not starting the script: the run is {status.value}")

    def _start_script(self) -> bool:
        import subprocess

        from runtui.execution.process_tree import identity_of

        spec = self.spec
        self.log_fd = os.open(spec.log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._start_shipping()
        env = dict(os.environ)
        env.update(spec.env)
        env.update(
            RUNTUI_RUN_ID=spec.run_id,
            RUNTUI_STORE_URL=spec.store_url,
            RUNTUI_HOME=spec.home,
            RUNTUI_RUNS_DIR=spec.runs_dir,
            PYTHONUNBUFFERED="1",
        )
        try:
            self.proc = subprocess.Popen(
                spec.command,
                cwd=spec.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=self.log_fd,
                stderr=subprocess.PIPE,
                close_fds=True,
            )
        except OSError as exc:
            message = f"cannot start {spec.command[0]}: {exc.strerror or exc}"
            os.write(self.log_fd, (message + "\n").encode())
            self._finish_shipping()
            self.store.set_status(self.run_id, S.FAILED, error=message, only_from=LIVE)
            log(message)
            return False
        proc = self.proc
        self.reaper.watch(proc.pid)
        assert proc.stderr is not None
        # Take the raw fd and drop the file object, so that only the pump owns (and closes) it.
        pipe_fd = os.dup(proc.stderr.fileno())
        proc.stderr.close()
        proc.stderr = None
        self.pump = StderrPump(pipe_fd, self.log_fd)
        self.pump.start()
        ident = identity_of(proc.pid)
        if ident is not None:
            self.tree.remember(ident)
            self._safely(
                "recording the script's pid",
                self.store.update_run,
                self.run_id,
                pid=ident.pid,
                pid_create_time=ident.create_time,
            )
        self._safely(
            "setting Running",
            self.store.set_status,
            self.run_id,
            S.RUNNING,
            only_from=frozenset({S.QUEUED, S.PREPARING, S.STARTING}),
        )
        log(f"started {spec.command!r} as pid {proc.pid}")
        return True

    def _loop(self, sub: Any) -> None:
        from runtui.execution.sampling import TreeSampler, load_gpu_probe

        assert self.proc is not None
        pid = self.proc.pid
        sampler = TreeSampler(load_gpu_probe())
        now = time.monotonic()
        # (azure-exec) ScriptRunConfig(max_run_duration_seconds=): past it, the run is canceled, as in Azure ML.
        limit = getattr(self.spec, "max_run_duration_seconds", None)
        deadline = now + limit if limit else float("inf")
        next_beat = now + self.spec.heartbeat_interval
        next_sample = now + self.spec.sample_interval
        poll_s = getattr(sub.watcher, "status_poll_s", STATUS_POLL_S)  # the box agent polls for the whole box
        next_check = now + poll_s
        try:
            while True:
                self.reaper.reap()
                status = self.reaper.status_of(pid)
                if status is not None:
                    self._script_exited(status)
                    return
                if self.stop_reason is not None:
                    self._cancel(self.stop_reason)
                    return
                now = time.monotonic()
                if now >= deadline:
                    self._cancel(f"the run exceeded max_run_duration_seconds={limit:g}")
                    return
                if sub.changed() or now >= next_check:
                    next_check = now + poll_s
                    # A cancel the agent pushed is acted on at once: a cancel is never taken back, so a pushed
                    # CancelRequested needs no read-back (under load that read queues on the box's connection).
                    pushed = getattr(sub.watcher, "pushed_status", lambda: None)()
                    if pushed in (S.CANCEL_REQUESTED.value, S.CANCELED.value):
                        current: RunStatus | None = RunStatus(pushed)
                    else:
                        current = self._safely("reading the run's status", self._status)
                    if current in (S.CANCEL_REQUESTED, S.CANCELED):
                        self._cancel(None)
                        return
                    if current == S.NOT_RESPONDING:  # a sweep elsewhere missed our heartbeats: we are here
                        self._safely("heart-beating", self.store.heartbeat, [self.run_id])
                        self._safely(
                            "leaving NotResponding",
                            self.store.set_status,
                            self.run_id,
                            S.RUNNING,
                            only_from=frozenset({S.NOT_RESPONDING}),
                        )
                if now >= next_beat:
                    next_beat = now + self.spec.heartbeat_interval
                    self._safely("heart-beating", self.store.heartbeat, [self.run_id])
                if now >= next_sample:
                    next_sample = now + self.spec.sample_interval
                    self._sample(sampler)
                self.wait(min(next_beat, next_sample, next_check, deadline) - time.monotonic())
        finally:
            sampler.close()

    def _sample(self, sampler: Any) -> None:
        try:
            points = sampler.sample(self.tree.members()).points(self.run_id)
        except Exception as exc:
            log(f"sampling failed: {exc}")
            return
        self._safely("writing system metrics", self.store.write_metrics, points)

    # ------------------------------------------------------------------ the log copy in a shared store

    def _start_shipping(self) -> None:
        from runtui.execution.log_shipping import LogShipper
        from runtui.identity import current_host

        if self.store.sqlite or self.spec.log_store_max_bytes <= 0:
            return  # a SQLite store lives on this host's disk, next to the log file: nothing to copy
        self.shipper = LogShipper(
            self.store,
            self.run_id,
            self.spec.log_file,
            host=current_host(),
            max_bytes=self.spec.log_store_max_bytes,
            on_error=log,
        ).start()

    def _finish_shipping(self) -> None:
        """Copy the rest of the log into the store: called after the output is complete, before the final status
        (a reader on another host that sees the final status then reads the whole log)."""
        if self.shipper is not None:
            shipper, self.shipper = self.shipper, None
            try:
                shipper.finish()
            except Exception as exc:
                log(f"copying the end of the log to the store failed: {exc}")

    # ------------------------------------------------------------------ endings

    def _collect_outputs(self) -> None:
        """(azure-exec) Move the working copy's ./outputs and ./logs into the run's files, before the final
        status, so that whoever sees the run ended also sees its files (see `runtui.execution.outputs`)."""
        from runtui.execution.outputs import collect_working_copy

        working = Path(self.spec.cwd)
        if working.parent != self.spec.run_dir or not working.is_dir():
            return  # not a per-run working copy (a spec written by an older runtui)
        try:
            result = collect_working_copy(self.store, self.run_id, self.spec.run_dir, working)
        except Exception as exc:
            log(f"collecting outputs failed: {exc}")
            return
        log(f"collected {result.files} files ({result.bytes} bytes) from ./outputs and ./logs")
        for line in result.skipped:
            log(line)
            if self.log_fd >= 0:
                with contextlib.suppress(OSError):
                    os.write(self.log_fd, f"runtui: {line}\n".encode())

    def _join_pump(self) -> None:
        if self.pump is not None:
            self.pump.join(PUMP_JOIN_S)
            if self.pump.is_alive():
                log("stderr is still held open by a process outside the tree; not waiting for it")
        self._finish_shipping()

    def _exit_of_script(self) -> tuple[int | None, str | None]:
        from runtui.execution.process_tree import describe_exit

        assert self.proc is not None
        self.reaper.reap()
        status = self.reaper.status_of(self.proc.pid)
        if status is None:
            return None, None
        code, sig = describe_exit(status)
        self.proc.returncode = code  # so that Popen never tries to reap it again
        return code, sig

    def _cancel(self, reason: str | None) -> None:
        """Take the whole tree down (SIGTERM, grace, SIGKILL) and mark the run Canceled."""
        self.canceled = True
        started = time.monotonic()
        log(f"canceling ({reason or 'cancel requested'}): SIGTERM to the tree, {self.spec.grace:g} s grace")
        report = self.tree.terminate(self.spec.grace, wait=self.wait, reaper=self.reaper)
        children = self._read_descendants_meanwhile()
        self._collect_outputs()
        self._join_pump()
        code, _ = self._exit_of_script()
        notes = []
        if report.killed:
            notes.append(f"{len(report.killed)} processes ignored SIGTERM for {self.spec.grace:g} s and were killed")
        notes.extend(report.denied)
        if report.survivors:
            notes.append(f"processes still alive after SIGKILL: {', '.join(str(i.pid) for i in report.survivors)}")
        if reason:
            notes.insert(0, reason)
        if report.survivors or report.denied:
            from runtui.execution.liveness import STILL_RUNNING
            from runtui.identity import current_host

            pids = ", ".join(str(i.pid) for i in report.survivors) or "; ".join(report.denied)
            notes.insert(
                0,
                f"{STILL_RUNNING}processes of the run on {current_host()} could not be stopped ({pids}): "
                f"{'still alive after SIGKILL (stuck in the kernel)' if report.survivors else 'not ours to signal'}; "
                f"stop them as their owner or as root",
            )
        log(f"tree gone after {time.monotonic() - started:.3f} s; " + ("; ".join(notes) or "all exited on SIGTERM"))
        self.outcome = (S.CANCELED, "\n".join(notes) or None, code)
        # Children first: once the run shows as ended, its children have ended too.
        self._finish_descendants_once(children())
        self._retrying(
            "recording Canceled",
            lambda: self.store.set_status(
                self.run_id, S.CANCELED, error="\n".join(notes) or None, exit_code=code, only_from=LIVE
            ),
        )
        log(f"recorded Canceled {time.monotonic() - started:.3f} s after the request was seen")
        self._settle_descendants()

    def _script_exited(self, status: int) -> None:
        from runtui.execution.process_tree import describe_exit

        code, sig = describe_exit(status)
        assert self.proc is not None
        self.proc.returncode = code
        leftovers = self.tree.identities()
        if leftovers:
            log(f"the script exited and left {len(leftovers)} processes running; stopping them")
            self.tree.terminate(self.spec.grace, wait=self.wait, reaper=self.reaper)
        children = self._read_descendants_meanwhile()
        self._collect_outputs()
        self._join_pump()
        tail = self.pump.text() if self.pump is not None else ""
        log(f"script exited: {'signal ' + sig if sig else f'code {code}'}")
        if sig is not None:
            self.outcome = (S.FAILED, f"killed by signal {sig}" + (f"\n{tail}" if tail else ""), code)
        elif code == 0:
            self.outcome = (S.COMPLETED, None, code)
        else:
            self.outcome = (S.FAILED, f"script exited with code {code}" + (f"\n{tail}" if tail else ""), code)
        self._finish_descendants_once(children())
        self._retrying("recording the script's end", lambda: self._record_end(code))
        self._settle_descendants()

    def _record_end(self, code: int | None) -> None:
        assert self.outcome is not None
        for _ in range(5):
            current = self._status()
            if current.is_terminal:
                # The script ended the run itself (run.complete()/fail()), or someone else did: keep that.
                self.store.update_run(self.run_id, exit_code=code)
                return
            if current == S.CANCEL_REQUESTED:
                self.canceled = True
                target, error = S.CANCELED, None
            else:
                target, error, _ = self.outcome
            _, changed = self.store.set_status(
                self.run_id, target, error=error, exit_code=code, only_from=frozenset({current})
            )
            if changed:
                return

    def _settle_descendants(self) -> None:
        """After a cancel: a canceler writes CancelRequested run by run, possibly still after the tree is gone
        and the run is Canceled; so the children are looked at again on store changes for a short while."""
        if not self.canceled or self._sub is None:
            return
        settle_until = time.monotonic() + CANCEL_SETTLE_S
        while (left := settle_until - time.monotonic()) > 0:
            self.wait(left)
            if self._sub.changed():
                self._finish_descendants_once()

    def _read_descendants_meanwhile(self) -> Callable[[], list[RunRecord]]:
        """Start reading the run's child runs while the end of the log is copied (two round trips through the
        box's agent at once instead of one after the other, on a cancel's path); call the result for the list.
        Read once the tree is gone: no process of the tree can start a child run any more."""
        box: list[list[RunRecord]] = []
        reader = threading.Thread(
            target=lambda: box.append(self._safely("listing child runs", self.store.descendants, self.run_id) or []),
            name="child-runs",
            daemon=True,
        )
        reader.start()

        def result() -> list[RunRecord]:
            reader.join()
            return box[0] if box else []

        return result

    def _finish_descendants_once(self, descendants: list[RunRecord] | None = None) -> None:
        """End the open child runs whose owner was a process of this tree (it is gone now); `descendants`: the
        child runs as just read (None: read them now).

        On cancel they become Canceled. Otherwise, open children of a dead owner become Failed ("owner process
        lost"), except NotStarted/Queued ones, which nobody had started (they stay as they are).
        """
        from runtui.execution.liveness import LOST_ERROR
        from runtui.execution.process_tree import ProcessIdentity
        from runtui.identity import current_host

        here = current_host()
        if descendants is None:
            descendants = self._safely("listing child runs", self.store.descendants, self.run_id) or []
        for d in descendants:
            if not d.status.is_live or d.owner_pid is None or d.owner_create_time is None:
                continue
            ours = self.tree.contains(d.owner_pid, d.owner_create_time) or d.host == here
            if not ours or ProcessIdentity(d.owner_pid, d.owner_create_time).is_alive():
                continue  # a live owner (e.g. a submitted child's own supervisor) ends its run itself
            status = d.status
            for _ in range(3):  # the status may change under us (a canceler); decide again from the new one
                if self.canceled or status == S.CANCEL_REQUESTED:
                    target, error = S.CANCELED, None
                elif status in (S.NOT_STARTED, S.QUEUED):
                    break
                else:
                    target, error = S.FAILED, f"{LOST_ERROR}: the submitted script that owned it exited"
                result = self._safely(
                    f"ending child run {d.id}",
                    self.store.set_status,
                    d.id,
                    target,
                    error=error,
                    only_from=frozenset({status}),
                )
                if result is None or result[1] or not result[0].status.is_live:
                    break
                status = result[0].status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m runtui.execution.supervisor", description="Supervise one submitted runtui run."
    )
    parser.add_argument("--spec", required=True, type=Path, help="the run's supervisor.json")
    parser.add_argument("--foreground", action="store_true", help="do not detach (for debugging)")
    ns = parser.parse_args(argv)

    from runtui.errors import SubmitError

    try:
        spec = SupervisorSpec.read(ns.spec)
    except SubmitError as exc:
        print(exc, file=sys.stderr)
        return 2
    # Second fork: the starter (already a session leader, via start_new_session) exits at once, which tells
    # the submitting process that we are up; we are re-parented away from it and never become its zombie.
    if not ns.foreground and os.fork() != 0:
        os._exit(0)
    return Supervisor(spec).run()


if __name__ == "__main__":
    sys.exit(main())
