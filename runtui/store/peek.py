"""A SQLite store read with the standard library alone: what a viewer paints first, before SQLAlchemy loads.

The TUI's first paint needs little: the store's revision, each experiment's run counts, which experiments are
archived, and the first page of runs (with headline metric and child count) of the experiments it opens.
Importing SQLAlchemy, SQLModel and pydantic for the store layer costs about half a second of CPU, about half
of a cold start; these reads answer the first paint without them, and the store layer loads after it.

Every read here is the plain-SQL twin of a store-layer read and returns the same records:
`overview.experiment_counts`, `tui.data.archived_experiments`, `overview.run_page`, `overview.child_counts`,
and the headline the TUI takes from `Store.get_summaries` (`tests/store/test_peek.py` holds each pair to
equal answers on the same store). Only a store at the schema version this module knows is read; anything
else (PostgreSQL, a store to migrate, a missing file) gets None and the caller uses the store layer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from runtui.formatting import is_system_metric
from runtui.status import LIVE_VALUES, RunStatus
from runtui.store.records import RUN_FIELDS, ExperimentCounts, RunPage, decode_special_float, run_record

# The schema these reads are written for (`runtui.models.SCHEMA_VERSION`, not imported: it loads SQLModel).
PEEK_SCHEMA = 2
BUSY_TIMEOUT_MS = 5_000
IN_CHUNK = 500  # under SQLite's variable limit
_RUN_COLUMNS = ", ".join(f'"{name}"' for name in RUN_FIELDS)
_LIVE = ", ".join(f"'{v}'" for v in LIVE_VALUES)  # our own constants, not user input

Headline = tuple[str, "float | str | None"]


class Peek:
    """Read-only plain reads of one SQLite store (see the module docstring). Not thread-safe: one per thread."""

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    def close(self) -> None:
        self._conn.close()

    def revision(self) -> int:
        row = self._conn.execute("SELECT revision FROM store_meta WHERE id = 1").fetchone()
        return int(row[0]) if row else 0

    def experiment_counts(self) -> dict[str, ExperimentCounts]:
        created = dict(self._conn.execute("SELECT name, created_at FROM experiment").fetchall())
        totals = dict(self._conn.execute("SELECT experiment, count(*) FROM run GROUP BY experiment").fetchall())
        live = dict(
            self._conn.execute(
                f"SELECT experiment, count(*) FROM run WHERE status IN ({_LIVE}) GROUP BY experiment"
            ).fetchall()
        )
        return {
            n: ExperimentCounts(n, totals.get(n, 0), live.get(n, 0), created.get(n, 0.0))
            for n in sorted(set(created) | set(totals))
        }

    def archived(self) -> set[str]:
        return {r[0] for r in self._conn.execute("SELECT name FROM experiment WHERE archived_at IS NOT NULL")}

    def run_page(
        self,
        *,
        experiment: str | None = None,
        parent_id: str | None = None,
        before: tuple[float, str] | None = None,
        limit: int = 500,
        statuses: Sequence[RunStatus] | None = None,
    ) -> RunPage:
        """Top-level runs of `experiment` (or the children of `parent_id`), newest first, older than `before`."""
        conds: list[str] = []
        params: list[Any] = []
        if parent_id is not None:
            conds.append("parent_id = ?")
            params.append(parent_id)
        else:
            if experiment is None:
                raise ValueError("run_page needs an experiment or a parent_id")
            conds.append("experiment = ? AND parent_id IS NULL")
            params.append(experiment)
        if statuses:
            conds.append(f"status IN ({', '.join('?' * len(statuses))})")
            params.extend(s.value for s in statuses)
        if before is not None:
            conds.append("(created_at < ? OR (created_at = ? AND id < ?))")
            params.extend((before[0], before[0], before[1]))
        sql = f"SELECT {_RUN_COLUMNS} FROM run WHERE {' AND '.join(conds)} ORDER BY created_at DESC, id DESC LIMIT ?"
        rows = self._conn.execute(sql, [*params, limit + 1]).fetchall()
        return RunPage([run_record(r) for r in rows[:limit]], more=len(rows) > limit)

    def child_counts(self, run_ids: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        ids = list(dict.fromkeys(run_ids))
        for i in range(0, len(ids), IN_CHUNK):
            chunk = ids[i : i + IN_CHUNK]
            sql = f"SELECT parent_id, count(*) FROM run WHERE parent_id IN ({', '.join('?' * len(chunk))}) "
            out.update(self._conn.execute(sql + "GROUP BY parent_id", chunk).fetchall())
        return out

    def headlines(self, run_ids: Sequence[str]) -> dict[str, Headline]:
        """Per run, what `runtui.tui.data.headline` picks from `Store.get_summaries`: the first metric logged
        (by first time, then name) that is a number or a string and not `sys/*`, with its shown last value."""
        out: dict[str, Headline] = {}
        ids = list(dict.fromkeys(run_ids))
        for i in range(0, len(ids), IN_CHUNK):
            chunk = ids[i : i + IN_CHUNK]
            sql = (
                "SELECT run_id, name, kind, last, last_text FROM metric_series "
                f"WHERE run_id IN ({', '.join('?' * len(chunk))}) AND count > 0 AND kind IN ('scalar', 'text') "
                "ORDER BY run_id, first_time DESC, name DESC"
            )
            # Descending, so the last row seen per run is its first metric.
            for run_id, name, kind, last, last_text in self._conn.execute(sql, chunk):
                if is_system_metric(name):
                    continue
                if kind == "text":
                    out[run_id] = (name, last_text)
                else:
                    out[run_id] = (name, last if last is not None else decode_special_float(last_text))
        return out


def sqlite_path(url: str) -> str | None:
    """The file of a plain `sqlite:///...` URL (None for other URLs, in-memory stores and percent-encoded paths,
    which the store layer's URL parser reads)."""
    if not url.startswith("sqlite:///") or "%" in url:
        return None
    path = url.removeprefix("sqlite:///").split("?", 1)[0]
    return path or None


def connect_read_only(path: str, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> tuple[sqlite3.Connection, int] | None:
    """A read-only connection to the SQLite store file at `path` and its schema version, or None when there is
    no such store (no file, not a database, not a runtui store)."""
    from pathlib import Path

    file = Path(path)
    if not file.is_file():
        return None
    try:
        conn = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
    except sqlite3.Error:
        return None
    try:
        conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        row = conn.execute("SELECT schema_version FROM store_meta").fetchone()
    except sqlite3.Error:
        conn.close()
        return None
    if not row:
        conn.close()
        return None
    return conn, int(row[0])


def open_peek(url: str) -> Peek | None:
    """Plain reads of the SQLite store at `url`, or None when this module cannot serve it (see the docstring)."""
    path = sqlite_path(url)
    opened = connect_read_only(path) if path is not None else None
    if opened is None:
        return None
    conn, version = opened
    if version != PEEK_SCHEMA:
        conn.close()
        return None
    return Peek(conn)
