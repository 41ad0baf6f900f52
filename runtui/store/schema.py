"""Creating, versioning and migrating the store's schema, safely when several processes start at once."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from runtui.errors import StoreVersionError
from runtui.store import models
from runtui.store.engine import redact

# from-version -> function that upgrades a connection's store to from-version + 1
MIGRATIONS: dict[int, Callable[[Connection], None]] = {}

_PG_LOCK_KEY = 0x72756E747569  # "runtui": one advisory lock id for schema changes


def ensure(engine: Engine, url: str) -> None:
    """Create the tables on first use, migrate an older store, refuse a newer one."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # Serialise first-use creation across processes (a CREATE TABLE race breaks parallel starts).
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        # On SQLite the write transaction (BEGIN IMMEDIATE) already serialises this.
        meta = models.StoreMeta.__table__  # type: ignore[attr-defined]
        has_meta = inspect(conn).has_table("store_meta")
        if has_meta:
            version = conn.execute(select(meta.c.schema_version).where(meta.c.id == 1)).scalar()
            if version is not None and version > models.SCHEMA_VERSION:
                raise StoreVersionError(
                    f"the store {redact(url)} was written by a newer runtui (schema version {version}; this runtui "
                    f"knows up to {models.SCHEMA_VERSION}); upgrade runtui to use it"
                )
            if version is not None:
                while version < models.SCHEMA_VERSION:
                    MIGRATIONS[version](conn)
                    version += 1
                    conn.execute(meta.update().where(meta.c.id == 1).values(schema_version=version))
                SQLModel.metadata.create_all(conn, tables=models.TABLES, checkfirst=True)
                return
        SQLModel.metadata.create_all(conn, tables=models.TABLES, checkfirst=True)
        conn.execute(meta.insert().values(id=1, schema_version=models.SCHEMA_VERSION, revision=0))
