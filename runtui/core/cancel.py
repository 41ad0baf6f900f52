"""Cancel, the same from everywhere (SDK, CLI, TUI, another host): write CancelRequested; the owner acts.

A run whose owner is gone (or never had one) cannot act, so it is finalized as Canceled directly (and a
submitted script that outlived its supervisor is stopped, but only on the run's own host: a run of another host
whose heartbeat went stale is finalized in the store, and no pid of it is ever signalled here). A run owned by
this very process is canceled directly too: nobody else would act on it. The run and its descendants change in
ONE transaction, so a supervisor acting on the root already sees every descendant's request.

An owner that cannot stop the work (an interactive process ignoring SIGINT, a submitted script's process that
survived SIGKILL) still ends the run Canceled, with an error that starts with `liveness.STILL_RUNNING` and names the
process, why and what to do; `not_stopped` reads it, so the CLI fails with it, `Run.cancel` raises
`CancelNotStoppedError` with it and the TUI can show it (see docs/architecture.md, "Cancel").
"""

from __future__ import annotations

from runtui.identity import current_host, self_identity
from runtui.status import LIVE, RunStatus
from runtui.store.records import RunRecord
from runtui.store.store import StatusChange, Store

_CANCELABLE = LIVE - {RunStatus.CANCEL_REQUESTED}
_LIVE = LIVE


def _owned_here(rec: RunRecord) -> bool:
    me = self_identity()
    # The host first: the same pid and start time on another box is another process.
    return rec.host == current_host() and rec.owner_pid == me.pid and me.matches(rec.owner_create_time)


def _nobody_acts(rec: RunRecord, now: float) -> bool:
    """True when no owner will ever act on a request for this run (`now`: the store's clock, see liveness)."""
    from runtui.execution.liveness import owner_alive

    if rec.owner_pid is None and rec.status in (RunStatus.NOT_STARTED, RunStatus.QUEUED):
        return True  # never picked up (a submitted run is handed to its supervisor while Queued: see launch.py)
    return owner_alive(rec, now=now) is False


def not_stopped(rec: RunRecord) -> str | None:
    """For a Canceled run whose cancel could not stop its process: the message that says which process still
    runs, why, and what to do. None when the work stopped (or the run is not Canceled)."""
    from runtui.execution.liveness import STILL_RUNNING

    if rec.status != RunStatus.CANCELED or not rec.error:
        return None
    for line in rec.error.splitlines():
        if line.startswith(STILL_RUNNING):
            return f"run {rec.id} is Canceled but its work is {line}"
    return None


def cancel_runs(store: Store, run_id: str) -> bool:
    """Cancel `run_id` and its unfinished descendants; True when anything changed."""
    root = store.get_run(run_id)
    if root.status.is_terminal:
        return False
    records = [root, *store.descendants(run_id)]
    from runtui.execution.liveness import store_now

    now = store_now(store)  # heartbeats are judged by the database's clock on PostgreSQL
    changes: list[StatusChange] = []
    orphans: list[RunRecord] = []
    mine: list[str] = []
    for rec in records:
        if not rec.status.is_live:
            continue
        if _owned_here(rec):
            from runtui.core.owner import agent

            agent().flush_all()
            changes.append(StatusChange(rec.id, RunStatus.CANCELED, only_from=_LIVE))
            mine.append(rec.id)
        elif _nobody_acts(rec, now):
            changes.append(StatusChange(rec.id, RunStatus.CANCELED, only_from=_LIVE))
            if rec.kind == "submitted" and rec.pid is not None:
                orphans.append(rec)
        elif rec.status != RunStatus.CANCEL_REQUESTED:
            changes.append(StatusChange(rec.id, RunStatus.CANCEL_REQUESTED, only_from=_CANCELABLE))
    results = store.set_statuses(changes)
    if mine:
        from runtui.core.owner import agent

        for rid in mine:  # only now that the write has committed
            agent().close_run(rid, RunStatus.CANCELED)
            agent().release(rid)
    if orphans:
        from runtui.execution.liveness import stop_orphaned_script

        for rec in orphans:
            stop_orphaned_script(rec)
    return any(did for _, did in results)
