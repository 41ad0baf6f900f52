"""The session-end leak check of tests/conftest.py: a test that leaves a process running fails the session,
and the leftover is killed. Before, nothing noticed (and a test under `nohup` could leave supervisors behind)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.reliability

CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"


def _session(tmp_path: Path, body: str) -> tuple[int, str]:
    (tmp_path / "conftest.py").write_text(CONFTEST.read_text())
    (tmp_path / "test_inner.py").write_text(body)
    env = dict(os.environ, RUNTUI_TEST_LEAK_GRACE="1")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,  # two interpreters and a scan of every process, on a loaded machine
    )
    return done.returncode, done.stdout + done.stderr


def test_a_leaked_process_fails_the_session_and_is_killed(tmp_path: Path) -> None:
    code, out = _session(
        tmp_path,
        "import subprocess, sys\n"
        "def test_leaks():\n"
        "    p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        # an absolute path: the shared conftest runs each test in a temporary current folder
        f"    open({str(tmp_path / 'leaked.pid')!r}, 'w').write(str(p.pid))\n",
    )
    assert code != 0, out
    assert "left 1 process(es) running" in out, out
    pid = int((tmp_path / "leaked.pid").read_text())
    assert f"pid {pid}" in out
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_a_clean_session_passes(tmp_path: Path) -> None:
    code, out = _session(
        tmp_path,
        "import subprocess, sys\ndef test_waits():\n    subprocess.run([sys.executable, '-c', 'pass'], check=True)\n",
    )
    assert code == 0, out
    assert "left" not in out
