"""`runtui demo`: start the demo workload and open the monitor on it (or leave it running with --no-ui)."""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import TYPE_CHECKING

from runtui.cli import printing as out
from runtui.cli.session import workspace

if TYPE_CHECKING:
    from runtui.core.run import Run
    from runtui.demo.workload import DemoJob


def _ws_options(args: argparse.Namespace) -> str:
    """The workspace options to repeat in the hints, so they point at the same workspace."""
    parts = []
    if getattr(args, "home", None):
        parts += ["--home", shlex.quote(str(args.home))]
    if getattr(args, "store", None):
        parts += ["--store", shlex.quote(str(args.store))]
    return (" " + " ".join(parts)) if parts else ""


def run(args: argparse.Namespace) -> int:
    from runtui.demo.workload import live_demo_runs, start_demo

    ws = workspace(args)
    opts = _ws_options(args)
    if args.stop:
        ids = live_demo_runs(ws)
        if not ids:
            out.note("no demo runs are live")
            return 0
        from runtui.cli.commands.control import cancel

        return cancel(argparse.Namespace(runs=ids, timeout=None, no_wait=False, home=args.home, store=args.store))

    from runtui.demo.workload import JOBS

    sys.stdout.write(f"starting the runtui demo in workspace {ws.path}:\n")
    sys.stdout.flush()
    width = max(len(job.role) for job in JOBS)

    def show(job: DemoJob, r: Run) -> None:
        sys.stdout.write(f"  {job.role:<{width}}  {r.id}\n")
        sys.stdout.flush()

    started = start_demo(ws, on_started=show)
    sys.stdout.write(f"started the runtui demo: {len(started)} runs\n")
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    if args.no_ui or not interactive:
        if not args.no_ui:
            out.note("not a terminal: the monitor is not opened")
        sys.stdout.write(
            "\nIt runs in the background for about five minutes.\n"
            f"  watch it live:    runtui{opts}\n"
            f"  list the runs:    runtui ls{opts}\n"
            f"  follow a log:     runtui logs -f{opts} {started[1][1].id}\n"
            f"  stop it early:    runtui demo --stop{opts}\n"
        )
        return 0
    from runtui.tui import run_app

    run_app(ws.config)
    if live_demo_runs(ws):
        out.note(f"the demo goes on in the background; stop it with: runtui demo --stop{opts}")
    return 0
