"""`runtui sync --to URL [--from-home DIR]`: copy a workspace's runs into another store (e.g. a shared PostgreSQL).

The copying itself is `runtui.store.sync`. Only records travel: log files, snapshots and artifact files stay in
the run folders on this host.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from runtui.cli import printing as out
from runtui.cli.session import workspace
from runtui.errors import NotFoundError, ValidationError


def _source_url(args: argparse.Namespace) -> str:
    """The store to copy from: the workspace in --from-home (its own store, never $RUNTUI_STORE_URL), else the
    workspace named by the global options."""
    if args.from_home is None:
        return workspace(args).config.store_url
    from runtui import config
    from runtui.store.engine import sqlite_path

    home = Path(args.from_home).expanduser()
    if not home.is_dir():
        raise NotFoundError(f"--from-home {home}: no such folder")
    cfg_file = home / config.CONFIG_FILE
    if cfg_file.is_file():
        url = config.load_config_file(cfg_file).store_url
    else:
        url = config.sqlite_url(home / config.DB_FILE)
    path = sqlite_path(url)
    if path is not None and not Path(path).is_file():
        raise NotFoundError(f"--from-home {home}: no runtui store there ({path} does not exist)")
    return url


def run(args: argparse.Namespace) -> int:
    from runtui.store import open_store
    from runtui.store.engine import redact, sqlite_path
    from runtui.store.sync import SyncReport, sync_stores

    target_url = args.to.strip()
    if not target_url:
        raise ValidationError("--to needs a store URL, e.g. postgresql+psycopg://user@host/db")
    source_url = _source_url(args)
    if source_url == target_url:
        raise ValidationError(f"the source and the target are the same store ({redact(source_url)})")
    target_file = sqlite_path(target_url)
    source_file = sqlite_path(source_url)
    if target_file and source_file and Path(target_file).resolve() == Path(source_file).resolve():
        raise ValidationError(f"the source and the target are the same store ({redact(source_url)})")
    source = open_store(source_url)
    target = open_store(target_url)

    def progress(report: SyncReport) -> None:
        if sys.stderr.isatty():
            done = report.runs_copied + report.runs_unchanged
            sys.stderr.write(f"\r{done} runs looked at, {report.runs_copied} copied…")
            sys.stderr.flush()

    report = sync_stores(source, target, progress=progress)
    if sys.stderr.isatty():
        sys.stderr.write("\r\x1b[K")
    sys.stdout.write(
        f"synced {out.safe(report.source)} -> {out.safe(report.target)}: "
        f"{report.runs_created} runs new, {report.runs_updated} updated, {report.runs_unchanged} unchanged; "
        f"{report.metric_points} metric points, {report.experiments_created} experiments new\n"
    )
    if report.live_runs:
        out.note(
            f"{len(report.live_runs)} of the copied runs are still going; their copies show them as they were "
            f"now: run 'runtui sync' again when they have ended"
        )
    out.note("log files, snapshots and artifact files stay in the run folders on this host; only records were copied")
    return 0
