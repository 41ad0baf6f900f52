"""The owning process of interactive runs, with real subprocesses and real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from runtui import Workspace

ROOT = Path(__file__).resolve().parents[2]


def _start(ws: Workspace, body: str) -> tuple[subprocess.Popen[str], str]:
    code = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        import runtui
        ws = runtui.Workspace(path={str(ws.config.home)!r}, store_url={ws.config.store_url!r})
        exp = runtui.Experiment(ws, "owner")
        """
    ) + textwrap.dedent(body)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
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
    time.sleep(0.5)
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
    time.sleep(0.2)
    os.kill(proc.pid, signal.SIGTERM)
    code, _ = _wait(proc)
    assert code == -signal.SIGTERM
    run = ws.get_run(run_id)
    assert run.get_status() == "Failed"
    assert "SIGTERM" in run.get_details()["error"]["message"]
    assert len(run.get_metrics()["x"]) == 500


def test_sigkilled_owner_is_finalized_by_cancel(ws: Workspace) -> None:
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
    run = ws.get_run(run_id)
    assert run.get_status() == "Running"  # nobody said otherwise yet
    assert run.cancel(timeout=5) is True  # the owner is gone: finalized directly, no waiting
    assert run.get_status() == "Canceled"
