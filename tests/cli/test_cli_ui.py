"""`runtui` and `runtui demo` open the monitor in a real pseudo-terminal, and `q` quits it."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from cli_helpers import ROOT, WAIT_S, env, make_runs, open_store, runtui

pytestmark = pytest.mark.timeout(300)

ALT_SCREEN_ON = b"\x1b[?1049h"
ALT_SCREEN_OFF = b"\x1b[?1049l"


def run_in_terminal(args: list[str]) -> tuple[int, bytes]:
    """Start `python -m runtui ARGS` on an 80x24 pty, press `q` once the app has drawn, return (code, output)."""
    main, sub = os.openpty()
    fcntl.ioctl(sub, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "runtui", *args],
        stdin=sub,
        stdout=sub,
        stderr=sub,
        env=env({"TERM": "xterm-256color"}),
        cwd=ROOT,
        close_fds=True,
        start_new_session=True,
    )
    os.close(sub)
    data = b""
    deadline = time.monotonic() + WAIT_S
    last_q = 0.0
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(main, 65536)
                except OSError:  # EIO: the app closed the terminal
                    break
                if not chunk:
                    break
                data += chunk
            drawn = ALT_SCREEN_ON in data and len(data) > 2000
            if drawn and time.monotonic() - last_q > 2.0:  # again, in case the first press came before the app listened
                os.write(main, b"q")
                last_q = time.monotonic()
            if proc.poll() is not None and not ready:
                break
        code = proc.wait(timeout=WAIT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(main)
    return code, data


def test_runtui_opens_the_monitor_and_q_quits(home: Path) -> None:
    make_runs(home, [{"experiment": "tui", "name": "visible-run", "metrics": {"loss": [0.5]}}])
    code, output = run_in_terminal(["--home", str(home)])
    assert code == 0, output[-2000:]
    assert ALT_SCREEN_ON in output and ALT_SCREEN_OFF in output  # it drew full-screen and restored the terminal
    assert b"tui" in output
    assert b"Traceback" not in output


def test_runtui_demo_opens_the_monitor_on_live_runs(home: Path) -> None:
    try:
        code, output = run_in_terminal(["demo", "--home", str(home)])
        assert code == 0, output[-2000:]
        assert b"started the runtui demo" in output
        assert ALT_SCREEN_ON in output
        assert b"demo-mnist" in output
        assert b"runtui demo --stop" in output  # after quitting: how to stop what goes on in the background
        store = open_store(home)
        assert any(r.status.is_live for r in store.query_runs())
    finally:
        assert runtui("demo", "--stop", home=home).code == 0
