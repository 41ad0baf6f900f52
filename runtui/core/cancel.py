"""Cancel, the same from everywhere (SDK, CLI, TUI, another host): write CancelRequested; the owner acts.

A run whose owner is gone (or never had one) cannot act, so it is finalized as Canceled directly.
A run owned by this very process is canceled directly too: nobody else would act on it.
"""

from __future__ import annotations

from runtui.identity import self_identity
from runtui.status import RunStatus
from runtui.store.records import RunRecord
from runtui.store.store import Store

_CANCELABLE = frozenset(s for s in RunStatus if s.is_live and s != RunStatus.CANCEL_REQUESTED)


def _owned_here(rec: RunRecord) -> bool:
    pid, ctime = self_identity()
    return (
        rec.owner_pid == pid
        and rec.owner_create_time is not None
        and ctime is not None
        and abs(rec.owner_create_time - ctime) < 0.01
    )


def cancel_runs(store: Store, run_id: str) -> bool:
    """Cancel `run_id` and its unfinished descendants; True when anything changed."""
    from runtui.execution.liveness import owner_alive

    root = store.get_run(run_id)
    if root.status.is_terminal:
        return False
    changed = False
    for rec in [root, *store.descendants(run_id)]:
        if rec.status not in _CANCELABLE and rec.status != RunStatus.CANCEL_REQUESTED:
            continue
        if (
            _owned_here(rec)
            or owner_alive(rec) is False
            or (
                rec.owner_pid is None
                and rec.status
                in (
                    RunStatus.NOT_STARTED,
                    RunStatus.QUEUED,
                )
            )
        ):
            if _owned_here(rec):
                from runtui.core.owner import agent

                agent().flush_all()
                agent().release(rec.id)
            _, did = store.set_status(rec.id, RunStatus.CANCELED, only_from=_CANCELABLE | {RunStatus.CANCEL_REQUESTED})
        else:
            _, did = store.set_status(rec.id, RunStatus.CANCEL_REQUESTED, only_from=_CANCELABLE)
        changed = changed or did
    return changed
