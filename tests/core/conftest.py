from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from process_cleanup import kill_leftover_processes

from runtui import Workspace


@pytest.fixture
def ws(store_url: str, tmp_path: Path) -> Iterator[Workspace]:
    """A workspace whose store is the parametrized SQLite/PostgreSQL store."""
    workspace = Workspace(path=tmp_path / "ws", store_url=store_url)
    yield workspace
    kill_leftover_processes(workspace.store)  # supervisors and scripts of runs a test submitted
    # Runs a test left open must not outlive its (dropped) store in this process's owner agent.
    from runtui.core.owner import agent

    for run_id in list(agent()._owned):
        agent().release(run_id)
