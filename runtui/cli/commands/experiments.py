"""`runtui experiment ls|archive|reactivate|delete`: Azure ML's Experiment.list/archive/reactivate/delete."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from runtui.cli import printing as out
from runtui.cli.session import workspace


def run(args: argparse.Namespace) -> int:
    handler = {"ls": _list, "archive": _archive, "reactivate": _reactivate, "delete": _delete}[args.action]
    return handler(args)


def _list(args: argparse.Namespace) -> int:
    """Azure's ViewType: active only by default, --archived ArchivedOnly, --all All."""
    from runtui.formatting import format_tags, iso_utc
    from runtui.store.overview import experiment_counts

    ws = workspace(args)
    records = ws.store.list_experiments(include_archived=args.archived or args.all)
    if args.archived:
        records = [r for r in records if r.archived_at is not None]
    counts = experiment_counts(ws.store, [r.name for r in records]) if records else {}
    if args.json:
        for rec in records:
            c = counts.get(rec.name)
            obj: dict[str, Any] = {
                "name": rec.name,
                "id": rec.id,
                "archived": rec.archived_at is not None,
                "createdTimeUtc": iso_utc(rec.created_at),
                "archivedTimeUtc": iso_utc(rec.archived_at),
                "runs": c.total if c else 0,
                "liveRuns": c.live if c else 0,
                "tags": dict(sorted(rec.tags.items())),
            }
            sys.stdout.write(out.json_text(obj) + "\n")
        sys.stdout.flush()
        return 0
    if not records:
        view = "archived " if args.archived else "" if args.all else "active "
        hint = "" if args.all else "; --all lists archived ones too" if not args.archived else ""
        out.note(f"no {view}experiments{hint}")
        return 0
    rows = []
    for rec in records:
        c = counts.get(rec.name)
        rows.append(
            (
                out.safe(rec.name),
                "Archived" if rec.archived_at is not None else "Active",
                str(c.total if c else 0),
                str(c.live if c else 0),
                (iso_utc(rec.created_at) or "-")[:19].replace("T", " "),
                format_tags(rec.tags),
            )
        )
    lines = out.render_table(
        ("NAME", "STATE", "RUNS", "LIVE", "CREATED (UTC)", "TAGS"),
        rows,
        max_widths=(60, None, None, None, None, 60),
        width=out.terminal_width(sys.stdout),
    )
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
    return 0


def _archive(args: argparse.Namespace) -> int:
    from runtui.ids import check_experiment_name

    name = check_experiment_name(args.name)
    rec = workspace(args).store.archive_experiment(name)
    out.note(f"archived experiment {out.safe(rec.name)!r}; `runtui ls --archived` still lists its runs")
    return 0


def _reactivate(args: argparse.Namespace) -> int:
    from runtui.ids import check_experiment_name

    name = check_experiment_name(args.name)
    rec = workspace(args).store.reactivate_experiment(name)
    out.note(f"experiment {out.safe(rec.name)!r} is active")
    return 0


def _delete(args: argparse.Namespace) -> int:
    from runtui.core.experiment import ExperimentBusyError, delete_experiment, experiment_summary

    ws = workspace(args)
    summary = experiment_summary(ws, args.name)  # unknown or invalid names are refused here, before asking
    name = summary.record.name
    if summary.live:
        n = len(summary.live)
        raise ExperimentBusyError(
            f"experiment {name!r} has {n} live run(s) ({', '.join(summary.live[:3])}{' ...' if n > 3 else ''}); "
            f"cancel them (runtui cancel RUN) or wait until they end, then delete it"
        )
    runs = f"{summary.runs} run{'' if summary.runs == 1 else 's'}"
    if not args.yes:
        sys.stderr.write(f"Delete experiment {name!r} with {runs} and their files? [y/N] ")
        sys.stderr.flush()
        answer = sys.stdin.readline() if sys.stdin is not None else ""
        if not (answer.endswith("\n") and sys.stdin.isatty()):
            sys.stderr.write("\n")  # the answer was not echoed (a pipe, or EOF): end the prompt's line
        if answer.strip().lower() not in ("y", "yes"):
            out.note("not deleted")
            return 1
    deleted = delete_experiment(ws, name)
    out.note(f"deleted experiment {name!r} and {deleted} run{'' if deleted == 1 else 's'} with their files")
    return 0
