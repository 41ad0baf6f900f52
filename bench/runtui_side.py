"""The runtui side of each comparison, through the most public layer that exists.

The SDK (`runtui.Workspace`, `Experiment`, `start_logging`) when it can be imported; before that, the store
layer the SDK sits on (`Store` and its `MetricWriter`), and the table says which layer was measured.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import sdk_available, sqlite_url


@dataclass
class LoggingRun:
    """A run being logged to, whichever layer made it."""

    run_id: str
    store_url: str
    layer: str  # "sdk" or "store"
    handle: Any  # the SDK Run, or the MetricWriter
    store: Any

    @property
    def log_call(self) -> Callable[[str, float], None]:
        """What a training loop calls: the SDK's own bound `run.log` (no bench wrapper inside the timed loop)."""
        return self.handle.log if self.layer == "sdk" else self.log  # type: ignore[no-any-return]

    def log(self, name: str, value: float) -> None:
        if self.layer == "sdk":
            self.handle.log(name, value)
        else:
            self.handle.put((self.run_id, name, None, value, None, "scalar", time.time()))

    def flush(self) -> None:
        if not self.handle.flush(timeout=600):
            raise RuntimeError("the metric writer did not flush")

    def complete(self) -> None:
        from runtui.status import RunStatus

        if self.layer == "sdk":
            self.handle.complete()
        else:
            self.flush()
            self.store.set_status(self.run_id, RunStatus.COMPLETED)

    def count_points(self) -> int:
        return self.store.count_points(self.run_id)


def layer() -> str:
    return "sdk" if sdk_available() else "store"


def workspace(home: Path, store_url: str | None = None) -> Any:
    """An SDK workspace in `home` (its SQLite store, or `store_url`)."""
    import runtui

    return runtui.Workspace(str(home), store_url=store_url)


def start_run(home: Path, experiment: str = "bench", store_url: str | None = None) -> LoggingRun:
    """A running run ready for `log()`."""
    if layer() == "sdk":
        import runtui

        ws = workspace(home, store_url)
        run = runtui.Experiment(workspace=ws, name=experiment).start_logging()

        return LoggingRun(run.id, ws.config.store_url, "sdk", run, ws.store)

    from runtui.ids import new_run_id
    from runtui.status import RunStatus
    from runtui.store import NewRun, open_store
    from runtui.store.metric_writer import MetricWriter

    url = store_url or sqlite_url(home / "runtui.db")
    store = open_store(url)
    rid = new_run_id(experiment)
    store.create_runs([NewRun(id=rid, experiment=experiment, status=RunStatus.RUNNING, owner_pid=os.getpid())])
    return LoggingRun(rid, url, "store", MetricWriter(store), store)
