"""Every pair of statuses: allowed exactly when the one table says so, and the error names both."""

from __future__ import annotations

import itertools

import pytest

from runtui.errors import InvalidTransitionError, ValidationError
from runtui.status import TERMINAL, TRANSITIONS, RunStatus, can_transition, check_transition, parse_status

S = RunStatus

# The expected table, written out independently of runtui/status.py so a slip in either one shows.
EXPECTED: dict[RunStatus, set[RunStatus]] = {
    S.NOT_STARTED: {S.QUEUED, S.PREPARING, S.STARTING, S.RUNNING, S.CANCEL_REQUESTED, S.CANCELED, S.FAILED},
    S.QUEUED: {S.PREPARING, S.STARTING, S.RUNNING, S.CANCEL_REQUESTED, S.CANCELED, S.FAILED},
    S.PREPARING: {S.STARTING, S.RUNNING, S.CANCEL_REQUESTED, S.CANCELED, S.FAILED},
    S.STARTING: {S.RUNNING, S.CANCEL_REQUESTED, S.CANCELED, S.FAILED, S.NOT_RESPONDING},
    S.RUNNING: {S.FINALIZING, S.COMPLETED, S.FAILED, S.CANCEL_REQUESTED, S.CANCELED, S.NOT_RESPONDING},
    S.FINALIZING: {S.COMPLETED, S.FAILED, S.CANCEL_REQUESTED, S.CANCELED, S.NOT_RESPONDING},
    S.CANCEL_REQUESTED: {S.CANCELED, S.FAILED},
    S.NOT_RESPONDING: {S.RUNNING, S.CANCEL_REQUESTED, S.COMPLETED, S.FAILED, S.CANCELED},
    S.COMPLETED: {S.FAILED},
    S.FAILED: set(),
    S.CANCELED: set(),
}


def test_table_covers_every_status() -> None:
    assert set(TRANSITIONS) == set(RunStatus)
    assert {s for s, allowed in EXPECTED.items() if not allowed} <= TERMINAL


@pytest.mark.parametrize(("current", "requested"), list(itertools.product(RunStatus, RunStatus)))
def test_every_transition(current: RunStatus, requested: RunStatus) -> None:
    if current == requested:
        assert check_transition("r", current, requested) is False  # a no-op, never an error
        assert can_transition(current, requested)
    elif requested in EXPECTED[current]:
        assert check_transition("r", current, requested) is True
        assert can_transition(current, requested)
    else:
        assert not can_transition(current, requested)
        with pytest.raises(InvalidTransitionError) as info:
            check_transition("run-7", current, requested)
        message = str(info.value)
        assert current.value in message and requested.value in message and "run-7" in message


def test_fail_may_overrule_completed_but_nothing_leaves_failed_or_canceled() -> None:
    assert can_transition(S.COMPLETED, S.FAILED)
    assert not can_transition(S.COMPLETED, S.RUNNING)
    for end in (S.FAILED, S.CANCELED):
        assert all(not can_transition(end, other) for other in RunStatus if other != end)


@pytest.mark.parametrize(
    "text", ["running", "Running", "RUNNING", "cancel_requested", "CancelRequested", "not-started"]
)
def test_parse_status_accepts_spellings(text: str) -> None:
    assert isinstance(parse_status(text), RunStatus)


def test_parse_status_rejects_unknown_with_the_choices() -> None:
    with pytest.raises(ValidationError, match=r"unknown status 'sleeping'.*Running"):
        parse_status("sleeping")
