"""Copying one store's records into another (`runtui sync`): for people who start alone on SQLite and grow.

What is copied: experiments (id, archived state, tags), runs (every field, the status as it is), tags,
properties, metric series (their summaries) and points, artifact records and model registry records.
What is not: files. Log files, snapshots and artifact files stay in the run
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

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection

from runtui.errors import ValidationError
from runtui.store.db import (
    RUN_COLUMNS,
    artifact_t,
    bump,
    chunks,
    dialect_insert,
    exp_tag_t,
    experiment_t,
    model_t,
    point_t,
    prop_t,
    run_t,
    series_t,
    stamp,
    tag_t,
)
from runtui.store.engine import redact
from runtui.store.metrics import insert_points
from runtui.store.store import Store

BATCH_RUNS = 200
_FINISHED = ("Completed", "Failed", "Canceled")
POINT_PAGE = 50_000
POINT_COLUMNS = [point_t.c.step, point_t.c.value, point_t.c.time, point_t.c.text]
# A series is compared and copied without its id (each store numbers its own series).
SUMMARY_COLUMNS = [c for c in series_t.c if c.name != "id"]
ARTIFACT_COLUMNS = [artifact_t.c.run_id, artifact_t.c.path, artifact_t.c.size, artifact_t.c.created_at]
# Compared and copied as they are; `revision` is the target's own (stamped when the copy is written).
COPIED_RUN_COLUMNS = [c for c in RUN_COLUMNS if c.name != "revision"]


@dataclass
class SyncReport:
    """What one sync did."""

    source: str
    target: str
    experiments_created: int = 0
    models_copied: int = 0
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
    for row in conn.execute(select(*SUMMARY_COLUMNS).where(series_t.c.run_id.in_(ids))):
        out[row[0]].summaries.add(tuple(row))
    for row in conn.execute(select(*ARTIFACT_COLUMNS).where(artifact_t.c.run_id.in_(ids))):
        out[row[0]].artifacts.add(tuple(row))
    for rid, name, count in conn.execute(
        select(series_t.c.run_id, series_t.c.name, func.count(point_t.c.id))
        .select_from(series_t.join(point_t, point_t.c.series_id == series_t.c.id))
        .where(series_t.c.run_id.in_(ids))
        .group_by(series_t.c.run_id, series_t.c.name)
    ):
        out[rid].counts[name] = int(count)
    return out


def _series_id(conn: Connection, run_id: str, name: str) -> int | None:
    found = conn.execute(select(series_t.c.id).where(series_t.c.run_id == run_id, series_t.c.name == name)).scalar()
    return None if found is None else int(found)


def _same_prefix(source: Connection, target: Connection, run_id: str, name: str, count: int) -> bool:
    """True when the target's `count` points of the series are the source's first `count` (in logging order)."""
    if count == 0:
        return True

    def last(conn: Connection) -> Any:
        sid = _series_id(conn, run_id, name)
        return conn.execute(
            select(point_t.c.step, point_t.c.value, point_t.c.text)
            .where(point_t.c.series_id == sid)
            .order_by(point_t.c.id)
            .offset(count - 1)
            .limit(1)
        ).first()

    mine, theirs = last(source), last(target)
    return mine is not None and theirs is not None and tuple(mine) == tuple(theirs)


def _copy_points(src: Connection, dst: Connection, run_id: str, name: str, skip: int) -> int:
    """Append the series' points after the first `skip` (in logging order) to the target; returns how many."""
    src_sid, dst_sid = _series_id(src, run_id, name), _series_id(dst, run_id, name)
    if src_sid is None or dst_sid is None:
        return 0
    after: Any = None
    if skip:
        after = src.execute(
            select(point_t.c.id).where(point_t.c.series_id == src_sid).order_by(point_t.c.id).offset(skip - 1).limit(1)
        ).scalar()
    copied = 0
    while True:  # keyset pages: memory stays flat for a series of millions of points
        stmt = select(point_t.c.id, *POINT_COLUMNS).where(point_t.c.series_id == src_sid)
        if after is not None:
            stmt = stmt.where(point_t.c.id > after)
        rows = src.execute(stmt.order_by(point_t.c.id).limit(POINT_PAGE)).all()
        if not rows:
            return copied
        insert_points(dst, [(dst_sid, *r[1:]) for r in rows])
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
    _sync_models(source, target, report)
    with source.db.read() as conn:
        # Oldest first, so that a parent is copied in the same or an earlier batch than its children.
        run_ids = list(conn.execute(select(run_t.c.id).order_by(run_t.c.created_at, run_t.c.id)).scalars())
    for batch in chunks(run_ids, batch_runs):
        _sync_batch(source, target, list(batch), report)
        if progress is not None:
            progress(report)
    return report


def _sync_experiments(source: Store, target: Store, report: SyncReport) -> None:
    """Missing experiments are created (with the source's id); archived state and tags follow the source."""
    mine = {e.name: e for e in source.list_experiments(include_archived=True)}
    theirs = {e.name: e for e in target.list_experiments(include_archived=True)}
    todo = [
        e
        for e in mine.values()
        if e.name not in theirs or (theirs[e.name].archived_at, theirs[e.name].tags) != (e.archived_at, e.tags)
    ]
    if not todo:
        return

    def work(conn: Connection) -> int:
        rev = bump(conn)
        present = {r[0]: r[1] for r in conn.execute(select(experiment_t.c.name, experiment_t.c.id))}
        used_ids = set(present.values())
        created = 0
        for e in todo:
            inserted = 0
            if e.name not in present:
                # An upsert with no conflict target: another process may create the same experiment meanwhile
                # (then the update below applies), and an Azure id already taken gets a fresh one.
                stmt = dialect_insert(conn, experiment_t).on_conflict_do_nothing()
                row = {"name": e.name, "created_at": e.created_at, "archived_at": e.archived_at, "revision": rev}
                for exp_id in (e.id if e.id and e.id not in used_ids else None, str(uuid.uuid4())):
                    if exp_id is not None and not inserted:
                        inserted = max(conn.execute(stmt, {**row, "id": exp_id}).rowcount, 0)
                created += inserted
            if not inserted:
                conn.execute(
                    update(experiment_t)
                    .where(experiment_t.c.name == e.name)
                    .values(archived_at=e.archived_at, revision=rev)
                )
            conn.execute(delete(exp_tag_t).where(exp_tag_t.c.experiment == e.name))
            if e.tags:
                conn.execute(
                    insert(exp_tag_t), [{"experiment": e.name, "key": k, "value": v} for k, v in e.tags.items()]
                )
        return created

    report.experiments_created += target.db.write("copying experiments", work)


def _sync_models(source: Store, target: Store, report: SyncReport) -> None:
    """Model registry records the target lacks (by id) are copied; the registered files are not."""
    with source.db.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(model_t))]
    if not rows:
        return

    def work(conn: Connection) -> int:
        stmt = dialect_insert(conn, model_t).on_conflict_do_nothing(index_elements=["id"])
        copied = sum(max(conn.execute(stmt, row).rowcount, 0) for row in rows)
        if copied:
            bump(conn)
        return copied

    report.models_copied += target.db.write("copying model records", work)


def _sync_batch(source: Store, target: Store, run_ids: list[str], report: SyncReport) -> None:
    with source.db.read() as src:
        mine = _read(src, run_ids)
    with target.db.read() as dst:
        theirs = _read(dst, run_ids)
    changed = [rid for rid in run_ids if rid in mine and (rid not in theirs or not mine[rid].same_as(theirs[rid]))]
    report.runs_unchanged += len(mine) - len(changed)
    if not changed:
        return
    status_at = [c.name for c in COPIED_RUN_COLUMNS].index("status")

    def work(dst: Connection) -> tuple[int, int]:
        # Re-read the target inside the write transaction: what another sync wrote meanwhile counts.
        rev = bump(dst)  # first: on PostgreSQL it serialises this with metric writers
        current = _read(dst, changed)
        points = 0
        with source.db.read() as src:
            for rid in changed:
                data = mine[rid]
                old = current.get(rid)
                _write_run(dst, data, old is not None)
                for name, count in data.counts.items():
                    have = old.counts.get(name, 0) if old is not None else 0
                    if have > count or not _same_prefix(src, dst, rid, name, have):
                        sid = _series_id(dst, rid, name)
                        dst.execute(delete(point_t).where(point_t.c.series_id == sid))
                        have = 0
                    if have < count:
                        points += _copy_points(src, dst, rid, name, have)
        stamp(dst, rev, changed)
        return sum(1 for rid in changed if rid not in current), points

    # Counted after the commit: a retried transaction must not count twice.
    created, points = target.db.write("copying runs", work)
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
    # Series keep their target ids (their points refer to them): upsert by (run_id, name), drop the stale ones.
    names = [c.name for c in SUMMARY_COLUMNS]
    wanted = {r[1] for r in data.summaries}
    stale = [
        sid
        for sid, name in dst.execute(select(series_t.c.id, series_t.c.name).where(series_t.c.run_id == rid))
        if name not in wanted
    ]
    if stale:
        dst.execute(delete(point_t).where(point_t.c.series_id.in_(stale)))
        dst.execute(delete(series_t).where(series_t.c.id.in_(stale)))
    if data.summaries:
        stmt = dialect_insert(dst, series_t)
        stmt = stmt.on_conflict_do_update(
            index_elements=["run_id", "name"],
            set_={n: stmt.excluded[n] for n in names if n not in ("run_id", "name")},
        )
        dst.execute(stmt, [dict(zip(names, r, strict=True)) for r in data.summaries])
    dst.execute(delete(artifact_t).where(artifact_t.c.run_id == rid))
    if data.artifacts:
        names = [c.name for c in ARTIFACT_COLUMNS]
        dst.execute(insert(artifact_t), [dict(zip(names, r, strict=True)) for r in data.artifacts])


__all__ = ["SyncReport", "sync_stores"]
