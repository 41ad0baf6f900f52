"""A fresh workspace folder per CLI test, and cleanup that stops every supervisor and script a test left
running (by pid + create time, never by name)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from process_cleanup import kill_leftover_processes


def _kill_leftovers(home: Path) -> None:
    from runtui.config import resolve
    from runtui.store.store import open_store

    cfg = resolve(path=home)
    if not Path(cfg.store_url.removeprefix("sqlite:///")).exists():
        return
    from runtui.errors import StoreError

    try:
        store = open_store(cfg.store_url)
        store.count_runs()
    except StoreError:  # a test that broke the store on purpose
        return
    kill_leftover_processes(store)


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "home"
    yield path
    _kill_leftovers(path)
    from runtui.config import resolve
    from runtui.store.engine import dispose_engine

    dispose_engine(resolve(path=path).store_url)
