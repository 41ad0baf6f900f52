"""The owning process of interactive runs, with real subprocesses and real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from runtui import Workspace
from runtui.errors import CancelNotStoppedError

ROOT = Path(__file__).resolve().parents[2]


def _terminal_signals(ignore_sigint: bool = False) -> Callable[[], None]:
    """Signals as in a terminal (SIGINT/SIGHUP with their default action), also when the tests themselves run
    under `nohup ... &` (which leaves both ignored, and children inherit that); or SIGINT ignored, like `&`."""

    def setup() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN if ignore_sigint else signal.SIG_DFL)
        signal.signal(signal.SIGHUP, signal.SIG_DFL)

    return setup


def _wait_for(predicate: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)  # the polling period of this wait


def _stored(ws: Workspace, run_id: str, name: str) -> list[object]:
    series = ws.store.get_series(run_id, [name])
    return list(series[0].values) if series else []


def _start(ws: Workspace, body: str, ignore_sigint: bool = False) -> tuple[subprocess.Popen[str], str]:
    code = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        import runtui
        ws = runtui.Workspace(path={str(ws.config.home)!r}, store_url={ws.config.store_url!r})
        exp = runtui.Experiment(ws, "owner")
        """
    ) + textwrap.dedent(body)
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_terminal_signals(ignore_sigint),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line.startswith("RUN "), proc.stderr.read() if proc.stderr else line
    return proc, line.split()[1]


def _wait(proc: subprocess.Popen[str]) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return proc.returncode, err


def test_cancel_from_another_process_interrupts_the_with_block(ws: Workspace) -> None:
    proc, run_id = _start(
        ws,
        """
        with exp.start_logging() as run:
            print("RUN", run.id, flush=True)
            i = 0
            while True:
                run.log("step", i); i += 1
                time.sleep(0.05)
        """,
    )
    _wait_for(lambda: len(_stored(ws, run_id, "step")) >= 3, "three points in the store")
    run = ws.get_run(run_id)
    assert run.cancel(timeout=30) is True
    assert run.get_status() == "Canceled"
    code, err = _wait(proc)
    assert code != 0 and "KeyboardInterrupt" in err
    assert len(run.get_metrics()["step"]) >= 3  # what it logged before the cancel is there


def test_cancel_reaches_a_main_thread_blocked_in_sleep(ws: Workspace) -> None:
    proc, run_id = _start(
        ws,
        """
        with exp.start_logging() as run:
            print("RUN", run.id, flush=True)
            time.sleep(600)
        """,
    )
    run = ws.get_run(run_id)
    assert run.cancel(timeout=30)
    assert run.get_status() == "Canceled"
    _wait(proc)


def test_exit_without_complete_completes_and_flushes(ws: Workspace) -> None:
    proc, run_id = _start(
        ws,
        """
        run = exp.start_logging()
        print("RUN", run.id, flush=True)
        for i in range(1000):
            run.log("x", i)
        """,
    )
    code, err = _wait(proc)
    assert code == 0, err
    run = ws.get_run(run_id)
    assert run.get_status() == "Completed"
    assert run.get_metrics()["x"] == list(range(1000))


def test_uncaught_exception_fails_the_run_with_its_traceback(ws: Workspace) -> None:
    proc, run_id = _start(
        ws,
        """
        run = exp.start_logging()
        print("RUN", run.id, flush=True)
        raise RuntimeError("diverged at step 12")
        """,
    )
    code, _ = _wait(proc)
    assert code == 1
    run = ws.get_run(run_id)
    assert run.get_status() == "Failed"
    assert "RuntimeError: diverged at step 12" in run.get_details()["error"]["message"]


def test_sigterm_flushes_and_fails_the_run(ws: Workspace) -> None:
    proc, run_id = _start(
        ws,
        """
        run = exp.start_logging()
        for i in range(500):
            run.log("x", i)
        print("RUN", run.id, flush=True)
        time.sleep(600)
        """,
    )
    os.kill(proc.pid, signal.SIGTERM)
    code, _ = _wait(proc)
    assert code == -signal.SIGTERM
    run = ws.get_run(run_id)
    assert run.get_status() == "Failed"
    assert "SIGTERM" in run.get_details()["error"]["message"]
    assert len(run.get_metrics()["x"]) == 500


def test_sigkilled_owner_is_finalized_by_any_reader_at_its_last_heartbeat(ws: Workspace) -> None:
    """Before: the run stayed Running (with a growing duration) until an open TUI or `runtui gc` noticed, and
    gc ended it at the gc time. Now the first reader (here the SDK's get_status) ends it, at the last heartbeat."""
    proc, run_id = _start(
        ws,
        """
        run = exp.start_logging()
        print("RUN", run.id, flush=True)
        time.sleep(600)
        """,
    )
    _wait_for(lambda: ws.store.get_run(run_id).heartbeat_at is not None, "the first heartbeat")
    proc.kill()
    proc.wait(timeout=30)
    beat = ws.store.get_run(run_id).heartbeat_at
    run = ws.get_run(run_id)
    assert run.get_status() == "Failed"
    rec = ws.store.get_run(run_id)
    assert rec.ended_at == beat
    assert rec.error is not None and "owner process lost" in rec.error
    assert run.cancel(timeout=5) is False  # already ended: nothing to cancel


def test_cli_ls_finalizes_a_run_whose_owner_vanished(ws: Workspace) -> None:
    proc, run_id = _start(
        ws,
        """
        run = exp.start_logging()
        print("RUN", run.id, flush=True)
        time.sleep(600)
        """,
    )
    proc.kill()
    proc.wait(timeout=30)
    assert ws.store.get_run(run_id).status.value == "Running"  # nobody has looked yet
    env = dict(os.environ, RUNTUI_STORE_URL=ws.config.store_url, RUNTUI_HOME=str(ws.config.home))
    done = subprocess.run(
        [sys.executable, "-m", "runtui", "ls", "--all"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert ws.store.get_run(run_id).status.value == "Failed"


def test_sighup_ends_the_run_failed_at_once_and_keeps_every_point(ws: Workspace) -> None:
    """A dropped SSH link: the foreground process gets SIGHUP. Before: no handler, the last points were lost
    and the run stayed Running. Now: flushed, Failed ("terminal hung up"), ended within a second."""
    proc, run_id = _start(
        ws,
        """
        with exp.start_logging() as run:
            print("RUN", run.id, flush=True)
            n = 0
            while True:
                n += 1
                run.log("n", n)
                print(f"logged {n}", flush=True)
                time.sleep(0.002)
        """,
    )
    assert proc.stdout is not None
    for _ in range(300):
        proc.stdout.readline()
    sent = time.time()
    os.kill(proc.pid, signal.SIGHUP)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGHUP
    printed = [int(line.split()[1]) for line in out.splitlines() if line.startswith("logged ")]
    rec = ws.store.get_run(run_id)
    assert rec.status.value == "Failed" and rec.error == "terminal hung up"
    assert rec.ended_at is not None and abs(rec.ended_at - sent) < 1.0
    stored = {int(v) for v in _stored(ws, run_id, "n")}  # type: ignore[call-overload]
    assert stored >= set(range(1, 301)) | set(printed)


def _cli_cancel(ws: Workspace, run_id: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, RUNTUI_STORE_URL=ws.config.store_url, RUNTUI_HOME=str(ws.config.home))
    return subprocess.run(
        [sys.executable, "-m", "runtui", "cancel", run_id, "--timeout", "30"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


LOGGING_LOOP = """
with exp.start_logging() as run:
    print("RUN", run.id, flush=True)
    i = 0
    while True:
        try:
            run.log("step", i); i += 1
            time.sleep(0.01)
        except KeyboardInterrupt:
            if CATCH:
                continue
            raise
"""


def test_cancel_of_a_process_that_ignores_sigint_says_so_and_fails(ws: Workspace) -> None:
    """Before: `runtui cancel` printed Canceled, exit 0, and the process logged on into the Canceled run."""
    proc, run_id = _start(ws, "CATCH = False\n" + LOGGING_LOOP, ignore_sigint=True)
    try:
        _wait_for(lambda: len(_stored(ws, run_id, "step")) >= 3, "three points in the store")
        done = _cli_cancel(ws, run_id)
        assert done.returncode != 0
        assert f"process {proc.pid}" in done.stderr and "ignores SIGINT" in done.stderr, done.stderr
        assert f"kill {proc.pid}" in done.stderr
        assert proc.poll() is None  # never killed unasked
        rec = ws.store.get_run(run_id)
        assert rec.status.value == "Canceled"
        count = len(_stored(ws, run_id, "step"))
        # The process goes on logging; the SDK drops those points (and says so once).
        _wait_for(lambda: proc.poll() is None and ws.get_run(run_id).get_status() == "Canceled", "a later look")
        os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        # One warning: from the SDK, or from the store refusing a point that was already queued.
        assert err.count("takes no more metrics") + err.count("the store refused") == 1, err
        assert len(_stored(ws, run_id, "step")) == count
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cancel_of_a_process_that_catches_the_interrupt_says_so(ws: Workspace) -> None:
    proc, run_id = _start(ws, "CATCH = True\n" + LOGGING_LOOP)
    try:
        _wait_for(lambda: len(_stored(ws, run_id, "step")) >= 3, "three points in the store")
        run = ws.get_run(run_id)
        with pytest.raises(CancelNotStoppedError, match=f"process {proc.pid} .*caught the interrupt"):
            run.cancel(timeout=30)
        assert run.get_status() == "Canceled"
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()


def test_cancel_of_an_interrupted_notebook_cell_stops_without_a_kill(ws: Workspace) -> None:
    """The notebook case: the run was started in one cell and left open; the interrupt ends the cell (the
    kernel lives on, idle). Nothing logs after the interrupt, so the work stopped: Canceled, no complaint."""
    proc, run_id = _start(
        ws,
        """
        run = exp.start_logging()
        print("RUN", run.id, flush=True)
        try:
            while True:
                run.log("step", 1)
                time.sleep(0.01)
        except KeyboardInterrupt:
            print("cell interrupted", flush=True)
        time.sleep(600)  # the idle kernel
        """,
    )
    try:
        assert ws.get_run(run_id).cancel(timeout=30) is True
        assert ws.store.get_run(run_id).error is None
        assert proc.poll() is None  # the kernel was not killed
    finally:
        proc.kill()
        proc.wait()
