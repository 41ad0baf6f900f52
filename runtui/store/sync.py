"""Copying one store's records into another (`runtui sync`): for people who start alone on SQLite and grow.

What is copied: experiments, runs (every field, the status as it is), tags, properties, metric points, metric
summaries and artifact records. What is not: files. Log files, snapshots and artifact files stay in the run
folders on the host that ran them (the artifact *records* name them); the log copies a supervisor keeps in a
shared store are not made for runs that ran on a SQLite store.

Idempotent and incremental, by comparing contents (no bookkeeping to lose): a run whose row, tags, properties,
metric summaries and artifact records are the same on both sides is left alone, so running sync twice copies
nothing the second time; a run that changed in the source since (more metrics, a new tag, its final status) is
brought up to date. The source is the truth for the runs it holds: their copies are overwritten, other runs of
the target are never touched. Metric points are appended: a series whose target copy holds the first k points
(in logging order) gets points k+1... of the source; a target copy that does not match is copied again whole.

Each batch of runs is one write transaction on the target, stamped with one revision (viewers of the target see
a batch appear at once); an interrupted sync leaves whole batches and is finished by running it again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection

from runtui.errors import ValidationError
from runtui.store.engine import redact
from runtui.store.store import (
    RUN_COLUMNS,
    Store,
    _chunks,
    artifact_t,
    experiment_t,
    metric_t,
    prop_t,
    run_t,
    summary_t,
    tag_t,
)

BATCH_RUNS = 200
_FINISHED = ("Completed", "Failed", "Canceled")
POINT_PAGE = 50_000
POINT_COLUMNS = [
    metric_t.c.run_id,
    metric_t.c.name,
    metric_t.c.step,
    metric_t.c.value,
    metric_t.c.text,
    metric_t.c.kind,
    metric_t.c.time,
]
SUMMARY_COLUMNS = [c for c in summary_t.c]
ARTIFACT_COLUMNS = [artifact_t.c.run_id, artifact_t.c.path, artifact_t.c.size, artifact_t.c.created_at]
# Compared and copied as they are; `revision` is the target's own (stamped when the copy is written).
COPIED_RUN_COLUMNS = [c for c in RUN_COLUMNS if c.name != "revision"]


@dataclass
class SyncReport:
    """What one sync did."""

    source: str
    target: str
    experiments_created: int = 0
    runs_created: int = 0
    runs_updated: int = 0
    runs_unchanged: int = 0
    metric_points: int = 0
    live_runs: list[str] = field(default_factory=list)  # copied while still going: sync again when they end

    @property
    def runs_copied(self) -> int:
        return self.runs_created + self.runs_updated


@dataclass
class _RunData:
    """Everything sync compares for one run, on one side."""

    row: tuple[Any, ...]
    tags: set[tuple[str, str | None]] = field(default_factory=set)
    props: set[tuple[str, str]] = field(default_factory=set)
    summaries: set[tuple[Any, ...]] = field(default_factory=set)
    artifacts: set[tuple[Any, ...]] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)  # metric name -> points

    def same_as(self, other: _RunData) -> bool:
        return (
            self.row == other.row
            and self.tags == other.tags
            and self.props == other.props
            and self.summaries == other.summaries
            and self.artifacts == other.artifacts
            and self.counts == other.counts
        )


def _read(conn: Connection, run_ids: Sequence[str]) -> dict[str, _RunData]:
    out: dict[str, _RunData] = {}
    for row in conn.execute(select(*COPIED_RUN_COLUMNS).where(run_t.c.id.in_(run_ids))):
        out[row[0]] = _RunData(tuple(row))
    if not out:
        return out
    ids = list(out)
    for rid, key, value in conn.execute(
        select(tag_t.c.run_id, tag_t.c.key, tag_t.c.value).where(tag_t.c.run_id.in_(ids))
    ):
        out[rid].tags.add((key, value))
    for rid, key, value in conn.execute(
        select(prop_t.c.run_id, prop_t.c.key, prop_t.c.value).where(prop_t.c.run_id.in_(ids))
    ):
        out[rid].props.add((key, value))
    for row in conn.execute(select(*SUMMARY_COLUMNS).where(summary_t.c.run_id.in_(ids))):
        out[row[0]].summaries.add(tuple(row))
    for row in conn.execute(select(*ARTIFACT_COLUMNS).where(artifact_t.c.run_id.in_(ids))):
        out[row[0]].artifacts.add(tuple(row))
    for rid, name, count in conn.execute(
        select(metric_t.c.run_id, metric_t.c.name, func.count())
        .where(metric_t.c.run_id.in_(ids))
        .group_by(metric_t.c.run_id, metric_t.c.name)
    ):
        out[rid].counts[name] = int(count)
    return out


def _same_prefix(source: Connection, target: Connection, run_id: str, name: str, count: int) -> bool:
    """True when the target's `count` points of the series are the source's first `count` (in logging order)."""
    if count == 0:
        return True

    def last(conn: Connection) -> Any:
        return conn.execute(
            select(metric_t.c.step, metric_t.c.value, metric_t.c.text)
            .where(metric_t.c.run_id == run_id, metric_t.c.name == name)
            .order_by(metric_t.c.id)
            .offset(count - 1)
            .limit(1)
        ).first()

    mine, theirs = last(source), last(target)
    return mine is not None and theirs is not None and tuple(mine) == tuple(theirs)


def _copy_points(src: Connection, dst: Connection, target: Store, run_id: str, name: str, skip: int) -> int:
    """Append the series' points after the first `skip` (in logging order) to the target; returns how many."""
    series = (metric_t.c.run_id == run_id, metric_t.c.name == name)
    after: Any = None
    if skip:
        after = src.execute(
            select(metric_t.c.id).where(*series).order_by(metric_t.c.id).offset(skip - 1).limit(1)
        ).scalar()
    copied = 0
    while True:  # keyset pages: memory stays flat for a series of millions of points
        stmt = select(metric_t.c.id, *POINT_COLUMNS).where(*series)
        if after is not None:
            stmt = stmt.where(metric_t.c.id > after)
        rows = src.execute(stmt.order_by(metric_t.c.id).limit(POINT_PAGE)).all()
        if not rows:
            return copied
        target._insert_points(dst, [tuple(r[1:]) for r in rows])
        copied += len(rows)
        after = rows[-1][0]


def sync_stores(
    source: Store,
    target: Store,
    *,
    batch_runs: int = BATCH_RUNS,
    progress: Callable[[SyncReport], None] | None = None,
) -> SyncReport:
    """Copy `source`'s records into `target` (see the module docstring); returns what was done."""
    if source.url == target.url:
        raise ValidationError(f"source and target are the same store ({redact(source.url)}); nothing to sync")
    report = SyncReport(redact(source.url), redact(target.url))
    _sync_experiments(source, target, report)
    with source._read() as conn:
        # Oldest first, so that a parent is copied in the same or an earlier batch than its children.
        run_ids = list(conn.execute(select(run_t.c.id).order_by(run_t.c.created_at, run_t.c.id)).scalars())
    for batch in _chunks(run_ids, batch_runs):
        _sync_batch(source, target, list(batch), report)
        if progress is not None:
            progress(report)
    return report


def _sync_experiments(source: Store, target: Store, report: SyncReport) -> None:
    mine = {e.name: e.created_at for e in source.list_experiments()}
    theirs = {e.name for e in target.list_experiments()}
    missing = [{"name": n, "created_at": t} for n, t in mine.items() if n not in theirs]
    if not missing:
        return

    def work(conn: Connection) -> int:
        present = set(conn.execute(select(experiment_t.c.name)).scalars())
        rows = [m for m in missing if m["name"] not in present]
        if rows:
            conn.execute(insert(experiment_t), rows)
            Store._bump(conn)
        return len(rows)

    report.experiments_created += target._write("copying experiments", work)


def _sync_batch(source: Store, target: Store, run_ids: list[str], report: SyncReport) -> None:
    with source._read() as src:
        mine = _read(src, run_ids)
    with target._read() as dst:
        theirs = _read(dst, run_ids)
    changed = [rid for rid in run_ids if rid in mine and (rid not in theirs or not mine[rid].same_as(theirs[rid]))]
    report.runs_unchanged += len(mine) - len(changed)
    if not changed:
        return
    status_at = [c.name for c in COPIED_RUN_COLUMNS].index("status")

    def work(dst: Connection) -> tuple[int, int]:
        # Re-read the target inside the write transaction: what another sync wrote meanwhile counts.
        current = _read(dst, changed)
        points = 0
        with source._read() as src:
            for rid in changed:
                data = mine[rid]
                old = current.get(rid)
                _write_run(dst, data, old is not None)
                for name, count in data.counts.items():
                    have = old.counts.get(name, 0) if old is not None else 0
                    if have > count or not _same_prefix(src, dst, rid, name, have):
                        dst.execute(delete(metric_t).where(metric_t.c.run_id == rid, metric_t.c.name == name))
                        have = 0
                    if have < count:
                        points += _copy_points(src, dst, target, rid, name, have)
                stale = set(old.counts) - set(data.counts) if old is not None else set()
                if stale:
                    dst.execute(delete(metric_t).where(metric_t.c.run_id == rid, metric_t.c.name.in_(sorted(stale))))
        Store._bump(dst, changed)
        return sum(1 for rid in changed if rid not in current), points

    # Counted after the commit: a retried transaction must not count twice.
    created, points = target._write("copying runs", work)
    report.runs_created += created
    report.runs_updated += len(changed) - created
    report.metric_points += points
    report.live_runs.extend(rid for rid in changed if mine[rid].row[status_at] not in _FINISHED)


def _write_run(dst: Connection, data: _RunData, exists: bool) -> None:
    rid = data.row[0]
    values = {c.name: v for c, v in zip(COPIED_RUN_COLUMNS, data.row, strict=True)}
    if exists:
        values.pop("id")
        dst.execute(run_t.update().where(run_t.c.id == rid).values(**values))
    else:
        dst.execute(insert(run_t).values(**values, revision=0))  # stamped by the batch's bump
    for table, rows, columns in (
        (tag_t, data.tags, ("key", "value")),
        (prop_t, data.props, ("key", "value")),
    ):
        dst.execute(delete(table).where(table.c.run_id == rid))
        if rows:
            dst.execute(insert(table), [{"run_id": rid, **dict(zip(columns, r, strict=True))} for r in rows])
    dst.execute(delete(summary_t).where(summary_t.c.run_id == rid))
    if data.summaries:
        names = [c.name for c in SUMMARY_COLUMNS]
        dst.execute(insert(summary_t), [dict(zip(names, r, strict=True)) for r in data.summaries])
    dst.execute(delete(artifact_t).where(artifact_t.c.run_id == rid))
    if data.artifacts:
        names = [c.name for c in ARTIFACT_COLUMNS]
        dst.execute(insert(artifact_t), [dict(zip(names, r, strict=True)) for r in data.artifacts])


__all__ = ["SyncReport", "sync_stores"]
