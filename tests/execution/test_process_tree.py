"""Process identity, verified signalling and tree termination, with real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from exec_helpers import read_identities, wait_until

from runtui.execution.process_tree import (
    ProcessIdentity,
    ProcessTree,
    Reaper,
    describe_exit,
    identity_of,
    signal_process,
)

pytestmark = pytest.mark.timeout(120)

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(SLEEPER)
    yield proc
    proc.kill()
    proc.wait(timeout=30)


def test_identity_of_a_live_and_a_missing_process(sleeper: subprocess.Popen[bytes]) -> None:
    ident = identity_of(sleeper.pid)
    assert ident is not None and ident.pid == sleeper.pid
    assert ident.create_time == psutil.Process(sleeper.pid).create_time()
    assert ident.is_alive()
    sleeper.kill()
    sleeper.wait(timeout=30)
    assert not ident.is_alive()
    assert identity_of(sleeper.pid) is None


def test_a_recycled_pid_is_never_signalled(sleeper: subprocess.Popen[bytes]) -> None:
    """Same pid number, another create time: exactly what a reused pid looks like. It must not be touched."""
    real = identity_of(sleeper.pid)
    assert real is not None
    recycled = ProcessIdentity(sleeper.pid, real.create_time - 3600.0)
    assert signal_process(recycled, signal.SIGKILL) is False
    assert not recycled.is_alive()
    # Still running: give it time to die if it had been signalled.
    with pytest.raises(subprocess.TimeoutExpired):
        sleeper.wait(timeout=0.5)
    assert real.is_alive()
    # A tree rooted at the stale identity is empty: terminating it signals nobody.
    report = ProcessTree(root=recycled).terminate(grace=0.1)
    assert report.terminated == set() and report.killed == set()
    assert sleeper.poll() is None
    # The right identity is signalled.
    assert signal_process(real, signal.SIGTERM) is True
    assert sleeper.wait(timeout=30) == -signal.SIGTERM


def test_signal_to_a_gone_process_is_false() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    ident = identity_of(proc.pid)
    proc.wait(timeout=30)
    assert ident is not None
    assert signal_process(ident, signal.SIGTERM) is False


PERMISSION_PROBE = """
import sys
sys.path[:0] = [ROOT, SITE]
import signal
from runtui.execution.process_tree import ProcessTree, identity_of, signal_process
ident = identity_of(PID)
try:
    signal_process(ident, signal.SIGTERM)
    print("signalled")
except PermissionError as exc:  # PermissionDeniedError is one
    print(type(exc).__name__, exc)
report = ProcessTree(root=ident).terminate(grace=0.1, kill_timeout=0.2)
print("denied", len(report.denied))
"""


def test_signalling_another_users_process_is_reported(sleeper: subprocess.Popen[bytes]) -> None:
    """A process we may not signal gives PermissionDeniedError, and a tree terminate reports it (no crash).

    As root, the probe runs as user `nobody` against our (root's) process; otherwise against pid 1."""
    import site

    root = str(Path(__file__).resolve().parents[2])
    site_dir = site.getsitepackages()[0]
    if os.geteuid() == 0:
        python = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
        if not os.access(python, os.X_OK):
            pytest.skip(f"no {python} that user nobody can run")
        target, user = sleeper.pid, 65534
    else:
        python, target, user = sys.executable, 1, None
    code = PERMISSION_PROBE.replace("ROOT", repr(root)).replace("SITE", repr(site_dir)).replace("PID", str(target))
    out = subprocess.run(
        [python, "-c", textwrap.dedent(code)],
        user=user,
        group=user,
        capture_output=True,
        text=True,
        cwd="/",
        timeout=60,
    )
    if "ModuleNotFoundError" in out.stderr:
        pytest.skip("user nobody cannot import runtui/psutil here")
    assert out.stdout.splitlines() == [
        f"PermissionDeniedError not allowed to send SIGTERM to process {target} (it belongs to another user)",
        "denied 2",  # SIGTERM, then SIGKILL after the grace period: both refused, both reported
    ], out.stderr
    if user is not None:
        assert sleeper.poll() is None  # untouched


def test_describe_exit() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(7)"])
    _, status = os.waitpid(proc.pid, 0)
    proc.returncode = 7
    assert describe_exit(status) == (7, None)
    proc = subprocess.Popen(SLEEPER)
    os.kill(proc.pid, signal.SIGKILL)
    _, status = os.waitpid(proc.pid, 0)
    proc.returncode = -9
    assert describe_exit(status) == (-9, "SIGKILL")


def test_reaper_collects_the_status_of_watched_children() -> None:
    reaper = Reaper()
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(3)"])
    reaper.watch(proc.pid)
    wait_until(lambda: reaper.reap() or reaper.status_of(proc.pid) is not None, what="the child to be reaped")
    status = reaper.status_of(proc.pid)
    assert status is not None and describe_exit(status) == (3, None)
    proc.returncode = 3
    assert not psutil.pid_exists(proc.pid) or identity_of(proc.pid) is None


CONTAINER = """
import os, subprocess, sys, time
SLEEP = [sys.executable, "-c", "import time; time.sleep(600)"]
IGNORE = [sys.executable, "-c",
          "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); "
          "time.sleep(600)"]
ignoring = subprocess.Popen(IGNORE, stdout=subprocess.PIPE)
ignoring.stdout.readline()  # it ignores SIGTERM from here on
kids = [subprocess.Popen(SLEEP), subprocess.Popen(SLEEP, start_new_session=True), ignoring]
with open(sys.argv[1] + ".tmp", "w") as fh:
    fh.write("\\n".join(str(k.pid) for k in kids))
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(600)
"""


def test_terminate_a_tree_sigterm_then_sigkill(tmp_path: Path) -> None:
    """A tree below a container process: SIGTERM for all, SIGKILL for the one that ignores it."""
    pids = tmp_path / "pids"
    container = subprocess.Popen([sys.executable, "-c", textwrap.dedent(CONTAINER), str(pids)])
    try:
        idents = read_identities(pids, 3)
        tree = ProcessTree(container.pid)
        assert set(tree.identities()) == set(idents)
        report = tree.terminate(grace=0.5)
        assert report.terminated == set(idents)
        assert report.killed == {idents[2]}  # the SIGTERM-ignoring one
        assert report.survivors == []
        assert all(not i.is_alive() for i in idents)  # dead (zombies of the container, which never reaps)
        assert tree.contains(idents[0].pid, idents[0].create_time)
        assert not tree.contains(idents[0].pid, idents[0].create_time + 10)
    finally:
        container.kill()
        container.wait(timeout=30)
