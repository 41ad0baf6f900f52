"""Run: one training run, its status lifecycle, metrics, child runs, properties, tags and files."""

from __future__ import annotations

import datetime as _dt
import io
import os
import shutil
import sys
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from runtui.core import values as _values
from runtui.errors import CancelNotStoppedError, CancelTimeoutError, NotFoundError, ValidationError
from runtui.identity import current_host, current_user, self_identity
from runtui.ids import check_display_name, check_key, check_run_id, is_storable, new_run_id
from runtui.status import TERMINAL, RunStatus, parse_status

if TYPE_CHECKING:
    from runtui.core.experiment import Experiment
    from runtui.core.workspace import Workspace
    from runtui.store.metric_writer import MetricWriter
    from runtui.store.records import RunRecord
    from runtui.store.store import PendingPoint, Store

MAX_VALUE = 4096  # characters of a tag or property value
MAX_STEP = 2**63 - 1  # steps are BIGINT in the store
# Metric names already validated: the check runs once per name, not once per point.
_checked_names: set[str] = set()


def _iso(t: float | None) -> str | None:
    if t is None:
        return None
    return _dt.datetime.fromtimestamp(t, tz=_dt.timezone.utc).isoformat().replace("+00:00", "Z")


def _check_value(value: Any, what: str) -> str:
    if isinstance(value, (bool, int, float)):
        return str(value)
    if not isinstance(value, str):
        raise ValidationError(f"a {what} must be a string or a number, not {type(value).__name__} ({value!r:.80})")
    if len(value) > MAX_VALUE:
        raise ValidationError(f"a {what} can have at most {MAX_VALUE} characters (got {len(value)})")
    if "\0" in value:
        raise ValidationError(f"a {what} cannot contain NUL characters")
    if not is_storable(value):
        raise ValidationError(f"a {what} cannot contain unpaired surrogate characters")
    return value


def normalize_tags(tags: Mapping[str, Any]) -> dict[str, str | None]:
    if not isinstance(tags, Mapping):
        raise ValidationError(f"tags must be a dict of key -> value, not {type(tags).__name__}")
    return {check_key(k, "tag key"): (None if v is None else _check_value(v, "tag value")) for k, v in tags.items()}


def _artifact_name(name: object) -> str:
    """A file name inside the run folder: relative, no `..`, no NUL; it can never point outside the run."""
    if not isinstance(name, str) or not name or "\0" in name or not is_storable(name):
        raise ValidationError(f"invalid file name {name!r}")
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or name.startswith("~"):
        raise ValidationError(f"file name {name!r} must be a relative path inside the run (no '..', not absolute)")
    clean = str(p)
    if clean in (".", "") or clean == "snapshot.zip":
        raise ValidationError(f"file name {name!r} is reserved or empty")
    return clean


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

    def __init__(self, experiment: Experiment, run_id: str) -> None:
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

    @classmethod
    def get(cls, workspace: Workspace, run_id: str) -> Run:
        """A run by id or unambiguous id prefix."""
        from runtui.core.experiment import Experiment

        if not isinstance(run_id, str):
            raise ValidationError(f"a run id must be a string, not {type(run_id).__name__}")
        full = workspace.store.resolve_run_id(run_id)
        rec = workspace.store.get_run(full)
        exp = Experiment.__new__(Experiment)
        exp.workspace = workspace
        exp.name = rec.experiment
        return cls._from_record(exp, rec)

    @classmethod
    def get_context(cls, allow_offline: bool = True) -> Run:
        """The run this script was submitted as (inside `exp.submit`); otherwise an offline run.

        The offline run keeps everything in memory and writes nothing: scripts run unchanged outside runtui.
        """
        from runtui.core import context

        return context.get_context(allow_offline)

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

    def get_details(self) -> dict[str, Any]:
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
        }
        if rec.ended_at is not None:
            details["endTimeUtc"] = _iso(rec.ended_at)
        if rec.script is not None:
            details["runDefinition"] = {"script": rec.script, "arguments": list(rec.arguments)}
        if rec.exit_code is not None:
            details["exitCode"] = rec.exit_code
        if rec.error is not None:
            details["error"] = {"message": rec.error}
        logs = self.folder / "logs"
        if logs.is_dir():
            details["logFiles"] = {f"logs/{p.name}": str(p) for p in sorted(logs.iterdir()) if p.is_file()}
        return details

    # ------------------------------------------------------------------ status lifecycle

    def _set(self, status: RunStatus, error: str | None = None) -> bool:
        self.flush()
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
        from runtui.core.cancel import cancel_runs, not_stopped

        changed = cancel_runs(self._store, self._id)
        self._record = self._store.get_run(self._id)
        if not changed or not wait or self._record.status.is_terminal:
            return changed
        limit = timeout if timeout is not None else _default_cancel_timeout()
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            rec = self._store.get_run(self._id)
            if rec.status.is_terminal:
                self._record = rec
                problem = not_stopped(rec)
                if problem:
                    raise CancelNotStoppedError(problem)
                return True
            time.sleep(0.05)
        raise CancelTimeoutError(
            f"run {self._id} was asked to cancel but is still {self._store.get_run(self._id).status.value} after "
            f"{limit:g} s; its owner (pid {self._record.owner_pid} on {self._record.host}) has not acted yet"
        )

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
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
        """Log a number or string; logging the same name again builds a series. Only queues: ~1 µs."""
        writer = self._writer or self._w()
        if name not in _checked_names:
            _checked_names.add(check_key(name, "metric name"))
        if step is not None and (type(step) is not int or not 0 <= step <= MAX_STEP):
            raise ValidationError(f"metric {name!r}: step must be a non-negative int below 2**63, not {step!r}")
        point: PendingPoint
        if type(value) is float and value == value:
            point = (self._id, name, step, value, None, "scalar", time.time())
        else:
            v, text, kind = _values.scalar(name, value)
            point = (self._id, name, step, v, text, kind, time.time())
        if description:
            writer.describe(self._id, name, _values.check_text(name, str(description), "a description"))
        writer.put(point)

    def log_list(self, name: str, value: Sequence[Any], description: str = "") -> None:
        check_key(name, "metric name")
        self._put(name, _values.as_list(name, value), "list", description)

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        """Add one row to the table `name` (columns are the keyword arguments)."""
        check_key(name, "metric name")
        self._put(name, _values.as_row(name, kwargs), "row", description or "")

    def log_table(self, name: str, value: Mapping[str, Sequence[Any]], description: str = "") -> None:
        check_key(name, "metric name")
        self._put(name, _values.as_table(name, value), "table", description)

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
        self._put(name, _values._dump(name, artifact), "image", description)

    def _put(self, name: str, text: str, kind: str, description: str) -> None:
        writer = self._w()
        if description:
            writer.describe(self._id, name, _values.check_text(name, str(description), "a description"))
        writer.put((self._id, name, None, None, text, kind, time.time()))

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until every point logged so far is in the store."""
        return True if self._writer is None else self._writer.flush(timeout)

    def get_metrics(
        self,
        name: str | None = None,
        recursive: bool = False,
        run_type: str | None = None,
        populate: bool = False,
    ) -> dict[str, Any]:
        """Metrics as Azure returns them: name -> value (logged once) or list of values (a series);
        rows as a dict of columns; `recursive=True` gives run id -> metrics for this run and its descendants.
        System metrics (`sys/...`, sampled by the supervisor) are left out unless asked for by name."""
        self.flush()
        if recursive:
            out = {self._id: self._metrics_of(self._id, name)}
            for child in self._store.descendants(self._id):
                out[child.id] = self._metrics_of(child.id, name)
            return out
        return self._metrics_of(self._id, name)

    def _metrics_of(self, run_id: str, name: str | None) -> dict[str, Any]:
        series = self._store.get_series(run_id, None if name is None else [name])
        out: dict[str, Any] = {}
        for s in series:
            if name is None and s.name.startswith("sys/"):
                continue
            vals = [_values.decode(s.kind, v) for v in s.values]
            if s.kind == "row":
                table: dict[str, list[Any]] = {}
                for row in vals:
                    for col in row:
                        table.setdefault(col, [])
                for row in vals:
                    for col in table:
                        table[col].append(row.get(col))
                out[s.name] = table
            elif s.kind == "table":
                out[s.name] = vals[-1]
            else:
                out[s.name] = vals[0] if len(vals) == 1 else vals
        return out

    # ------------------------------------------------------------------ files

    def upload_file(self, name: str, path_or_stream: str | os.PathLike[str] | IO[bytes]) -> None:
        """Copy a file (or the bytes of a stream) into the run as `name` (e.g. "outputs/model.pt")."""
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

    def get_file_names(self) -> list[str]:
        names = [a.path for a in self._store.list_artifacts(self._id)]
        logs = self.folder / "logs"
        if logs.is_dir():
            names += [f"logs/{p.name}" for p in sorted(logs.iterdir()) if p.is_file()]
        return names

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

    # ------------------------------------------------------------------ child runs

    def child_run(self, name: str | None = None, run_id: str | None = None, outputs: str | None = None) -> Run:
        """Start a child run (Running), owned by this process. Also a context manager."""
        return self._create_children([(run_id, check_display_name(name), {})])[0]

    def create_children(
        self, count: int | None = None, tag_key: str | None = None, tag_values: Sequence[str] | None = None
    ) -> list[Run]:
        """Create several child runs in ONE transaction: `count` of them, or one per `tag_values` entry
        (each tagged `tag_key=value`)."""
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
            specs = [(None, None, {}) for _ in range(count)]
        return self._create_children(specs)

    def _create_children(self, specs: Sequence[tuple[str | None, str | None, dict[str, str]]]) -> list[Run]:
        return Run._start_owned(self.experiment, specs, parent_id=self._id)

    @classmethod
    def _start_owned(
        cls,
        experiment: Experiment,
        specs: Sequence[tuple[str | None, str | None, dict[str, str]]],
        parent_id: str | None = None,
    ) -> list[Run]:
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
        _rehydrate: bool = True,
    ) -> Iterator[Run]:
        from runtui.core.experiment import _normalize_tag_query

        tag_q = _normalize_tag_query(tags)
        prop_q = {check_key(k, "property key"): str(v) for k, v in (properties or {}).items()}
        want = parse_status(status) if status is not None else None
        if recursive:
            candidates = self._store.descendants(self._id)
            ids = [r.id for r in candidates]
            all_tags = self._store.get_tags(ids) if tag_q else {}
            all_props = self._store.get_properties(ids) if prop_q else {}
            for rec in candidates:
                if want is not None and rec.status != want:
                    continue
                if type is not None and rec.kind != type:
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
            if type is None or rec.kind == type:
                yield Run._from_record(self.experiment, rec)

    # ------------------------------------------------------------------ properties and tags

    def add_properties(self, properties: Mapping[str, Any]) -> None:
        """Properties are immutable: a key set again to the same value is a no-op, to another value an error."""
        if not isinstance(properties, Mapping):
            raise ValidationError(f"add_properties takes a dict, not {type(properties).__name__}")
        props = {check_key(k, "property key"): _check_value(v, "property value") for k, v in properties.items()}
        self._store.add_properties(self._id, props)

    def get_properties(self) -> dict[str, str]:
        return self._store.get_properties([self._id])[self._id]

    def tag(self, key: str, value: Any = None) -> None:
        """Set a mutable tag; `value=None` makes a key-only tag."""
        self._store.set_tags(self._id, normalize_tags({key: value}))

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        self._store.set_tags(self._id, normalize_tags(tags))

    def get_tags(self) -> dict[str, str | None]:
        return self._store.get_tags([self._id])[self._id]

    def remove_tags(self, keys: str | Sequence[str]) -> list[str]:
        """Remove tags; returns the keys that were there."""
        key_list = [keys] if isinstance(keys, str) else list(keys)
        return self._store.remove_tags(self._id, [check_key(k, "tag key") for k in key_list])

    # ------------------------------------------------------------------ submitted runs

    def wait_for_completion(
        self,
        show_output: bool = False,
        wait_post_processing: bool = False,
        raise_on_error: bool = True,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Wait until the run ends; with `show_output`, stream its log to stdout meanwhile.
        Raises RunFailedError for a Failed/Canceled run when `raise_on_error`. Returns get_details()."""
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

    def restore_snapshot(self, path: str | os.PathLike[str] | None = None) -> str:
        from runtui.execution.launch import restore_snapshot

        return restore_snapshot(self._ws.config, self._id, path)


def _default_cancel_timeout() -> float:
    grace = float(os.environ.get("RUNTUI_CANCEL_GRACE", "10"))
    return grace + 20.0
