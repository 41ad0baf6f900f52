"""`Run.get_context()`: the submitted run a script runs as, or an offline run outside runtui.

Inside `exp.submit(...)` the supervisor puts RUNTUI_RUN_ID, RUNTUI_STORE_URL, RUNTUI_HOME and RUNTUI_RUNS_DIR in
the script's environment. Outside, an OfflineRun stands in: it accepts the same calls, keeps metrics, tags and
properties in memory (so `get_metrics()` still answers), writes nothing and never raises a store error.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtui.errors import NotFoundError, PropertyOverwriteError, RuntuiError

if TYPE_CHECKING:
    from runtui.core.run import Run

_lock = threading.Lock()
_context: Any = None


def get_context(allow_offline: bool = True) -> Any:
    global _context
    with _lock:
        if _context is not None:
            return _context
        run_id = os.environ.get("RUNTUI_RUN_ID")
        if run_id:
            _context = _submitted_run(run_id)
            from runtui.core.owner import agent

            agent().install_signal_handlers()  # SIGTERM/SIGHUP flush the logged points before the script goes
        elif allow_offline:
            _context = OfflineRun()
            print(
                f"runtui: not inside a submitted run; using offline run {_context.id} (nothing is stored)",
                file=sys.stderr,
            )
        else:
            raise RuntuiError("Run.get_context(): this script is not running as a submitted runtui run")
        return _context


def _submitted_run(run_id: str) -> Run:
    from runtui import config
    from runtui.core.run import Run
    from runtui.core.workspace import Workspace

    home = Path(os.environ.get("RUNTUI_HOME") or config.default_home())
    url = os.environ.get("RUNTUI_STORE_URL") or config.sqlite_url(home / config.DB_FILE)
    runs_dir = Path(os.environ.get("RUNTUI_RUNS_DIR") or home / "runs")
    ws = Workspace._from(config.WorkspaceConfig(home=home, store_url=url, runs_dir=runs_dir))
    return Run.get(ws, run_id)


class OfflineRun:
    """Stands in for a Run outside runtui. Everything is kept in memory for the life of the process."""

    def __init__(self) -> None:
        self.id = f"OfflineRun_{uuid.uuid4()}"
        self.display_name: str | None = None
        self._status = "Running"
        self._metrics: dict[str, list[Any]] = {}
        self._tags: dict[str, str | None] = {}
        self._properties: dict[str, str] = {}
        self._children: list[OfflineRun] = []
        self.parent: OfflineRun | None = None
        self.started = time.time()

    def __repr__(self) -> str:
        return f"OfflineRun(id={self.id!r}, status={self._status!r})"

    def __enter__(self) -> OfflineRun:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self._status == "Running":
            self._status = "Completed" if exc is None else "Failed"

    def log(self, name: str, value: Any, description: str = "", step: int | None = None) -> None:
        self._metrics.setdefault(name, []).append(value)

    def log_list(self, name: str, value: Any, description: str = "") -> None:
        self._metrics.setdefault(name, []).append(list(value))

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        self._metrics.setdefault(name, []).append(dict(kwargs))

    def log_table(self, name: str, value: Any, description: str = "") -> None:
        self._metrics.setdefault(name, []).append(dict(value))

    def log_image(self, name: str, path: Any = None, plot: Any = None, description: str = "") -> None:
        self._metrics.setdefault(name, []).append(str(path) if path is not None else "<plot>")

    def upload_file(self, name: str, path_or_stream: Any) -> None:
        pass

    def flush(self, timeout: float | None = None) -> bool:
        return True

    def get_metrics(self, name: str | None = None, recursive: bool = False) -> dict[str, Any]:
        items = self._metrics.items() if name is None else [(name, self._metrics.get(name, []))]
        return {k: (v[0] if len(v) == 1 else list(v)) for k, v in items if v}

    def get_file_names(self) -> list[str]:
        return []

    def download_file(self, name: str, output_file_path: Any = None) -> str:
        raise NotFoundError(f"offline run {self.id} has no files")

    def get_status(self) -> str:
        return self._status

    @property
    def status(self) -> str:
        return self._status

    def get_details(self) -> dict[str, Any]:
        return {
            "runId": self.id,
            "experiment": None,
            "status": self._status,
            "displayName": self.display_name or self.id,
            "parentRunId": self.parent.id if self.parent else None,
            "target": "offline",
            "properties": dict(self._properties),
            "tags": dict(self._tags),
        }

    def complete(self) -> None:
        self._status = "Completed"

    def fail(self, error_details: Any = None, error_code: str | None = None) -> None:
        self._status = "Failed"

    def cancel(self, wait: bool = True, timeout: float | None = None) -> bool:
        self._status = "Canceled"
        return True

    def child_run(self, name: str | None = None, run_id: str | None = None, outputs: Any = None) -> OfflineRun:
        child = OfflineRun()
        child.display_name = name
        child.parent = self
        self._children.append(child)
        return child

    def create_children(
        self, count: int | None = None, tag_key: str | None = None, tag_values: Any = None
    ) -> list[OfflineRun]:
        n = len(tag_values) if tag_values is not None else int(count or 0)
        kids = [self.child_run() for _ in range(n)]
        if tag_key is not None and tag_values is not None:
            for kid, value in zip(kids, tag_values, strict=True):
                kid.tag(tag_key, value)
        return kids

    def get_children(self, recursive: bool = False, **_filters: Any) -> list[OfflineRun]:
        return list(self._children)

    def add_properties(self, properties: dict[str, Any]) -> None:
        for k, v in properties.items():
            if k in self._properties and self._properties[k] != str(v):
                raise PropertyOverwriteError(self.id, k, self._properties[k], str(v))
            self._properties[k] = str(v)

    def get_properties(self) -> dict[str, str]:
        return dict(self._properties)

    def tag(self, key: str, value: Any = None) -> None:
        self._tags[key] = None if value is None else str(value)

    def set_tags(self, tags: dict[str, Any]) -> None:
        for k, v in tags.items():
            self.tag(k, v)

    def get_tags(self) -> dict[str, str | None]:
        return dict(self._tags)

    def remove_tags(self, keys: Any) -> list[str]:
        keys = [keys] if isinstance(keys, str) else list(keys)
        return [k for k in keys if self._tags.pop(k, "\0") != "\0"]

    def wait_for_completion(self, show_output: bool = False, **_kw: Any) -> dict[str, Any]:
        return self.get_details()
