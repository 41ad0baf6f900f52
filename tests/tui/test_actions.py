"""Parsing and guarding the TUI's actions (the Pilot tests drive them end to end)."""

from __future__ import annotations

import pytest

from runtui.errors import ValidationError
from runtui.status import RunStatus
from runtui.tui.actions import parse_tag, why_not_cancel, why_not_fail


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("best", ("best", None)), ("lr=0.1", ("lr", "0.1")), (" k = v=w ", ("k", "v=w")), ("[red]=[/]", ("[red]", "[/]"))],
)
def test_parse_tag(text: str, parsed: tuple[str, str | None]) -> None:
    assert parse_tag(text) == parsed


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "key=value"), ("   ", "key=value"), ("=v", "needs a key"), ("k=", "nothing after"), ("a\x1bb", "control")],
)
def test_parse_tag_rejects_bad_input(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_tag(text)


def test_parse_tag_rejects_overlong_keys() -> None:
    with pytest.raises(ValidationError, match="at most"):
        parse_tag("k" * 300)


def test_finished_runs_say_why_actions_do_nothing() -> None:
    for status in (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELED):
        assert "already ended" in (why_not_cancel(status) or "")
    assert why_not_cancel(RunStatus.RUNNING) is None
    assert "already" in (why_not_cancel(RunStatus.CANCEL_REQUESTED) or "")
    assert why_not_fail(RunStatus.COMPLETED) is None  # fail may overrule a completion
    assert "already Failed" in (why_not_fail(RunStatus.FAILED) or "")
    assert "Canceled" in (why_not_fail(RunStatus.CANCELED) or "")
