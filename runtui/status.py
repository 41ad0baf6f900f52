"""Run statuses and the one table of allowed transitions.

Kept free of heavy imports: the SDK, the supervisor, the CLI and the TUI all use it.
"""

from __future__ import annotations

from enum import Enum


class RunStatus(str, Enum):
    """The Azure ML run statuses, plus NotResponding for a run whose owner stopped heart-beating."""

    NOT_STARTED = "NotStarted"
    QUEUED = "Queued"
    PREPARING = "Preparing"
    STARTING = "Starting"
    RUNNING = "Running"
    FINALIZING = "Finalizing"
    CANCEL_REQUESTED = "CancelRequested"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELED = "Canceled"
    NOT_RESPONDING = "NotResponding"

    def __str__(self) -> str:
        return self.value

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL

    @property
    def is_live(self) -> bool:
        """A run that someone (a supervisor or an SDK process) is expected to be driving."""
        return self in LIVE


S = RunStatus

TERMINAL: frozenset[RunStatus] = frozenset({S.COMPLETED, S.FAILED, S.CANCELED})

# from-status -> the statuses it may move to. Same-to-same is a no-op and never listed.
# Completed -> Failed is Azure's seed semantics: fail() may overrule a completion.
# NotResponding may recover (the owner heart-beats again) or be finalized.
TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    S.NOT_STARTED: frozenset({S.QUEUED, S.PREPARING, S.STARTING, S.RUNNING, S.CANCEL_REQUESTED, S.CANCELED, S.FAILED}),
    S.QUEUED: frozenset({S.PREPARING, S.STARTING, S.RUNNING, S.CANCEL_REQUESTED, S.CANCELED, S.FAILED}),
    S.PREPARING: frozenset({S.STARTING, S.RUNNING, S.CANCEL_REQUESTED, S.CANCELED, S.FAILED}),
    S.STARTING: frozenset({S.RUNNING, S.CANCEL_REQUESTED, S.CANCELED, S.FAILED, S.NOT_RESPONDING}),
    S.RUNNING: frozenset({S.FINALIZING, S.COMPLETED, S.FAILED, S.CANCEL_REQUESTED, S.CANCELED, S.NOT_RESPONDING}),
    S.FINALIZING: frozenset({S.COMPLETED, S.FAILED, S.CANCEL_REQUESTED, S.CANCELED, S.NOT_RESPONDING}),
    # Not NotResponding: an owner that recovers from NotResponding goes back to Running, which would silently
    # drop the pending cancel. A lost owner's run stays CancelRequested until cancel/gc finalizes it.
    S.CANCEL_REQUESTED: frozenset({S.CANCELED, S.FAILED}),
    S.NOT_RESPONDING: frozenset({S.RUNNING, S.CANCEL_REQUESTED, S.COMPLETED, S.FAILED, S.CANCELED}),
    S.COMPLETED: frozenset({S.FAILED}),
    S.FAILED: frozenset(),
    S.CANCELED: frozenset(),
}


def parse_status(value: str | RunStatus) -> RunStatus:
    """Accept a status by value, case-insensitively ("running", "Running", "cancel_requested")."""
    if isinstance(value, RunStatus):
        return value
    key = str(value).replace("_", "").replace("-", "").lower()
    for status in RunStatus:
        if status.value.lower() == key:
            return status
    names = ", ".join(s.value for s in RunStatus)
    from runtui.errors import ValidationError

    raise ValidationError(f"unknown status {value!r}; expected one of {names}")


def can_transition(current: RunStatus, requested: RunStatus) -> bool:
    """True when `current -> requested` is allowed (same-to-same counts as allowed: it is a no-op)."""
    return current == requested or requested in TRANSITIONS[current]


def check_transition(run_id: str, current: RunStatus, requested: RunStatus) -> bool:
    """Raise InvalidTransitionError naming both statuses; return False for a no-op, True for a change."""
    if current == requested:
        return False
    if requested not in TRANSITIONS[current]:
        from runtui.errors import InvalidTransitionError

        raise InvalidTransitionError(run_id, current.value, requested.value)
    return True


# The one definition of "live" (someone is expected to drive the run) and "finished", as statuses and as the
# strings stored in the database, for the SDK, the store's queries, the CLI and the TUI alike.
LIVE: frozenset[RunStatus] = frozenset(s for s in RunStatus if s not in TERMINAL)
LIVE_VALUES: tuple[str, ...] = tuple(s.value for s in RunStatus if s not in TERMINAL)
TERMINAL_VALUES: tuple[str, ...] = tuple(s.value for s in RunStatus if s in TERMINAL)
