"""The model registry's rows: versions numbered per name, tags (mutable) and properties (insert-only) as JSON.

The files of a registered version live in the store's folder (`models/<name>/<version>`); copying them is the
caller's job (the SDK), this module keeps the records.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection

from runtui.errors import NotFoundError, PropertyOverwriteError, ValidationError
from runtui.store.db import Database, bump, model_t
from runtui.store.records import ModelRecord

_COLUMNS = [
    model_t.c.id,
    model_t.c.name,
    model_t.c.version,
    model_t.c.run_id,
    model_t.c.experiment,
    model_t.c.path,
    model_t.c.source_path,
    model_t.c.description,
    model_t.c.created_at,
    model_t.c.framework,
    model_t.c.framework_version,
    model_t.c.tags_json,
    model_t.c.properties_json,
    model_t.c.size,
]


def _record(row: Any) -> ModelRecord:
    return ModelRecord(
        id=row[0],
        name=row[1],
        version=row[2],
        run_id=row[3],
        experiment=row[4],
        path=row[5],
        source_path=row[6],
        description=row[7],
        created_at=row[8],
        framework=row[9],
        framework_version=row[10],
        tags=json.loads(row[11] or "{}"),
        properties=json.loads(row[12] or "{}"),
        size=row[13],
    )


def check_model_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationError("a model name must be a non-empty string")
    if len(name) > 255 or ":" in name or "/" in name or "\\" in name or name in (".", ".."):
        raise ValidationError(
            f"invalid model name {name[:80]!r}: at most 255 characters, without ':', '/' or '\\' (and not . or ..)"
        )
    if any(ord(c) < 32 for c in name):
        raise ValidationError(f"invalid model name {name[:80]!r}: control characters are not allowed")
    return name


def _check_map(value: object, what: str, nullable: bool) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError(f"{what} must be a dict of str to str")
    for k, v in value.items():
        if not isinstance(k, str) or not (isinstance(v, str) or (nullable and v is None)):
            raise ValidationError(f"{what} must map str to str{' or None' if nullable else ''}: {k!r} -> {v!r}")
    return value


def register_model(
    db: Database,
    name: str,
    *,
    path: str,
    source_path: str,
    run_id: str | None,
    experiment: str | None,
    description: str | None,
    framework: str | None,
    framework_version: str | None,
    tags: dict[str, str | None],
    properties: dict[str, str],
    size: int,
) -> ModelRecord:
    check_model_name(name)
    _check_map(tags, "model tags", nullable=True)
    _check_map(properties, "model properties", nullable=False)

    def work(conn: Connection) -> ModelRecord:
        # The bump first: on PostgreSQL its row lock serialises registrations, so two processes never take the
        # same version (SQLite's BEGIN IMMEDIATE already does); the UNIQUE(name, version) backs it up.
        bump(conn)
        top = conn.execute(select(func.max(model_t.c.version)).where(model_t.c.name == name)).scalar()
        version = int(top or 0) + 1
        row = {
            "id": f"{name}:{version}",
            "name": name,
            "version": version,
            "run_id": run_id,
            "experiment": experiment,
            "path": path,
            "source_path": source_path,
            "description": description,
            "created_at": time.time(),
            "framework": framework,
            "framework_version": framework_version,
            "tags_json": json.dumps(tags),
            "properties_json": json.dumps(properties),
            "size": int(size),
        }
        conn.execute(insert(model_t).values(**row))
        return _record([row[c.name] for c in _COLUMNS])

    return db.write("registering a model", work)


def _get(conn: Connection, model_id: str) -> ModelRecord:
    row = conn.execute(select(*_COLUMNS).where(model_t.c.id == model_id)).first()
    if row is None:
        raise NotFoundError(f"no model with id {model_id!r}")
    return _record(row)


def get_model(db: Database, name: str, version: int | None = None) -> ModelRecord:
    stmt = select(*_COLUMNS).where(model_t.c.name == name)
    stmt = stmt.where(model_t.c.version == version) if version is not None else stmt.order_by(model_t.c.version.desc())
    with db.read() as conn:
        row = conn.execute(stmt.limit(1)).first()
    if row is None:
        which = f"version {version} of model" if version is not None else "model named"
        raise NotFoundError(f"no {which} {name!r}")
    return _record(row)


def list_models(
    db: Database,
    *,
    name: str | None,
    tags: dict[str, str | None] | Sequence[str] | None,
    properties: dict[str, str] | None,
    run_id: str | None,
    latest: bool,
) -> list[ModelRecord]:
    stmt = select(*_COLUMNS)
    if name is not None:
        stmt = stmt.where(model_t.c.name == name)
    if run_id is not None:
        stmt = stmt.where(model_t.c.run_id == run_id)
    stmt = stmt.order_by(model_t.c.created_at.desc(), model_t.c.name, model_t.c.version.desc())
    with db.read() as conn:
        records = [_record(r) for r in conn.execute(stmt)]
    if latest:
        top: dict[str, int] = {}
        for m in records:
            top[m.name] = max(top.get(m.name, 0), m.version)
        records = [m for m in records if m.version == top[m.name]]
    wanted_tags = dict.fromkeys(tags) if tags is not None and not isinstance(tags, dict) else (tags or {})
    # Tags and properties are JSON in one column each; the registry is small, so they are matched here.
    return [
        m
        for m in records
        if all(k in m.tags and (v is None or m.tags[k] == v) for k, v in wanted_tags.items())
        and all(m.properties.get(k) == v for k, v in (properties or {}).items())
    ]


def set_model_tags(db: Database, model_id: str, add: dict[str, str | None], remove: list[str]) -> ModelRecord:
    _check_map(add, "model tags", nullable=True)

    def work(conn: Connection) -> ModelRecord:
        bump(conn)  # serialises read-modify-write of the JSON column on PostgreSQL
        current = _get(conn, model_id)
        tags = {k: v for k, v in current.tags.items() if k not in remove}
        tags.update(add)
        conn.execute(update(model_t).where(model_t.c.id == model_id).values(tags_json=json.dumps(tags)))
        return _get(conn, model_id)

    return db.write("tagging a model", work)


def update_model(
    db: Database, model_id: str, *, description: str | None, properties: dict[str, str] | None
) -> ModelRecord:
    if properties is not None:
        _check_map(properties, "model properties", nullable=False)

    def work(conn: Connection) -> ModelRecord:
        bump(conn)
        current = _get(conn, model_id)
        values: dict[str, Any] = {}
        if description is not None:
            values["description"] = description
        if properties:
            merged = dict(current.properties)
            for k, v in properties.items():
                if k in merged and merged[k] != v:
                    raise PropertyOverwriteError(model_id, k, merged[k], v)
                merged[k] = v
            values["properties_json"] = json.dumps(merged)
        if values:
            conn.execute(update(model_t).where(model_t.c.id == model_id).values(**values))
        return _get(conn, model_id)

    return db.write("updating a model", work)


def delete_model(db: Database, model_id: str) -> None:
    def work(conn: Connection) -> None:
        if conn.execute(delete(model_t).where(model_t.c.id == model_id)).rowcount == 0:
            raise NotFoundError(f"no model with id {model_id!r}")
        bump(conn)

    db.write("deleting a model", work)
