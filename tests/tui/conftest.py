"""Fixtures for the TUI's tests: real workspaces (a SQLite store in tmp_path)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtui.config import WorkspaceConfig, resolve
from runtui.store import Store, open_store


@pytest.fixture
def anyio_backend() -> str:
    """Pilot tests run on asyncio (the anyio pytest plugin drives the async tests)."""
    return "asyncio"


@pytest.fixture
def workspace(tmp_path: Path) -> WorkspaceConfig:
    return resolve(path=tmp_path / "ws")


@pytest.fixture
def ws_store(workspace: WorkspaceConfig) -> Store:
    return open_store(workspace.store_url)
