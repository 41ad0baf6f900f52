"""Metrics in the store: the write path of `run.log()` (the hot path) and the reads of series and summaries.

Schema v2 keeps one `metric_series` row per (run, name) holding the summary the tree and details show, and a
lean `metric_point` row per point keyed by the series' integer id. A batch is one transaction:

1. the revision bump comes first: on PostgreSQL its row lock serialises metric writers, so step numbering
   and the finished-run check below see every earlier commit (SQLite's BEGIN IMMEDIATE already does);
2. points of runs that are Completed, Failed or Canceled are refused (counted per run, never written);
3. missing series are created atomically (INSERT .. ON CONFLICT DO NOTHING, then read back);
4. the points go in through the DBAPI (executemany on SQLite, COPY on PostgreSQL), and each series' summary
   is updated once per batch with relative expressions (count + n, min/max by comparison).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import chain
from operator import itemgetter
from typing import Any

from sqlalchemy import BigInteger, Float, String, Text, and_, bindparam, case, cast, func, select, update
from sqlalchemy.engine import Connection

from runtui.status import TERMINAL
from runtui.store.db import (
    Database,
    bump,
    chunks,
    dialect_insert,
    point_t,
    run_t,
    series_t,
    stamp,
)
from runtui.store.records import MetricSeries, MetricSummary, MetricWriteResult, decode_special_float

# A logged point on its way to the store: (run_id, name, step or None, value, text, kind, time)
PendingPoint = tuple[str, str, "int | None", "float | None", "str | None", str, float]

FINISHED_VALUES = frozenset(s.value for s in TERMINAL)
POINT_COLUMNS = "series_id, step, value, time, text"

_RUN_ID = itemgetter(0)
_KEY = itemgetter(0, 1)
# Typed parameters: PostgreSQL cannot infer the type of a parameter that is only compared with NULL.
_mn, _mx = cast(bindparam("mn"), Float), cast(bindparam("mx"), Float)
_ls, _d = cast(bindparam("ls"), BigInteger), cast(bindparam("d"), Text)
_UPDATE_SERIES = (
    update(series_t)
    .where(series_t.c.id == bindparam("sid", type_=BigInteger))
    .values(
        kind=bindparam("k", type_=String),
        last=bindparam("l", type_=Float),
        last_text=bindparam("lt", type_=Text),
        min=case(
            (_mn.is_(None), series_t.c.min),
            (series_t.c.min.is_(None) | (_mn < series_t.c.min), _mn),
            else_=series_t.c.min,
        ),
        max=case(
            (_mx.is_(None), series_t.c.max),
            (series_t.c.max.is_(None) | (_mx > series_t.c.max), _mx),
            else_=series_t.c.max,
        ),
        count=series_t.c["count"] + bindparam("n", type_=BigInteger),
        last_step=case((_ls > series_t.c.last_step, _ls), else_=series_t.c.last_step),
        last_time=bindparam("tm", type_=Float),
        description=case((_d != "", _d), else_=series_t.c.description),
    )
)


def write_points(
    conn: Connection, points: Sequence[PendingPoint], descriptions: dict[tuple[str, str], str]
) -> MetricWriteResult:
    """Write one batch inside the caller's write transaction (see the module docstring)."""
    sqlite = conn.dialect.name == "sqlite"
    rev = bump(conn)
    run_ids = list(set(map(_RUN_ID, points)))
    finished: set[str] = set()
    for chunk in chunks(run_ids):
        for rid, status in conn.execute(select(run_t.c.id, run_t.c.status).where(run_t.c.id.in_(chunk))):
            if status in FINISHED_VALUES:
                finished.add(rid)
    refused: dict[str, int] = {}
    if finished:
        kept = []
        for p in points:
            if p[0] in finished:
                refused[p[0]] = refused.get(p[0], 0) + 1
            else:
                kept.append(p)
        points = kept
        run_ids = [r for r in run_ids if r not in finished]
    if not points:
        return MetricWriteResult(0, refused)

    # The per-point loop is the Python cost of the hot path: keep it to a lookup, the step and two list
    # operations. The points' parameters go straight into one flat list (5 per point), the shape the multi-row
    # INSERT binds: no tuple per point, no second pass to flatten, and missing series are looked for only when
    # a lookup misses (the per-point Python work of a batch measured alone: about 0.55 -> 0.33 µs a point).
    # state per series: [series id, last step, values, last point]
    state: dict[tuple[str, str], list[Any]] = {
        key: [entry[0], entry[1], [], None] for key, entry in _series_ids(conn, run_ids).items()
    }
    flat: list[Any] = []
    extend = flat.extend
    for p in points:
        try:
            st = state[p[0], p[1]]
        except KeyError:  # a metric new to the store: create every missing series of the batch at once
            for key, entry in _create_series(conn, sqlite, points, state.keys()).items():
                state.setdefault(key, [entry[0], entry[1], [], None])
            st = state[p[0], p[1]]
        step = p[2]
        if step is None:
            step = st[1] = st[1] + 1
        elif step > st[1]:
            st[1] = step
        extend((st[0], step, p[3], p[6], p[4]))
        st[2].append(p[3])
        st[3] = p
    insert_flat(conn, flat)
    updates = []
    for key, st in state.items():
        sid, last_step, values, last = st
        if last is None:
            continue
        numbers = [v for v in values if v is not None and v == v]  # NaN != NaN: min/max skip it
        updates.append(
            {
                "sid": sid,
                "k": last[5],
                "l": last[3],
                "lt": last[4],
                "mn": min(numbers) if numbers else None,
                "mx": max(numbers) if numbers else None,
                "n": len(values),
                "ls": last_step,
                "tm": last[6],
                "d": descriptions.get(key, ""),
            }
        )
    conn.execute(_UPDATE_SERIES, updates)
    stamp(conn, rev, run_ids)
    return MetricWriteResult(len(flat) // 5, refused)


def _create_series(
    conn: Connection, sqlite: bool, points: Sequence[PendingPoint], known: Any
) -> dict[tuple[str, str], list[int]]:
    """Create the series of `points` not in `known` (an atomic get-or-create: a concurrent writer's row wins
    quietly) and read them back: (run_id, name) -> [series id, last step] for every series of their runs."""
    missing = set(map(_KEY, points)) - set(known)
    new: dict[tuple[str, str], dict[str, Any]] = {}
    for run_id, name, _step, _value, _text, kind, t in points:
        if (run_id, name) in missing and (run_id, name) not in new:
            new[(run_id, name)] = {"run_id": run_id, "name": name, "kind": kind, "first_time": t, "last_time": t}
            if len(new) == len(missing):
                break
    stmt = dialect_insert(sqlite, series_t).on_conflict_do_nothing(index_elements=["run_id", "name"])
    conn.execute(stmt, list(new.values()))
    return _series_ids(conn, list({k[0] for k in missing}))


def _series_ids(conn: Connection, run_ids: Sequence[str]) -> dict[tuple[str, str], list[int]]:
    """(run_id, name) -> [series id, last step] for every series of `run_ids`."""
    out: dict[tuple[str, str], list[int]] = {}
    for chunk in chunks(list(run_ids)):
        stmt = select(series_t.c.run_id, series_t.c.name, series_t.c.id, series_t.c.last_step).where(
            series_t.c.run_id.in_(chunk)
        )
        for rid, name, sid, last_step in conn.execute(stmt):
            out[(rid, name)] = [sid, last_step]
    return out


# Rows per INSERT statement on SQLite, largest first: a batch goes in as 2,000-row statements, its remainder as
# 100-row ones, then one row at a time. Fewer, larger statements matter most while a training loop is logging:
# every statement hands the GIL back and forth (SQLite steps without it), and a busy logging thread returns it
# only at the 5 ms switch interval, so the writer's progress during the loop is counted in statements.
# 2,000 rows bind 10,000 parameters: used where the library allows it (SQLite >= 3.32 allows 32,766; older
# builds 999, which still fit the 100-row statements).
SQLITE_ROWS_PER_INSERT = (2000, 100)


def _sqlite_insert(rows: int) -> str:
    return f"INSERT INTO metric_point ({POINT_COLUMNS}) VALUES " + ", ".join(["(?, ?, ?, ?, ?)"] * rows)


_SQLITE_INSERTS = {rows: _sqlite_insert(rows) for rows in (*SQLITE_ROWS_PER_INSERT, 1)}


def insert_points(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert (series_id, step, value, time, text) rows (see `insert_flat`)."""
    insert_flat(conn, list(chain.from_iterable(rows)))


def insert_flat(conn: Connection, flat: list[Any]) -> None:
    """Insert points given as one flat list of their (series_id, step, value, time, text) values, 5 a point,
    through the DBAPI cursor: no ORM, no per-row SQLAlchemy work. On PostgreSQL with psycopg 3, COPY: measured
    2.6x the rate of executemany. On SQLite, multi-row INSERTs (`SQLITE_ROWS_PER_INSERT`): SQLite's
    per-statement work (reset, step, journal bookkeeping) is paid once per statement instead of per row;
    measured 1.6-1.9x the rate of a one-row executemany alone, and 2,000-row statements a further ~15 % while
    a logging loop runs (bench/write_path.py measures raw sqlite3 each way)."""
    if conn.dialect.name != "sqlite":
        rows = list(zip(*[iter(flat)] * 5, strict=True))  # back to rows, at C speed
        if conn.dialect.driver == "psycopg":
            _copy_rows(conn, f"COPY metric_point ({POINT_COLUMNS}) FROM STDIN", rows)
        else:
            conn.exec_driver_sql(f"INSERT INTO metric_point ({POINT_COLUMNS}) VALUES (%s, %s, %s, %s, %s)", rows)
        return
    dbapi = conn.connection.driver_connection
    with _as_sqlalchemy_errors(conn, _SQLITE_INSERTS[1]):
        cursor = dbapi.cursor()  # type: ignore[union-attr]
        try:
            done = 0
            limit = _variable_limit(dbapi)
            for per in (*SQLITE_ROWS_PER_INSERT, 1):
                width = 5 * per
                if width > limit:
                    continue
                end = done + (len(flat) - done) // width * width
                if end > done:
                    cursor.executemany(_SQLITE_INSERTS[per], [flat[i : i + width] for i in range(done, end, width)])
                    done = end
        finally:
            cursor.close()


def _variable_limit(dbapi: Any) -> int:
    """How many parameters one statement may bind on this connection (999 where it cannot be asked)."""
    try:
        return int(dbapi.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    except (AttributeError, sqlite3.Error):
        return 999


@contextmanager
def _as_sqlalchemy_errors(conn: Connection, sql: str) -> Iterator[None]:
    """The DBAPI's errors as SQLAlchemy raises them (OperationalError, IntegrityError...): the store's retries
    and messages look at those, whichever way the rows went in."""
    from sqlalchemy.exc import DBAPIError

    error_class = conn.dialect.loaded_dbapi.Error
    try:
        yield
    except error_class as exc:
        raise DBAPIError.instance(sql, None, exc, error_class) from exc


def _copy_rows(conn: Connection, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    with (
        _as_sqlalchemy_errors(conn, sql),
        conn.connection.driver_connection.cursor() as cur,  # type: ignore[union-attr]
        cur.copy(sql) as copy,
    ):
        for row in rows:
            copy.write_row(row)


def decode_value(kind: str, value: float | None, text: str | None) -> Any:
    """A stored point back to what was logged. A scalar point of an int or bool keeps its exact Python literal as
    its text next to the float ("7", "True": the SDK's Azure-style get_metrics returns ints and bools), a null
    value is the text "None" (Azure's log(name, None))."""
    if value is not None:
        if text is None or kind != "scalar":
            return value
        if text in ("True", "False"):
            return text == "True"
        try:
            return int(text)
        except ValueError:
            return value
    if kind == "scalar" and text == "None":
        return None
    if kind == "scalar":
        number = decode_special_float(text)
        return text if number is None and text is not None else number
    if kind == "text" or text is None:
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def get_summaries(db: Database, run_ids: Sequence[str]) -> dict[str, list[MetricSummary]]:
    """Per run, its metrics' summaries in the order they were first logged."""
    out: dict[str, list[MetricSummary]] = {rid: [] for rid in run_ids}
    c = series_t.c
    with db.read() as conn:
        for chunk in chunks(list(run_ids)):
            stmt = (
                select(c.run_id, c.name, c.kind, c.last, c.last_text, c.min, c.max)
                .add_columns(c["count"], c.last_step, c.description)
                .where(c.run_id.in_(chunk), c["count"] > 0)
                .order_by(c.first_time, c.name)
            )
            for rid, name, kind, last, last_text, mn, mx, count, last_step, description in conn.execute(stmt):
                shown: float | str | None = last
                if kind == "scalar" and last is None and last_text is not None:
                    shown = decode_special_float(last_text)
                elif kind != "scalar":
                    shown = last_text
                out[rid].append(MetricSummary(rid, name, kind, shown, mn, mx, count, last_step, description))
    return out


def get_series(db: Database, run_id: str, names: Sequence[str] | None = None) -> list[MetricSeries]:
    """Every point of the run's metrics (all, or `names`), ordered by step (then logging order)."""
    s, p = series_t.c, point_t.c
    stmt = (
        select(s.name, s.kind, p.step, p.value, p.text, p.time)
        .select_from(series_t.join(point_t, p.series_id == s.id))
        .where(s.run_id == run_id)
    )
    if names is not None:
        stmt = stmt.where(s.name.in_(list(names)))
    stmt = stmt.order_by(s.name, p.step, p.id)
    out: dict[str, MetricSeries] = {}
    with db.read() as conn:
        for name, kind, step, value, text, t in conn.execute(stmt):
            series = out.get(name)
            if series is None:
                series = out[name] = MetricSeries(run_id, name, kind)
            series.steps.append(step)
            series.values.append(decode_value(kind, value, text))
            series.times.append(t)
    return list(out.values())


def series_of(conn: Connection, run_id: str, name: str) -> Any:
    """The series row (id, kind, count, last_step) of one metric, or None."""
    c = series_t.c
    return conn.execute(
        select(c.id, c.kind, c["count"].label("n"), c.last_step).where(and_(c.run_id == run_id, c.name == name))
    ).first()


def count_points(db: Database, run_id: str) -> int:
    stmt = (
        select(func.count())
        .select_from(point_t.join(series_t, point_t.c.series_id == series_t.c.id))
        .where(series_t.c.run_id == run_id)
    )
    with db.read() as conn:
        return int(conn.execute(stmt).scalar_one())
