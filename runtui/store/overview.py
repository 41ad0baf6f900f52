"""Reads for viewers that show a large store a piece at a time (the TUI's tree, details and charts).

Each function is one short read. They complement `Store`'s contract with queries shaped for lazy display:
per-experiment counts without loading runs, one page of runs under a parent, child counts for a set of runs,
down-sampled series, and "which of these runs match a filter". Kept in its own module so that the `Store`
class stays the SDK's contract and these viewer-shaped queries can grow without touching it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, or_, select, true, update
from sqlalchemy.engine import Connection

from runtui.status import TERMINAL, RunStatus
from runtui.store.records import MetricSeries, RunRecord
from runtui.store.store import (
    RUN_COLUMNS,
    Store,
    _chunks,
    _run_record,
    decode_special_float,
    experiment_t,
    metric_t,
    run_t,
    summary_t,
)

LIVE_VALUES = [s.value for s in RunStatus if s not in TERMINAL]


@dataclass(frozen=True, slots=True)
class ExperimentCounts:
    """How many runs an experiment holds, and how many of them are live (not finished)."""

    name: str
    total: int
    live: int
    created_at: float


@dataclass(frozen=True, slots=True)
class RunPage:
    """One page of runs under an experiment or a parent run, newest first."""

    runs: list[RunRecord]
    more: bool  # True when older runs remain after this page


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
    with store._read() as conn:
        if names is None:
            created.update(conn.execute(exp_stmt).all())
            totals.update(conn.execute(total_stmt).all())
            live.update(conn.execute(live_stmt).all())
        else:
            for chunk in _chunks(list(dict.fromkeys(names))):
                created.update(conn.execute(exp_stmt.where(experiment_t.c.name.in_(chunk))).all())
                totals.update(conn.execute(total_stmt.where(run_t.c.experiment.in_(chunk))).all())
                live.update(conn.execute(live_stmt.where(run_t.c.experiment.in_(chunk))).all())
    return {
        n: ExperimentCounts(n, totals.get(n, 0), live.get(n, 0), created.get(n, 0.0))
        for n in sorted(set(created) | set(totals))
    }


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
    with store._read() as conn:
        rows = conn.execute(stmt).all()
    return RunPage([_run_record(r) for r in rows[:limit]], more=len(rows) > limit)


def child_counts(store: Store, run_ids: Sequence[str]) -> dict[str, int]:
    """How many direct children each of `run_ids` has (runs without children are left out)."""
    out: dict[str, int] = {}
    with store._read() as conn:
        for chunk in _chunks(list(dict.fromkeys(run_ids))):
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
    with store._read() as conn:
        if run_ids is not None:
            for chunk in _chunks(list(dict.fromkeys(run_ids))):
                out.extend(_run_record(r) for r in conn.execute(base.where(run_t.c.id.in_(chunk))))
            out.sort(key=lambda r: (r.created_at, r.id), reverse=True)
            return out[:limit] if limit is not None else out
        stmt = base.order_by(run_t.c.created_at.desc(), run_t.c.id.desc())
        if limit is not None:
            stmt = stmt.limit(limit)
        return [_run_record(r) for r in conn.execute(stmt)]


def sampled_series(store: Store, run_id: str, name: str, max_points: int) -> MetricSeries:
    """A scalar series with at most about `max_points` points: buckets of consecutive steps, averaged.

    The averaging runs in the database, so a 50,000-step series costs one grouped scan, not 50,000 rows
    through Python.
    """
    if max_points < 1:
        raise ValueError("max_points must be at least 1")
    with store._read() as conn:
        summary = conn.execute(
            select(summary_t.c.count.label("n"), summary_t.c.last_step, summary_t.c.kind).where(
                summary_t.c.run_id == run_id, summary_t.c.name == name
            )
        ).first()
        series = MetricSeries(run_id, name, summary.kind if summary is not None else "scalar")
        if summary is None:
            return series
        base = and_(metric_t.c.run_id == run_id, metric_t.c.name == name)
        if summary.n <= max_points:
            rows = conn.execute(
                select(metric_t.c.step, metric_t.c.value, metric_t.c.text, metric_t.c.time)
                .where(base)
                .order_by(metric_t.c.step, metric_t.c.id)
            ).all()
            for step, value, text, t in rows:
                series.steps.append(step)
                series.values.append(value if value is not None else decode_special_float(text))
                series.times.append(t)
            return series
        width = max(1, math.ceil((summary.last_step + 1) / max_points))
        bucket = metric_t.c.step // width
        buckets = conn.execute(
            select(func.min(metric_t.c.step), func.avg(metric_t.c.value), func.max(metric_t.c.time))
            .where(base)
            .group_by(bucket)
            .order_by(bucket)
        ).all()
    for step, value, t in buckets:
        series.steps.append(int(step))
        series.values.append(None if value is None else float(value))
        series.times.append(t)
    return series


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

    store._write("pinning run times", work)
