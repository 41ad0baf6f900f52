"""`runtui ui` (the default), `runtui init`, `runtui gc` and `runtui version`."""

from __future__ import annotations

import argparse
import sys

from runtui.cli import printing as out
from runtui.cli.session import _sqlite_file, workspace
from runtui.core.workspace import Workspace
from runtui.errors import RuntuiError


def ui(args: argparse.Namespace) -> int:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise RuntuiError(
            "the monitor needs a terminal; in scripts and pipes use 'runtui ls', 'runtui show' or 'runtui logs'"
        )
    ws = workspace(args)
    _ = ws.store  # a store that cannot be opened is one clear line here, not a failure inside the TUI
    from runtui.tui import run_app  # Textual is imported only for this command

    run_app(ws.config)
    return 0


def init(args: argparse.Namespace) -> int:
    """Create a workspace (its folder, 0700, and its store with the current schema) and print its folder.
    Idempotent: an existing workspace is left as it is and said so."""
    from runtui.errors import ValidationError

    target = args.dir if args.dir is not None else getattr(args, "home", None)
    if target is not None:
        from runtui.cli.session import _check_folder_option

        _check_folder_option(target, "DIR" if args.dir is not None else "--home")
    ws = Workspace(path=target, store_url=getattr(args, "store", None))
    home = ws.config.home
    store_file = _sqlite_file(ws.config.store_url)
    existed = home.is_dir() and (store_file is None or store_file.is_file())
    try:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise ValidationError(f"cannot create the workspace folder {home}: {exc.strerror or exc}") from None
    ws.store.count_runs()  # opens the store: creates (or migrates) its schema, or says in one line why it cannot
    sys.stdout.write(f"{home}\n")
    out.note(f"{home} is already a runtui workspace" if existed else f"created a runtui workspace in {home}")
    return 0


def gc(args: argparse.Namespace) -> int:
    """Finalize live runs whose owner (a supervisor or an SDK process) is gone: Failed, "owner process lost".

    Owners on this host are checked by pid; runs of other hosts by their heartbeats (nothing of another host is
    ever signalled). First, NotResponding runs whose owner heart-beats again go back to Running.
    """
    from runtui.execution.liveness import finalize_lost, owner_alive, store_now, sweep_lost_runs
    from runtui.status import LIVE, RunStatus

    ws = workspace(args)
    store = ws.store
    if not args.dry_run:
        for rec in sweep_lost_runs(store):
            if rec.status == RunStatus.RUNNING:
                sys.stdout.write(f"{rec.status.value}  {rec.id}  (its owner is alive again)\n")
    live = list(store.query_runs(statuses=sorted(LIVE)))
    now = store_now(store) if live else 0.0  # the database's clock on PostgreSQL, like the heartbeats
    lost = [r for r in live if owner_alive(r, now=now) is False]
    if not lost:
        out.note(f"nothing to do: {len(live)} live run(s), each with a live owner")
        return 0
    for rec in lost:
        if args.dry_run:
            sys.stdout.write(f"would finalize  {rec.id}  ({rec.status.value}, owner pid {rec.owner_pid} gone)\n")
            continue
        try:
            new, changed = finalize_lost(store, rec.id)
        except RuntuiError as exc:  # its owner came back meanwhile: leave it, say so, go on
            out.note(f"left {rec.id}: {exc}")
            continue
        if changed:
            sys.stdout.write(f"{new.status.value}  {rec.id}  ({new.error})\n")
    return 0


def version(args: argparse.Namespace) -> int:
    from runtui._version import __version__

    sys.stdout.write(f"runtui {__version__}\n")
    return 0
