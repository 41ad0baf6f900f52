"""The store contract (`Store`): every read and write the SDK, supervisor, CLI and TUI make, one short unit of
work each, returning frozen records (`records.py`).

The typed facade over the internal layer (`db.py`: engine, units of work, revision bump, row -> record), the
metric path (`metrics.py`), logs copied into the store (`logs.py`) and the model registry (`registry.py`).
Writes that change what a viewer shows bump the store-wide revision and stamp the changed runs (and
experiments) with it: the change feed.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, delete, func, insert, or_, select, true, update
from sqlalchemy.engine import Connection, Engine

from runtui.errors import NotFoundError, PropertyOverwriteError, StoreError, ValidationError
from runtui.status import RunStatus, check_transition
from runtui.store import experiments as _experiments
from runtui.store import logs as _logs
from runtui.store import metrics as _metrics
from runtui.store import registry as _registry
from runtui.store.db import (
    RUN_COLUMNS,
    SELECT_RUN,
    STARTED_AT,
    STATUS_AT,
    Database,
    artifact_t,
    bump,
    chunks,
    dialect_insert,
    experiment_t,
    meta_t,
    prop_t,
    run_t,
    status_notice,
    tag_t,
)
from runtui.store.engine import redact
from runtui.store.metrics import PendingPoint
from runtui.store.records import (
    ArtifactRecord,
    Changes,
    ExperimentRecord,
    MetricSeries,
    MetricSummary,
    MetricWriteResult,
    ModelRecord,
    RunRecord,
    decode_special_float,
    run_record,
)

T = TypeVar("T")

# Fields a caller may set through update_run (status goes through set_status and its transition check).
UPDATABLE = frozenset(
    {
        "display_name",
        "description",
        "snapshot_id",
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
# Fields a status change may set along with the status (ended_at: a lost run ends at its last heartbeat).
STATUS_FIELDS = UPDATABLE | {"ended_at"}
# Changes that a viewer does not see, so they do not bump the revision (heartbeats every few seconds).
QUIET_FIELDS = frozenset({"heartbeat_at"})

__all__ = [
    "UPDATABLE",
    "NewRun",
    "PendingPoint",
    "StatusChange",
    "Store",
    "decode_special_float",
    "open_store",
]


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
    description: str | None = None
    snapshot_id: str | None = None
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


def _check_status_fields(fields: dict[str, Any] | None) -> None:
    unknown = set(fields or ()) - STATUS_FIELDS
    if unknown:
        raise ValueError(f"not settable with a status change: {sorted(unknown)}")


class Store:
    """A runtui store at one SQLAlchemy URL. Cheap to construct: the engine is shared per URL."""

    def __init__(self, url: str) -> None:
        self.db = Database(url)
        self.url = url
        self.sqlite = self.db.sqlite
        self.engine: Engine = self.db.engine

    def __repr__(self) -> str:
        return f"Store({redact(self.url)!r})"

    def clock(self) -> float:
        """Now (UTC epoch seconds): the database's clock on PostgreSQL, this host's on SQLite."""
        return self.db.clock()

    # ------------------------------------------------------------------ experiments

    def ensure_experiment(self, name: str) -> ExperimentRecord:
        """The experiment, created first when missing (an atomic upsert: many processes may race here)."""
        return _experiments.ensure_experiment(self.db, name)

    def get_experiment(self, name: str) -> ExperimentRecord | None:
        return _experiments.get_experiment(self.db, name)

    def list_experiments(self, include_archived: bool = False) -> list[ExperimentRecord]:
        """Experiments by name; archived ones only when asked."""
        return _experiments.list_experiments(self.db, include_archived)

    def archive_experiment(self, name: str) -> ExperimentRecord:
        """Hide the experiment from default listings (its runs stay). Archiving twice keeps the first time."""
        return _experiments.archive_experiment(self.db, name)

    def reactivate_experiment(self, name: str) -> ExperimentRecord:
        return _experiments.reactivate_experiment(self.db, name)

    def set_experiment_tags(self, name: str, tags: dict[str, str | None]) -> ExperimentRecord:
        return _experiments.set_experiment_tags(self.db, name, tags)

    def remove_experiment_tags(self, name: str, keys: Sequence[str]) -> list[str]:
        """Remove tags; returns the keys that were there."""
        return _experiments.remove_experiment_tags(self.db, name, keys)

    def delete_experiment(self, name: str) -> list[str]:
        """Delete the experiment, its runs and every row that belongs to them; returns the run ids (so that the
        caller removes their folders)."""
        return _experiments.delete_experiment(self.db, name)

    def delete_runs(self, run_ids: Sequence[str]) -> int:
        """Delete runs and every row that belongs to them (not their children: pass those too); returns how
        many runs were deleted."""
        return _experiments.delete_runs(self.db, run_ids)

    # ------------------------------------------------------------------ runs

    def create_runs(self, runs: Sequence[NewRun]) -> list[RunRecord]:
        """Insert a batch of runs (with their tags and properties) in ONE transaction; each gets the next
        number of its experiment (1, 2, ...)."""
        if not runs:
            return []
        now = time.time()

        def work(conn: Connection) -> list[RunRecord]:
            experiments = list(dict.fromkeys(r.experiment for r in runs))
            created = _experiments.upsert_experiments(conn, experiments, now)
            # The bump comes before the numbers are read: on PostgreSQL its row lock serialises creators, so two
            # processes never hand out the same number (SQLite's BEGIN IMMEDIATE already does).
            rev = bump(conn)
            if created:  # new experiments (revision 0) are stamped so that viewers see them
                new = and_(experiment_t.c.name.in_(experiments), experiment_t.c.revision == 0)
                conn.execute(update(experiment_t).where(new).values(revision=rev))
            numbers: dict[str, int] = {}
            for exp in experiments:
                top = conn.execute(select(func.max(run_t.c.number)).where(run_t.c.experiment == exp)).scalar()
                numbers[exp] = int(top or 0)
            rows = []
            for r in runs:
                numbers[r.experiment] += 1
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
                        "description": r.description,
                        "number": numbers[r.experiment],
                        "snapshot_id": r.snapshot_id,
                    }
                )
            conn.execute(insert(run_t), rows)
            tag_rows = [{"run_id": r.id, "key": k, "value": v} for r in runs for k, v in r.tags]
            if tag_rows:
                conn.execute(insert(tag_t), tag_rows)
            prop_rows = [{"run_id": r.id, "key": k, "value": v} for r in runs for k, v in r.properties]
            if prop_rows:
                conn.execute(insert(prop_t), prop_rows)
            return [run_record([row[c.name] for c in RUN_COLUMNS]) for row in rows]

        return self.db.write("creating runs", work)

    def get_run(self, run_id: str) -> RunRecord:
        with self.db.read() as conn:
            row = conn.execute(SELECT_RUN, {"run_id": run_id}).first()
        if row is None:
            raise NotFoundError(f"no run with id {run_id!r} in store {redact(self.url)}")
        return run_record(row)

    def get_runs_by_id(self, run_ids: Sequence[str]) -> list[RunRecord]:
        out: list[RunRecord] = []
        with self.db.read() as conn:
            for chunk in chunks(list(run_ids)):
                out.extend(run_record(r) for r in conn.execute(select(*RUN_COLUMNS).where(run_t.c.id.in_(chunk))))
        return out

    def resolve_run_id(self, prefix: str) -> str:
        """A full run id from an id or an unambiguous prefix of one."""
        from runtui.errors import AmbiguousRunIdError

        if not prefix:
            raise ValidationError("a run id cannot be empty")
        if len(prefix) > 255:  # no run id is longer; a huge LIKE pattern would only get a cryptic database error
            raise NotFoundError(f"no run with id or id prefix {prefix[:60]!r}... (run ids have at most 255 characters)")
        with self.db.read() as conn:
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
        """Set plain fields (pid, owner, error, description, ...). Status changes go through `set_status`."""
        unknown = set(fields) - UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        if "arguments" in fields and fields["arguments"] is not None:
            fields["arguments"] = json.dumps(list(fields["arguments"]))

        def work(conn: Connection) -> RunRecord:
            values = dict(fields)
            if not set(fields) <= QUIET_FIELDS:
                values["revision"] = bump(conn)
            result = conn.execute(update(run_t).where(run_t.c.id == run_id).values(**values))
            if result.rowcount == 0:
                raise NotFoundError(f"no run with id {run_id!r}")
            return run_record(conn.execute(SELECT_RUN, {"run_id": run_id}).one())

        return self.db.write("updating a run", work)

    def heartbeat(self, run_ids: Sequence[str], now: float | None = None) -> None:
        """Mark runs alive (at the database's clock on PostgreSQL). Quiet: heartbeats do not bump the feed."""
        if not run_ids:
            return
        stamp_at: Any = now
        if stamp_at is None:
            stamp_at = time.time() if self.sqlite else func.extract("epoch", func.clock_timestamp())

        def work(conn: Connection) -> None:
            for chunk in chunks(list(run_ids)):
                conn.execute(update(run_t).where(run_t.c.id.in_(chunk)).values(heartbeat_at=stamp_at))

        self.db.write("heart-beating", work)

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
        `fields` are limited to STATUS_FIELDS (ValueError otherwise); a forbidden transition raises.
        """
        _check_status_fields(fields)
        change = StatusChange(run_id, status, only_from, error, exit_code, fields)
        return self.db.write("changing a run's status", lambda conn: self._apply_status(conn, change, None))

    def set_statuses(self, changes: Sequence[StatusChange]) -> list[tuple[RunRecord, bool]]:
        """Several status changes in ONE transaction (e.g. a cancel of a run and its descendants), applied in
        order, with one revision for all: a watcher sees all of them or none."""
        for c in changes:
            _check_status_fields(c.fields)

        def work(conn: Connection) -> list[tuple[RunRecord, bool]]:
            revision: list[int] = []
            return [self._apply_status(conn, c, revision) for c in changes]

        return self.db.write("changing run statuses", work) if changes else []

    def _apply_status(
        self, conn: Connection, change: StatusChange, shared_revision: list[int] | None
    ) -> tuple[RunRecord, bool]:
        run_id, status = change.run_id, change.status
        row = conn.execute(SELECT_RUN, {"run_id": run_id}).first()
        if row is None:
            raise NotFoundError(f"no run with id {run_id!r}")
        current = RunStatus(row[STATUS_AT])
        if change.only_from is not None and current not in change.only_from:
            return run_record(row), False
        if not check_transition(run_id, current, status):
            return run_record(row), False
        now = time.time()
        values: dict[str, Any] = {"status": status.value}
        if status.is_terminal:
            values["ended_at"] = now
        elif status == RunStatus.RUNNING and row[STARTED_AT] is None:
            values["started_at"] = now
        if current.is_terminal and not status.is_terminal:
            values["ended_at"] = None
        values.update(change.fields or {})
        if "arguments" in values and values["arguments"] is not None:
            values["arguments"] = json.dumps(list(values["arguments"]))
        if change.error is not None:
            values["error"] = change.error
        if change.exit_code is not None:
            values["exit_code"] = change.exit_code
        if shared_revision is None:
            values["revision"] = bump(conn)
        else:
            if not shared_revision:
                shared_revision.append(bump(conn))
            values["revision"] = shared_revision[0]
        stmt = update(run_t).where(run_t.c.id == run_id).values(**values)
        notice = status_notice(conn)
        # The status channel (PostgreSQL): the run's box agent wakes for this, not for every metric batch.
        if notice is None:
            conn.execute(stmt)
        else:
            conn.execute(stmt.returning(notice)).all()
        return run_record(conn.execute(SELECT_RUN, {"run_id": run_id}).one()), True

    def descendants(self, run_id: str) -> list[RunRecord]:
        """All runs below `run_id`, breadth first."""
        out: list[RunRecord] = []
        frontier = [run_id]
        with self.db.read() as conn:
            while frontier:
                level: list[RunRecord] = []
                for chunk in chunks(frontier):
                    level.extend(
                        run_record(r)
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
        kind: str | None = None,
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
        if kind is not None:
            conds.append(run_t.c.kind == kind)
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
            with self.db.read() as conn:
                ids = list(conn.execute(key_stmt).scalars())
            for page_ids in chunks(ids, batch_size):
                with self.db.read() as conn:
                    by_id = {r[0]: r for r in conn.execute(select(*RUN_COLUMNS).where(run_t.c.id.in_(page_ids)))}
                for rid in page_ids:
                    if rid in by_id:
                        yield run_record(by_id[rid])
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
            with self.db.read() as conn:
                rows = conn.execute(stmt).all()
            for row in rows:
                yield run_record(row)
            if len(rows) < page:
                return
            cursor = (rows[-1][6], rows[-1][0])
            if remaining is not None:
                remaining -= len(rows)

    def count_runs(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(run_t)).scalar_one())

    # ------------------------------------------------------------------ change feed

    def current_revision(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(meta_t.c.revision).where(meta_t.c.id == 1)).scalar_one())

    def changes_since(self, revision: int) -> Changes:
        """Runs and experiments stamped after `revision`, and the revision to ask from next time."""
        with self.db.read() as conn:
            # Read the counter first: a commit landing between the two reads is then returned now and again
            # next time (harmless), never skipped.
            rev = int(conn.execute(select(meta_t.c.revision).where(meta_t.c.id == 1)).scalar_one())
            if rev == revision:
                return Changes(rev, [])
            rows = conn.execute(select(*RUN_COLUMNS).where(run_t.c.revision > revision)).all()
            experiments = _experiments.experiment_rows(conn, experiment_t.c.revision > revision)
        return Changes(rev, [run_record(r) for r in rows], experiments)

    # ------------------------------------------------------------------ tags and properties

    def set_tags(self, run_id: str, tags: dict[str, str | None]) -> None:
        def work(conn: Connection) -> None:
            self._require_run(conn, run_id)
            stmt = dialect_insert(conn, tag_t)
            stmt = stmt.on_conflict_do_update(index_elements=["run_id", "key"], set_={"value": stmt.excluded.value})
            conn.execute(stmt, [{"run_id": run_id, "key": k, "value": v} for k, v in tags.items()])
            bump(conn, [run_id])

        if tags:
            self.db.write("tagging a run", work)

    def remove_tags(self, run_id: str, keys: Sequence[str]) -> list[str]:
        """Remove tags; returns the keys that were there."""

        def work(conn: Connection) -> list[str]:
            self._require_run(conn, run_id)
            present: list[str] = []
            for chunk in chunks(list(dict.fromkeys(keys))):
                cond = and_(tag_t.c.run_id == run_id, tag_t.c.key.in_(chunk))
                present.extend(conn.execute(select(tag_t.c.key).where(cond)).scalars())
                conn.execute(delete(tag_t).where(cond))
            if present:
                bump(conn, [run_id])
            return present

        return self.db.write("removing tags", work)

    def get_tags(self, run_ids: Sequence[str]) -> dict[str, dict[str, str | None]]:
        out: dict[str, dict[str, str | None]] = {rid: {} for rid in run_ids}
        with self.db.read() as conn:
            for chunk in chunks(list(run_ids)):
                for rid, key, value in conn.execute(
                    select(tag_t.c.run_id, tag_t.c.key, tag_t.c.value).where(tag_t.c.run_id.in_(chunk))
                ):
                    out[rid][key] = value
        return out

    def all_tags(self) -> dict[str, dict[str, str | None]]:
        """Every run's tags in one read (for listing the whole store; plain DBAPI rows, no Row objects)."""
        out: dict[str, dict[str, str | None]] = {}
        with self.db.read() as conn:
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
            # Insert what is new atomically (a concurrent writer's row wins quietly), then compare: any key now
            # holding another value is an overwrite, and raising rolls back the whole transaction.
            stmt = dialect_insert(conn, prop_t).on_conflict_do_nothing(index_elements=["run_id", "key"])
            inserted = conn.execute(stmt, [{"run_id": run_id, "key": k, "value": v} for k, v in props.items()])
            stored: dict[str, str] = dict(
                conn.execute(
                    select(prop_t.c.key, prop_t.c.value).where(prop_t.c.run_id == run_id, prop_t.c.key.in_(list(props)))
                ).all()
            )
            for key, value in props.items():
                if stored.get(key, value) != value:
                    raise PropertyOverwriteError(run_id, key, stored[key], value)
            if inserted.rowcount != 0:
                bump(conn, [run_id])

        if props:
            self.db.write("adding properties", work)

    def get_properties(self, run_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {rid: {} for rid in run_ids}
        with self.db.read() as conn:
            for chunk in chunks(list(run_ids)):
                for rid, key, value in conn.execute(
                    select(prop_t.c.run_id, prop_t.c.key, prop_t.c.value).where(prop_t.c.run_id.in_(chunk))
                ):
                    out[rid][key] = value
        return out

    @staticmethod
    def _require_run(conn: Connection, run_id: str) -> None:
        if conn.execute(select(run_t.c.id).where(run_t.c.id == run_id)).first() is None:
            raise NotFoundError(f"no run with id {run_id!r}")

    # ------------------------------------------------------------------ metrics (runtui/store/metrics.py)

    def write_metrics(
        self, points: Sequence[PendingPoint], descriptions: dict[tuple[str, str], str] | None = None
    ) -> int:
        """Write a batch of points in one transaction; returns how many were written (see write_metric_batch)."""
        return self.write_metric_batch(points, descriptions).written

    def write_metric_batch(
        self, points: Sequence[PendingPoint], descriptions: dict[tuple[str, str], str] | None = None
    ) -> MetricWriteResult:
        """Write a batch of points in one transaction. Points of runs that have finished (Completed, Failed,
        Canceled) when the transaction runs are refused and counted per run, not written.

        Steps left as None continue the series after the last stored step (read in the same transaction, so
        two processes logging to one run do not collide). `descriptions` go with the batch's series.
        """
        if not points:
            return MetricWriteResult(0)
        return self.db.write("writing metrics", lambda conn: _metrics.write_points(conn, points, descriptions or {}))

    def get_summaries(self, run_ids: Sequence[str]) -> dict[str, list[MetricSummary]]:
        """Per run, its metrics' summaries in the order they were first logged."""
        return _metrics.get_summaries(self.db, run_ids)

    def count_points(self, run_id: str) -> int:
        """How many metric points the run has in the store (counted, not summed from the summaries)."""
        return _metrics.count_points(self.db, run_id)

    def get_series(self, run_id: str, names: Sequence[str] | None = None) -> list[MetricSeries]:
        """Every point of the run's metrics (all, or `names`), ordered by step."""
        return _metrics.get_series(self.db, run_id, names)

    # ------------------------------------------------------------------ artifacts

    def add_artifact(self, run_id: str, path: str, size: int) -> None:
        def work(conn: Connection) -> None:
            self._require_run(conn, run_id)
            stmt = dialect_insert(conn, artifact_t)
            stmt = stmt.on_conflict_do_update(
                index_elements=["run_id", "path"],
                set_={"size": stmt.excluded.size, "created_at": stmt.excluded.created_at},
            )
            conn.execute(stmt, {"run_id": run_id, "path": path, "size": size, "created_at": time.time()})
            bump(conn, [run_id])

        self.db.write("recording an artifact", work)

    def add_artifacts(self, run_id: str, items: Sequence[tuple[str, int]]) -> None:
        """Several artifacts (path, size) of one run in ONE transaction: a run's collected ./outputs may hold
        thousands of files, and a transaction each costs a commit each."""
        if not items:
            return
        now = time.time()

        def work(conn: Connection) -> None:
            self._require_run(conn, run_id)
            for chunk in chunks([path for path, _ in items]):
                conn.execute(delete(artifact_t).where(artifact_t.c.run_id == run_id, artifact_t.c.path.in_(chunk)))
            conn.execute(
                insert(artifact_t), [{"run_id": run_id, "path": p, "size": n, "created_at": now} for p, n in items]
            )
            bump(conn, [run_id])

        self.db.write("recording artifacts", work)

    def list_artifacts(self, run_id: str) -> list[ArtifactRecord]:
        with self.db.read() as conn:
            rows = conn.execute(
                select(artifact_t).where(artifact_t.c.run_id == run_id).order_by(artifact_t.c.path)
            ).all()
        return [ArtifactRecord(r.run_id, r.path, r.size, r.created_at) for r in rows]

    # ------------------------------------------------------------------ logs copied into the store (logs.py)

    def append_log(self, run_id: str, data: str, offset: int, stream: str = "output") -> int:
        """Append one chunk of the run's log; returns its sequence number (see runtui/store/logs.py)."""
        return _logs.append_log(self.db, run_id, data, offset, stream)

    def append_logs(self, items: Sequence[tuple[str, str, int, str]]) -> list[int]:
        """Append many chunks `(run_id, data, offset, stream)` in one transaction; their sequence numbers."""
        return _logs.append_logs(self.db, items)

    def read_log_chunks(self, run_id: str, after_seq: int = -1) -> list[tuple[int, int, str]]:
        """(seq, offset, data) of the run's log chunks after `after_seq`."""
        return _logs.read_log_chunks(self.db, run_id, after_seq)

    def log_extent(self, run_id: str) -> int | None:
        """The size in bytes of the run's stored log, or None when nothing of it is in the store."""
        return _logs.log_extent(self.db, run_id)

    def read_log_range(self, run_id: str, start: int, end: int) -> list[tuple[int, str]]:
        """(offset, data) of the chunks that overlap bytes [start, end) of the run's stored log, in order."""
        return _logs.read_log_range(self.db, run_id, start, end)

    # ------------------------------------------------------------------ model registry (registry.py)

    def register_model(
        self,
        name: str,
        *,
        path: str,
        source_path: str,
        run_id: str | None = None,
        experiment: str | None = None,
        description: str | None = None,
        framework: str | None = None,
        framework_version: str | None = None,
        tags: dict[str, str | None] | None = None,
        properties: dict[str, str] | None = None,
        size: int = 0,
    ) -> ModelRecord:
        """Register the next version of model `name` (1 for a new name), atomically on both backends."""
        return _registry.register_model(
            self.db,
            name,
            path=path,
            source_path=source_path,
            run_id=run_id,
            experiment=experiment,
            description=description,
            framework=framework,
            framework_version=framework_version,
            tags=tags or {},
            properties=properties or {},
            size=size,
        )

    def get_model(self, name: str, version: int | None = None) -> ModelRecord:
        """A model version (the latest when `version` is None); NotFoundError when there is none."""
        return _registry.get_model(self.db, name, version)

    def list_models(
        self,
        name: str | None = None,
        tags: dict[str, str | None] | Sequence[str] | None = None,
        properties: dict[str, str] | None = None,
        run_id: str | None = None,
        latest: bool = False,
    ) -> list[ModelRecord]:
        """Model versions matching every condition, newest first; `latest`: only each name's newest version.
        `tags`: keys (any value) or key -> value (None: key present with any value)."""
        return _registry.list_models(self.db, name=name, tags=tags, properties=properties, run_id=run_id, latest=latest)

    def set_model_tags(
        self, model_id: str, add: dict[str, str | None] | None = None, remove: Sequence[str] = ()
    ) -> ModelRecord:
        return _registry.set_model_tags(self.db, model_id, add or {}, list(remove))

    def update_model(
        self, model_id: str, *, description: str | None = None, properties: dict[str, str] | None = None
    ) -> ModelRecord:
        """Set the description and/or add properties (insert-only: a changed value raises)."""
        return _registry.update_model(self.db, model_id, description=description, properties=properties)

    def delete_model(self, model_id: str) -> None:
        _registry.delete_model(self.db, model_id)


_stores: dict[str, Store] = {}
_open_lock = threading.Lock()


def open_store(url: str) -> Store:
    """The shared Store for `url` in this process."""
    with _open_lock:
        store = _stores.get(url)
        if store is None:
            store = _stores[url] = Store(url)
        return store


def raise_store_error(message: str) -> None:
    raise StoreError(message)
