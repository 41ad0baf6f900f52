"""Helpers of the reliability suite: starting worker processes, reading their reports, inspecting stores."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
COLS, ROWS = 120, 40
WORKER = Path(__file__).with_name("reliability_worker.py")


def worker_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("RUNTUI_RUN_ID", None)
    env.update(extra)
    return env


def spawn(mode: str, args: dict[str, Any], **env: str) -> subprocess.Popen[str]:
    """Start `reliability_worker.py <mode>` with pipes on stdout (JSON lines) and stderr."""
    return subprocess.Popen(
        [sys.executable, str(WORKER), mode, json.dumps(args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=worker_env(**env),
        cwd=str(ROOT),
    )


@dataclass
class Finished:
    events: list[dict[str, Any]]
    stderr: str
    returncode: int

    def last(self, event: str) -> dict[str, Any]:
        found = [e for e in self.events if e.get("event") == event]
        assert found, f"no {event!r} event; events={self.events[-5:]}, stderr={self.stderr[-2000:]}"
        return found[-1]


def finish(proc: subprocess.Popen[str], timeout: float) -> Finished:
    out, err = proc.communicate(timeout=timeout)
    events = [json.loads(line) for line in out.splitlines() if line.strip()]
    return Finished(events, err, proc.returncode)


def read_events_until(
    proc: subprocess.Popen[str], done: Callable[[dict[str, Any]], bool], timeout: float
) -> list[dict[str, Any]]:
    """Read JSON lines from the worker until `done(event)` is true; returns every event read."""
    assert proc.stdout is not None
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    buf = ""
    fd = proc.stdout.fileno()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"worker did not report in {timeout} s; events so far: {events[-5:]}")
        ready, _, _ = select.select([fd], [], [], min(remaining, 0.5))
        if not ready:
            if proc.poll() is not None:
                err = proc.stderr.read() if proc.stderr else ""
                raise AssertionError(f"worker exited ({proc.returncode}) early; stderr: {err[-3000:]}")
            continue
        chunk = os.read(fd, 65536).decode()
        if not chunk:
            err = proc.stderr.read() if proc.stderr else ""
            raise AssertionError(f"worker closed stdout; events: {events[-5:]}; stderr: {err[-3000:]}")
        buf += chunk
        while "\n" in buf:
            line, buf = buf.split("\n", 1)
            if line.strip():
                event = json.loads(line)
                events.append(event)
                if done(event):
                    return events


def stderr_problems(stderr: str) -> list[str]:
    """Lines a healthy worker must not print: runtui's store trouble reports, lock errors, tracebacks."""
    bad = ("runtui:", "locked", "busy", "Traceback", "Error", "error")
    return [line for line in stderr.splitlines() if any(b in line for b in bad)]


def query(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Read the store with a separate plain engine (not runtui's), as an independent witness."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def integrity_ok(url: str) -> None:
    """SQLite: PRAGMA integrity_check says ok. PostgreSQL: no equivalent; the consistency checks cover it."""
    if url.startswith("sqlite"):
        assert query(url, "PRAGMA integrity_check") == [("ok",)]
        assert query(url, "PRAGMA foreign_key_check") == []


# Schema v2 keeps points keyed by series; this gives the queries the (run_id, name, step, value, time) rows of v1.
METRIC_ROWS = (
    "(SELECT s.run_id, s.name, p.step, p.value, p.time FROM metric_point p"
    " JOIN metric_series s ON s.id = p.series_id) AS metric"
)


def metrics_match_summaries(url: str) -> None:
    """Points and their summary rows are written in one transaction, so their counts always agree."""
    rows = query(
        url,
        "SELECT s.run_id, s.name, s.count,"
        " (SELECT COUNT(*) FROM metric_point p WHERE p.series_id = s.id) FROM metric_series s",
    )
    bad = [r for r in rows if r[2] != r[3]]
    assert not bad, f"summary counts disagree with the points: {bad[:5]}"


class Terminal:
    """A program on a pseudo-terminal, its output kept raw and fed to a VT emulator."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self.fd = master
        self.proc = subprocess.Popen(
            args, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=str(ROOT), start_new_session=True
        )
        os.close(slave)
        self.raw = bytearray()
        import pyte  # a test extra; the tests that use a terminal skip without it

        self.screen = pyte.Screen(COLS, ROWS)
        self.stream = pyte.ByteStream(self.screen)

    def pump(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            ready, _, _ = select.select([self.fd], [], [], min(left, 0.05))
            if not ready:
                continue
            try:
                data = os.read(self.fd, 65536)
            except OSError:  # the program exited and closed its side
                return
            if not data:
                return
            self.raw.extend(data)
            self.stream.feed(data)

    def wait_for(self, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.text():
            assert time.monotonic() < deadline, f"{text!r} never appeared; screen:\n{self.text()}"
            self.pump(0.1)

    def press(self, keys: str, settle: float = 0.5) -> None:
        os.write(self.fd, keys.encode())
        self.pump(settle)

    def press_until(self, keys: str, text: str, tries: int = 5) -> None:
        """Press `keys` until `text` shows (a key sent while the app is still loading can be lost)."""
        for _ in range(tries):
            self.press(keys, settle=1.0)
            try:
                self.wait_for(text, timeout=5.0)
                return
            except AssertionError:
                continue
        self.wait_for(text, timeout=5.0)

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        os.close(self.fd)
