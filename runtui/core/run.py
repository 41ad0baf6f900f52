"""Run: one training run, its status lifecycle, metrics, child runs, properties, tags and files."""

from __future__ import annotations

import builtins
import io
import os
import shutil
import sys
import time
import traceback
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from runtui.core import values as _values
from runtui.core.values import artifact_name as _artifact_name
from runtui.core.values import check_value as _check_value
from runtui.core.values import iso as _iso
from runtui.core.values import normalize_tags
from runtui.errors import CancelNotStoppedError, CancelTimeoutError, NotFoundError, ValidationError
from runtui.identity import current_host, current_user, self_identity
from runtui.ids import check_display_name, check_key, check_run_id, new_run_id
from runtui.status import TERMINAL, RunStatus, parse_status

if TYPE_CHECKING:
    from runtui.core.experiment import Experiment
    from runtui.core.workspace import Workspace
    from runtui.store.metric_writer import MetricWriter
    from runtui.store.records import RunRecord
    from runtui.store.store import PendingPoint, Store

# Azure's run types for runtui's run kinds; get_runs(type=) takes either vocabulary.
AZURE_TYPES = {"submitted": "azureml.scriptrun", "interactive": None, "child": None}
# Members of Azure's Run that need the cloud; each raises one clear error here.
_CLOUD_ONLY = (
    "get_secret",
    "get_secrets",
    "get_environment",
    "clean",
    "get_portal_url",
    "get_docs_url",
    "list_by_compute",
    "add_type_provider",
    "get_submitted_run",
)
# Metric names already validated: the check runs once per name, not once per point.
_checked_names: set[str] = set()
# Runs whose refused late points were already reported (once per run and process).
_warned_refused: set[str] = set()


def _make_private_dirs(folder: Path) -> None:
    """`mkdir -p` where every folder made is 0700: `Path.mkdir(parents=True)` gives the parents the umask's mode
    (typically 0755), which would leave the run folder readable by everyone."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for d in reversed(missing):
        d.mkdir(mode=0o700, exist_ok=True)


def _open_private(path: Path) -> IO[bytes]:
    """Open `path` for writing as a 0600 file, whatever the umask (runs may hold private data)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "wb")


class Run:
    """A run in a store. Get one from `Experiment.start_logging()`, `Experiment.submit()`, `Run.get_context()`,
    `Run(experiment, run_id)` or `Run.get(workspace, run_id)`."""

    def __init__(self, experiment: Experiment, run_id: str, outputs: str | None = None, **kwargs: Any) -> None:
        # outputs and Azure's private keywords (_run_dto, _worker_pool, ...) have no local meaning.
        self.experiment = experiment
        self._ws = experiment.workspace
        self._id = check_run_id(run_id)
        rec = self._ws.store.get_run(self._id)
        if rec.experiment != experiment.name:
            raise NotFoundError(f"run {run_id!r} belongs to experiment {rec.experiment!r}, not {experiment.name!r}")
        self._record = rec
        self._writer: MetricWriter | None = None

    @classmethod
    def _from_record(cls, experiment: Experiment, rec: RunRecord) -> Run:
        run = cls.__new__(cls)
        run.experiment = experiment
        run._ws = experiment.workspace
        run._id = rec.id
        run._record = rec
        run._writer = None
        return run

    @staticmethod
    def get(workspace: Workspace, run_id: str) -> Run:
        """A run by id or unambiguous id prefix."""
        from runtui.core.experiment import Experiment

        if not isinstance(run_id, str):
            raise ValidationError(f"a run id must be a string, not {type(run_id).__name__}")
        full = workspace.store.resolve_run_id(run_id)
        rec = workspace.store.get_run(full)
        return Run._from_record(Experiment._existing(workspace, rec.experiment), rec)

    @classmethod
    def get_context(cls, allow_offline: bool = True, used_for_context_manager: bool = False, **kwargs: Any) -> Run:
        """The run this script was submitted as (inside `exp.submit`); otherwise an offline run.

        The offline run keeps everything in memory and writes nothing: scripts run unchanged outside runtui.
        `used_for_context_manager` and Azure's other keywords change nothing locally.
        """
        from runtui.core import context

        return context.get_context(allow_offline, used_for_context_manager, **kwargs)

    @staticmethod
    def list(
        experiment: Experiment,
        type: str | None = None,
        tags: Any = None,
        properties: Mapping[str, str] | None = None,
        status: str | RunStatus | None = None,
        include_children: bool = False,
        _rehydrate_runs: bool = True,
    ) -> Iterator[Run]:
        """Runs of `experiment`, newest first (Azure's static Run.list; the same as experiment.get_runs)."""
        from runtui.core.experiment import Experiment

        if not isinstance(experiment, Experiment):
            raise ValidationError(f"Run.list needs an Experiment, not {experiment.__class__.__name__}")
        return experiment.get_runs(
            type=type, tags=tags, properties=properties, include_children=include_children, status=status
        )

    # ------------------------------------------------------------------ identity and state

    @property
    def id(self) -> str:
        return self._id

    @property
    def workspace(self) -> Workspace:
        return self._ws

    @property
    def _store(self) -> Store:
        return self._ws.store

    @property
    def record(self) -> RunRecord:
        """A fresh copy of the run's row (a live run whose owner vanished is finalized on the way: see
        `execution.liveness.finalize_vanished`)."""
        rec = self._store.get_run(self._id)
        if rec.status.is_live and rec.owner_pid is not None:
            from runtui.execution.liveness import finalize_vanished

            for new in finalize_vanished(self._store, [rec]):
                rec = new
        self._record = rec
        return rec

    @property
    def status(self) -> str:
        return self.get_status()

    @property
    def display_name(self) -> str | None:
        return self.record.display_name

    @display_name.setter
    def display_name(self, name: str | None) -> None:
        self._record = self._store.update_run(self._id, display_name=check_display_name(name))

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def description(self) -> str | None:
        return self.record.description

    @description.setter
    def description(self, description: str | None) -> None:
        if description is not None:
            if not isinstance(description, str):
                raise ValidationError(f"a run description must be a string or None, not {type(description).__name__}")
            _values.check_text("description", description, "a run description")
        self._record = self._store.update_run(self._id, description=description)

    @property
    def type(self) -> str | None:
        """Azure's run type: 'azureml.scriptrun' for a submitted script; None for interactive and child runs."""
        return AZURE_TYPES.get(self._record.kind)

    @property
    def number(self) -> int | None:
        """The run's 1-based sequence number within its experiment (Azure's run.number)."""
        return self.record.number

    @property
    def tags(self) -> dict[str, str | None]:
        return self.get_tags()

    @property
    def properties(self) -> dict[str, str]:
        return self.get_properties()

    @property
    def parent(self) -> Run | None:
        parent_id = self._record.parent_id
        return None if parent_id is None else Run._from_record(self.experiment, self._store.get_run(parent_id))

    @property
    def folder(self) -> Path:
        """The run's folder (logs/, outputs/, snapshot.zip)."""
        return self._ws.config.run_dir(self._id)

    def __repr__(self) -> str:
        return f"Run(experiment={self.experiment.name!r}, id={self._id!r}, status={self._record.status.value!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and other._id == self._id

    def __hash__(self) -> int:
        return hash(self._id)

    def get_status(self) -> str:
        return self.record.status.value

    def get_detailed_status(self) -> dict[str, Any]:
        """Azure's {'status': ..., 'details': ...}; details says why a run is not running yet, else None."""
        rec = self.record
        details = None
        if rec.status in (RunStatus.QUEUED, RunStatus.NOT_STARTED):
            details = "waiting for its supervisor to start the script"
        elif rec.status == RunStatus.CANCEL_REQUESTED:
            details = "cancel requested; waiting for the run's owner to stop it"
        return {"status": rec.status.value, "details": details}

    def get_details(self) -> dict[str, Any]:
        """Azure's keys (runId, target, status, startTimeUtc, endTimeUtc, properties, inputDatasets,
        outputDatasets, runDefinition, logFiles, submittedBy, error, warnings) plus runtui's own."""
        rec = self.record
        store = self._store
        details: dict[str, Any] = {
            "runId": rec.id,
            "experiment": rec.experiment,
            "status": rec.status.value,
            "displayName": rec.display_name or rec.id,
            "parentRunId": rec.parent_id,
            "kind": rec.kind,
            "target": "local",
            "host": rec.host,
            "user": rec.user,
            "createdTimeUtc": _iso(rec.created_at),
            "startTimeUtc": _iso(rec.started_at),
            "properties": store.get_properties([rec.id])[rec.id],
            "tags": store.get_tags([rec.id])[rec.id],
            "pid": rec.pid,
            "submittedBy": rec.user,
            "inputDatasets": [],
            "outputDatasets": [],
            "runDefinition": {
                "script": rec.script,
                "arguments": list(rec.arguments),
                "target": "local",
                "command": None,
            },
            "logFiles": self._log_files(),
        }
        if rec.ended_at is not None:
            details["endTimeUtc"] = _iso(rec.ended_at)
        if rec.exit_code is not None:
            details["exitCode"] = rec.exit_code
        if rec.error is not None:
            # Azure's shape: {'error': {'code', 'message', ...}, 'time': ...}.
            code = "UserError" if rec.status == RunStatus.FAILED else "Canceled"
            details["error"] = {
                "error": {"code": code, "message": rec.error, "details": [], "innerError": None},
                "time": _iso(rec.ended_at or rec.created_at),
                "message": rec.error,  # runtui's earlier shape, kept for existing code
            }
        return details

    def _log_files(self) -> dict[str, str]:
        """Every log of the run, name -> local path: the supervisor's logs/ folder and files uploaded under logs/."""
        out: dict[str, str] = {}
        logs = self.folder / "logs"
        if logs.is_dir():
            for p in sorted(logs.rglob("*")):
                if p.is_file():
                    out[f"logs/{p.relative_to(logs).as_posix()}"] = str(p)
        for a in self._store.list_artifacts(self._id):
            if a.path.startswith("logs/") and a.path not in out:
                out[a.path] = str(self.folder / a.path)
        return out

    # ------------------------------------------------------------------ status lifecycle

    def _set(self, status: RunStatus, error: str | None = None) -> bool:
        self.flush()
        if status.is_terminal:
            from runtui.execution.outputs import finish

            finish(self._id)  # an interactive run's ./outputs and ./logs become its files before it ends
        rec, changed = self._store.set_status(self._id, status, error=error)
        self._record = rec
        if rec.status.is_terminal:
            from runtui.core.owner import agent

            agent().close_run(self._id, rec.status)  # later points are dropped, with one warning
            agent().release(self._id)
        return changed

    def start(self) -> None:
        """Move a NotStarted/Queued run to Running (Azure's `run.start()`)."""
        self._set(RunStatus.RUNNING)

    def complete(self, _set_status: bool = True) -> None:
        """Mark the run Completed (after flushing its metrics). Completing a completed run does nothing."""
        self._set(RunStatus.COMPLETED)

    def fail(self, error_details: BaseException | str | None = None, error_code: str | None = None) -> None:
        """Mark the run Failed, with `error_details` (text or an exception) as its error. Works on a completed run."""
        if isinstance(error_details, BaseException):
            text = "".join(traceback.format_exception(type(error_details), error_details, error_details.__traceback__))
        elif error_details is None:
            text = "failed by user request"
        else:
            text = str(error_details)
        if error_code:
            text = f"[{error_code}] {text}"
        self._set(RunStatus.FAILED, error=text[-20_000:])

    def cancel(self, wait: bool = True, timeout: float | None = None) -> bool:
        """Cancel the run and its unfinished descendants.

        Whoever owns a run acts on the request (the supervisor of a submitted run, the process that started an
        interactive one); a run whose owner is gone is finalized directly. With `wait`, returns once the run
        is Canceled, or raises CancelTimeoutError; CancelNotStoppedError when the run is Canceled but a process
        of it still runs (its message names the process, why, and what to do). Returns False (and does
        nothing) for a finished run.
        """
        from runtui.core.cancel import cancel_runs

        changed = cancel_runs(self._store, self._id)
        self._record = self._store.get_run(self._id)
        if changed and wait:
            self.wait_for_cancel(timeout)
        return changed

    def wait_for_cancel(self, timeout: float | None = None) -> None:
        """Wait for a requested cancel's real outcome: returns once the run is Canceled and its work stopped;
        raises CancelNotStoppedError when a process of it still runs, CancelTimeoutError when the owner has not
        acted within `timeout` (default: the grace period + 20 s)."""
        from runtui.core.cancel import not_stopped

        limit = timeout if timeout is not None else _default_cancel_timeout()
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            rec = self._store.get_run(self._id)
            if rec.status.is_terminal:
                self._record = rec
                problem = not_stopped(rec)
                if problem:
                    raise CancelNotStoppedError(problem)
                return
            time.sleep(0.05)
        raise CancelTimeoutError(
            f"run {self._id} was asked to cancel but is still {self._store.get_run(self._id).status.value} after "
            f"{limit:g} s; its owner (pid {self._record.owner_pid} on {self._record.host}) has not acted yet"
        )

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self, exc_type: builtins.type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self.flush()
            status = self._store.get_run(self._id).status
            if status in TERMINAL:
                return
            if exc is None:
                target = RunStatus.CANCELED if status == RunStatus.CANCEL_REQUESTED else RunStatus.COMPLETED
                self._set(target)
            elif isinstance(exc, KeyboardInterrupt):
                self._set(RunStatus.CANCELED)
            else:
                self.fail(exc)
        except Exception as err:
            if exc is None:
                raise
            print(f"runtui: could not record the end of run {self._id}: {err}", file=sys.stderr)

    # ------------------------------------------------------------------ metrics

    def _w(self) -> MetricWriter:
        writer = self._writer
        if writer is None:
            from runtui.core.owner import agent
            from runtui.store.metric_writer import writer_for

            writer = self._writer = writer_for(self._store)
            agent().add_writer(writer)
        return writer

    def log(self, name: str, value: Any, description: str = "", step: int | None = None) -> None:
        """Log a number, bool, string or None; logging the same name again builds a series. Only queues: ~1 µs."""
        writer = self._writer or self._w()
        if name not in _checked_names:
            _checked_names.add(check_key(name, "metric name"))
        if step is not None:
            _values.check_step(name, step)
        point: PendingPoint
        if type(value) is float and value == value:
            point = (self._id, name, step, value, None, "scalar", time.time())
        else:
            v, text, kind = _values.scalar(name, value)
            point = (self._id, name, step, v, text, kind, time.time())
        if description:
            writer.describe(self._id, name, _values.check_text(name, str(description), "a description"))
        writer.put(point)

    def log_list(self, name: str, value: Iterable[Any], description: str = "") -> None:
        """Log a list of values (any iterable: list, generator, numpy array); lists logged again extend it."""
        check_key(name, "metric name")
        self._put(name, _values.as_list(name, value), "list", description)

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        """Add one row to the table `name` (columns are the keyword arguments)."""
        check_key(name, "metric name")
        self._put(name, _values.as_row(name, kwargs), "row", description or "")

    def log_table(self, name: str, value: Mapping[str, Iterable[Any]], description: str = "") -> None:
        """Add the rows of a dict of columns to the table `name` (logged again: rows are appended)."""
        check_key(name, "metric name")
        self._put(name, _values.as_table(name, value), "table", description)

    def log_confusion_matrix(self, name: str, value: Mapping[str, Any] | str, description: str = "") -> None:
        """Store a confusion matrix document (Azure's JSON schema: schema_type, schema_version, data)."""
        self._log_document(name, value, "confusion_matrix", description)

    def log_accuracy_table(self, name: str, value: Mapping[str, Any] | str, description: str = "") -> None:
        self._log_document(name, value, "accuracy_table", description)

    def log_residuals(self, name: str, value: Mapping[str, Any] | str, description: str = "") -> None:
        self._log_document(name, value, "residuals", description)

    def log_predictions(self, name: str, value: Mapping[str, Any] | str, description: str = "") -> None:
        self._log_document(name, value, "predictions", description)

    def _log_document(self, name: str, value: Any, kind: str, description: str) -> None:
        check_key(name, "metric name")
        self._put(name, _values.as_document(name, value, kind), kind, description)

    def log_image(
        self, name: str, path: str | os.PathLike[str] | None = None, plot: Any = None, description: str = ""
    ) -> None:
        """Store an image file or a matplotlib figure as an artifact and log a pointer to it."""
        check_key(name, "metric name")
        if (path is None) == (plot is None):
            raise ValidationError("log_image needs exactly one of path= (an image file) or plot= (a matplotlib figure)")
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        if plot is not None:
            if not hasattr(plot, "savefig"):
                raise ValidationError(f"log_image plot= must be a matplotlib figure, not {type(plot).__name__}")
            buf = io.BytesIO()
            plot.savefig(buf, format="png")
            buf.seek(0)
            artifact = f"images/{safe}.png"
            self.upload_file(artifact, buf)
        else:
            src = Path(path)  # type: ignore[arg-type]
            if not src.is_file():
                raise NotFoundError(f"log_image: no image file at {src}")
            artifact = f"images/{safe}{src.suffix.lower() or '.png'}"
            self.upload_file(artifact, src)
        self._put(name, _values.dump(name, artifact), "image", description)

    def _put(self, name: str, text: str, kind: str, description: str) -> None:
        writer = self._w()
        if description:
            writer.describe(self._id, name, _values.check_text(name, str(description), "a description"))
        writer.put((self._id, name, None, None, text, kind, time.time()))

    def flush(self, timeout_seconds: float | None = 300, *, timeout: float | None = None) -> bool:
        """Wait until every point logged so far is in the store (at most `timeout_seconds`; `timeout` is the
        same, runtui's older name). Returns False if the time ran out."""
        limit = timeout if timeout is not None else timeout_seconds
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit < 0):
            raise ValidationError(f"flush: timeout_seconds must be a number of seconds >= 0, not {limit!r}")
        if self._writer is None:
            return True
        done = self._writer.flush(limit)
        refused = self._writer.refused_runs().get(self._id)
        if refused and self._id not in _warned_refused:
            # The store takes no points for a finished run (schema v2): say so once, where the user logged them.
            _warned_refused.add(self._id)
            warnings.warn(
                f"runtui: {refused} metric point(s) logged to run {self._id} after it finished were not stored",
                RuntimeWarning,
                stacklevel=2,
            )
        return done

    def get_metrics(
        self,
        name: str | None = None,
        recursive: bool = False,
        run_type: str | None = None,
        populate: bool = False,
    ) -> dict[str, Any]:
        """Metrics as Azure returns them: name -> value (one value) or list (several); ints, bools and None as
        logged; rows and tables as {column: value or [values]}. `recursive=True` gives run id -> metrics for this
        run and its descendants that have metrics (`run_type` keeps only descendants of that type).
        System metrics (`sys/...`, sampled by the supervisor) are left out unless asked for by name."""
        self.flush()
        if name is not None:
            check_key(name, "metric name")
        if recursive:
            out = {}
            mine = self._metrics_of(self._id, name)
            if mine:
                out[self._id] = mine
            for child in self._store.descendants(self._id):
                if run_type is not None and run_type not in (child.kind, AZURE_TYPES.get(child.kind)):
                    continue
                metrics = self._metrics_of(child.id, name)
                if metrics:
                    out[child.id] = metrics
            return out
        return self._metrics_of(self._id, name)

    def _metrics_of(self, run_id: str, name: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for s in self._store.get_series(run_id, None if name is None else [name]):
            if name is None and s.name.startswith("sys/"):
                continue
            out[s.name] = _values.metric_value(s.kind, list(s.values))
        return out

    # ------------------------------------------------------------------ files

    def upload_file(
        self, name: str, path_or_stream: str | os.PathLike[str] | IO[bytes], datastore_name: str | None = None
    ) -> None:
        """Copy a file (or the bytes of a stream) into the run as `name` (e.g. "outputs/model.pt").
        `datastore_name` has no local meaning (files live in the run folder)."""
        rel = _artifact_name(name)
        dest = self.folder / rel
        if isinstance(path_or_stream, (str, os.PathLike)):
            src = Path(path_or_stream)
            if not src.is_file():
                raise NotFoundError(f"upload_file: no file at {src}")
            _make_private_dirs(dest.parent)
            if not (dest.exists() and os.path.samefile(src, dest)):  # already in place: copying would truncate it
                with open(src, "rb") as fin, _open_private(dest) as fh:
                    shutil.copyfileobj(fin, fh)
        elif hasattr(path_or_stream, "read"):
            _make_private_dirs(dest.parent)
            with _open_private(dest) as fh:
                shutil.copyfileobj(path_or_stream, fh)
        else:
            raise ValidationError(f"upload_file takes a path or a binary stream, not {type(path_or_stream).__name__}")
        self._store.add_artifact(self._id, rel, dest.stat().st_size)

    def upload_files(
        self,
        names: Sequence[str],
        paths: Sequence[str | os.PathLike[str]],
        return_artifacts: bool = False,
        timeout_seconds: float | None = None,
        datastore_name: str | None = None,
    ) -> None:
        """Upload `paths[i]` as `names[i]`; every name and file is checked before the first is copied."""
        if isinstance(names, str) or isinstance(paths, (str, os.PathLike)):
            raise ValidationError("upload_files takes a list of names and a list of paths (use upload_file for one)")
        names, paths = list(names), list(paths)
        if len(names) != len(paths):
            raise ValidationError(f"upload_files: {len(names)} names but {len(paths)} paths")
        rels = [_artifact_name(n) for n in names]
        for p in paths:
            if not isinstance(p, (str, os.PathLike)) or not Path(p).is_file():
                raise NotFoundError(f"upload_files: no file at {p}")
        for rel, p in zip(rels, paths, strict=True):
            self.upload_file(rel, p)

    def upload_folder(self, name: str, path: str | os.PathLike[str], datastore_name: str | None = None) -> None:
        """Upload every file under the folder `path` as `name/<relative path>`."""
        prefix = _artifact_name(name)
        if not isinstance(path, (str, os.PathLike)) or not Path(path).is_dir():
            raise NotFoundError(f"upload_folder: no folder at {path}")
        root = Path(path)
        files = sorted(p for p in root.rglob("*") if p.is_file())
        self.upload_files([f"{prefix}/{p.relative_to(root).as_posix()}" for p in files], files)

    def get_file_names(self) -> builtins.list[str]:
        names = [a.path for a in self._store.list_artifacts(self._id)]
        logs = self.folder / "logs"
        if logs.is_dir():
            names += [f"logs/{p.name}" for p in sorted(logs.iterdir()) if p.is_file()]
        return list(dict.fromkeys(names))  # collected logs are also artifacts: each name once

    def download_file(self, name: str, output_file_path: str | os.PathLike[str] | None = None) -> str:
        """Copy the run's file `name` to `output_file_path` (a file or a folder; default: the current folder)."""
        rel = _artifact_name(name)
        if rel not in self.get_file_names():
            raise NotFoundError(
                f"run {self._id} has no file {name!r}; it has: {', '.join(self.get_file_names()) or 'none'}"
            )
        src = self.folder / rel
        dest = Path(output_file_path) if output_file_path is not None else Path.cwd() / PurePosixPath(rel).name
        if dest.is_dir():
            dest = dest / PurePosixPath(rel).name
        shutil.copyfile(src, dest)
        return str(dest)

    def download_files(
        self,
        prefix: str | None = None,
        output_directory: str | os.PathLike[str] | None = None,
        output_paths: Sequence[str | os.PathLike[str]] | None = None,
        batch_size: int = 100,
        append_prefix: bool = True,
        timeout_seconds: float | None = None,
    ) -> None:
        """Copy the run's files whose names start with `prefix` (all by default) into `output_directory`
        (default: the current folder), keeping their relative paths; with `append_prefix=False` the prefix is
        cut from them. `output_paths` gives each file's destination instead (one per matching file)."""
        if prefix is not None and not isinstance(prefix, str):
            raise ValidationError(f"download_files: prefix must be a string, not {type(prefix).__name__}")
        names = [n for n in self.get_file_names() if prefix is None or n.startswith(prefix)]
        if output_paths is not None:
            if isinstance(output_paths, (str, os.PathLike)):
                raise ValidationError("download_files: output_paths is a list of paths (one per matching file)")
            dests = [_values.path_arg(p, "download_files: each of output_paths") for p in output_paths]
            if len(dests) != len(names):
                raise ValidationError(f"download_files: {len(names)} files match but {len(dests)} output_paths given")
        else:
            base = (
                _values.path_arg(output_directory, "download_files: output_directory")
                if output_directory is not None
                else Path.cwd()
            )
            cut = len(prefix) if (prefix and not append_prefix) else 0
            dests = [base / PurePosixPath(n[cut:].lstrip("/") or PurePosixPath(n).name) for n in names]
        for name, dest in zip(names, dests, strict=True):
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.folder / name, dest)

    def get_all_logs(self, destination: str | os.PathLike[str] | None = None) -> builtins.list[str]:
        """Copy every log of the run into `destination` (default ./assets/<run id>, as Azure); returns the paths."""
        dest = (
            _values.path_arg(destination, "get_all_logs: destination")
            if destination is not None
            else Path.cwd() / "assets" / self._id
        )
        if dest.exists() and not dest.is_dir():
            raise ValidationError(f"get_all_logs: {dest} exists and is not a folder")
        self.flush()
        out = []
        for name, src in self._log_files().items():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
            out.append(str(target))
        return out

    # ------------------------------------------------------------------ child runs

    def child_run(self, name: str | None = None, run_id: str | None = None, outputs: str | None = None) -> Run:
        """Start a child run (Running), owned by this process. Also a context manager."""
        return self._create_children([(run_id, check_display_name(name), {})])[0]

    def create_children(
        self, count: int | None = None, tag_key: str | None = None, tag_values: Sequence[str] | None = None
    ) -> builtins.list[Run]:
        """Create several child runs in ONE transaction: `count` of them (tagged azureml.batch_child_number =
        0, 1, ... as Azure tags them), or one per `tag_values` entry (each tagged `tag_key=value`)."""
        if tag_values is not None:
            if tag_key is None:
                raise ValidationError("create_children: tag_values needs tag_key")
            key = check_key(tag_key, "tag key")
            values = [_check_value(v, "tag value") for v in tag_values]
            if count is not None and count != len(values):
                raise ValidationError(f"create_children: count={count} but {len(values)} tag_values were given")
            specs = [(None, None, {key: v}) for v in values]
        else:
            if not isinstance(count, int) or isinstance(count, bool) or count < 1:
                raise ValidationError(f"create_children: count must be a positive int, not {count!r}")
            if count > 10_000:
                raise ValidationError("create_children: at most 10000 children at once")
            specs = [(None, None, {"azureml.batch_child_number": str(i)}) for i in range(count)]
        return self._create_children(specs)

    def _create_children(self, specs: Sequence[tuple[str | None, str | None, dict[str, str]]]) -> builtins.list[Run]:
        return Run._start_owned(self.experiment, specs, parent_id=self._id)

    @classmethod
    def _start_owned(
        cls,
        experiment: Experiment,
        specs: Sequence[tuple[str | None, str | None, dict[str, str]]],
        parent_id: str | None = None,
    ) -> builtins.list[Run]:
        """Create Running runs owned by this process, in ONE transaction: `start_logging` (no parent) and
        child runs. Each spec is (run id or None, display name or None, tags)."""
        from runtui.core.owner import agent
        from runtui.store.store import NewRun

        me = self_identity()
        new = [
            NewRun(
                id=check_run_id(rid) if rid else new_run_id(experiment.name),
                experiment=experiment.name,
                status=RunStatus.RUNNING,
                parent_id=parent_id,
                display_name=name,
                kind="interactive" if parent_id is None else "child",
                host=current_host(),
                user=current_user(),
                pid=me.pid,
                pid_create_time=me.create_time,
                owner_pid=me.pid,
                owner_create_time=me.create_time,
                tags=tuple((k, v) for k, v in tags.items()),
            )
            for rid, name, tags in specs
        ]
        store = experiment.workspace.store
        records = store.create_runs(new)
        for rec in records:
            # Only a run started with start_logging is interrupted like Ctrl-C on cancel; see core/owner.py.
            agent().own(store, rec.id, interactive=parent_id is None)
        return [cls._from_record(experiment, rec) for rec in records]

    def get_children(
        self,
        recursive: bool = False,
        tags: Mapping[str, str | None] | str | None = None,
        properties: Mapping[str, str] | None = None,
        type: str | None = None,
        status: str | RunStatus | None = None,
        _rehydrate_runs: bool = True,
    ) -> Iterator[Run]:
        """Child runs, newest first (a generator); `recursive` includes every descendant. `type` takes Azure's
        names ('azureml.scriptrun') or runtui's kinds ('submitted', 'interactive', 'child')."""
        tag_q = _values.tag_query(tags)
        prop_q = _values.property_query(properties)
        want = parse_status(status) if status is not None else None
        if recursive:
            candidates = self._store.descendants(self._id)
            ids = [r.id for r in candidates]
            all_tags = self._store.get_tags(ids) if tag_q else {}
            all_props = self._store.get_properties(ids) if prop_q else {}
            for rec in candidates:
                if want is not None and rec.status != want:
                    continue
                if type is not None and not _type_matches(rec.kind, type):
                    continue
                if tag_q and not all(
                    k in all_tags[rec.id] and (v is None or all_tags[rec.id][k] == v) for k, v in tag_q.items()
                ):
                    continue
                if prop_q and not all(all_props[rec.id].get(k) == v for k, v in prop_q.items()):
                    continue
                yield Run._from_record(self.experiment, rec)
            return
        for rec in self._store.query_runs(
            parent_id=self._id, tags=tag_q, properties=prop_q, statuses=[want] if want else None
        ):
            if type is None or _type_matches(rec.kind, type):
                yield Run._from_record(self.experiment, rec)

    # ------------------------------------------------------------------ properties and tags

    def add_properties(self, properties: Mapping[str, Any]) -> None:
        """Properties are immutable: a key set again to the same value is a no-op, to another value an error."""
        self._store.add_properties(self._id, _values.normalize_properties(properties))

    def get_properties(self) -> dict[str, str]:
        return self._store.get_properties([self._id])[self._id]

    def tag(self, key: str, value: Any = None) -> None:
        """Set a mutable tag; `value=None` makes a key-only tag."""
        self._store.set_tags(self._id, normalize_tags({key: value}))

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        self._store.set_tags(self._id, normalize_tags(tags))

    def get_tags(self) -> dict[str, str | None]:
        return self._store.get_tags([self._id])[self._id]

    def remove_tags(self, tags: str | Iterable[str]) -> builtins.list[str]:
        """Remove tags (a key or a list of keys); returns the keys that were there."""
        return self._store.remove_tags(self._id, _values.key_list(tags, "tag key"))

    # ------------------------------------------------------------------ submitted runs

    def wait_for_completion(
        self,
        show_output: bool = False,
        wait_post_processing: bool = False,
        raise_on_error: bool = True,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Wait until the run ends; with `show_output`, stream its log to stdout meanwhile.
        Raises ActivityFailedException (a RunFailedError) for a Failed run when `raise_on_error`, as Azure ML
        does; a Canceled run returns. Returns get_details()."""
        from runtui.execution.launch import wait_for_completion

        wait_for_completion(
            self._store,
            self._ws.config,
            self._id,
            show_output=show_output,
            raise_on_error=raise_on_error,
            timeout=timeout,
        )
        return self.get_details()

    def get_details_with_logs(self) -> dict[str, Any]:
        from runtui.execution.launch import details_with_logs

        details = self.get_details()
        details["logFiles"] = details_with_logs(self._ws.config, self._id, store=self._store)
        return details

    def take_snapshot(self, file_or_folder_path: str | os.PathLike[str]) -> str:
        """Snapshot a file or folder as this run's source code (one per run); returns the snapshot id."""
        from runtui.execution.snapshot import take_snapshot

        return take_snapshot(self._store, self._ws.config, self._id, file_or_folder_path, max_files=2000)

    def get_snapshot_id(self) -> str | None:
        """The id of the run's snapshot (its source folder as submitted or taken), or None when it has none."""
        from runtui.execution.snapshot import get_snapshot_id

        return get_snapshot_id(self._store, self._ws.config, self._id)

    def restore_snapshot(self, snapshot_id: str | None = None, path: str | os.PathLike[str] | None = None) -> str:
        """Write the snapshot as `<path>/<snapshot_id>.zip` (path: a folder, created if missing; default the temporary
        folder, as Azure) and return its absolute path. `snapshot_id` None: this run's snapshot."""
        import tempfile

        if isinstance(snapshot_id, os.PathLike) or (isinstance(snapshot_id, str) and os.sep in snapshot_id):
            # runtui's earlier restore_snapshot(path): a path is never a snapshot id, so keep accepting it.
            snapshot_id, path = None, snapshot_id
        own = self.get_snapshot_id()
        if snapshot_id is None:
            snapshot_id = own
        if snapshot_id is None:
            raise NotFoundError(f"run {self._id} has no snapshot")
        if not isinstance(snapshot_id, str) or snapshot_id != own:
            raise NotFoundError(f"run {self._id} has no snapshot {snapshot_id!r}; its snapshot is {own!r}")
        folder = Path(path).expanduser() if path is not None else Path(tempfile.gettempdir())
        if folder.exists() and not folder.is_dir():
            raise ValidationError(f"restore_snapshot: path must be a folder, not the file {folder}")
        folder.mkdir(parents=True, exist_ok=True)  # as Azure's download: a missing folder is created
        src = self.folder / "snapshot.zip"
        if not src.is_file():
            raise NotFoundError(f"run {self._id} has no snapshot file (looked for {src})")
        dest = (folder / f"{snapshot_id}.zip").resolve()
        shutil.copyfile(src, dest)
        return str(dest)

    # ------------------------------------------------------------------ Azure-only members

    def submit_child(self, config: Any, tags: Mapping[str, Any] | None = None, **kwargs: Any) -> Run:
        """Submit a ScriptRunConfig as a child of this run (Queued at once, supervised like exp.submit)."""
        from runtui.core.script_run_config import submit_config

        rec = submit_config(self.experiment, config, tags=tags, parent_id=self._id, **kwargs)
        return Run._from_record(self.experiment, rec)

    def register_model(
        self,
        model_name: str,
        model_path: str | None = None,
        tags: Mapping[str, Any] | None = None,
        properties: Mapping[str, Any] | None = None,
        model_framework: str | None = None,
        model_framework_version: str | None = None,
        description: str | None = None,
        datasets: Any = None,
        sample_input_dataset: Any = None,
        sample_output_dataset: Any = None,
        resource_configuration: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Register the run's file or folder `model_path` (default: `model_name`, e.g. 'outputs/model.pkl') as the
        next version of model `model_name`; the files are copied (hard-linked where possible) into the store's
        models folder. Returns a runtui.core.model.Model."""
        from runtui.core.model import register_from_run

        return register_from_run(
            self,
            model_name,
            model_path,
            tags=tags,
            properties=properties,
            framework=model_framework,
            framework_version=model_framework_version,
            description=description,
        )

    # Cloud-only members: present, so v1 code fails with one clear message instead of an AttributeError.

    def get_secret(self, name: str) -> str:
        raise _not_local("Run.get_secret", "secrets live in the workspace's Azure Key Vault; read os.environ instead")

    def get_secrets(self, secrets: Sequence[str]) -> dict[str, str]:
        raise _not_local("Run.get_secrets", "secrets live in the workspace's Azure Key Vault; read os.environ instead")

    def get_environment(self) -> Any:
        raise _not_local("Run.get_environment", "runs use the interpreter they were submitted with")

    def clean(self) -> None:
        raise _not_local("Run.clean", "it removes files from a remote compute target")

    def get_portal_url(self) -> str:
        raise _not_local("Run.get_portal_url", "use `runtui` (the TUI) or `runtui show <run id>`")

    @classmethod
    def get_docs_url(cls) -> str:
        raise _not_local("Run.get_docs_url")

    @classmethod
    def get_submitted_run(cls, **kwargs: Any) -> Run:
        """Deprecated in Azure: the same as Run.get_context()."""
        return cls.get_context(**kwargs)

    @staticmethod
    def list_by_compute(
        compute: Any, type: Any = None, tags: Any = None, properties: Any = None, status: Any = None
    ) -> Any:
        raise _not_local("Run.list_by_compute", "there are no compute targets; use Run.list(experiment)")

    @staticmethod
    def add_type_provider(runtype: str, run_factory: Any) -> None:
        raise _not_local("Run.add_type_provider", "run types are fixed: azureml.scriptrun, interactive, child")


def _type_matches(kind: str, wanted: str) -> bool:
    return wanted == kind or (wanted is not None and wanted == AZURE_TYPES.get(kind))


def _not_local(member: str, why: str | None = None) -> Exception:
    from runtui.errors import NotSupportedLocallyError

    return NotSupportedLocallyError(member, why)


def _default_cancel_timeout() -> float:
    grace = float(os.environ.get("RUNTUI_CANCEL_GRACE", "10"))
    return grace + 20.0
