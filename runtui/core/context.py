"""The run a piece of code runs as: `Run.get_context()`, and interactive runs started by `start_logging()`.

Inside `exp.submit(...)` the supervisor puts RUNTUI_RUN_ID, RUNTUI_STORE_URL, RUNTUI_HOME and RUNTUI_RUNS_DIR in
the script's environment, and `get_context()` gives a `SubmittedRun`: as Azure ML's submitted run, its
`complete()`, `fail()`, `cancel()` and `with` exit do not change the status (the script's exit decides it, set
by the supervisor once the script has really ended and its files are collected); they flush metrics, and
`fail()` records its error text. Outside, an OfflineRun stands in: it accepts the same calls, keeps metrics,
tags and properties in memory (so `get_metrics()` still answers), writes nothing and never raises a store error.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtui.core.run import Run
from runtui.errors import NotFoundError, PropertyOverwriteError, RuntuiError, ValidationError

if TYPE_CHECKING:
    from runtui.core.experiment import Experiment

_lock = threading.Lock()
_context: Any = None


def get_context(allow_offline: bool = True, used_for_context_manager: bool = False, **_kwargs: Any) -> Any:
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
    run = Run.get(ws, run_id)
    return SubmittedRun._from_record(run.experiment, run.record)


class SubmittedRun(Run):
    """The run of a submitted script, seen from inside it (Azure's `_SubmittedRun`).

    The supervisor sets the final status from the script's exit (0: Completed, else Failed; Canceled when
    canceled), after the script and everything it started have ended and `./outputs` is collected. So a
    `wait_for_completion()` elsewhere returns only then, whatever the script called on its way out.
    """

    def complete(self, _set_status: bool = True) -> None:
        """Flush the metrics; the status is left to the script's exit."""
        self.flush()

    def fail(
        self, error_details: BaseException | str | None = None, error_code: str | None = None, _set_status: bool = True
    ) -> None:
        """Flush and record the error text; the status is left to the script's exit (a non-zero exit fails
        the run)."""
        self.flush()
        if isinstance(error_details, BaseException):
            text = f"{type(error_details).__name__}: {error_details}"
        else:
            text = "failed by user request" if error_details is None else str(error_details)
        if error_code:
            text = f"[{error_code}] {text}"
        self._record = self._store.update_run(self._id, error=text[-20_000:])

    def cancel(self, *_args: Any, **_kwargs: Any) -> bool:
        """Does nothing but warn, as in Azure ML: a script cannot cancel the run it runs as (exit instead; or
        cancel it from outside: `runtui cancel`, or `run.cancel()` in another process)."""
        print(
            f"runtui: cancel() is not supported on the run a submitted script runs as ({self._id}); "
            "exit the script, or cancel the run from outside",
            file=sys.stderr,
        )
        return False

    def __enter__(self) -> SubmittedRun:
        return self

    def __exit__(self, *_args: Any) -> None:
        self.complete()


# ---------------------------------------------------------------------- start_logging

OUTPUTS_DIR = "./outputs"
LOGS_DIR = "./logs"
MAX_INTERACTIVE_SNAPSHOT_FILES = 2000  # Azure ML's limit for a snapshot


def start_logging(experiment: Experiment, *args: Any, **kwargs: Any) -> Run:
    """Azure's `Experiment.start_logging(name=None, run_id=None, outputs=None, snapshot_directory='.', **kwargs)`:
    an interactive run, Running, owned by this process.

    `outputs`: the folder collected into the run's files when it ends (default ./outputs, created now; False:
    none). `./logs` is collected too when it exists then. `snapshot_directory`: snapshotted now (default the
    current folder; None: no snapshot; a default snapshot over the caps is skipped with a message, an explicit
    one raises as in Azure). `run_id`: the new run's id. `name`/`display_name`: its display name.
    """
    from runtui.execution.outputs import track
    from runtui.execution.snapshot import make_snapshot, new_snapshot_id, record_snapshot_id, snapshot_path
    from runtui.ids import check_display_name, check_run_id, new_run_id

    names = ("name", "run_id", "outputs", "snapshot_directory")
    if len(args) > len(names):
        raise ValidationError(f"start_logging takes at most {len(names)} positional arguments ({', '.join(names)})")
    for key, value in zip(names, args, strict=False):
        if key in kwargs:
            raise ValidationError(f"start_logging got {key!r} both positionally and as a keyword")
        kwargs[key] = value
    name = kwargs.pop("name", None)
    display_name = kwargs.pop("display_name", None)
    if name is not None and display_name is not None and name != display_name:
        raise ValidationError("start_logging: give name= or display_name=, not two different names")
    display = check_display_name(display_name if display_name is not None else name)
    outputs = kwargs.pop("outputs", None)
    if outputs is True or outputs is None:
        outputs = OUTPUTS_DIR
    elif outputs is False:
        outputs = None
    elif not isinstance(outputs, (str, os.PathLike)) or not str(outputs):
        raise ValidationError(f"start_logging: outputs must be a folder path, True or False, not {outputs!r}")
    explicit_snapshot = "snapshot_directory" in kwargs
    snapshot_directory = kwargs.pop("snapshot_directory", ".")
    if snapshot_directory is not None and not isinstance(snapshot_directory, (str, os.PathLike)):
        raise ValidationError(
            f"start_logging: snapshot_directory must be a folder path or None, not {snapshot_directory!r}"
        )
    ws = experiment.workspace
    store = ws.store
    raw_id = kwargs.pop("run_id", None)
    if raw_id is not None:
        run_id = check_run_id(raw_id)
        try:
            store.get_run(run_id)
        except NotFoundError:
            pass
        else:
            raise ValidationError(f"start_logging: a run with id {run_id!r} already exists")
    else:
        run_id = new_run_id(experiment.name)

    snapshot_id = None
    if snapshot_directory:  # None or "" take no snapshot, as in Azure
        source = Path(snapshot_directory).expanduser()
        if not source.exists():
            raise NotFoundError(f"start_logging: snapshot_directory {source} does not exist")
        snapshot_id = new_snapshot_id()
        try:
            make_snapshot(
                source.resolve(),
                snapshot_path(ws.config, run_id),
                exclude=[ws.config.home, ws.config.runs_dir],
                max_files=MAX_INTERACTIVE_SNAPSHOT_FILES,
            )
        except RuntuiError as exc:
            if explicit_snapshot:
                raise type(exc)(f"{exc}. Pass snapshot_directory=None to start_logging to take no snapshot") from exc
            # Azure raises here too; but the default snapshot of whatever folder a script happens to run in
            # (a home folder, a data folder) must not stop the run: say why there is none, and go on.
            print(f"runtui: no snapshot for this run: {exc}. Pass snapshot_directory=None to skip it", file=sys.stderr)
            snapshot_id = None
    out_dir = Path(outputs).expanduser() if outputs is not None else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)  # as Azure: the folder exists once the run has started
    run = Run._start_owned(experiment, [(run_id, display, {})])[0]
    if snapshot_id is not None:
        record_snapshot_id(store, ws.config, run_id, snapshot_id)
    track(store, run_id, run.folder, out_dir, Path(LOGS_DIR))
    return run


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
