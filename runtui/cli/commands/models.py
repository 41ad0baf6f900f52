"""`runtui models [list|show]`: the local model registry (`run.register_model`, `Model.register`)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from runtui.cli import printing as out
from runtui.cli.session import workspace


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def _parse_ref(ref: str) -> tuple[str, int | None]:
    from runtui.errors import ValidationError

    name, sep, version = ref.rpartition(":")
    if not sep:
        return ref, None
    if not version.isdigit() or int(version) < 1:
        raise ValidationError(f"a model is NAME or NAME:VERSION (VERSION a positive number), not {ref!r}")
    return name, int(version)


def run(args: argparse.Namespace) -> int:
    from runtui.core.model import Model
    from runtui.errors import ValidationError

    words = list(args.words)
    action = words.pop(0) if words and words[0] in ("list", "show") else "list"
    if len(words) > 1:
        raise ValidationError(f"runtui models {action} takes one model name, not {' '.join(words)!r}")
    ref = words[0] if words else None
    ws = workspace(args)
    if action == "show":
        if ref is None:
            raise ValidationError("runtui models show needs NAME or NAME:VERSION")
        name, version = _parse_ref(ref)
        model = Model(ws, name, version=version)
        data: dict[str, Any] = model.serialize()
        data["path"] = str(model.path)
        if args.json:
            sys.stdout.write(out.json_text(data, indent=2) + "\n")
            return 0
        fields = [
            ("Model", model.id),
            ("Run", model.run_id or "-"),
            ("Experiment", model.experiment_name or "-"),
            ("Registered", out.format_time(model._record.created_at)),
            ("Framework", " ".join(x for x in (model.model_framework, model.model_framework_version) if x) or "-"),
            ("Size", _size(model.size)),
            ("Path", str(model.path)),
            ("Description", model.description or "-"),
            ("Tags", out.format_tags(model.tags) or "-"),
            ("Properties", out.format_tags(dict(model.properties)) or "-"),
        ]
        sys.stdout.write("".join(f"{label:<12}{out.safe(value)}\n" for label, value in fields))
        return 0

    tags = dict(args.tag) if args.tag else None
    models = Model.list(ws, name=ref, tags=tags, latest=args.latest)
    if args.json:
        for m in models:
            sys.stdout.write(out.json_text(m.serialize()) + "\n")
        return 0
    if not models:
        out.note("no registered models" + (f" named {ref!r}" if ref else ""))
        return 0
    rows = [
        (
            out.safe(m.name),
            str(m.version),
            out.format_time(m._record.created_at),
            m.run_id or "-",
            _size(m.size),
            out.format_tags(m.tags),
        )
        for m in models
    ]
    width = out.terminal_width(sys.stdout)
    lines = out.render_table(
        ("NAME", "VERSION", "REGISTERED", "RUN", "SIZE", "TAGS"),
        rows,
        max_widths=(40, None, None, 48, None, None),
        width=width,
    )
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
