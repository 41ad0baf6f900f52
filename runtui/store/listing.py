"""The run listing of a SQLite store read with the standard library's `sqlite3`, in pieces, newest first.

`runtui ls --json` over a whole store is a script's call: it must start printing at once and finish fast. This
path imports no SQLAlchemy (a third of the old wall time) and never holds the whole listing: it walks the
`(created_at, id)` index and reads the tags and headline metrics of each piece of runs by id, so the first
line is out after the first piece. Only plain reads; a store at a schema version this module does not know
(an older one that needs migrating, a newer one) is left to the regular store path, which migrates or refuses.
"""

from __future__ import annotations

import contextlib
import json
import queue
import re
import sqlite3
import threading
from collections.abc import Callable, Generator, Iterator
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
    from runtui.store.peek import connect_read_only

    opened = connect_read_only(path, BUSY_TIMEOUT_MS)
    if opened is None:
        return None
    conn, version = opened
    table = SUMMARY_TABLE.get(version)
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


# ---------------------------------------------------------------- JSON lines built by SQLite


def _line_sql(summary_table: str, where: str, order: str) -> str:
    """One row per run: (the line up to the times, created, started, ended, the duration or NULL, the text up
    to the headline value, the scalar headline value or NULL, the rest of the line). SQLite quotes every string
    (json_quote) and reads each run's tags and headline metric through their indexes (correlated subqueries: rows
    stream from the first one). Python formats the times and the two numbers, exactly as the store-layer path
    does (measured: SQLite's strftime and printf cost more than Python's cached `iso_text`)."""
    live = ", ".join(f"'{v}'" for v in LIVE_VALUES)  # our own constants, not user input
    # The first number or string the run logged, system metrics left out (as `_headlines`).
    headline = (
        f"SELECT s.rowid FROM {summary_table} AS s WHERE s.run_id = run.id AND s.kind IN ('scalar', 'text') "
        "AND substr(s.name, 1, 4) != 'sys/' ORDER BY s.first_time, s.name LIMIT 1"
    )
    return f"""
SELECT
  '{{"runId":' || json_quote(run.id) || ',"experiment":' || json_quote(run.experiment)
  || ',"status":' || json_quote(run.status) || ',"displayName":'
  || json_quote(CASE WHEN run.display_name IS NULL OR run.display_name = '' THEN run.id ELSE run.display_name END)
  || ',"parentRunId":' || json_quote(run.parent_id)
  || ',"createdTimeUtc":',
  run.created_at, run.started_at, run.ended_at,
  CASE WHEN run.ended_at IS NULL AND run.status IN ({live}) THEN :now ELSE run.ended_at END
    - CASE WHEN run.started_at IS NULL OR run.started_at = 0 THEN run.created_at ELSE run.started_at END,
  ',"headlineMetric":' || CASE
    WHEN h.name IS NULL THEN 'null'
    WHEN h.kind = 'text' THEN '{{"name":' || json_quote(h.name) || ',"value":' || json_quote(h.last_text)
    WHEN h.last IS NULL THEN '{{"name":' || json_quote(h.name) || ',"value":null'
    ELSE '{{"name":' || json_quote(h.name) || ',"value":' END,
  CASE WHEN h.kind = 'scalar' THEN h.last END,
  CASE WHEN h.name IS NULL THEN '' ELSE '}}' END || ',"tags":'
  || coalesce((SELECT json_group_object(t.key, t.value) FROM run_tag AS t WHERE t.run_id = run.id), '{{}}') || '}}'
FROM run LEFT JOIN {summary_table} AS h ON h.rowid = ({headline})
{where} {order}
"""


# What JSON with ensure_ascii escapes beyond SQLite's json_quote (which escapes quotes and controls < 0x20).
_NON_ASCII = re.compile(r"[^\x00-\x7e]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_chunks(
    conn: sqlite3.Connection,
    summary_table: str,
    *,
    experiment: str | None,
    everything: bool,
    limit: int,
    now: float,
    split: tuple[tuple[float, str], bool] | None = None,
) -> Generator[str, None, None]:
    """The listing of `pieces` as JSON lines (the bytes `runtui.cli.commands.listing.encode_pieces` writes), in
    text blocks ready for one write each: the first block small (the first line out at once), then `PIECE` runs
    per block. SQLite builds each line; Python only formats two numbers per run and escapes non-ASCII text
    (`\\u00e9`, as `ensure_ascii` does) in the blocks that have any. `split` ((created_at, id), older) keeps
    an `everything` listing to the runs after that key in listing order (older) or up to it."""
    live = ", ".join(f"'{v}'" for v in LIVE_VALUES)
    order = "ORDER BY run.created_at DESC, run.id DESC"
    exp_cond = "WHERE run.experiment = :experiment" if experiment is not None else ""
    if everything:
        where = exp_cond
        if split is not None:
            older = "run.created_at < :sc OR (run.created_at = :sc AND run.id < :si)"
            side = older if split[1] else f"NOT ({older})"
            where = f"{where} AND ({side})" if where else f"WHERE ({side})"
    else:
        newest = f"SELECT run.id FROM run {exp_cond} {order} LIMIT :limit"
        where = f"WHERE (run.id IN ({newest}) OR run.status IN ({live}))"
        where += " AND run.experiment = :experiment" if experiment is not None else ""
    from runtui.formatting import iso_text as iso

    params: dict[str, Any] = {"experiment": experiment, "limit": limit, "now": now}
    if split is not None:
        params["sc"], params["si"] = split[0]
    cursor = conn.execute(_line_sql(summary_table, where, order), params)
    rows = cursor.fetchmany(FIRST_PIECE)
    if not rows:
        return
    yield _block(rows, iso)
    if len(rows) < FIRST_PIECE:
        return
    # SQLite steps without the GIL: a reader thread runs the query (quoting, tags, headline metrics) while this
    # thread formats the previous block; on two cores the listing takes about the longer of the two, not the sum.
    blocks: queue.Queue[list[tuple[Any, ...]] | BaseException | None] = queue.Queue(maxsize=4)
    stop = threading.Event()  # the consumer went away (`runtui ls --json | head`): the reader ends too

    def hand_over(item: list[tuple[Any, ...]] | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                blocks.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            while hand_over(got := cursor.fetchmany(PIECE) or None) and got is not None:
                pass
        except BaseException as exc:  # handed to the consumer, which raises it
            hand_over(exc)

    reader = threading.Thread(target=read, name="runtui-listing", daemon=True)
    reader.start()
    try:
        while True:
            item = blocks.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield _block(item, iso)
    finally:
        stop.set()
        reader.join()


def _block(rows: list[tuple[Any, ...]], iso: Callable[[float], str]) -> str:
    """JSON lines of rows of `_line_sql`: times and numbers formatted as the store-layer path formats them."""
    q = '"'
    block = "".join(
        [
            f'{a}{"null" if t0 is None else f"{q}{iso(t0)}{q}"},"startTimeUtc":'
            f'{"null" if t1 is None else f"{q}{iso(t1)}{q}"},"endTimeUtc":'
            f'{"null" if t2 is None else f"{q}{iso(t2)}{q}"},"durationSeconds":'
            f"{'null' if d is None else f'{d:.3f}' if d > 0 else '0.000'}{b}"
            f"{'' if v is None else repr(v) if v.__class__ is float else json.dumps(v)}{c}\n"
            for a, t0, t1, t2, d, b, v, c in rows
        ]
    )
    return block if block.isascii() and "\x7f" not in block else _NON_ASCII.sub(_escape, block)


# ---------------------------------------------------------------- a whole-store listing on two processes

PARALLEL_MIN_RUNS = 20_000  # below this a second process costs more than it saves
SPOOL_READ = 1 << 20


def parallel_json_chunks(
    path: str, summary_table: str, *, experiment: str | None, now: float
) -> Generator[str, None, None] | None:
    """`json_chunks` of a whole big store (`runtui ls --all --json`) on two processes: None when it would not
    pay (one CPU, no `fork`, a small store, threads already running) and the caller lists serially.

    SQLite builds each line and Python formats its times; both need the GIL once per row, so a reader thread
    cannot overlap them and one process is bound to one core. Here a forked child lists the older half into
    an unnamed temporary file while this process lists and writes the newer half (its first line goes out at
    once), then copies the child's half out. Each half is one consistent read; the two halves are two reads
    a few milliseconds apart (a run changing status between them shows the state its half read). A child
    that fails is replaced by listing its half here; one left behind (the consumer stopped) is killed."""
    import os
    import tempfile

    if not hasattr(os, "fork") or (os.cpu_count() or 1) < 2 or threading.active_count() > 1:
        return None
    opened = open_read_only(path)
    if opened is None:
        return None
    conn, _ = opened
    try:
        cond, args = ("WHERE experiment = ?", [experiment]) if experiment is not None else ("", [])
        total = conn.execute(f"SELECT count(*) FROM run {cond}", args).fetchall()[0][0]
        if total < PARALLEL_MIN_RUNS:
            return None
        order = "ORDER BY created_at DESC, id DESC"
        key = conn.execute(f"SELECT created_at, id FROM run {cond} {order} LIMIT 1 OFFSET ?", [*args, total // 2])
        split = key.fetchall()[0]
    finally:
        conn.close()  # nothing of SQLite's is open across the fork
    return _two_halves(path, summary_table, (split[0], split[1]), experiment, now, tempfile.TemporaryFile())


def _two_halves(
    path: str, summary_table: str, split: tuple[float, str], experiment: str | None, now: float, spool: Any
) -> Generator[str, None, None]:
    import os
    import signal

    def half(older: bool) -> Iterator[str]:
        opened = open_read_only(path)
        if opened is None:
            raise sqlite3.OperationalError(f"cannot read {path}")
        conn, _ = opened
        try:
            yield from json_chunks(
                conn, summary_table, experiment=experiment, everything=True, limit=0, now=now, split=(split, older)
            )
        finally:
            conn.close()

    sys_flush()
    pid = os.fork()
    if pid == 0:  # the child: the older half into the spool, then out without running the parent's cleanups
        code = 1
        try:
            for block in half(True):
                spool.write(block.encode())
            spool.flush()
            code = 0
        finally:
            os._exit(code)
    reaped = False
    try:
        yield from half(False)
        _, status = os.waitpid(pid, 0)
        reaped = True
        if os.waitstatus_to_exitcode(status) != 0:
            yield from half(True)  # the child failed: list its half here
            return
        spool.seek(0)
        while chunk := spool.read(SPOOL_READ):
            yield chunk.decode()
    finally:
        if not reaped:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        spool.close()


def sys_flush() -> None:
    """Flush Python's own buffers, so that the forked child does not write them a second time."""
    import sys

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
