"""Reads for viewers that show a large store a piece at a time (the TUI's tree, details and charts).

Each function is one short read. They complement `Store`'s contract with queries shaped for lazy display:
per-experiment counts without loading runs, one page of runs under a parent, child counts for a set of runs,
down-sampled series, and "which of these runs match a filter". Kept in its own module so that the `Store`
class stays the SDK's contract and these viewer-shaped queries can grow without touching it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, true, update
from sqlalchemy.engine import Connection

from runtui.status import LIVE_VALUES, RunStatus
from runtui.store.db import (
    RUN_COLUMNS,
    chunks,
    experiment_t,
    point_t,
    run_t,
    series_t,
)
from runtui.store.metrics import decode_value, series_of
from runtui.store.records import ExperimentCounts, MetricSeries, RunPage, RunRecord, decode_special_float, run_record
from runtui.store.store import Store


def experiment_counts(store: Store, names: Sequence[str] | None = None) -> dict[str, ExperimentCounts]:
    """Per experiment (all, or `names`): its run count and live-run count.

    Two grouped reads, each served by an index: totals from the (experiment, created_at) index alone, live
    counts through the status index (live runs are few), so 100,000 runs cost a few tens of milliseconds.
    """
    totals: dict[str, int] = {}
    live: dict[str, int] = {}
    created: dict[str, float] = {}
    exp_stmt = select(experiment_t.c.name, experiment_t.c.created_at)
    total_stmt = select(run_t.c.experiment, func.count()).group_by(run_t.c.experiment)
    live_stmt = (
        select(run_t.c.experiment, func.count()).where(run_t.c.status.in_(LIVE_VALUES)).group_by(run_t.c.experiment)
    )
    with store.db.read() as conn:
        if names is None:
            created.update(conn.execute(exp_stmt).all())
            totals.update(conn.execute(total_stmt).all())
            live.update(conn.execute(live_stmt).all())
        else:
            for chunk in chunks(list(dict.fromkeys(names))):
                created.update(conn.execute(exp_stmt.where(experiment_t.c.name.in_(chunk))).all())
                totals.update(conn.execute(total_stmt.where(run_t.c.experiment.in_(chunk))).all())
                live.update(conn.execute(live_stmt.where(run_t.c.experiment.in_(chunk))).all())
    return {
        n: ExperimentCounts(n, totals.get(n, 0), live.get(n, 0), created.get(n, 0.0))
        for n in sorted(set(created) | set(totals))
    }


def archived_names(store: Store, names: Sequence[str] | None = None) -> set[str]:
    """Which experiments (all, or of `names`) are archived: names only, so that a viewer's refresh costs what
    the change holds, not what the store holds."""
    stmt = select(experiment_t.c.name).where(experiment_t.c.archived_at.is_not(None))
    out: set[str] = set()
    with store.db.read() as conn:
        if names is None:
            out.update(conn.execute(stmt).scalars())
        else:
            for chunk in chunks(list(dict.fromkeys(names))):
                out.update(conn.execute(stmt.where(experiment_t.c.name.in_(chunk))).scalars())
    return out


def run_page(
    store: Store,
    *,
    experiment: str | None = None,
    parent_id: str | None = None,
    before: tuple[float, str] | None = None,
    limit: int = 500,
    statuses: Sequence[RunStatus] | None = None,
) -> RunPage:
    """Top-level runs of `experiment` (or the children of `parent_id`), newest first, older than `before`."""
    conds: list[ColumnElement[bool]] = []
    if parent_id is not None:
        conds.append(run_t.c.parent_id == parent_id)
    else:
        if experiment is None:
            raise ValueError("run_page needs an experiment or a parent_id")
        conds.append(run_t.c.experiment == experiment)
        conds.append(run_t.c.parent_id.is_(None))
    if statuses:
        conds.append(run_t.c.status.in_([s.value for s in statuses]))
    if before is not None:
        conds.append(or_(run_t.c.created_at < before[0], and_(run_t.c.created_at == before[0], run_t.c.id < before[1])))
    stmt = (
        select(*RUN_COLUMNS).where(and_(*conds)).order_by(run_t.c.created_at.desc(), run_t.c.id.desc()).limit(limit + 1)
    )
    with store.db.read() as conn:
        rows = conn.execute(stmt).all()
    return RunPage([run_record(r) for r in rows[:limit]], more=len(rows) > limit)


def child_counts(store: Store, run_ids: Sequence[str]) -> dict[str, int]:
    """How many direct children each of `run_ids` has (runs without children are left out)."""
    out: dict[str, int] = {}
    with store.db.read() as conn:
        for chunk in chunks(list(dict.fromkeys(run_ids))):
            stmt = (
                select(run_t.c.parent_id, func.count()).where(run_t.c.parent_id.in_(chunk)).group_by(run_t.c.parent_id)
            )
            for parent, count in conn.execute(stmt):
                out[parent] = count
    return out


def matching_runs(
    store: Store,
    where: ColumnElement[bool] | None,
    *,
    statuses: Sequence[RunStatus] | None = None,
    run_ids: Sequence[str] | None = None,
    limit: int | None = None,
) -> list[RunRecord]:
    """Runs matching a compiled filter (and statuses), newest first; only among `run_ids` when given."""
    conds: list[ColumnElement[bool]] = []
    if where is not None:
        conds.append(where)
    if statuses:
        conds.append(run_t.c.status.in_([s.value for s in statuses]))
    base = select(*RUN_COLUMNS).where(and_(*conds) if conds else true())
    out: list[RunRecord] = []
    with store.db.read() as conn:
        if run_ids is not None:
            for chunk in chunks(list(dict.fromkeys(run_ids))):
                out.extend(run_record(r) for r in conn.execute(base.where(run_t.c.id.in_(chunk))))
            out.sort(key=lambda r: (r.created_at, r.id), reverse=True)
            return out[:limit] if limit is not None else out
        stmt = base.order_by(run_t.c.created_at.desc(), run_t.c.id.desc())
        if limit is not None:
            stmt = stmt.limit(limit)
        return [run_record(r) for r in conn.execute(stmt)]


def sampled_series(store: Store, run_id: str, name: str, max_points: int) -> MetricSeries:
    """A scalar series with at most about `max_points` points: buckets of consecutive steps, averaged.

    The averaging runs in the database, so a 50,000-step series costs one grouped scan, not 50,000 rows
    through Python.
    """
    if max_points < 1:
        raise ValueError("max_points must be at least 1")
    with store.db.read() as conn:
        summary = series_of(conn, run_id, name)
        series = MetricSeries(run_id, name, summary.kind if summary is not None else "scalar")
        if summary is None:
            return series
        base = point_t.c.series_id == summary.id
        if summary.n <= max_points:
            rows = conn.execute(
                select(point_t.c.step, point_t.c.value, point_t.c.text, point_t.c.time)
                .where(base)
                .order_by(point_t.c.step, point_t.c.id)
            ).all()
            for step, value, text, t in rows:
                series.steps.append(step)
                series.values.append(decode_value(summary.kind, value, text))
                series.times.append(t)
            return series
        width = max(1, math.ceil((summary.last_step + 1) / max_points))
        bucket = point_t.c.step // width
        buckets = conn.execute(
            select(func.min(point_t.c.step), func.avg(point_t.c.value), func.max(point_t.c.time))
            .where(base)
            .group_by(bucket)
            .order_by(bucket)
        ).all()
    for step, value, t in buckets:
        series.steps.append(int(step))
        series.values.append(None if value is None else float(value))
        series.times.append(t)
    return series


@dataclass(frozen=True, slots=True)
class Envelope:
    """A scalar series in buckets of `width` consecutive steps (bucket k holds steps k*width .. k*width+width-1):
    per bucket its first step, the mean, min and max of its values, and how many points it holds.

    min and max are the data's own, so a chart drawn from them keeps every spike, whatever the bucket size.
    """

    run_id: str
    name: str
    width: int
    steps: list[int] = field(default_factory=list)
    means: list[float | None] = field(default_factory=list)
    mins: list[float | None] = field(default_factory=list)
    maxs: list[float | None] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)


def sampled_envelope(store: Store, run_id: str, name: str, width: int, from_step: int = 0) -> Envelope:
    """The buckets of a scalar series from the one holding `from_step` on (one grouped scan in the database).

    A viewer that keeps `width` fixed can re-read only its last bucket and what came after it.
    """
    if width < 1:
        raise ValueError("width must be at least 1")
    out = Envelope(run_id, name, width)
    step_c, value_c = point_t.c.step, point_t.c.value
    with store.db.read() as conn:
        summary = series_of(conn, run_id, name)
        if summary is None or summary.kind != "scalar":
            return out
        bucket = step_c // width
        where = point_t.c.series_id == summary.id
        if from_step > 0:
            where = and_(where, step_c >= (from_step // width) * width)
        rows = conn.execute(
            select(func.min(step_c), func.avg(value_c), func.min(value_c), func.max(value_c), func.count(value_c))
            .where(where)
            .group_by(bucket)
            .order_by(bucket)
        ).all()
    for step, mean, lo, hi, n in rows:
        out.steps.append(int(step))
        out.means.append(None if mean is None else float(mean))
        out.mins.append(None if lo is None else float(lo))
        out.maxs.append(None if hi is None else float(hi))
        out.counts.append(int(n))
    return out


def set_run_times(
    store: Store,
    run_id: str,
    *,
    created_at: float,
    started_at: float | None = None,
    ended_at: float | None = None,
) -> None:
    """Pin a run's timestamps (deterministic demo stores and snapshot tests). Does not bump the revision."""

    def work(conn: Connection) -> None:
        conn.execute(
            update(run_t)
            .where(run_t.c.id == run_id)
            .values(created_at=created_at, started_at=started_at, ended_at=ended_at)
        )

    store.db.write("pinning run times", work)


# ---------------------------------------------------------------------- listing a whole store (`runtui ls`)

# Above this many runs, tags and headline metrics are read for the whole store in one go instead of by id.
BULK_THRESHOLD = 5000
# The run columns a listing reads, in this order.
ID, EXPERIMENT, PARENT, DISPLAY_NAME, STATUS, CREATED, STARTED, ENDED = range(8)
_LISTING_COLUMNS = [
    run_t.c.id,
    run_t.c.experiment,
    run_t.c.parent_id,
    run_t.c.display_name,
    run_t.c.status,
    run_t.c.created_at,
    run_t.c.started_at,
    run_t.c.ended_at,
]

Headline = tuple[str, "float | str | None"]


@dataclass(frozen=True, slots=True)
class RunListing:
    """Plain run tuples (columns as above, newest first), headline metrics and tags by run id."""

    rows: list[tuple[Any, ...]]
    metrics: dict[str, Headline]
    tags: dict[str, dict[str, str | None]]
    hidden: int  # matching runs left out because they are neither live nor recent


def plain_rows(conn: Connection, stmt: Select[Any]) -> list[Any]:
    """The rows as plain tuples straight from the DBAPI cursor. For a 100,000-row listing, building
    SQLAlchemy Row objects costs about as much as the query; these columns (text, numbers) need no conversion."""
    result = conn.execute(stmt)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def list_runs(
    store: Store,
    *,
    where: ColumnElement[bool] | None = None,
    experiment: str | None = None,
    everything: bool = False,
    limit: int = 50,
) -> RunListing:
    """The runs to list, newest first: all matching ones, or the live ones plus the `limit` newest.
    One read for the runs, one for the headline metrics, one for the tags: never a query per run."""
    conds: list[Any] = []
    if where is not None:
        conds.append(where)
    if experiment is not None:
        conds.append(run_t.c.experiment == experiment)
    cond = and_(true(), *conds)
    order = (run_t.c.created_at.desc(), run_t.c.id.desc())
    newest_first = itemgetter(CREATED, ID)
    hidden = 0
    with store.db.read() as conn:
        if everything:
            # Sorted here, not in SQL: for a whole-table read, Python's sort beats SQLite's.
            rows = plain_rows(conn, select(*_LISTING_COLUMNS).where(cond))
            rows.sort(key=newest_first, reverse=True)
        else:
            newest = plain_rows(conn, select(*_LISTING_COLUMNS).where(cond).order_by(*order).limit(limit))
            live = plain_rows(conn, select(*_LISTING_COLUMNS).where(cond, run_t.c.status.in_(LIVE_VALUES)))
            merged = {r[ID]: r for r in newest}
            for r in live:
                merged.setdefault(r[ID], r)
            rows = sorted(merged.values(), key=newest_first, reverse=True)
            if len(newest) == limit:
                total = conn.execute(select(func.count()).select_from(run_t).where(cond)).scalar_one()
                hidden = max(0, int(total) - len(rows))
    ids = [r[ID] for r in rows]
    tags = store.all_tags() if len(ids) > BULK_THRESHOLD else store.get_tags(ids)
    return RunListing(rows, headline_metrics(store, ids), tags, hidden)


def _distinct_on(stmt: Any, column: Any) -> Any:
    """PostgreSQL's `DISTINCT ON (column)`: through `postgresql.distinct_on` where SQLAlchemy has it (2.1; passing
    the column to `distinct()` is deprecated there), else the 2.0 spelling."""
    try:
        from sqlalchemy.dialects.postgresql import distinct_on
    except ImportError:  # SQLAlchemy 2.0
        return stmt.distinct(column)
    return stmt.ext(distinct_on(column))


def headline_metrics(store: Store, run_ids: Sequence[str]) -> dict[str, Headline]:
    """Per run, its headline metric: the first number or string it logged (system metrics `sys/*` left out),
    with its last value — the same choice as the TUI's tree (`runtui.tui.data.headline`).

    One row per run comes back from the database: SQLite fills the bare columns of a `min()` aggregate from
    the row holding the minimum; PostgreSQL has `DISTINCT ON`.
    """
    c = series_t.c
    cond = c.kind.in_(("scalar", "text")) & ~c.name.startswith("sys/", autoescape=True)
    cols = (c.run_id, c.name, c.kind, c.last, c.last_text)
    if store.sqlite:
        stmt = select(*cols, func.min(c.first_time)).where(cond).group_by(c.run_id)
    else:
        stmt = _distinct_on(select(*cols).where(cond), c.run_id).order_by(c.run_id, c.first_time, c.name)
    found: dict[str, Headline] = {}

    def take(rows: list[Any]) -> None:
        for run_id, name, kind, last, last_text in (row[:5] for row in rows):
            if kind == "text":
                found[run_id] = (name, last_text)
            else:
                found[run_id] = (name, last if last is not None else decode_special_float(last_text))

    with store.db.read() as conn:
        if len(run_ids) > BULK_THRESHOLD:
            take(plain_rows(conn, stmt))
        else:
            for chunk in chunks(list(run_ids)):
                take(plain_rows(conn, stmt.where(c.run_id.in_(chunk))))
    return found
