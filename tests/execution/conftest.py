"""Fixtures for submitted runs: a workspace on the parametrized store, a source folder, and cleanup that stops
every supervisor and script a test left behind (by pid + create time, never by name)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from exec_helpers import kill_leftovers

from runtui import config
from runtui.config import WorkspaceConfig


@pytest.fixture
def ws(store_url: str, tmp_path: Path) -> Iterator[WorkspaceConfig]:
    cfg = config.resolve(path=tmp_path / "ws", store_url=store_url)
    yield cfg
    from runtui.store import open_store

    kill_leftovers(open_store(store_url))


@pytest.fixture
def src(tmp_path: Path) -> Path:
    path = tmp_path / "src"
    path.mkdir()
    return path
