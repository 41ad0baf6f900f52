"""The store contract: every read and write the SDK, supervisor, CLI and TUI make, one short unit of work each.

Reads return frozen records (`records.py`). Writes that change what a viewer shows bump the store-wide
revision and stamp the changed runs with it (the change feed). Hot paths (metric batches, run listings)
use SQLAlchemy Core and DBAPI `executemany`, not the ORM.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from sqlalchemy import (
    ColumnElement,
    LargeBinary,
    Text,
    and_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.engine import Connection, Engine

from runtui.errors import NotFoundError, PropertyOverwriteError, StoreError, ValidationError
from runtui.status import RunStatus, check_transition
from runtui.store import schema
from runtui.store.engine import get_engine, is_sqlite, redact, translate_errors, with_retry
from runtui.store.models import (
    artifact_table,
    experiment_table,
    log_table,
    meta_table,
    metric_table,
    property_table,
    run_table,
    summary_table,
    tag_table,
)
from runtui.store.records import (
    ArtifactRecord,
    Changes,
    ExperimentRecord,
    MetricSeries,
    MetricSummary,
    RunRecord,
    decode_arguments,
)

T = TypeVar("T")

run_t = run_table
tag_t = tag_table
prop_t = property_table
metric_t = metric_table
summary_t = summary_table
artifact_t = artifact_table
experiment_t = experiment_table
meta_t = meta_table
log_t = log_table

RUN_COLUMNS = [
    run_t.c.id,
    run_t.c.experiment,
    run_t.c.parent_id,
    run_t.c.display_name,
    run_t.c.kind,
    run_t.c.status,
    run_t.c.created_at,
    run_t.c.started_at,
    run_t.c.ended_at,
    run_t.c.host,
    run_t.c.user,
    run_t.c.pid,
    run_t.c.pid_create_time,
    run_t.c.owner_pid,
    run_t.c.owner_create_time,
    run_t.c.script,
    run_t.c.arguments,
    run_t.c.exit_code,
    run_t.c.error,
    run_t.c.heartbeat_at,
    run_t.c.revision,
]

# Built once: constructing a 21-column select costs ~0.2 ms of CPU per call, more than running it.
_SELECT_RUN = select(*RUN_COLUMNS).where(run_t.c.id == bindparam("run_id"))

# Fields a caller may set through update_run (status goes through set_status and its transition check).
UPDATABLE = frozenset(
    {
        "display_name",
        "host",
        "user",
        "pid",
        "pid_create_time",
        "owner_pid",
        "owner_create_time",
        "script",
        "arguments",
        "exit_code",
        "error",
        "heartbeat_at",
        "started_at",
    }
)
# Changes that a viewer does not see, so they do not bump the revision (heartbeats every few seconds).
QUIET_FIELDS = frozenset({"heartbeat_at"})

IN_CHUNK = 500  # keep IN (...) lists under SQLite's variable limit

# PostgreSQL NOTIFY channels: every revision bump notifies CHANGES_CHANNEL (payload "<schema>:<revision>"), every
# log chunk LOGS_CHANNEL (payload "<schema>:<run id>"). Channels are database-wide; the schema in the payload lets
# a listener ignore the stores in other schemas of the same database.
CHANGES_CHANNEL = "runtui_changes"
LOGS_CHANNEL = "runtui_logs"
_LOG_LOCK_CLASS = 0x72756E74  # advisory lock class ("runt") for the per-run log sequence; see append_log


def _run_record(row: Any) -> RunRecord:
    return RunRecord(
        id=row[0],
        experiment=row[1],
        parent_id=row[2],
        display_name=row[3],
        kind=row[4],
        status=RunStatus(row[5]),
        created_at=row[6],
        started_at=row[7],
        ended_at=row[8],
        host=row[9],
        user=row[10],
        pid=row[11],
        pid_create_time=row[12],
        owner_pid=row[13],
        owner_create_time=row[14],
        script=row[15],
        arguments=decode_arguments(row[16]),
        exit_code=row[17],
        error=row[18],
        heartbeat_at=row[19],
        revision=row[20],
    )


def _chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


@dataclass(frozen=True, slots=True)
class NewRun:
    """What create_runs needs to insert a run."""

    id: str
    experiment: str
    status: RunStatus
    parent_id: str | None = None
    display_name: str | None = None
    kind: str = "interactive"
    host: str = ""
    user: str = ""
    owner_pid: int | None = None
    owner_create_time: float | None = None
    pid: int | None = None
    pid_create_time: float | None = None
    script: str | None = None
    arguments: tuple[str, ...] = ()
    tags: tuple[tuple[str, str | None], ...] = ()
    properties: tuple[tuple[str, str], ...] = ()
    # Importers (`runtui import mlflow`) keep the source's times; None means now.
    created_at: float | None = None
    started_at: float | None = None


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One requested status change; `only_from` makes it conditional (no error when the run is elsewhere)."""

    run_id: str
    status: RunStatus
    only_from: frozenset[RunStatus] | None = None
    error: str | None = None
    exit_code: int | None = None
    fields: dict[str, Any] | None = None


# A logged point on its way to the store: (run_id, name, step or None, value, text, kind, time)
PendingPoint = tuple[str, str, "int | None", "float | None", "str | None", str, float]


class Store:
    """A runtui store at one SQLAlchemy URL. Cheap to construct: the engine is shared per URL."""

    _schema_ready: ClassVar[set[str]] = set()
    _schema_lock = threading.Lock()

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = is_sqlite(url)
        self.engine: Engine = get_engine(url)
        self._ensure_schema()

    def __repr__(self) -> str:
        return f"Store({redact(self.url)!r})"

    # ------------------------------------------------------------------ plumbing

    def _ensure_schema(self) -> None:
        with Store._schema_lock:
            if self.url in Store._schema_ready:
                return
            with translate_errors(self.url, "opening the store"):
                schema.ensure(self.engine, self.url)
                schema.refresh_statistics(self.engine)
            Store._schema_ready.add(self.url)

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A short read transaction (a long one would starve SQLite's WAL checkpoints)."""
        with translate_errors(self.url, "reading"), self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="DEFERRED")
            with conn.begin():
                yield conn

    def _write(self, what: str, fn: Callable[[Connection], T]) -> T:
        """One write transaction (BEGIN IMMEDIATE on SQLite), retried when the database is busy."""

        def attempt() -> T:
            with self.engine.begin() as conn:
                return fn(conn)

        with translate_errors(self.url, what):
            return with_retry(attempt)

    @staticmethod
    def _bump(conn: Connection, run_ids: Iterable[str] = ()) -> int:
        """Advance the store revision and stamp `run_ids` with it.

        The UPDATE takes the counter row's lock until commit, so revisions are handed out in commit order on
        PostgreSQL too: a viewer that has seen revision R can never later miss a commit numbered <= R.
        """
        stmt = update(meta_t).where(meta_t.c.id == 1).values(revision=meta_t.c.revision + 1)
        if conn.dialect.name == "postgresql":
            # For LISTEN/NOTIFY (runtui.watch.PgListenWatcher): delivered at commit, never for a rolled-back
            # write; riding on the same statement costs no extra round trip.
            notify = func.pg_notify(
                CHANGES_CHANNEL, func.concat(func.current_schema(), ":", cast(meta_t.c.revision, Text))
            )
            rev: int = conn.execute(stmt.returning(meta_t.c.revision, notify)).scalar_one()
        else:
            rev = conn.execute(stmt.returning(meta_t.c.revision)).scalar_one()
        ids = list(dict.fromkeys(run_ids))
        for chunk in _chunks(ids):
            conn.execute(update(run_t).where(run_t.c.id.in_(chunk)).values(revision=rev))
        return rev

    # ------------------------------------------------------------------ experiments

    def ensure_experiment(self, name: str) -> ExperimentRecord:
        now = time.time()

        def work(conn: Connection) -> ExperimentRecord:
            row = conn.execute(select(experiment_t).where(experiment_t.c.name == name)).first()
            if row is None:
                conn.execute(insert(experiment_t).values(name=name, created_at=now))
                self._bump(conn)
                return ExperimentRecord(name, now)
            return ExperimentRecord(row.name, row.created_at)

        with self._read() as conn:
            row = conn.execute(select(experiment_t).where(experiment_t.c.name == name)).first()
        if row is not None:
            return ExperimentRecord(row.name, row.created_at)
        return self._write("creating an experiment", work)

    def get_experiment(self, name: str) -> ExperimentRecord | None:
        with self._read() as conn:
            row = conn.execute(select(experiment_t).where(experiment_t.c.name == name)).first()
        return None if row is None else ExperimentRecord(row.name, row.created_at)

    def list_experiments(self) -> list[ExperimentRecord]:
        with self._read() as conn:
            rows = conn.execute(select(experiment_t).order_by(experiment_t.c.name)).all()
        return [ExperimentRecord(r.name, r.created_at) for r in rows]

    # ------------------------------------------------------------------ runs

    def create_runs(self, runs: Sequence[NewRun]) -> list[RunRecord]:
        """Insert a batch of runs (with their tags and properties) in ONE transaction."""
        if not runs:
            return []
        now = time.time()

        def work(conn: Connection) -> list[RunRecord]:
            for exp in {r.experiment for r in runs}:
                if conn.execute(select(experiment_t.c.name).where(experiment_t.c.name == exp)).first() is None:
                    conn.execute(insert(experiment_t).values(name=exp, created_at=now))
            rev = self._bump(conn)
            rows = []
            for r in runs:
                started = now if r.status in (RunStatus.RUNNING, RunStatus.STARTING) else None
                if r.started_at is not None:
                    started = r.started_at
                rows.append(
                    {
                        "id": r.id,
                        "experiment": r.experiment,
                        "parent_id": r.parent_id,
                        "display_name": r.display_name,
                        "kind": r.kind,
                        "status": r.status.value,
                        "created_at": now if r.created_at is None else r.created_at,
                        "started_at": started,
                        "ended_at": None,
                        "host": r.host,
                        "user": r.user,
                        "pid": r.pid,
                        "pid_create_time": r.pid_create_time,
                        "owner_pid": r.owner_pid,
                        "owner_create_time": r.owner_create_time,
                        "script": r.script,
                        "arguments": json.dumps(list(r.arguments)) if r.arguments else None,
                        "exit_code": None,
                        "error": None,
                        "heartbeat_at": now,
                        "revision": rev,
                    }
                )
            conn.execute(insert(run_t), rows)
            tag_rows = [{"run_id": r.id, "key": k, "value": v} for r in runs for k, v in r.tags]
            if tag_rows:
                conn.execute(insert(tag_t), tag_rows)
            prop_rows = [{"run_id": r.id, "key": k, "value": v} for r in runs for k, v in r.properties]
            if prop_rows:
                conn.execute(insert(prop_t), prop_rows)
            return [_run_record([row[c.name] for c in RUN_COLUMNS]) for row in rows]

        return self._write("creating runs", work)

    def get_run(self, run_id: str) -> RunRecord:
        with self._read() as conn:
            row = conn.execute(_SELECT_RUN, {"run_id": run_id}).first()
        if row is None:
            raise NotFoundError(f"no run with id {run_id!r} in store {redact(self.url)}")
        return _run_record(row)

    def get_runs_by_id(self, run_ids: Sequence[str]) -> list[RunRecord]:
        out: list[RunRecord] = []
        with self._read() as conn:
            for chunk in _chunks(list(run_ids)):
                out.extend(_run_record(r) for r in conn.execute(select(*RUN_COLUMNS).where(run_t.c.id.in_(chunk))))
        return out

    def resolve_run_id(self, prefix: str) -> str:
        """A full run id from an id or an unambiguous prefix of one."""
        from runtui.errors import AmbiguousRunIdError

        if not prefix:
            raise ValidationError("a run id cannot be empty")
        if len(prefix) > 255:  # no run id is longer; a huge LIKE pattern would only get a cryptic database error
            raise NotFoundError(f"no run with id or id prefix {prefix[:60]!r}... (run ids have at most 255 characters)")
        with self._read() as conn:
            if conn.execute(select(run_t.c.id).where(run_t.c.id == prefix)).first() is not None:
                return prefix
            # LIKE with escaped wildcards: the prefix is data, never a pattern.
            escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            ids = list(
                conn.execute(
                    select(run_t.c.id).where(run_t.c.id.like(escaped + "%", escape="\\")).order_by(run_t.c.id).limit(51)
                ).scalars()
            )
        if not ids:
            raise NotFoundError(f"no run with id or id prefix {prefix!r}")
        if len(ids) > 1:
            raise AmbiguousRunIdError(prefix, ids)
        return ids[0]

    def update_run(self, run_id: str, **fields: Any) -> RunRecord:
        """Set plain fields (pid, owner, error, ...). Status changes go through `set_status`."""
        unknown = set(fields) - UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        if "arguments" in fields and fields["arguments"] is not None:
            fields["arguments"] = json.dumps(list(fields["arguments"]))

        def work(conn: Connection) -> RunRecord:
            values = dict(fields)
            if not set(fields) <= QUIET_FIELDS:
                values["revision"] = self._bump(conn)
            result = conn.execute(update(run_t).where(run_t.c.id == run_id).values(**values))
            if result.rowcount == 0:
                raise NotFoundError(f"no run with id {run_id!r}")
            return _run_record(conn.execute(_SELECT_RUN, {"run_id": run_id}).one())

        return self._write("updating a run", work)

    def heartbeat(self, run_ids: Sequence[str], now: float | None = None) -> None:
        """Mark runs alive. Quiet: heartbeats do not bump the change feed."""
        if not run_ids:
            return
        stamp = time.time() if now is None else now

        def work(conn: Connection) -> None:
            for chunk in _chunks(list(run_ids)):
                conn.execute(update(run_t).where(run_t.c.id.in_(chunk)).values(heartbeat_at=stamp))

        self._write("heart-beating", work)

    def set_status(
        self,
        run_id: str,
        status: RunStatus,
        *,
        error: str | None = None,
        exit_code: int | None = None,
        only_from: frozenset[RunStatus] | None = None,
        **fields: Any,
    ) -> tuple[RunRecord, bool]:
        """Move a run to `status`, checked against the status machine inside the write transaction.

        Returns the run after the change and whether anything changed (same-to-same is a no-op).
        `only_from` makes it conditional: when the run is in another status, nothing happens (no error).
        """
        change = StatusChange(run_id, status, only_from, error, exit_code, fields)
        return self._write("changing a run's status", lambda conn: self._apply_status(conn, change, None))

    def set_statuses(self, changes: Sequence[StatusChange]) -> list[tuple[RunRecord, bool]]:
        """Several status changes in ONE transaction (e.g. a cancel of a run and its descendants), applied in
        order, with one revision for all: a watcher sees all of them or none."""

        def work(conn: Connection) -> list[tuple[RunRecord, bool]]:
            revision: list[int] = []
            return [self._apply_status(conn, c, revision) for c in changes]

        return self._write("changing run statuses", work) if changes else []

    def _apply_status(
        self, conn: Connection, change: StatusChange, shared_revision: list[int] | None
    ) -> tuple[RunRecord, bool]:
        run_id, status = change.run_id, change.status
        row = conn.execute(_SELECT_RUN, {"run_id": run_id}).first()
        if row is None:
            raise NotFoundError(f"no run with id {run_id!r}")
        current = RunStatus(row[5])
        if change.only_from is not None and current not in change.only_from:
            return _run_record(row), False
        if not check_transition(run_id, current, status):
            return _run_record(row), False
        now = time.time()
        values: dict[str, Any] = {"status": status.value, **(change.fields or {})}
        if status.is_terminal:
            values.setdefault("ended_at", now)  # an importer may give the source's end time
        elif status == RunStatus.RUNNING and row[7] is None:
            values["started_at"] = now
        if current.is_terminal and not status.is_terminal:
            values["ended_at"] = None
        if change.error is not None:
            values["error"] = change.error
        if change.exit_code is not None:
            values["exit_code"] = change.exit_code
        if shared_revision is None:
            values["revision"] = self._bump(conn)
        else:
            if not shared_revision:
                shared_revision.append(self._bump(conn))
            values["revision"] = shared_revision[0]
        conn.execute(update(run_t).where(run_t.c.id == run_id).values(**values))
        return _run_record(conn.execute(_SELECT_RUN, {"run_id": run_id}).one()), True

    def descendants(self, run_id: str) -> list[RunRecord]:
        """All runs below `run_id`, breadth first."""
        out: list[RunRecord] = []
        frontier = [run_id]
        with self._read() as conn:
            while frontier:
                level: list[RunRecord] = []
                for chunk in _chunks(frontier):
                    level.extend(
                        _run_record(r)
                        for r in conn.execute(
                            select(*RUN_COLUMNS).where(run_t.c.parent_id.in_(chunk)).order_by(run_t.c.created_at)
                        )
                    )
                out.extend(level)
                frontier = [r.id for r in level]
        return out

    def query_runs(
        self,
        *,
        experiment: str | None = None,
        parent_id: str | None = None,
        top_level_only: bool = False,
        tags: dict[str, str | None] | None = None,
        properties: dict[str, str] | None = None,
        statuses: Sequence[RunStatus] | None = None,
        where: ColumnElement[bool] | None = None,
        limit: int | None = None,
        batch_size: int = 2000,
    ) -> Iterator[RunRecord]:
        """Runs matching every condition given, newest first, fetched in batches (each its own short read)."""
        conds: list[ColumnElement[bool]] = []
        if experiment is not None:
            conds.append(run_t.c.experiment == experiment)
        if parent_id is not None:
            conds.append(run_t.c.parent_id == parent_id)
        elif top_level_only:
            conds.append(run_t.c.parent_id.is_(None))
        for key, value in (tags or {}).items():
            sub = select(tag_t.c.run_id).where(tag_t.c.key == key)
            if value is not None:
                sub = sub.where(tag_t.c.value == value)
            conds.append(run_t.c.id.in_(sub))
        for key, value in (properties or {}).items():
            conds.append(run_t.c.id.in_(select(prop_t.c.run_id).where(prop_t.c.key == key, prop_t.c.value == value)))
        if statuses:
            conds.append(run_t.c.status.in_([s.value for s in statuses]))
        if where is not None:
            conds.append(where)
        match = and_(true(), *conds)
        newest_first = (run_t.c.created_at.desc(), run_t.c.id.desc())
        if tags or properties or where is not None:
            # A selective subquery re-run for every page costs more than the page: find the matching keys
            # once (one short read of two columns), then load the rows by id in pages.
            key_stmt = select(run_t.c.id).where(match).order_by(*newest_first)
            if limit is not None:
                key_stmt = key_stmt.limit(limit)
            with self._read() as conn:
                ids = list(conn.execute(key_stmt).scalars())
            for page_ids in _chunks(ids, batch_size):
                with self._read() as conn:
                    by_id = {r[0]: r for r in conn.execute(select(*RUN_COLUMNS).where(run_t.c.id.in_(page_ids)))}
                for rid in page_ids:
                    if rid in by_id:
                        yield _run_record(by_id[rid])
            return
        # Otherwise keyset pagination on (created_at, id), served by ix_run_created_id: each page is a short
        # read, and pages never overlap.
        base = select(*RUN_COLUMNS).where(match)
        cursor: tuple[float, str] | None = None
        remaining = limit
        while remaining is None or remaining > 0:
            page = batch_size if remaining is None else min(batch_size, remaining)
            stmt = base
            if cursor is not None:
                stmt = stmt.where(
                    or_(
                        run_t.c.created_at < cursor[0],
                        and_(run_t.c.created_at == cursor[0], run_t.c.id < cursor[1]),
                    )
                )
            stmt = stmt.order_by(*newest_first).limit(page)
            with self._read() as conn:
                rows = conn.execute(stmt).all()
            for row in rows:
                yield _run_record(row)
            if len(rows) < page:
                return
            cursor = (rows[-1][6], rows[-1][0])
            if remaining is not None:
                remaining -= len(rows)

    def count_runs(self) -> int:
        with self._read() as conn:
            return int(conn.execute(select(func.count()).select_from(run_t)).scalar_one())

    # ------------------------------------------------------------------ change feed

    def current_revision(self) -> int:
        with self._read() as conn:
            return int(conn.execute(select(meta_t.c.revision).where(meta_t.c.id == 1)).scalar_one())

    def changes_since(self, revision: int) -> Changes:
        """Runs stamped after `revision`, and the revision to ask from next time."""
        with self._read() as conn:
            # Read the counter first: a commit landing between the two reads is then returned now and again
            # next time (harmless), never skipped.
            rev = int(conn.execute(select(meta_t.c.revision).where(meta_t.c.id == 1)).scalar_one())
            if rev == revision:
                return Changes(rev, [])
            rows = conn.execute(select(*RUN_COLUMNS).where(run_t.c.revision > revision)).all()
        return Changes(rev, [_run_record(r) for r in rows])

    # ------------------------------------------------------------------ tags and properties

    def set_tags(self, run_id: str, tags: dict[str, str | None]) -> None:
        def work(conn: Connection) -> None:
            self._require_run(conn, run_id)
            keys = list(tags)
            conn.execute(delete(tag_t).where(tag_t.c.run_id == run_id, tag_t.c.key.in_(keys)))
            conn.execute(insert(tag_t), [{"run_id": run_id, "key": k, "value": v} for k, v in tags.items()])
            self._bump(conn, [run_id])

        if tags:
            self._write("tagging a run", work)

    def remove_tags(self, run_id: str, keys: Sequence[str]) -> list[str]:
        """Remove tags; returns the keys that were there."""

        def work(conn: Connection) -> list[str]:
            self._require_run(conn, run_id)
            present = list(
                conn.execute(select(tag_t.c.key).where(tag_t.c.run_id == run_id, tag_t.c.key.in_(list(keys)))).scalars()
            )
            if present:
                conn.execute(delete(tag_t).where(tag_t.c.run_id == run_id, tag_t.c.key.in_(present)))
                self._bump(conn, [run_id])
            return present

        return self._write("removing tags", work)

    def get_tags(self, run_ids: Sequence[str]) -> dict[str, dict[str, str | None]]:
        out: dict[str, dict[str, str | None]] = {rid: {} for rid in run_ids}
        with self._read() as conn:
            for chunk in _chunks(list(run_ids)):
                for rid, key, value in conn.execute(
                    select(tag_t.c.run_id, tag_t.c.key, tag_t.c.value).where(tag_t.c.run_id.in_(chunk))
                ):
                    out[rid][key] = value
        return out

    def all_tags(self) -> dict[str, dict[str, str | None]]:
        """Every run's tags in one read (for listing the whole store; plain DBAPI rows, no Row objects)."""
        out: dict[str, dict[str, str | None]] = {}
        with self._read() as conn:
            result = conn.execute(select(tag_t.c.run_id, tag_t.c.key, tag_t.c.value))
            try:
                rows = result.cursor.fetchall()
            finally:
                result.close()
        for rid, key, value in rows:
            tags = out.get(rid)
            if tags is None:
                tags = out[rid] = {}
            tags[key] = value
        return out

    def add_properties(self, run_id: str, props: dict[str, str]) -> None:
        """Insert-only: a key already set to another value raises PropertyOverwriteError, and nothing is written."""

        def work(conn: Connection) -> None:
            self._require_run(conn, run_id)
            existing: dict[str, str] = dict(
                conn.execute(
                    select(prop_t.c.key, prop_t.c.value).where(prop_t.c.run_id == run_id, prop_t.c.key.in_(list(props)))
                ).all()
            )
            for key, value in props.items():
                if key in existing and existing[key] != value:
                    raise PropertyOverwriteError(run_id, key, existing[key], value)
            new = [{"run_id": run_id, "key": k, "value": v} for k, v in props.items() if k not in existing]
            if new:
                conn.execute(insert(prop_t), new)
                self._bump(conn, [run_id])

        if props:
            self._write("adding properties", work)

    def get_properties(self, run_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {rid: {} for rid in run_ids}
        with self._read() as conn:
            for chunk in _chunks(list(run_ids)):
                for rid, key, value in conn.execute(
                    select(prop_t.c.run_id, prop_t.c.key, prop_t.c.value).where(prop_t.c.run_id.in_(chunk))
                ):
                    out[rid][key] = value
        return out

    @staticmethod
    def _require_run(conn: Connection, run_id: str) -> None:
        if conn.execute(select(run_t.c.id).where(run_t.c.id == run_id)).first() is None:
            raise NotFoundError(f"no run with id {run_id!r}")

    # ------------------------------------------------------------------ metrics

    def write_metrics(
        self, points: Sequence[PendingPoint], descriptions: dict[tuple[str, str], str] | None = None
    ) -> int:
        """Write a batch of points in one transaction; returns how many were written.

        Steps left as None continue the series after the last stored step (read in the same transaction, so
        two processes logging to one run do not collide). Summaries are upserted once per (run, name).
        """
        if not points:
            return 0
        return self._write("writing metrics", lambda conn: self._write_metrics(conn, points, descriptions or {}))

    def _write_metrics(
        self, conn: Connection, points: Sequence[PendingPoint], descriptions: dict[tuple[str, str], str]
    ) -> int:
        run_ids = list({p[0] for p in points})
        last_step: dict[tuple[str, str], int] = {}
        for chunk in _chunks(run_ids):
            for rid, name, step in conn.execute(
                select(summary_t.c.run_id, summary_t.c.name, summary_t.c.last_step).where(summary_t.c.run_id.in_(chunk))
            ):
                last_step[(rid, name)] = step
        rows: list[tuple[str, str, int, float | None, str | None, str, float]] = []
        summaries: dict[tuple[str, str], list[Any]] = {}
        for run_id, name, step, value, text, kind, t in points:
            key = (run_id, name)
            prev = last_step.get(key, -1)
            if step is None:
                step = prev + 1
            if step > prev:
                last_step[key] = step
            rows.append((run_id, name, step, value, text, kind, t))
            s = summaries.get(key)
            if s is None:
                # kind, last, last_text, min, max, count, last_step, first_time
                s = summaries[key] = [kind, None, None, None, None, 0, step, t]
            s[0] = kind
            s[1] = value
            s[2] = text
            if value is not None and not math.isnan(value):
                s[3] = value if s[3] is None or value < s[3] else s[3]
                s[4] = value if s[4] is None or value > s[4] else s[4]
            s[5] += 1
            s[6] = max(s[6], step)
        self._insert_points(conn, rows)
        srows = [
            {
                "run_id": k[0],
                "name": k[1],
                "kind": s[0],
                "last": s[1],
                "last_text": s[2],
                "min": s[3],
                "max": s[4],
                "count": s[5],
                "last_step": s[6],
                "first_time": s[7],
                "description": descriptions.get(k, ""),
            }
            for k, s in summaries.items()
        ]
        conn.execute(self._summary_upsert(), srows)
        self._bump(conn, run_ids)
        return len(rows)

    def _insert_points(self, conn: Connection, rows: list[tuple[Any, ...]]) -> None:
        # The DBAPI cursor: no ORM, no per-row SQLAlchemy work. On PostgreSQL with psycopg 3, COPY: measured
        # 2.6x the rate of executemany (bench/write_path.py).
        columns = "run_id, name, step, value, text, kind, time"
        if conn.dialect.driver == "psycopg":
            self._copy_points(conn, f"COPY metric ({columns}) FROM STDIN", rows)
            return
        mark = "?" if self.sqlite else "%s"
        conn.exec_driver_sql(f"INSERT INTO metric ({columns}) VALUES ({', '.join([mark] * 7)})", rows)

    @staticmethod
    def _copy_points(conn: Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
        from sqlalchemy.exc import DBAPIError

        error_class = conn.dialect.loaded_dbapi.Error
        try:
            with conn.connection.driver_connection.cursor() as cur, cur.copy(sql) as copy:  # type: ignore[union-attr]
                for row in rows:
                    copy.write_row(row)
        except error_class as exc:
            # The same exception classes as executemany would raise, so retries and messages stay as they were.
            raise DBAPIError.instance(sql, None, exc, error_class) from exc

    def _summary_upsert(self) -> Any:
        if self.sqlite:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        else:
            from sqlalchemy.dialects.postgresql import insert as dialect_insert  # type: ignore[assignment]
        stmt = dialect_insert(summary_t)
        ex = stmt.excluded
        cur = summary_t.c
        from sqlalchemy import case

        return stmt.on_conflict_do_update(
            index_elements=[cur.run_id, cur.name],
            set_={
                "kind": ex.kind,
                "last": ex.last,
                "last_text": ex.last_text,
                "min": case(
                    (ex.min.is_(None), cur.min),
                    (cur.min.is_(None) | (ex.min < cur.min), ex.min),
                    else_=cur.min,
                ),
                "max": case(
                    (ex.max.is_(None), cur.max),
                    (cur.max.is_(None) | (ex.max > cur.max), ex.max),
                    else_=cur.max,
                ),
                "count": cur["count"] + ex["count"],
                "last_step": case((ex.last_step > cur.last_step, ex.last_step), else_=cur.last_step),
                "description": case((ex.description != "", ex.description), else_=cur.description),
            },
        )

    def get_summaries(self, run_ids: Sequence[str]) -> dict[str, list[MetricSummary]]:
        """Per run, its metrics' summaries in the order they were first logged."""
        out: dict[str, list[MetricSummary]] = {rid: [] for rid in run_ids}
        with self._read() as conn:
            for chunk in _chunks(list(run_ids)):
                rows = conn.execute(
                    select(summary_t)
                    .where(summary_t.c.run_id.in_(chunk))
                    .order_by(summary_t.c.first_time, summary_t.c.name)
                )
                for r in rows:
                    last: float | str | None = r.last
                    if r.kind == "scalar" and r.last is None and r.last_text is not None:
                        last = decode_special_float(r.last_text)
                    elif r.kind != "scalar":
                        last = r.last_text
                    out[r.run_id].append(
                        MetricSummary(
                            r.run_id,
                            r.name,
                            r.kind,
                            last,
                            r.min,
                            r.max,
                            r._mapping["count"],
                            r.last_step,
                            r.description,
                        )
                    )
        return out

    def get_series(self, run_id: str, names: Sequence[str] | None = None) -> list[MetricSeries]:
        """Every point of the run's metrics (all, or `names`), ordered by step."""
        stmt = select(
            metric_t.c.name,
            metric_t.c.step,
            metric_t.c.value,
            metric_t.c.text,
            metric_t.c.kind,
            metric_t.c.time,
        ).where(metric_t.c.run_id == run_id)
        if names is not None:
            stmt = stmt.where(metric_t.c.name.in_(list(names)))
        stmt = stmt.order_by(metric_t.c.name, metric_t.c.step, metric_t.c.id)
        series: dict[str, MetricSeries] = {}
        with self._read() as conn:
            for name, step, value, text, kind, t in conn.execute(stmt):
                s = series.get(name)
                if s is None:
                    s = series[name] = MetricSeries(run_id, name, kind)
                s.steps.append(step)
                if kind == "scalar":
                    s.values.append(value if value is not None else decode_special_float(text))
                else:
                    s.values.append(json.loads(text) if text is not None and kind != "text" else text)
                s.times.append(t)
        return list(series.values())

    # ------------------------------------------------------------------ artifacts

    def add_artifact(self, run_id: str, path: str, size: int) -> None:
        def work(conn: Connection) -> None:
            self._require_run(conn, run_id)
            conn.execute(delete(artifact_t).where(artifact_t.c.run_id == run_id, artifact_t.c.path == path))
            conn.execute(insert(artifact_t).values(run_id=run_id, path=path, size=size, created_at=time.time()))
            self._bump(conn, [run_id])

        self._write("recording an artifact", work)

    def list_artifacts(self, run_id: str) -> list[ArtifactRecord]:
        with self._read() as conn:
            rows = conn.execute(
                select(artifact_t).where(artifact_t.c.run_id == run_id).order_by(artifact_t.c.path)
            ).all()
        return [ArtifactRecord(r.run_id, r.path, r.size, r.created_at) for r in rows]

    # ------------------------------------------------------------------ logs copied into the store
    #
    # On a shared store, supervisors copy each run's log here in chunks so that other hosts can tail it. The log
    # is one byte stream per run (the UTF-8 encoding of its chunks, in `seq` order); a chunk's `offset` is where
    # its bytes start in that stream, so a reader can seek (read_log_range) without reading what came before.

    def append_log(self, run_id: str, data: str, offset: int, stream: str = "output") -> int:
        """Append one chunk of the run's log; returns its sequence number.

        `offset` is the chunk's byte offset in the run's stored log (the caller's running total of the UTF-8
        bytes it appended before). The text must not hold NUL characters (PostgreSQL text cannot store them).
        """
        if "\x00" in data:
            raise ValidationError("log text copied to the store cannot contain NUL characters; replace them first")

        def work(conn: Connection) -> int:
            if conn.dialect.name == "postgresql":
                # Two appenders of one run would read the same max(seq) under READ COMMITTED; a per-run advisory
                # lock (released at commit) serialises them without touching the run row. SQLite's BEGIN
                # IMMEDIATE already serialises every writer.
                conn.execute(select(func.pg_advisory_xact_lock(_LOG_LOCK_CLASS, func.hashtext(run_id))))
            # max(seq) of one run: a backward scan of the (run_id, seq) primary key, one index entry.
            seq = conn.execute(select(func.coalesce(func.max(log_t.c.seq), -1)).where(log_t.c.run_id == run_id))
            nxt = int(seq.scalar_one()) + 1
            conn.execute(
                insert(log_t).values(run_id=run_id, seq=nxt, stream=stream, offset=offset, data=data, time=time.time())
            )
            if conn.dialect.name == "postgresql":
                conn.execute(select(func.pg_notify(LOGS_CHANNEL, func.concat(func.current_schema(), ":", run_id))))
            return nxt

        return self._write("copying log output", work)

    def read_log_chunks(self, run_id: str, after_seq: int = -1) -> list[tuple[int, int, str]]:
        """(seq, offset, data) of the run's log chunks after `after_seq`."""
        with self._read() as conn:
            rows = conn.execute(
                select(log_t.c.seq, log_t.c.offset, log_t.c.data)
                .where(log_t.c.run_id == run_id, log_t.c.seq > after_seq)
                .order_by(log_t.c.seq)
            ).all()
        return [(r[0], r[1], r[2]) for r in rows]

    def _octet_length(self) -> Any:
        if self.sqlite:
            return func.length(cast(log_t.c.data, LargeBinary))
        return func.octet_length(log_t.c.data)

    def log_extent(self, run_id: str) -> int | None:
        """The size in bytes of the run's stored log, or None when nothing of it is in the store."""
        with self._read() as conn:
            row = conn.execute(
                select(log_t.c.offset, self._octet_length())
                .where(log_t.c.run_id == run_id)
                .order_by(log_t.c.seq.desc())
                .limit(1)
            ).first()
        return None if row is None else int(row[0]) + int(row[1])

    def read_log_range(self, run_id: str, start: int, end: int) -> list[tuple[int, str]]:
        """(offset, data) of the chunks that overlap bytes [start, end) of the run's stored log, in order."""
        if end <= start:
            return []
        with self._read() as conn:
            # The chunk holding `start` is the last one starting at or before it (offsets grow with seq).
            first = conn.execute(
                select(log_t.c.seq)
                .where(log_t.c.run_id == run_id, log_t.c.offset <= start)
                .order_by(log_t.c.seq.desc())
                .limit(1)
            ).scalar()
            rows = conn.execute(
                select(log_t.c.offset, log_t.c.data)
                .where(log_t.c.run_id == run_id, log_t.c.seq >= (first if first is not None else 0))
                .where(log_t.c.offset < end)
                .order_by(log_t.c.seq)
            ).all()
        return [(int(r[0]), r[1]) for r in rows]


def decode_special_float(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


_stores: dict[str, Store] = {}
_stores_lock = threading.Lock()


def open_store(url: str) -> Store:
    """The shared Store for `url` in this process."""
    with _stores_lock:
        store = _stores.get(url)
        if store is None:
            store = _stores[url] = Store(url)
        return store


def raise_store_error(message: str) -> None:
    raise StoreError(message)
