"""`runtui import mlflow [--from URI] [--experiment NAME ...] [--dry-run]`: copy an MLflow tracking store in.

The work is `runtui.integrations.mlflow_import`; this module parses, shows progress on a terminal (quiet in pipes)
and prints the summary, including the measured points/s.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from runtui.cli import printing as out
from runtui.cli.session import workspace


def add_parser(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Register `import` and its sources with the CLI's parser (`command` makes a subcommand parser)."""
    p = command(
        "import",
        "import runs from another tracker (MLflow)",
        "Copy another tracker's runs into this workspace. Running it again adds only what is new.",
    )
    sources = p.add_subparsers(dest="source", metavar="SOURCE", required=True)
    m = sources.add_parser(
        "mlflow",
        help="import an MLflow tracking store",
        description=(
            "Copy an MLflow tracking store (SQLite, PostgreSQL, MySQL, or the mlruns file store): experiments, runs "
            "(status, start/end times, parent/child), params as properties, tags, every metric point with its step "
            "and timestamp, and artifacts on this machine as run files under outputs/. Running it again adds only "
            "what is new. Deleted MLflow runs are skipped."
        ),
    )
    m.add_argument(
        "--from",
        dest="uri",
        metavar="URI",
        help="the MLflow tracking URI or path (default: $MLFLOW_TRACKING_URI, ./mlflow.db or ./mlruns)",
    )
    m.add_argument(
        "--experiment",
        "-e",
        action="append",
        metavar="NAME",
        help="only this MLflow experiment (name or id; repeat for several)",
    )
    m.add_argument("--dry-run", action="store_true", help="only show what would be imported")


def run(args: argparse.Namespace) -> int:
    from runtui.integrations.mlflow_import import default_uri, import_mlflow
    from runtui.integrations.mlflow_source import open_source
    from runtui.progress import Progress

    uri = args.uri if args.uri is not None else default_uri()
    source = open_source(uri)
    ws = workspace(args)
    try:
        with Progress("importing", unit="points") as bar:
            report = import_mlflow(source, ws, experiments=args.experiment, dry_run=args.dry_run, progress=bar)
    finally:
        source.close()
    verb = "would import" if report.dry_run else "imported"
    size = f" ({report.file_bytes / 1e6:.1f} MB)" if report.files else ""
    sys.stdout.write(
        f"{verb} from {out.safe(report.source)}: {report.experiments_new} experiments new; "
        f"{report.runs_new} runs new, {report.runs_updated} updated, {report.runs_unchanged} unchanged; "
        f"{report.points} metric points, {report.properties} properties, {report.tags} tags, "
        f"{report.files} files{size}\n"
    )
    if not report.dry_run and report.points:
        sys.stdout.write(
            f"{report.points} points in {report.point_seconds:.1f} s of writing ({report.points_per_s:,.0f} points/s); "
            f"{report.seconds:.1f} s in all\n"
        )
    for mlflow_name, name in sorted(report.renamed.items()):
        out.note(f"MLflow experiment {out.safe(repr(mlflow_name))} is runtui experiment {out.safe(name)}")
    if report.remote_artifacts:
        out.note(f"{report.remote_artifacts} runs keep their artifacts in a remote store; those were not copied")
    for warning in report.warnings[:20]:
        out.note(out.safe(warning))
    if len(report.warnings) > 20:
        out.note(f"... and {len(report.warnings) - 20} more warnings")
    for error in report.errors:
        sys.stderr.write(f"runtui: error: {out.safe(error)}\n")
    if report.errors:
        sys.stderr.write(
            f"runtui: error: {len(report.errors)} runs could not be read completely; what was read is imported, "
            "and importing again after a fix adds the rest\n"
        )
        return 1
    return 0
