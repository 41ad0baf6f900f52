"""Experiments in the store: atomic get-or-create, archiving, tags, and deleting one with everything of its runs."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, select, true, update
from sqlalchemy.engine import Connection

from runtui.errors import NotFoundError
from runtui.store.db import (
    Database,
    artifact_t,
    bump,
    chunks,
    dialect_insert,
    exp_tag_t,
    experiment_t,
    log_t,
    point_t,
    prop_t,
    run_t,
    series_t,
    tag_t,
)
from runtui.store.records import ExperimentRecord


def _experiment_record(row: Any, tags: dict[str, str | None]) -> ExperimentRecord:
    return ExperimentRecord(row.name, row.created_at, row.id, row.archived_at, tags, row.revision)


def experiment_rows(conn: Connection, where: ColumnElement[bool]) -> list[ExperimentRecord]:
    rows = conn.execute(select(experiment_t).where(where).order_by(experiment_t.c.name)).all()
    if not rows:
        return []
    tags: dict[str, dict[str, str | None]] = {r.name: {} for r in rows}
    for chunk in chunks(list(tags)):
        for exp, key, value in conn.execute(
            select(exp_tag_t.c.experiment, exp_tag_t.c.key, exp_tag_t.c.value).where(exp_tag_t.c.experiment.in_(chunk))
        ):
            tags[exp][key] = value
    return [_experiment_record(r, tags[r.name]) for r in rows]


def upsert_experiments(conn: Connection, names: Sequence[str], now: float) -> int:
    """Create the experiments that do not exist yet, atomically on both backends; returns how many were new."""
    stmt = dialect_insert(conn, experiment_t).on_conflict_do_nothing(index_elements=["name"])
    created = 0
    for name in dict.fromkeys(names):
        result = conn.execute(stmt, {"name": name, "created_at": now, "id": str(uuid.uuid4()), "revision": 0})
        created += max(result.rowcount, 0)
    return created


def ensure_experiment(db: Database, name: str) -> ExperimentRecord:
    """The experiment, created first when missing (an atomic upsert: many processes may race here)."""
    found = get_experiment(db, name)
    if found is not None:
        return found

    def work(conn: Connection) -> ExperimentRecord:
        if upsert_experiments(conn, [name], time.time()):
            rev = bump(conn)
            conn.execute(update(experiment_t).where(experiment_t.c.name == name).values(revision=rev))
        return experiment_rows(conn, experiment_t.c.name == name)[0]

    return db.write("creating an experiment", work)


def get_experiment(db: Database, name: str) -> ExperimentRecord | None:
    with db.read() as conn:
        found = experiment_rows(conn, experiment_t.c.name == name)
    return found[0] if found else None


def list_experiments(db: Database, include_archived: bool = False) -> list[ExperimentRecord]:
    where = true() if include_archived else experiment_t.c.archived_at.is_(None)
    with db.read() as conn:
        return experiment_rows(conn, where)


def _change(db: Database, what: str, name: str, fn: Callable[[Connection], Any]) -> Any:
    def work(conn: Connection) -> Any:
        if conn.execute(select(experiment_t.c.name).where(experiment_t.c.name == name)).first() is None:
            raise NotFoundError(f"no experiment named {name!r}")
        result = fn(conn)
        if result is not False:
            rev = bump(conn)
            conn.execute(update(experiment_t).where(experiment_t.c.name == name).values(revision=rev))
        return result

    return db.write(what, work)


def archive_experiment(db: Database, name: str) -> ExperimentRecord:
    """Hide the experiment from default listings (its runs stay). Archiving twice keeps the first time."""

    def work(conn: Connection) -> bool:
        result = conn.execute(
            update(experiment_t)
            .where(experiment_t.c.name == name, experiment_t.c.archived_at.is_(None))
            .values(archived_at=time.time())
        )
        return result.rowcount > 0

    _change(db, "archiving an experiment", name, work)
    return _must_get(db, name)


def reactivate_experiment(db: Database, name: str) -> ExperimentRecord:
    def work(conn: Connection) -> bool:
        result = conn.execute(
            update(experiment_t)
            .where(experiment_t.c.name == name, experiment_t.c.archived_at.is_not(None))
            .values(archived_at=None)
        )
        return result.rowcount > 0

    _change(db, "re-activating an experiment", name, work)
    return _must_get(db, name)


def set_experiment_tags(db: Database, name: str, tags: dict[str, str | None]) -> ExperimentRecord:
    if tags:

        def work(conn: Connection) -> None:
            stmt = dialect_insert(conn, exp_tag_t)
            stmt = stmt.on_conflict_do_update(index_elements=["experiment", "key"], set_={"value": stmt.excluded.value})
            conn.execute(stmt, [{"experiment": name, "key": k, "value": v} for k, v in tags.items()])

        _change(db, "tagging an experiment", name, work)
    return _must_get(db, name)


def remove_experiment_tags(db: Database, name: str, keys: Sequence[str]) -> list[str]:
    """Remove tags; returns the keys that were there."""
    present: list[str] = []

    def work(conn: Connection) -> bool:
        for chunk in chunks(list(dict.fromkeys(keys))):
            cond = and_(exp_tag_t.c.experiment == name, exp_tag_t.c.key.in_(chunk))
            present.extend(conn.execute(select(exp_tag_t.c.key).where(cond)).scalars())
            conn.execute(delete(exp_tag_t).where(cond))
        return bool(present)

    _change(db, "removing experiment tags", name, work)
    return present


def delete_experiment(db: Database, name: str) -> list[str]:
    """Delete the experiment, its runs and every row that belongs to them; returns the run ids (so that the
    caller removes their folders)."""

    def work(conn: Connection) -> list[str]:
        if conn.execute(select(experiment_t.c.name).where(experiment_t.c.name == name)).first() is None:
            raise NotFoundError(f"no experiment named {name!r}")
        run_ids = list(conn.execute(select(run_t.c.id).where(run_t.c.experiment == name)).scalars())
        delete_run_rows(conn, run_ids)
        conn.execute(delete(exp_tag_t).where(exp_tag_t.c.experiment == name))
        conn.execute(delete(experiment_t).where(experiment_t.c.name == name))
        bump(conn)
        return run_ids

    return db.write("deleting an experiment", work)


def delete_runs(db: Database, run_ids: Sequence[str]) -> int:
    """Delete runs and every row that belongs to them (not their children: pass those too); returns how
    many runs were deleted."""

    def work(conn: Connection) -> int:
        n = delete_run_rows(conn, list(dict.fromkeys(run_ids)))
        if n:
            bump(conn)
        return n

    return db.write("deleting runs", work) if run_ids else 0


def _must_get(db: Database, name: str) -> ExperimentRecord:
    found = get_experiment(db, name)
    if found is None:
        raise NotFoundError(f"no experiment named {name!r}")
    return found


def delete_run_rows(conn: Connection, run_ids: list[str]) -> int:
    """Delete runs and the rows that belong to them (tags, properties, metrics, artifacts, log chunks)."""
    deleted = 0
    for chunk in chunks(run_ids):
        series_ids = select(series_t.c.id).where(series_t.c.run_id.in_(chunk)).scalar_subquery()
        conn.execute(delete(point_t).where(point_t.c.series_id.in_(series_ids)))
        for table in (series_t, tag_t, prop_t, artifact_t, log_t):
            conn.execute(delete(table).where(table.c.run_id.in_(chunk)))
        deleted += conn.execute(delete(run_t).where(run_t.c.id.in_(chunk))).rowcount
    return deleted
