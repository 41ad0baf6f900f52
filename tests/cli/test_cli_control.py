"""`runtui tag`, `runtui fail`, `runtui cancel`, `runtui gc`: changes that land, and bad input that changes nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import ROOT, HeldRun, assert_one_line_error, env, make_runs, open_store, runtui, wait_for

from runtui.status import RunStatus

pytestmark = pytest.mark.timeout(180)


def test_tag_set_and_remove(home: Path) -> None:
    [run_id] = make_runs(home, [{"experiment": "tags", "tags": {"old": "1", "gone": None}}])
    result = runtui("tag", run_id[:-2], "quality=great", "best", "note=a=b", "--remove", "gone", home=home)
    assert result.code == 0, result.err
    assert result.out == f"{run_id}  best note=a=b old=1 quality=great\n"
    tags = open_store(home).get_tags([run_id])[run_id]
    assert tags == {"old": "1", "quality": "great", "best": None, "note": "a=b"}

    result = runtui("tag", run_id, "--remove", "missing", home=home)
    assert result.code == 0
    assert f"run {run_id} had no tag 'missing'" in result.err


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["=value"], 2, "malformed tag '=value': a tag key cannot be empty"),
        (["ok=1", "bad\x1bkey=2"], 2, "a tag key cannot contain control characters"),
        (["--remove", ""], 2, "a tag key cannot be empty"),
        ([], 2, "nothing to do"),
        (["a=1", "--remove", "a"], 2, "tag 'a' is both set and removed"),
        (["nul=a\x00b"], 2, ""),  # the OS refuses NUL in arguments; either way nothing is written
    ],
)
def test_tag_bad_input_changes_nothing(home: Path, args: list[str], code: int, fragment: str) -> None:
    [run_id] = make_runs(home, [{"experiment": "tags", "tags": {"keep": "me"}}])
    store = open_store(home)
    before = store.current_revision()
    try:
        result = runtui("tag", run_id, *args, home=home)
    except ValueError:  # "embedded null byte": the argument could not even be passed
        result = None
    if result is not None:
        assert_one_line_error(result, code, fragment)
    assert store.current_revision() == before
    assert store.get_tags([run_id])[run_id] == {"keep": "me"}


def test_tag_unknown_run(home: Path) -> None:
    make_runs(home, [{"experiment": "tags"}])
    assert_one_line_error(runtui("tag", "zzz", "a=1", home=home), 1, "no run with id or id prefix 'zzz'")


def test_fail_with_reason_and_refused_transition(home: Path) -> None:
    done, canceled = make_runs(home, [{"experiment": "f"}, {"experiment": "f", "status": "Canceled"}])
    result = runtui("fail", done, "--reason", "labels were wrong", home=home)
    assert result.code == 0, result.err
    assert result.out == f"Failed  {done}\n"
    rec = open_store(home).get_run(done)
    assert rec.status == RunStatus.FAILED
    assert rec.error == "labels were wrong"

    store = open_store(home)
    before = store.current_revision()
    result = runtui("fail", canceled, home=home)
    assert_one_line_error(result, 1, f"run {canceled} cannot go from status Canceled to Failed")
    assert store.current_revision() == before


def test_fail_without_reason_says_who(home: Path) -> None:
    [run_id] = make_runs(home, [{"experiment": "f"}])
    assert runtui("fail", run_id, home=home).code == 0
    assert "runtui fail" in (open_store(home).get_run(run_id).error or "")


def test_cancel_a_live_run(home: Path) -> None:
    held = HeldRun(home)
    try:
        result = runtui("cancel", held.run_id, home=home)
        assert result.code == 0, result.err
        assert result.out == f"Canceled  {held.run_id}\n"
        assert "waiting up to" in result.err
        assert open_store(home).get_run(held.run_id).status == RunStatus.CANCELED
    finally:
        held.close()


def test_cancel_finished_run_is_a_no_op(home: Path) -> None:
    [run_id] = make_runs(home, [{"experiment": "c"}])
    store = open_store(home)
    before = store.current_revision()
    result = runtui("cancel", run_id, home=home)
    assert result.code == 0
    assert f"run {run_id} is already Completed; nothing to cancel" in result.err
    assert store.current_revision() == before


def test_cancel_with_one_unknown_id_cancels_nothing(home: Path) -> None:
    held = HeldRun(home)
    try:
        store = open_store(home)
        before = store.current_revision()
        result = runtui("cancel", held.run_id, "no-such-run", home=home)
        assert_one_line_error(result, 1, "no run with id or id prefix 'no-such-run'")
        assert store.current_revision() == before
        assert store.get_run(held.run_id).status == RunStatus.RUNNING
    finally:
        held.close()


def test_cancel_times_out_when_the_owner_cannot_act(home: Path) -> None:
    held = HeldRun(home)
    os.kill(held.proc.pid, signal.SIGSTOP)  # alive (same pid and create time) but frozen: nobody acts
    try:
        result = runtui("cancel", "--timeout", "1", held.run_id, home=home)
        assert result.code == 1
        assert result.err_lines[0] == "waiting up to 1 s for 1 run(s) to end"  # progress, in a pipe: one note
        assert result.err_lines[1].startswith("runtui: error: 1 run(s) not canceled after 1 s: ")
        assert f"{held.run_id} is CancelRequested" in result.err_lines[1]
        assert len(result.err_lines) == 2 and "Traceback" not in result.err
        assert open_store(home).get_run(held.run_id).status == RunStatus.CANCEL_REQUESTED
    finally:
        os.kill(held.proc.pid, signal.SIGCONT)
    # Thawed, the owner sees the request and ends the run.
    wait_for(lambda: open_store(home).get_run(held.run_id).status == RunStatus.CANCELED, "the thawed owner to cancel")
    held.close()


def test_cancel_no_wait_only_requests(home: Path) -> None:
    held = HeldRun(home)
    os.kill(held.proc.pid, signal.SIGSTOP)
    try:
        result = runtui("cancel", "--no-wait", held.run_id, home=home)
        assert result.code == 0, result.err
        assert result.out == f"CancelRequested  {held.run_id}\n"
    finally:
        os.kill(held.proc.pid, signal.SIGCONT)
        held.close()


def test_gc_finalizes_runs_whose_owner_is_gone(home: Path) -> None:
    # A real owner that dies without a word: SIGKILL leaves its run Running with a dead owner pid.
    code = (
        "import os, signal, sys\nfrom runtui import Experiment, Workspace\n"
        "run = Experiment(Workspace(path=sys.argv[1]), 'gc').start_logging()\n"
        "run.log('loss', 1.0)\nrun.flush()\nprint(run.id, flush=True)\nos.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(home)], capture_output=True, text=True, env=env(), cwd=ROOT, timeout=60
    )
    lost = proc.stdout.strip()
    [alive_done] = make_runs(home, [{"experiment": "gc"}])
    assert open_store(home).get_run(lost).status == RunStatus.RUNNING

    dry = runtui("gc", "--dry-run", home=home)
    assert dry.code == 0
    assert f"would finalize  {lost}" in dry.out
    assert open_store(home).get_run(lost).status == RunStatus.RUNNING

    result = runtui("gc", home=home)
    assert result.code == 0, result.err
    assert result.out == f"Failed  {lost}  (owner process lost)\n"
    assert open_store(home).get_run(lost).status == RunStatus.FAILED
    assert open_store(home).get_run(alive_done).status == RunStatus.COMPLETED

    again = runtui("gc", home=home)
    assert again.code == 0 and again.out == ""
    assert "nothing to do" in again.err
