"""The CLI's progress bar: drawn on a terminal, silent in a pipe, erased before the summary."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

from runtui.progress import Progress

ROOT = Path(__file__).resolve().parents[1]


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_quiet_when_not_a_terminal() -> None:
    out = io.StringIO()
    with Progress("importing", total=10, stream=out) as bar:
        for _ in range(10):
            bar.advance()
    assert out.getvalue() == "" and bar.done == 10


def test_draws_on_a_terminal_and_erases_itself() -> None:
    out = _Tty()
    with Progress("importing", total=200, unit="points", stream=out) as bar:
        bar.advance(50)
        bar.draw(force=True)
        assert "[######------------------]  25.0% 50/200 points " in bar.render()
    text = out.getvalue()
    assert "importing [" in text and "points" in text
    assert text.endswith("\r\x1b[K")  # the summary printed next starts on a clean line


def test_counter_without_total_and_dumb_terminal() -> None:
    bar = Progress("scanning", unit="runs", stream=_Tty())
    bar.advance(1500)
    assert bar.render().startswith("scanning 1.5k runs ")
    os.environ["TERM"] = "dumb"
    try:
        assert Progress("x", stream=_Tty()).enabled is False
    finally:
        os.environ.pop("TERM")


def test_redraws_are_throttled() -> None:
    out = _Tty()
    with Progress("x", total=10**6, stream=out) as bar:
        for _ in range(10_000):
            bar.advance()
    assert out.getvalue().count("\r\x1b[K") < 50  # not one write per item


def test_a_real_terminal_gets_the_bar_and_a_pipe_does_not() -> None:
    code = "from runtui.progress import Progress\nwith Progress('work', total=3) as b:\n  b.advance(3); b.draw(True)\n"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm"}
    piped = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert piped.returncode == 0 and piped.stderr == ""
    pid, fd = pty.fork()
    if pid == 0:  # the child: stderr is the pty
        os.execve(sys.executable, [sys.executable, "-c", code], env)
    chunks = []
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.waitpid(pid, 0)
    assert b"work [" in b"".join(chunks)
