"""`runtui ls`: runs as a table or JSON lines.

Built to list a whole store fast (the target: 100,000 runs to /dev/null within 1.5 s, interpreter start
included): one read for the runs (only the columns shown), one for the headline metrics (one row per run) and
one for the tags, never a query per run; plain DBAPI tuples instead of Row objects; the output written in one
piece.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from runtui.cli import printing as out
from runtui.cli.session import workspace
from runtui.status import TERMINAL, RunStatus

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement, Select
    from sqlalchemy.engine import Connection

    from runtui.store.store import Store

# Above this many runs, tags and metrics are read for the whole store in one go instead of by id.
BULK_THRESHOLD = 5000
LIVE_VALUES = [s.value for s in RunStatus if s not in TERMINAL]


# The run columns `ls` reads, in this order (see `fetch`).
ID, EXPERIMENT, PARENT, DISPLAY_NAME, STATUS, CREATED, STARTED, ENDED = range(8)


@dataclass(frozen=True, slots=True)
class Listing:
    """What `ls` shows: plain run tuples (newest first), headline metrics and tags by run id."""

    rows: list[tuple[Any, ...]]
    metrics: dict[str, tuple[str, float | str | None]]
    tags: dict[str, dict[str, str | None]]
    hidden: int  # matching runs left out because they are neither live nor recent


def tuples(conn: Connection, stmt: Select[Any]) -> list[Any]:
    """The rows as plain tuples straight from the DBAPI cursor. For a 100,000-row listing, building
    SQLAlchemy Row objects costs about as much as the query; these columns (text, numbers) need no conversion."""
    result = conn.execute(stmt)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def fetch(
    store: Store,
    *,
    where: ColumnElement[bool] | None = None,
    experiment: str | None = None,
    everything: bool = False,
    limit: int = 50,
) -> Listing:
    """The runs to list, newest first: all matching ones, or the live ones plus the `limit` newest."""
    from sqlalchemy import and_, func, select, true

    from runtui.store.store import run_t

    conds: list[Any] = []
    if where is not None:
        conds.append(where)
    if experiment is not None:
        conds.append(run_t.c.experiment == experiment)
    cond = and_(true(), *conds)
    cols = [
        run_t.c.id,
        run_t.c.experiment,
        run_t.c.parent_id,
        run_t.c.display_name,
        run_t.c.status,
        run_t.c.created_at,
        run_t.c.started_at,
        run_t.c.ended_at,
    ]
    order = (run_t.c.created_at.desc(), run_t.c.id.desc())
    hidden = 0
    with store._read() as conn:
        if everything:
            # Sorted here, not in SQL: without an index on created_at, SQLite's sort costs more than Python's.
            rows = tuples(conn, select(*cols).where(cond))
            rows.sort(key=itemgetter(CREATED, ID), reverse=True)
        else:
            newest = tuples(conn, select(*cols).where(cond).order_by(*order).limit(limit))
            live = tuples(conn, select(*cols).where(cond, run_t.c.status.in_(LIVE_VALUES)))
            merged = {r[ID]: r for r in newest}
            for r in live:
                merged.setdefault(r[ID], r)
            rows = sorted(merged.values(), key=itemgetter(CREATED, ID), reverse=True)
            if len(newest) == limit:
                total = conn.execute(select(func.count()).select_from(run_t).where(cond)).scalar_one()
                hidden = max(0, int(total) - len(rows))
    ids = [r[ID] for r in rows]
    metrics = headline_metrics(store, ids)
    return Listing(rows, metrics, run_tags(store, ids), hidden)


def run_tags(store: Store, run_ids: Sequence[str]) -> dict[str, dict[str, str | None]]:
    """Tags by run id: by id for a few runs, else the whole tag table in one plain read."""
    if len(run_ids) <= BULK_THRESHOLD:
        return store.get_tags(run_ids)
    from sqlalchemy import select

    from runtui.store.store import tag_t

    found: dict[str, dict[str, str | None]] = {}
    with store._read() as conn:
        for run_id, key, value in tuples(conn, select(tag_t.c.run_id, tag_t.c.key, tag_t.c.value)):
            tags = found.get(run_id)
            if tags is None:
                tags = found[run_id] = {}
            tags[key] = value
    return found


def headline_metrics(store: Store, run_ids: Sequence[str]) -> dict[str, tuple[str, float | str | None]]:
    """Per run, its headline metric: the first numeric metric it logged (system metrics `sys/*` left out).

    One row per run comes back from the database: SQLite fills the bare columns of a `min()` aggregate from
    the row holding the minimum; PostgreSQL has `DISTINCT ON`.
    """
    from sqlalchemy import func, select

    from runtui.store.store import _chunks, decode_special_float, summary_t

    c = summary_t.c
    cond = (c.kind == "scalar") & ~c.name.startswith("sys/", autoescape=True)
    if store.sqlite:
        stmt = select(c.run_id, c.name, c.last, c.last_text, func.min(c.first_time)).where(cond).group_by(c.run_id)
    else:
        stmt = (
            select(c.run_id, c.name, c.last, c.last_text)
            .where(cond)
            .distinct(c.run_id)
            .order_by(c.run_id, c.first_time, c.name)
        )
    found: dict[str, tuple[str, float | str | None]] = {}

    def take(rows: list[Any]) -> None:
        for row in rows:
            found[row[0]] = (row[1], row[2] if row[2] is not None else decode_special_float(row[3]))

    with store._read() as conn:
        if len(run_ids) > BULK_THRESHOLD:
            take(tuples(conn, stmt))
        else:
            for chunk in _chunks(list(run_ids)):
                take(tuples(conn, stmt.where(c.run_id.in_(chunk))))
    return found


def json_lines(listing: Listing, now: float) -> str:
    """One JSON object per run, with the keys of `Run.get_details()` where they overlap (`runId`, `status`,
    `displayName`, `createdTimeUtc`, ...), plus `durationSeconds` and `headlineMetric`.

    Each line is put together from JSON-encoded pieces (strings through the C string encoder, tags and metric
    names cached, since the runs of a sweep share them): several times faster than one `json` call per run.
    Non-ASCII text is escaped (`\\u00e9`), so no control character of any kind reaches the output.
    """
    from json.encoder import encode_basestring_ascii as text

    iso = out.iso_utc
    encode = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode
    metrics = listing.metrics
    all_tags = listing.tags
    live = set(LIVE_VALUES)
    tags_json: dict[tuple[tuple[str, str | None], ...], str] = {(): "{}"}
    metric_json: dict[str, str] = {}

    def number(value: object) -> str:
        if value is None or value != value or value in (math.inf, -math.inf):  # NaN/inf are not JSON
            return "null"
        return repr(value) if isinstance(value, float) else encode(value)

    def when(epoch: float | None) -> str:
        return "null" if epoch is None else f'"{iso(epoch)}"'

    lines = []
    for run_id, experiment, parent, name, status, created, started, ended in listing.rows:
        end = now if ended is None and status in live else ended
        duration = "null" if end is None else repr(round(max(0.0, end - (started or created)), 3))
        metric = metrics.get(run_id)
        if metric is None:
            headline = "null"
        else:
            prefix = metric_json.get(metric[0])
            if prefix is None:
                prefix = metric_json[metric[0]] = '{"name":' + text(metric[0]) + ',"value":'
            headline = prefix + number(metric[1]) + "}"
        tags = all_tags.get(run_id)
        key = tuple(tags.items()) if tags else ()
        shown_tags = tags_json.get(key)
        if shown_tags is None:
            shown_tags = tags_json[key] = encode(tags)
        lines.append(
            f'{{"runId":{text(run_id)},"experiment":{text(experiment)},"status":{text(status)},'
            f'"displayName":{text(name or run_id)},"parentRunId":{"null" if parent is None else text(parent)},'
            f'"createdTimeUtc":{when(created)},"startTimeUtc":{when(started)},"endTimeUtc":{when(ended)},'
            f'"durationSeconds":{duration},"headlineMetric":{headline},"tags":{shown_tags}}}'
        )
    return "\n".join(lines)


def table_lines(listing: Listing, now: float, *, width: int | None, color: bool) -> list[str]:
    # One pass over plain tuples, with per-value caches: runs of one sweep share tags and metric names.
    safe = out.safe
    duration = out.format_duration
    number = out.format_number
    has_control = out.has_control
    metrics = listing.metrics
    all_tags = listing.tags
    live = set(LIVE_VALUES)
    tag_text: dict[tuple[tuple[str, str | None], ...], str] = {}
    metric_name: dict[str, str] = {}
    rows = []
    for run_id, _, _, name, status, created, started, ended in listing.rows:
        if not name:
            name = run_id
        elif has_control(name):
            name = safe(name)
        if ended is None and status in live:
            ended = now
        shown_duration = "-" if ended is None else duration(ended - (started or created))
        metric = metrics.get(run_id)
        if metric is None:
            shown_metric = ""
        else:
            label = metric_name.get(metric[0])
            if label is None:
                label = metric_name[metric[0]] = safe(metric[0]) + "="
            shown_metric = label + number(metric[1])
        tags = all_tags.get(run_id)
        if tags:
            key = tuple(tags.items())
            shown_tags = tag_text.get(key)
            if shown_tags is None:
                shown_tags = tag_text[key] = out.format_tags(tags)
        else:
            shown_tags = ""
        rows.append((status, name, run_id, shown_duration, shown_metric, shown_tags))
    sgr = {s.value: out.status_sgr(s) for s in RunStatus}
    return out.render_table(
        ("STATUS", "NAME", "ID", "DURATION", "METRIC", "TAGS"),
        rows,
        max_widths=(None, 40, None, None, 32, 60),
        width=width,
        first_sgr=[sgr[r[STATUS]] for r in listing.rows] if color else None,
    )


def run(args: argparse.Namespace) -> int:
    ws = workspace(args)
    where = None
    if args.filter is not None and args.filter.strip():
        from runtui.store.filters import compile_filter

        where = compile_filter(args.filter)  # a syntax error names the position, before the store is opened
    if args.experiment is not None:
        from runtui.ids import check_experiment_name

        check_experiment_name(args.experiment)
    listing = fetch(ws.store, where=where, experiment=args.experiment, everything=args.all, limit=args.limit)
    now = time.time()
    if args.json:
        text = json_lines(listing, now)
    else:
        if not listing.rows:
            out.note("no runs" + ("" if args.all or not listing.hidden else "; use --all to list older runs"))
            return 0
        lines = table_lines(listing, now, width=out.terminal_width(sys.stdout), color=out.use_color(sys.stdout))
        text = "\n".join(lines)
    if text:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    if listing.hidden and not args.json and sys.stderr.isatty():
        out.note(f"{listing.hidden} older finished run(s) not shown; --all lists them")
    return 0
