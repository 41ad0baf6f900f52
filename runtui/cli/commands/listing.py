"""`runtui ls`: runs as a tree-shaped table or as JSON lines.

Built to list a whole store fast (target: `ls --all --json` over 100,000 runs within 1 s, interpreter start
included, the first line within 150 ms). On a SQLite store the JSON listing is read with the standard
library's `sqlite3` (`runtui.store.listing`: no SQLAlchemy import) and streamed, piece by piece, in index order;
each line is put together from pre-encoded pieces. Other stores, filters and the table read through the store
layer: one read for the runs, one for the headline metrics, one for the tags, never a query per run.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from runtui.cli import printing as out
from runtui.cli.session import workspace, workspace_config
from runtui.status import LIVE_VALUES, RunStatus

if TYPE_CHECKING:
    from runtui.config import WorkspaceConfig
    from runtui.store.overview import RunListing

# A piece of the JSON listing: run rows (id, experiment, parent, name, status, created, started, ended), tags as
# JSON object text by run id, headline metric (name, value) by run id.
Piece = tuple[list[tuple[Any, ...]], dict[str, str], dict[str, tuple[str, Any]]]
ID, EXPERIMENT, PARENT, DISPLAY_NAME, STATUS, CREATED, STARTED, ENDED = range(8)


def prepared(listing: RunListing) -> Piece:
    """A listing read through the store layer, in the shape the fast SQLite path reads (`runtui.store.listing`),
    so that both write the same bytes."""
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    tags = {run_id: encode(dict(sorted(t.items()))) for run_id, t in listing.tags.items()}
    return listing.rows, tags, listing.metrics


def json_lines(listing: RunListing, now: float) -> str:
    """The whole listing as JSON lines (see `encode_pieces`), for a listing already in memory."""
    return "\n".join(encode_pieces([prepared(listing)], now))


def encode_pieces(pieces: Iterable[Piece], now: float) -> Iterator[str]:
    """One JSON object per run, with the keys of `Run.get_details()` where they overlap (`runId`, `status`,
    `displayName`, `createdTimeUtc`, ...), plus `parentRunId`, `durationSeconds`, `headlineMetric`, `tags`.

    Each line is put together from JSON-encoded pieces: tags come as JSON text from the read, strings go
    through the C string encoder, metric names are cached (the runs of a sweep share them).
    Non-ASCII text is escaped (`\\u00e9`), so no control character of any kind reaches the output.
    """
    from json.encoder import encode_basestring_ascii as text

    from runtui.formatting import iso_text as iso

    live = frozenset(LIVE_VALUES)
    encode = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode
    metric_json: dict[str, str] = {}
    ascii_tags: dict[str, str] = {}
    inf = math.inf

    def number(value: object) -> str:
        if value is None or value != value or value == inf or value == -inf:  # NaN/inf are not JSON
            return "null"
        return repr(value) if type(value) is float else encode(value)

    for rows, all_tags, metrics in pieces:
        for run_id, experiment, parent, name, status, created, started, ended in rows:
            end = now if ended is None and status in live else ended
            duration = "null" if end is None else f"{max(0.0, end - (started or created)):.3f}"
            metric = metrics.get(run_id)
            if metric is None:
                headline = "null"
            else:
                prefix = metric_json.get(metric[0])
                if prefix is None:
                    prefix = metric_json[metric[0]] = '{"name":' + text(metric[0]) + ',"value":'
                headline = prefix + number(metric[1]) + "}"
            tags = all_tags.get(run_id, "{}")
            if not (tags.isascii() and tags.isprintable()):
                shown = ascii_tags.get(tags)
                if shown is None:
                    shown = ascii_tags[tags] = encode(json.loads(tags))
                tags = shown
            yield (
                f'{{"runId":{text(run_id)},"experiment":{text(experiment)},"status":{text(status)},'
                f'"displayName":{text(name or run_id)},"parentRunId":{"null" if parent is None else text(parent)},'
                f'"createdTimeUtc":{"null" if created is None else chr(34) + iso(created) + chr(34)},'
                f'"startTimeUtc":{"null" if started is None else chr(34) + iso(started) + chr(34)},'
                f'"endTimeUtc":{"null" if ended is None else chr(34) + iso(ended) + chr(34)},'
                f'"durationSeconds":{duration},"headlineMetric":{headline},"tags":{tags}}}'
            )


def _fast_json(cfg: WorkspaceConfig, args: argparse.Namespace, now: float) -> Iterator[str] | None:
    """The JSON listing straight from a SQLite store with `sqlite3` (no SQLAlchemy, no SDK import), in blocks
    ready to write, or None when this store needs the store layer (PostgreSQL, a store to migrate, a filter
    expression)."""
    from runtui.store.peek import sqlite_path

    path = sqlite_path(cfg.store_url)
    if (args.filter is not None and args.filter.strip()) or path is None:
        return None
    from runtui.store.listing import json_chunks, open_read_only, parallel_json_chunks

    opened = open_read_only(path)
    if opened is None:
        return None
    conn, summary = opened
    if _hides_archived(args) and _has_archived(conn):
        conn.close()
        return None  # the store layer leaves archived experiments' runs out (rare: the fast path stays simple)
    if _may_have_vanished(conn):
        # Only a store with a live run whose owner looks gone pays the store layer (~0.5 s of imports): a reader
        # finalizes such runs before listing them (the fast read below sees that commit).
        from runtui.execution.liveness import finalize_vanished
        from runtui.store import open_store

        finalize_vanished(open_store(cfg.store_url))
    if args.all:
        both = parallel_json_chunks(path, summary, experiment=args.experiment, now=now)
        if both is not None:
            conn.close()
            return both
    return json_chunks(conn, summary, experiment=args.experiment, everything=args.all, limit=args.limit, now=now)


def _hides_archived(args: argparse.Namespace) -> bool:
    """Runs of archived experiments are left out (Azure's ActiveOnly view), unless --all/--archived is given or
    the listing names an experiment (--experiment, or an `exp:` term of the filter)."""
    if args.all or args.archived or args.experiment is not None:
        return False
    if args.filter is not None and args.filter.strip():
        from runtui.store.filters import FieldMatch, iter_terms, parse_filter

        terms = iter_terms(parse_filter(args.filter))
        return not any(isinstance(t, FieldMatch) and t.field == "experiment" for t in terms)
    return True


def _has_archived(conn: Any) -> bool:
    return conn.execute("SELECT 1 FROM experiment WHERE archived_at IS NOT NULL LIMIT 1").fetchone() is not None


def _active_only(where: Any) -> Any:
    """`where` and: the run's experiment is not archived."""
    from sqlalchemy import and_, select, true

    from runtui.store.db import experiment_t, run_t

    archived = select(experiment_t.c.name).where(experiment_t.c.archived_at.is_not(None))
    return and_(true() if where is None else where, run_t.c.experiment.not_in(archived))


def _may_have_vanished(conn: Any) -> bool:
    """Whether a live run's owner may be gone, judged as `liveness.owner_alive` judges it (pid + create time on
    this host, else the heartbeat's age), from plain rows: a cheap, conservative pre-check (the store layer's
    `finalize_vanished` decides exactly, and leaves alone some runs this flags)."""
    from runtui.execution.liveness import STALE_AFTER_S
    from runtui.identity import current_host

    marks = ",".join("?" * len(LIVE_VALUES))
    rows = conn.execute(
        f"SELECT host, owner_pid, owner_create_time, heartbeat_at FROM run WHERE status IN ({marks})",
        list(LIVE_VALUES),
    ).fetchall()
    if not rows:
        return False
    here, now = current_host(), time.time()
    for host, pid, created, heartbeat in rows:
        if pid is None:
            continue  # nobody picked it up yet: finalize_vanished leaves it alone too
        if host == here and created is not None:
            from runtui.execution.process_tree import ProcessIdentity

            if not ProcessIdentity(pid, created).is_alive():
                return True
        elif heartbeat is not None and now - heartbeat > STALE_AFTER_S:
            return True
    return False


def write_json(lines: Iterator[str]) -> None:
    """Stream: the first lines go out at once, then big blocks (one write per few thousand runs)."""
    write = sys.stdout.write
    block: list[str] = []
    first = True
    for line in lines:
        block.append(line)
        if first or len(block) >= 4000:
            write("\n".join(block) + "\n")
            sys.stdout.flush()
            block.clear()
            first = False
    if block:
        write("\n".join(block) + "\n")
    sys.stdout.flush()


def tree_order(rows: list[tuple[Any, ...]]) -> list[tuple[tuple[Any, ...], str]]:
    """Rows in tree order with the prefix of their name: top-level runs newest first, each followed by its
    children (oldest first, as a sweep ran them) indented under it. A child whose parent is not listed (a
    filter left it out) stays at the top level, marked `↳`."""
    listed = {r[ID] for r in rows}
    children: dict[str, list[tuple[Any, ...]]] = {}
    roots = []
    for r in rows:
        parent = r[PARENT]
        if parent is not None and parent in listed:
            children.setdefault(parent, []).append(r)
        else:
            roots.append(r)
    ordered: list[tuple[tuple[Any, ...], str]] = []
    stack = [(r, 0) for r in reversed(roots)]
    while stack:
        r, depth = stack.pop()
        prefix = "  " * (depth - 1) + "└ " if depth else "↳ " if r[PARENT] is not None else ""
        ordered.append((r, prefix))
        stack.extend((child, depth + 1) for child in children.get(r[ID], ()))  # newest pushed first: oldest on top
    return ordered


def table_lines(listing: RunListing, now: float, *, width: int | None, color: bool, flat: bool = False) -> list[str]:
    """The table: in tree order with indented names, or (`flat`) newest first with a PARENT column."""
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
    entries = [(r, "") for r in listing.rows] if flat else tree_order(listing.rows)
    rows: list[tuple[str, ...]] = []
    for (run_id, _, parent, name, status, created, started, ended), prefix in entries:
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
        if flat:
            rows.append((status, name, run_id, parent or "", shown_duration, shown_metric, shown_tags))
        else:
            rows.append((status, prefix + name, run_id, shown_duration, shown_metric, shown_tags))
    sgr = {s.value: out.status_sgr(s) for s in RunStatus}
    first_sgr = [sgr[r[STATUS]] for r, _ in entries] if color else None
    if flat:
        return out.render_table(
            ("STATUS", "NAME", "ID", "PARENT", "DURATION", "METRIC", "TAGS"),
            rows,
            max_widths=(None, 40, None, None, None, 32, 60),
            width=width,
            first_sgr=first_sgr,
        )
    return out.render_table(
        ("STATUS", "NAME", "ID", "DURATION", "METRIC", "TAGS"),
        rows,
        max_widths=(None, 44, None, None, 32, 60),
        width=width,
        first_sgr=first_sgr,
    )


def run(args: argparse.Namespace) -> int:
    where = None
    if args.filter is not None and args.filter.strip():
        from runtui.store.filters import compile_filter

        where = compile_filter(args.filter)  # a syntax error names the position, before the store is opened
    if args.experiment is not None:
        from runtui.ids import check_experiment_name

        check_experiment_name(args.experiment)
    now = time.time()
    if args.json:
        fast = _fast_json(workspace_config(args), args, now)
        if fast is not None:
            for block in fast:  # the first block is small: the first line goes out at once
                sys.stdout.write(block)
                sys.stdout.flush()
            return 0
    ws = workspace(args)
    from runtui.execution.liveness import finalize_vanished
    from runtui.store.overview import list_runs

    finalize_vanished(ws.store)  # a run whose owner vanished shows as Failed, not Running with a growing duration
    if _hides_archived(args):
        where = _active_only(where)
    listing = list_runs(ws.store, where=where, experiment=args.experiment, everything=args.all, limit=args.limit)
    if args.json:
        write_json(encode_pieces([prepared(listing)], now))
        return 0
    if not listing.rows:
        out.note("no runs" + ("" if args.all or not listing.hidden else "; use --all to list older runs"))
        return 0
    lines = table_lines(
        listing, now, width=out.terminal_width(sys.stdout), color=out.use_color(sys.stdout), flat=args.flat
    )
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
    if listing.hidden and sys.stderr.isatty():
        out.note(f"{listing.hidden} older finished run(s) not shown; --all lists them")
    return 0
