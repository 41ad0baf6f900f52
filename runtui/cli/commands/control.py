"""`runtui cancel`, `runtui fail`, `runtui tag`: changing runs. Every argument is checked and every RUN resolved
before the first write, so a typo in the third id leaves the first two untouched."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

from runtui.cli import printing as out
from runtui.cli.session import get_run, resolve_runs, workspace
from runtui.errors import CancelNotStoppedError, CancelTimeoutError, ValidationError

if TYPE_CHECKING:
    from runtui.store.records import RunRecord
    from runtui.store.store import Store

POLL_S = 0.1
PROGRESS_S = 0.5


def cancel(args: argparse.Namespace) -> int:
    from runtui.core.cancel import cancel_runs, not_stopped
    from runtui.core.run import _default_cancel_timeout

    ws = workspace(args)
    store = ws.store
    ids = resolve_runs(store, args.runs)
    pending: list[str] = []
    for rec in store.get_runs_by_id(ids):
        if rec.status.is_terminal:
            out.note(f"run {rec.id} is already {rec.status.value}; nothing to cancel")
            continue
        cancel_runs(store, rec.id)
        pending.append(rec.id)
    if args.no_wait or not pending:
        for rec in store.get_runs_by_id(pending):
            sys.stdout.write(f"{rec.status.value}  {rec.id}\n")
        return 0

    timeout = args.timeout if args.timeout is not None else _default_cancel_timeout()
    final = _wait_until_ended(store, pending, timeout)
    for rid in pending:
        if rid in final:
            sys.stdout.write(f"{final[rid]}  {rid}\n")
    left = [rid for rid in pending if rid not in final]
    if left:
        recs = store.get_runs_by_id(left)
        owners = "; ".join(_who_has_not_acted(r) for r in recs)
        raise CancelTimeoutError(f"{len(left)} run(s) not canceled after {timeout:g} s: {owners}")
    # Canceled is not the whole truth when a process of the run could not be stopped: say which, and fail.
    problems = [p for rec in store.get_runs_by_id(list(final)) if (p := not_stopped(rec))]
    if problems:
        raise CancelNotStoppedError("; ".join(out.safe(p) for p in problems))
    return 0


def _who_has_not_acted(rec: RunRecord) -> str:
    """Which process was asked, where, and what to do now that it has not acted."""
    import time as _time

    from runtui.identity import current_host

    owner = f"owner pid {rec.owner_pid} on {out.safe(rec.host)}"
    if rec.owner_pid is None:
        return f"{rec.id} is {rec.status.value} and has no owner yet (not picked up); 'runtui gc' finalizes it"
    if rec.host == current_host():
        return (
            f"{rec.id} is {rec.status.value}: its {owner} is alive but has not stopped it; "
            f"'kill {rec.owner_pid}' stops it (its metrics are flushed first)"
        )
    age = "" if rec.heartbeat_at is None else f", last heartbeat {max(0.0, _time.time() - rec.heartbeat_at):.0f} s ago"
    return (
        f"{rec.id} is {rec.status.value}: its {owner}{age} has not acted; if that host is down, "
        f"'runtui gc' ends the run once its heartbeat is older than 60 s"
    )


def _wait_until_ended(store: Store, run_ids: list[str], timeout: float) -> dict[str, str]:
    """Poll until every run has ended or `timeout` passes, showing progress on stderr; run id -> final status."""
    tty = sys.stderr.isatty()
    start = time.monotonic()
    deadline = start + timeout
    final: dict[str, str] = {}
    last_shown = 0.0
    if not tty:
        out.note(f"waiting up to {timeout:g} s for {len(run_ids)} run(s) to end")
    while True:
        waiting = [rid for rid in run_ids if rid not in final]
        for rec in store.get_runs_by_id(waiting):
            if rec.status.is_terminal:
                final[rec.id] = rec.status.value
        now = time.monotonic()
        done = len(final) == len(run_ids)
        if tty and (done or now - last_shown >= PROGRESS_S):
            last_shown = now
            left = len(run_ids) - len(final)
            sys.stderr.write(
                f"\r\x1b[Kwaiting for {left} of {len(run_ids)} run(s) to cancel ... {now - start:.0f}s / {timeout:g}s"
            )
            sys.stderr.flush()
        if done or now >= deadline:
            if tty:
                sys.stderr.write("\r\x1b[K")
                sys.stderr.flush()
            return final
        time.sleep(POLL_S)


def fail(args: argparse.Namespace) -> int:
    from runtui.identity import current_user

    ws = workspace(args)
    r = get_run(ws, args.run)
    reason = args.reason if args.reason else f"marked Failed with 'runtui fail' by {current_user()}"
    r.fail(reason)
    sys.stdout.write(f"{r.get_status()}  {r.id}\n")
    return 0


def tag(args: argparse.Namespace) -> int:
    from runtui.core.run import normalize_tags

    if not args.tags and not args.remove:
        raise ValidationError("nothing to do: give KEY=VALUE or KEY to set, or --remove KEY")
    new = normalize_tags(dict(args.tags))  # values checked before anything is written
    both = sorted(set(new) & set(args.remove))
    if both:
        raise ValidationError(f"tag {both[0]!r} is both set and removed; pick one")
    ws = workspace(args)
    r = get_run(ws, args.run)
    if new:
        r.set_tags(new)
    if args.remove:
        removed = r.remove_tags(args.remove)
        for key in args.remove:
            if key not in removed:
                out.note(f"run {r.id} had no tag {key!r}")
    tags = r.get_tags()
    sys.stdout.write(f"{r.id}  {out.format_tags(tags) if tags else '(no tags)'}\n")
    return 0
