"""A fresh workspace folder per CLI test, and cleanup that stops every supervisor and script a test left
running (by pid + create time, never by name)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest


def _kill_leftovers(home: Path) -> None:
    from runtui.config import resolve
    from runtui.execution.process_tree import ProcessIdentity, signal_process
    from runtui.store.store import open_store

    cfg = resolve(path=home)
    if not Path(cfg.store_url.removeprefix("sqlite:///")).exists():
        return
    from runtui.errors import StoreError

    try:
        store = open_store(cfg.store_url)
        records = list(store.query_runs())
    except StoreError:  # a test that broke the store on purpose
        return
    for rec in records:
        if rec.status.is_terminal:
            continue
        for pid, ct in ((rec.owner_pid, rec.owner_create_time), (rec.pid, rec.pid_create_time)):
            if pid is None or ct is None or pid == os.getpid():
                continue
            ident = ProcessIdentity(pid, ct)
            if not ident.is_alive():
                continue
            try:
                for child in psutil.Process(pid).children(recursive=True):
                    child.kill()
            except psutil.Error:
                pass
            signal_process(ident, signal.SIGKILL)


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "home"
    yield path
    _kill_leftovers(path)
    from runtui.config import resolve
    from runtui.store.engine import dispose_engine

    dispose_engine(resolve(path=path).store_url)
