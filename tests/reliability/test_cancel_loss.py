"""Nothing logged is lost on cancel or exit, for a submitted script logging through `Run.get_context()`.

The script prints `logged N` after each `run.log("n", N)` returns; it is canceled at random moments (the
supervisor sends SIGTERM); every N it printed must be in the store. Before the fix the last 58-75 points of a
script logging every 2 ms were lost: only a process that owned its runs flushed on SIGTERM.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from process_cleanup import kill_leftover_processes

from runtui import config
from runtui.config import WorkspaceConfig
from runtui.core.cancel import cancel_runs
from runtui.status import RunStatus
from runtui.store import Store, open_store

pytestmark = pytest.mark.reliability

SCRIPT = """
import time
from runtui import Run

run = Run.get_context()
n = 0
while True:
    n += 1
    run.log("n", n)
    print(f"logged {n}", flush=True)
    time.sleep(0.002)
"""
TRIES = 20
WAIT_S = 60.0


@pytest.fixture
def ws(store_url: str, tmp_path: Path) -> Iterator[WorkspaceConfig]:
    cfg = config.resolve(path=tmp_path / "ws", store_url=store_url)
    yield cfg
    kill_leftover_processes(open_store(store_url))


def _wait(predicate, what: str):  # type: ignore[no-untyped-def]
    import time

    deadline = time.monotonic() + WAIT_S
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)  # polling period of the wait, not a synchronisation by itself
    return value


def _printed(log: Path) -> list[int]:
    if not log.exists():
        return []
    return [int(m) for m in re.findall(r"^logged (\d+)$", log.read_text(errors="replace"), re.M)]


def cancel_once(store: Store, ws: WorkspaceConfig, src: Path, rng: random.Random) -> tuple[list[int], set[int]]:
    """Submit the script, cancel it once it printed a random count, return (printed Ns, stored Ns)."""
    from runtui.execution.launch import submit_run

    rec = submit_run(
        store,
        ws,
        experiment="loss",
        source_directory=src,
        script="logger.py",
        arguments=[],
        environment_variables={},
        python=None,
        tags={},
        display_name=None,
        grace_period=5.0,
    )
    log = ws.run_dir(rec.id) / "logs" / "output.log"
    at = rng.randint(1, 400)
    _wait(lambda: len(_printed(log)) >= at, f"the script to print 'logged {at}'")
    cancel_runs(store, rec.id)
    end = _wait(lambda: (r := store.get_run(rec.id)).status.is_terminal and r, "the run to end")
    assert end.status == RunStatus.CANCELED, end.error
    printed = _printed(log)
    stored = {int(v) for s in store.get_series(rec.id, ["n"]) for v in s.values}
    return printed, stored


def test_every_printed_point_survives_cancel(store: Store, ws: WorkspaceConfig, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "logger.py").write_text(SCRIPT)
    rng = random.Random(14)
    lost: dict[int, list[int]] = {}
    for i in range(TRIES):
        printed, stored = cancel_once(store, ws, src, rng)
        assert printed, "the script printed nothing"
        missing = sorted(set(printed) - stored)
        if missing:
            lost[i] = missing
    assert not lost, f"points printed as logged but missing from the store (try -> Ns): {lost}"
