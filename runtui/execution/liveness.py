"""Is a run's owner (its supervisor, or the SDK process driving it) still alive? And what to do when not.

On the owner's host the answer is exact: the owner pid exists and its create time matches the recorded one
(a reused pid does not count). From another host, or when no owner was recorded, the run's heartbeat decides:
owners heart-beat every few seconds, so a heartbeat older than `stale_after` means the owner is gone. On
PostgreSQL heartbeats are stamped with the database's clock and their age is taken against it too
(`store_now`), so boxes whose clocks disagree do not flap between NotResponding and Running.

`sweep_lost_runs` marks live runs whose owner is gone `NotResponding` (and a NotResponding run whose owner is
back `Running` again); `finalize_lost` ends a lost run as `Failed` with the error "owner process lost".
`finalize_vanished` is the passive form every reader calls (CLI `ls`/`show`, the SDK's `get_status`, the TUI):
whoever notices first ends a run whose owner vanished without a word, with the owner's last heartbeat as its
end time; it never signals a process.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from runtui.errors import RuntuiError
from runtui.identity import current_host
from runtui.status import TRANSITIONS, RunStatus

if TYPE_CHECKING:
    from runtui.store import RunRecord, Store

# Owners heart-beat every HEARTBEAT_S; a few missed beats (a busy box, a slow shared store) are tolerated.
HEARTBEAT_S = 5.0
STALE_AFTER_S = 60.0
LOST_ERROR = "owner process lost"
# The start of a Canceled run's error line when the cancel could not stop a process of it (core/cancel.py's
# `not_stopped` reads it; the owner agent and the supervisor write it).
STILL_RUNNING = "still running: "


def owner_alive(
    record: RunRecord, *, now: float | None = None, stale_after: float = STALE_AFTER_S, host: str | None = None
) -> bool | None:
    """True/False when we can tell whether the run's owner lives; None when there is nothing to judge by.

    Same host with a recorded owner: pid + create time, exactly. Otherwise: the heartbeat's age.
    """
    here = current_host() if host is None else host
    if record.host == here and record.owner_pid is not None and record.owner_create_time is not None:
        from runtui.execution.process_tree import ProcessIdentity

        # A zombie (exited, not yet reaped by init) counts as gone.
        return ProcessIdentity(record.owner_pid, record.owner_create_time).is_alive()
    if record.heartbeat_at is None:
        return None
    now = time.time() if now is None else now
    return now - record.heartbeat_at <= stale_after


def _live(store: Store, run_ids: Iterable[str] | None) -> list[RunRecord]:
    if run_ids is not None:
        return [r for r in store.get_runs_by_id(list(run_ids)) if r.status.is_live]
    statuses = [s for s in RunStatus if s.is_live]
    return list(store.query_runs(statuses=statuses))


def store_now(store: Store) -> float:
    """The clock heartbeats are judged by: the database's on PostgreSQL, this host's on SQLite."""
    from runtui.execution.box_agent import store_now as now_of

    return now_of(store)


def sweep_lost_runs(
    store: Store,
    *,
    run_ids: Iterable[str] | None = None,
    stale_after: float = STALE_AFTER_S,
    now: float | None = None,
) -> list[RunRecord]:
    """Mark live runs whose owner is gone `NotResponding`; returns the runs that changed status.

    Runs that cannot be NotResponding by the status table (NotStarted, Queued, Preparing: nobody has driven
    them yet) are left alone; `finalize_lost` can still end them. A NotResponding run whose owner is alive
    again goes back to Running.
    """
    changed: list[RunRecord] = []
    records = _live(store, run_ids)
    if now is None and records:
        now = store_now(store)
    for rec in records:
        alive = owner_alive(rec, now=now, stale_after=stale_after)
        if alive is None:
            continue
        if not alive and RunStatus.NOT_RESPONDING in TRANSITIONS[rec.status]:
            new, did = store.set_status(rec.id, RunStatus.NOT_RESPONDING, only_from=frozenset({rec.status}))
        elif alive and rec.status == RunStatus.NOT_RESPONDING:
            new, did = store.set_status(rec.id, RunStatus.RUNNING, only_from=frozenset({RunStatus.NOT_RESPONDING}))
        else:
            continue
        if did:
            changed.append(new)
    return changed


def stop_orphaned_script(record: RunRecord, grace: float = 10.0) -> int:
    """Stop a submitted run's script (and its descendants) that outlived its supervisor; returns how many
    processes were stopped. Only on the run's host, and only the very process recorded (pid + create time).
    A process we may not signal (another user's) is not counted: it was tried, refused, and still runs."""
    from runtui.execution.process_tree import ProcessIdentity, ProcessTree

    if record.host != current_host() or record.pid is None or record.pid_create_time is None:
        return 0
    if record.pid == record.owner_pid:
        return 0  # an interactive run: the process is the owner itself, and it is gone
    tree = ProcessTree(root=ProcessIdentity(record.pid, record.pid_create_time))
    report = tree.terminate(grace)
    return len((report.terminated | report.killed) - set(report.survivors))


def finalize_lost(
    store: Store,
    run_id: str,
    *,
    force: bool = False,
    stale_after: float = STALE_AFTER_S,
    stop_script: bool = True,
    grace: float = 10.0,
) -> tuple[RunRecord, bool]:
    """End a run whose owner is gone as `Failed` ("owner process lost"); returns (run, whether it changed).

    A finished run is left as it is (no error). A run whose owner is demonstrably alive is refused unless
    `force`: its owner would keep writing to a run that says it has ended. With `stop_script`, a submitted
    script that outlived its supervisor on this host is stopped first (SIGTERM, `grace`, SIGKILL): a run marked
    Failed should not go on using the machine unseen.
    """
    rec = store.get_run(run_id)
    if rec.status.is_terminal:
        return rec, False
    if not force and owner_alive(rec, now=store_now(store), stale_after=stale_after) is True:
        raise RuntuiError(
            f"run {run_id} still has a live owner (pid {rec.owner_pid} on {rec.host}); cancel it instead, "
            f"or finalize with force"
        )
    error = LOST_ERROR
    if stop_script and rec.kind == "submitted":
        stopped = stop_orphaned_script(rec, grace)
        if stopped:
            error += f"; its script was still running and was stopped ({stopped} processes)"
    return store.set_status(
        run_id, RunStatus.FAILED, error=error, only_from=frozenset(s for s in RunStatus if s.is_live)
    )


def finalize_vanished(store: Store, records: Iterable[RunRecord] | None = None) -> list[RunRecord]:
    """End live runs whose owner vanished without a word as Failed ("owner process lost"), ended at the owner's
    last heartbeat (the last moment it is known to have lived); returns the runs that changed.

    `records`: the rows a reader already has (only live ones are looked at); None: every live run of the store.
    Exact on the owner's host (pid + create time); from another host only a heartbeat older than STALE_AFTER_S
    counts. Runs nobody picked up yet (no owner recorded) are left alone, and so is a submitted run whose script
    still lives here without its supervisor: stopping it is `runtui gc`'s or cancel's job, not a reader's.
    """
    from runtui.execution.process_tree import ProcessIdentity

    live = _live(store, None) if records is None else [r for r in records if r.status.is_live]
    changed: list[RunRecord] = []
    here = current_host()
    for rec in live:
        if rec.owner_pid is None or owner_alive(rec, host=here) is not False:
            continue
        if (
            rec.kind == "submitted"
            and rec.host == here
            and rec.pid is not None
            and rec.pid_create_time is not None
            and rec.pid != rec.owner_pid
            and ProcessIdentity(rec.pid, rec.pid_create_time).is_alive()
        ):
            continue
        last_seen = max(t for t in (rec.heartbeat_at, rec.started_at, rec.created_at, 0.0) if t is not None)
        try:
            new, did = store.set_status(
                rec.id,
                RunStatus.FAILED,
                error=f"{LOST_ERROR}: it ended without recording an end; ended at its last heartbeat",
                only_from=frozenset({rec.status}),
                ended_at=last_seen,
            )
        except Exception:  # a reader must still show what it read: the next reader tries again
            continue
        if did:
            changed.append(new)
    return changed
