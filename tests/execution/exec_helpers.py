"""Helpers for tests of submitted runs (imported by the tests in this folder)."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
from process_cleanup import kill_leftover_processes

from runtui.config import WorkspaceConfig
from runtui.execution.process_tree import ProcessIdentity
from runtui.status import RunStatus
from runtui.store import RunRecord, Store

WAIT_S = 60.0  # generous bound for anything a test waits on; a broken run fails the test instead of hanging


kill_leftovers = kill_leftover_processes


def write_script(folder: Path, body: str, name: str = "train.py") -> str:
    (folder / name).write_text(textwrap.dedent(body), encoding="utf-8")
    return name


def submit(store: Store, ws: WorkspaceConfig, src: Path, script: str, *args: str, **kwargs: Any) -> RunRecord:
    from runtui.execution.launch import submit_run

    params: dict[str, Any] = {
        "experiment": "exec",
        "source_directory": src,
        "script": script,
        "arguments": list(args),
        "environment_variables": {},
        "python": None,
        "tags": {},
        "display_name": None,
        "grace_period": 5.0,
    }
    params.update(kwargs)
    return submit_run(store, ws, **params)


def wait_until(predicate: Callable[[], Any], timeout: float = WAIT_S, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.02)


def wait_status(store: Store, run_id: str, *statuses: RunStatus, timeout: float = WAIT_S) -> RunRecord:
    def check() -> RunRecord | None:
        rec = store.get_run(run_id)
        return rec if rec.status in statuses else None

    try:
        return wait_until(check, timeout, f"run {run_id} to be {'/'.join(s.value for s in statuses)}")
    except AssertionError as exc:
        rec = store.get_run(run_id)
        raise AssertionError(f"{exc}; it is {rec.status.value} (error: {rec.error})") from None


def wait_terminal(store: Store, run_id: str, timeout: float = WAIT_S) -> RunRecord:
    return wait_status(store, run_id, RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELED, timeout=timeout)


def read_identities(path: Path, count: int) -> list[ProcessIdentity]:
    """The pids a test script wrote (one per line, the file written atomically), as identities."""

    def ready() -> list[int] | None:
        if not path.exists():
            return None
        pids = [int(x) for x in path.read_text().split()]
        return pids if len(pids) >= count else None

    pids = wait_until(ready, what=f"{count} pids in {path}")
    idents = []
    for pid in pids:
        idents.append(ProcessIdentity(pid, psutil.Process(pid).create_time()))
    return idents


def exists(ident: ProcessIdentity) -> bool:
    """True while any process (even a zombie) has this identity."""
    try:
        return ident.matches(psutil.Process(ident.pid).create_time())
    except psutil.NoSuchProcess:
        return False
