"""The run listing of a SQLite store read with the standard library's `sqlite3`, in pieces, newest first.

`runtui ls --json` over a whole store is a script's call: it must start printing at once and finish fast. This
path imports no SQLAlchemy (a third of the old wall time) and never holds the whole listing: it walks the
`(created_at, id)` index and reads the tags and headline metrics of each piece of runs by id, so the first
line is out after the first piece. Only plain reads; a store at a schema version this module does not know
(an older one that needs migrating, a newer one) is left to the regular store path, which migrates or refuses.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from runtui.status import LIVE_VALUES

# The headline metric summaries, by schema version (columns run_id, name, kind, last, last_text, first_time).
SUMMARY_TABLE = {1: "metric_summary", 2: "metric_series"}
FIRST_PIECE = 64  # small, so that the first line is out within milliseconds of the first read
PIECE = 5000
BUSY_TIMEOUT_MS = 30_000


COLUMNS = "id, experiment, parent_id, display_name, status, created_at, started_at, ended_at"

Headline = tuple[str, "float | str | None"]
Piece = tuple[list[tuple[Any, ...]], dict[str, str], dict[str, Headline]]


def open_read_only(path: str) -> tuple[sqlite3.Connection, str] | None:
    """A read-only connection and the summary table's name, or None when this path cannot serve the store."""
    file = Path(path)
    if not file.is_file():
        return None
    try:
        conn = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
    except sqlite3.Error:
        return None
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        version = conn.execute("SELECT schema_version FROM store_meta").fetchone()
    except sqlite3.Error:
        conn.close()
        return None
    table = SUMMARY_TABLE.get(version[0]) if version else None
    if table is None:
        conn.close()
        return None
    return conn, table


def pieces(
    conn: sqlite3.Connection,
    summary_table: str,
    *,
    experiment: str | None,
    everything: bool,
    limit: int,
) -> Iterator[Piece]:
    """Successive pieces of the listing, newest first: every run (`everything`), or the live ones plus the
    `limit` newest (as `runtui.store.overview.list_runs`). A piece: run rows (`COLUMNS`), each run's tags as a
    JSON object text, each run's headline metric (name, value).

    The first piece is small and reads its runs' tags and metrics by id, so the first line is out at once;
    after it, tags and headline metrics are read for the whole listing in one pass each (by id, a big listing
    would cost twice as much)."""
    live = ", ".join(f"'{v}'" for v in LIVE_VALUES)  # our own constants, not user input
    columns = COLUMNS
    params: dict[str, Any] = {"experiment": experiment, "limit": limit}
    exp_cond = "WHERE experiment = :experiment" if experiment is not None else ""
    order = "ORDER BY created_at DESC, id DESC"
    if everything:
        sql = f"SELECT {columns} FROM run {exp_cond} {order}"
    else:
        sql = (
            f"SELECT {columns} FROM run WHERE (id IN (SELECT id FROM run {exp_cond} {order} LIMIT :limit) "
            f"OR status IN ({live})){' AND experiment = :experiment' if experiment is not None else ''} {order}"
        )
    cursor = conn.execute(sql, params)
    rows = cursor.fetchmany(FIRST_PIECE)
    if not rows:
        return
    ids = [r[0] for r in rows]
    marks = ", ".join("?" * len(ids))
    yield (
        rows,
        _tags(conn, f"WHERE run_id IN ({marks})", ids),
        _headlines(conn, summary_table, f"run_id IN ({marks})", ids),
    )
    if len(rows) < FIRST_PIECE:
        return
    if experiment is None:
        tags, headline = _tags(conn, "", []), _headlines(conn, summary_table, "1", [])
    else:  # only this experiment's runs
        runs = "run_id IN (SELECT id FROM run WHERE experiment = ?)"
        tags, headline = _tags(conn, f"WHERE {runs}", [experiment]), _headlines(conn, summary_table, runs, [experiment])
    while True:
        rows = cursor.fetchmany(PIECE)
        if not rows:
            return
        yield rows, tags, headline


def _tags(conn: sqlite3.Connection, where: str, params: list[Any]) -> dict[str, str]:
    # Keys in index order, i.e. sorted, as the other listing path writes them.
    sql = f"SELECT run_id, json_group_object(key, value) FROM run_tag {where} GROUP BY run_id"
    return dict(conn.execute(sql, params).fetchall())


def _headlines(conn: sqlite3.Connection, table: str, where: str, params: list[Any]) -> dict[str, Headline]:
    """The first number or string each run logged, system metrics left out (the TUI's and overview's choice).
    SQLite fills the bare columns of a min() aggregate from the row holding the minimum. A NaN/inf scalar is
    stored as text with `last` NULL: it lists as null (JSON has no NaN)."""
    sql = (
        f"SELECT run_id, name, CASE kind WHEN 'text' THEN last_text ELSE last END, min(first_time) FROM {table} "
        f"WHERE {where} AND kind IN ('scalar', 'text') AND substr(name, 1, 4) != 'sys/' GROUP BY run_id"
    )
    return {run_id: (name, value) for run_id, name, value, _ in conn.execute(sql, params)}
