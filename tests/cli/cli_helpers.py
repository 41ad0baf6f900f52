"""Helpers for the CLI tests: run `python -m runtui` as a real subprocess, make runs through the SDK in another
real process, and look at the store afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 90.0  # generous bound for anything a test waits on; a hang fails the test instead of blocking CI


def env(extra: dict[str, str] | None = None) -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([str(ROOT), *([e["PYTHONPATH"]] if e.get("PYTHONPATH") else [])])
    e.pop("RUNTUI_STORE_URL", None)
    e.pop("NO_COLOR", None)
    e["RUNTUI_CANCEL_GRACE"] = "3"
    e["RUNTUI_SAMPLE_INTERVAL"] = "1"
    e.update(extra or {})
    return e


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.strip().splitlines()

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


def runtui(
    *args: str | os.PathLike[str],
    home: Path | None = None,
    extra_env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = WAIT_S,
) -> Result:
    """`python -m runtui [--home HOME] ARGS...`, stdin closed, output captured (so never a terminal)."""
    cmd = [sys.executable, "-m", "runtui"]
    if home is not None:
        cmd += ["--home", str(home)]
    cmd += [str(a) for a in args]
    proc = subprocess.run(
        cmd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env(extra_env),
        cwd=cwd or ROOT,
        timeout=timeout,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def assert_one_line_error(result: Result, code: int, *fragments: str) -> None:
    """The contract for user errors: the exit code, one line on stderr, no traceback, nothing on stdout."""
    assert result.code == code, (result.code, result.err)
    assert len(result.err_lines) == 1, result.err
    line = result.err_lines[0]
    assert line.startswith("runtui: error: "), line
    assert "Traceback" not in result.err
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    assert result.out == ""


# Makes runs through the SDK, as a training script would, in its own process (so no owner thread runs in pytest).
_MAKE_RUNS = textwrap.dedent(
    """
    import json, sys
    from runtui import Experiment, Workspace
    ws = Workspace(path=sys.argv[1], store_url=sys.argv[3] or None)
    for spec in json.loads(sys.argv[2]):
        run = Experiment(ws, spec["experiment"]).start_logging(display_name=spec.get("name"))
        for name, values in spec.get("metrics", {}).items():
            for v in values:
                run.log(name, v)
        if spec.get("tags"):
            run.set_tags(spec["tags"])
        if spec.get("properties"):
            run.add_properties(spec["properties"])
        status = spec.get("status", "Completed")
        if status == "Completed":
            run.complete()
        elif status == "Failed":
            run.fail(spec.get("error", "boom"))
        elif status == "Canceled":
            run.cancel()
        print(run.id, flush=True)
    """
)


def make_runs(home: Path, specs: Sequence[dict[str, Any]], store_url: str | None = None) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-c", _MAKE_RUNS, str(home), json.dumps(list(specs)), store_url or ""],
        capture_output=True,
        text=True,
        env=env(),
        cwd=ROOT,
        timeout=WAIT_S,
        check=True,
    )
    return proc.stdout.split()


_HOLD_RUN = textwrap.dedent(
    """
    import signal, sys, time
    # Ctrl-C as in a terminal, also when the suite runs under `nohup ... &`: its children inherit SIGINT ignored,
    # and then a cancel truthfully reports that the process ignores SIGINT instead of stopping it
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from runtui import Experiment, Workspace
    ws = Workspace(path=sys.argv[1])
    run = Experiment(ws, sys.argv[2]).start_logging(display_name="held")
    run.log("loss", 0.5)
    run.flush()
    print(run.id, flush=True)
    with run:
        sys.stdin.read()  # until the test closes stdin (or cancels the run: the owner thread interrupts us)
    """
)


class HeldRun:
    """A live interactive run owned by a real background process, until `close()`."""

    def __init__(self, home: Path, experiment: str = "held") -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _HOLD_RUN, str(home), experiment],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env(),
            cwd=ROOT,
        )
        assert self.proc.stdout is not None
        self.run_id = self.proc.stdout.readline().strip()
        assert self.run_id, self.proc.stderr.read() if self.proc.stderr else ""

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.close()
                self.proc.wait(timeout=WAIT_S)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


def open_store(home: Path) -> Any:
    from runtui.core.workspace import Workspace

    return Workspace(path=home).store


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.1)


def write_script(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path
