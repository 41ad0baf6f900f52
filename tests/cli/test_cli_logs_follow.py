"""`runtui logs -f`: exits with the run's outcome, leaves as soon as its reader is gone, and says why it cannot
follow instead of waiting forever. Real submitted scripts, real pipes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import ROOT, WAIT_S, assert_one_line_error, env, open_store, runtui, wait_for, write_script

from runtui.status import RunStatus

pytestmark = pytest.mark.timeout(240)

# Prints one line, then stays silent until canceled: a `logs -f` that waited for the next line would hang.
QUIET = "import time\nprint('started', flush=True)\ntime.sleep(600)\n"


def _follow(home: Path, run_id: str, *options: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "runtui", *options, "--home", str(home), "logs", "-f", run_id],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
        cwd=ROOT,
    )


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=WAIT_S)


def test_follow_exits_1_for_a_failed_run(home: Path, tmp_path: Path) -> None:
    write_script(tmp_path / "f", "boom.py", "print('about to fail', flush=True)\nraise SystemExit('bad data')\n")
    run_id = runtui("submit", "-e", "boom", tmp_path / "f" / "boom.py", home=home).out.strip()
    result = runtui("logs", "-f", run_id, home=home)
    assert result.code == 1, result.err
    assert "about to fail" in result.out and "bad data" in result.out
    assert open_store(home).get_run(run_id).status == RunStatus.FAILED


def test_follow_exits_3_for_a_canceled_run(home: Path, tmp_path: Path) -> None:
    write_script(tmp_path / "c", "quiet.py", QUIET)
    run_id = runtui("submit", "-e", "quiet", tmp_path / "c" / "quiet.py", home=home).out.strip()
    proc = _follow(home, run_id)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "started\n"
        assert runtui("cancel", run_id, home=home).code == 0
        _, err = proc.communicate(timeout=WAIT_S)
    finally:
        _stop(proc)
    assert proc.returncode == 3, err
    assert open_store(home).get_run(run_id).status == RunStatus.CANCELED


def test_follow_leaves_at_once_when_its_reader_is_gone(home: Path, tmp_path: Path) -> None:
    """The reader (`| head -1`, a dropped SSH session) closes the pipe while the run prints nothing more:
    `logs -f` must notice without writing, not on the run's next line (never, here)."""
    write_script(tmp_path / "p", "quiet.py", QUIET)
    run_id = runtui("submit", "-e", "quiet", tmp_path / "p" / "quiet.py", home=home).out.strip()
    proc = _follow(home, run_id)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "started\n"
        proc.stdout.close()  # the reader dies
        code = proc.wait(timeout=30)  # the script stays silent for 600 s
        assert code == 1
        assert proc.stderr is not None
        assert "Traceback" not in proc.stderr.read()
        assert open_store(home).get_run(run_id).status == RunStatus.RUNNING  # the run itself goes on
    finally:
        _stop(proc)
        runtui("cancel", run_id, home=home)


def test_follow_refuses_a_run_of_another_workspace_on_this_host(tmp_path: Path) -> None:
    """Two workspaces share one store: a run submitted from one has its log in that one's run folder, which
    the other cannot follow; it says so instead of waiting for a file that never appears there."""
    shared = f"sqlite:///{tmp_path / 'shared.db'}"
    first, second = tmp_path / "first", tmp_path / "second"
    write_script(tmp_path / "o", "quiet.py", QUIET)
    run_id = runtui("--store", shared, "submit", "-e", "other", tmp_path / "o" / "quiet.py", home=first).out.strip()
    try:
        from runtui.store import open_store as open_url

        wait_for(lambda: open_url(shared).get_run(run_id).status == RunStatus.RUNNING, "the script to start")
        result = runtui("--store", shared, "logs", "-f", run_id, home=second, timeout=60)
        assert_one_line_error(result, 1, f"cannot follow run {run_id}", "another workspace", "--home")
        followed = subprocess.Popen(
            [sys.executable, "-m", "runtui", "--store", shared, "--home", str(first), "logs", "-f", run_id],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env(),
            cwd=ROOT,
        )
        try:
            assert followed.stdout is not None
            assert followed.stdout.readline() == "started\n"  # from its own workspace it follows
        finally:
            _stop(followed)
    finally:
        runtui("--store", shared, "cancel", run_id, home=first)
