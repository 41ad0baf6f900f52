"""`runtui show RUN`: one run's details (`Run.get_details()`), its child runs, metrics and error."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from typing import Any

from runtui.cli import printing as out
from runtui.cli.session import get_run, workspace

LABEL = 12


def _metrics(store: Any, run_id: str) -> list[dict[str, Any]]:
    summaries = store.get_summaries([run_id])[run_id]
    return [
        {
            "name": s.name,
            "kind": s.kind,
            "last": out.finite(s.last),
            "min": out.finite(s.min),
            "max": out.finite(s.max),
            "count": s.count,
            "lastStep": s.last_step,
        }
        for s in summaries
    ]


def _field(label: str, value: str) -> str:
    return f"{label:<{LABEL}}{value}"


def run(args: argparse.Namespace) -> int:
    ws = workspace(args)
    r = get_run(ws, args.run)
    details = r.get_details()
    store = ws.store
    children = list(store.query_runs(parent_id=r.id))
    details["children"] = [c.id for c in children]
    details["metrics"] = _metrics(store, r.id)
    rec = r.record
    if args.json:
        sys.stdout.write(out.json_text(details, indent=2) + "\n")
        return 0

    lines = [_field("Run", rec.id)]
    if rec.display_name:
        lines.append(_field("Name", out.safe(rec.display_name)))
    lines.append(_field("Experiment", rec.experiment))
    status = rec.status.value
    color = out.use_color(sys.stdout)
    status_text = out.paint_status(rec.status, status, color)
    if rec.exit_code is not None:
        status_text += f"  (exit code {rec.exit_code})"
    lines.append(_field("Status", status_text))
    if rec.parent_id:
        lines.append(_field("Parent", rec.parent_id))
    if children:
        counts = Counter(c.status.value for c in children)
        summary = ", ".join(f"{n} {s}" for s, n in counts.most_common())
        lines.append(_field("Children", f"{len(children)}: {summary}"))
    where = f"{rec.kind} on {out.safe(rec.host) or '?'} by {out.safe(rec.user) or '?'}"
    if rec.pid is not None:
        where += f", pid {rec.pid}"
    lines.append(_field("Kind", where))
    lines.append(_field("Created", out.format_time(rec.created_at)))
    if rec.started_at is not None:
        lines.append(_field("Started", out.format_time(rec.started_at)))
    if rec.ended_at is not None:
        lines.append(_field("Ended", out.format_time(rec.ended_at)))
    lines.append(_field("Duration", out.format_duration(rec.duration(time.time()))))
    if rec.script is not None:
        lines.append(_field("Script", out.safe(" ".join([rec.script, *rec.arguments]))))
    tags = details.get("tags") or {}
    if tags:
        lines.append(_field("Tags", out.format_tags(tags)))
    props = details.get("properties") or {}
    if props:
        lines.append(_field("Properties", " ".join(f"{out.safe(k)}={out.safe(v)}" for k, v in props.items())))
    metrics = details["metrics"]
    if metrics:
        lines.append("Metrics")
        width = min(30, max(len(out.safe(m["name"])) for m in metrics))
        for m in metrics:
            name = out.clip(out.safe(m["name"]), width).ljust(width)
            if m["kind"] == "scalar":
                stats = (
                    f"last {out.format_number(m['last'])}  min {out.format_number(m['min'])}  "
                    f"max {out.format_number(m['max'])}  ({m['count']} points)"
                )
            else:
                stats = f"{m['kind']}, {m['count']} value(s)"
            lines.append(f"  {name}  {stats}")
    for name, path in (details.get("logFiles") or {}).items():
        lines.append(_field("Log", f"{out.safe(name)}  {out.safe(path)}"))
    if rec.error:
        lines.append("Error")
        lines.extend("  " + line for line in out.safe_block(rec.error.rstrip("\n")).splitlines())
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
