"""`runtui submit SCRIPT [ARGS...]`: the command-line face of `exp.submit(ScriptRunConfig(...))`."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from runtui.cli import printing as out
from runtui.cli.session import workspace
from runtui.errors import NotFoundError, SubmitError

_NOT_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def default_experiment(source: Path) -> str:
    """The source folder's name, made into a valid experiment name."""
    name = _NOT_NAME.sub("-", source.name).strip("-._")
    return name[:255] or "default"


def run(args: argparse.Namespace) -> int:
    from runtui.core.experiment import Experiment
    from runtui.core.script_run_config import ScriptRunConfig
    from runtui.ids import check_display_name, check_experiment_name

    script = Path(args.script).expanduser()
    if not script.exists():
        raise NotFoundError(f"script {args.script!r} not found")
    if not script.is_file():
        raise SubmitError(f"script {args.script!r} is not a file")
    script = script.resolve()
    if args.source_dir is not None:
        source = Path(args.source_dir).expanduser()
        if not source.is_dir():
            raise NotFoundError(f"source folder {args.source_dir!r} not found (or not a folder)")
        source = source.resolve()
    else:
        source = script.parent
    if not script.is_relative_to(source):
        raise SubmitError(f"script {args.script!r} is not inside the source folder {source}")
    experiment = check_experiment_name(args.experiment) if args.experiment else default_experiment(source)
    check_display_name(args.name)
    script_args = list(args.args)
    if script_args[:1] == ["--"]:
        script_args = script_args[1:]
    config = ScriptRunConfig(
        source_directory=source,
        script=str(script.relative_to(source)),
        arguments=script_args,
        azureml_compat=args.azureml_compat,
    )
    from runtui.execution.launch import build_command

    build_command(source, config.script or "", script_args, None)  # runnable? (before the experiment is created)
    # Everything is checked before this line; the store is only touched by a submission that can go ahead.
    ws = workspace(args)
    exp = Experiment(ws, experiment)
    if sys.stderr.isatty():
        out.note(f"snapshotting {source} and starting the supervisor ...")
    r = exp.submit(config, tags=dict(args.tag), display_name=args.name)
    sys.stdout.write(r.id + "\n")
    sys.stdout.flush()
    if not args.wait:
        if sys.stderr.isatty():
            out.note(f"submitted to experiment {experiment}; follow it with: runtui logs -f {r.id}")
        return 0

    from runtui.cli.commands.logs import follow, log_path

    try:
        status = follow(
            r, log_path(r, None), sys.stdout, color=out.use_color(sys.stdout), live_partial=sys.stdout.isatty()
        )
    except KeyboardInterrupt:
        out.note(f"\nstopped waiting; run {r.id} goes on (stop it with: runtui cancel {r.id})")
        return 130
    if status == "Completed":
        return 0
    rec = r.record
    code = f" (exit code {rec.exit_code})" if rec.exit_code is not None and status == "Failed" else ""
    sys.stderr.write(f"runtui: error: run {r.id} ended {status}{code}\n")
    return 1
