"""Submitted runs through the SDK: `Experiment.submit`, `Run.get_context()` inside the script, children, cancel."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from exec_helpers import exists, read_identities, wait_status, wait_terminal, write_script

from runtui import Experiment, Run, ScriptRunConfig, Workspace
from runtui.config import WorkspaceConfig
from runtui.errors import RunFailedError, SubmitError, ValidationError
from runtui.status import RunStatus

pytestmark = pytest.mark.timeout(180)
S = RunStatus


@pytest.fixture
def exp(ws: WorkspaceConfig, monkeypatch: pytest.MonkeyPatch) -> Experiment:
    monkeypatch.setenv("RUNTUI_CANCEL_GRACE", "5")
    return Experiment(Workspace(path=ws.home, store_url=ws.store_url), "sdk")


CHILDREN_SCRIPT = """
import sys
from runtui import Run
run = Run.get_context()
print("context", run.id, flush=True)
run.log("loss", 0.5)
run.log("loss", 0.25)
run.tag("phase", "train")
kids = run.create_children(count=5)
for i, kid in enumerate(kids):
    kid.log("fold", i)
    kid.complete()
print("made", len(kids), "children", flush=True)
"""


def test_submit_with_children_from_the_script(exp: Experiment, src: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_script(src, CHILDREN_SCRIPT)
    run = exp.submit(ScriptRunConfig(source_directory=src, script="train.py"), tags={"via": "sdk"})
    assert isinstance(run, Run)
    assert run.get_status() in ("Queued", "Preparing", "Starting", "Running", "Completed")

    details = run.wait_for_completion(show_output=True, timeout=120)
    out = capsys.readouterr().out
    assert f"context {run.id}" in out and "made 5 children" in out
    assert details["status"] == "Completed"

    children = list(run.get_children())
    assert len(children) == 5
    assert {c.get_status() for c in children} == {"Completed"}
    assert sorted(c.get_metrics()["fold"] for c in children) == [0, 1, 2, 3, 4]
    assert run.get_metrics()["loss"] == [0.5, 0.25]
    assert run.get_tags() == {"via": "sdk", "phase": "train"}

    with_logs = run.get_details_with_logs()
    assert "made 5 children" in with_logs["logFiles"]["logs/output.log"]
    restored = run.restore_snapshot(src.parent)
    with zipfile.ZipFile(restored) as zf:
        assert zf.namelist() == ["train.py"]


CANCEL_SCRIPT = """
import os, subprocess, sys, time
from runtui import Run
run = Run.get_context()
kids = run.create_children(count=5)
helpers = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"]) for _ in range(2)]
with open(sys.argv[1] + ".tmp", "w") as fh:
    fh.write("\\n".join(str(p) for p in [os.getpid(), *[h.pid for h in helpers]]))
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    run.log("tick", 1)
    time.sleep(0.05)
"""


def test_cancel_a_submitted_run_cancels_its_children_and_tree(exp: Experiment, src: Path, tmp_path: Path) -> None:
    write_script(src, CANCEL_SCRIPT)
    pids = tmp_path / "pids"
    run = exp.submit(ScriptRunConfig(source_directory=src, script="train.py", arguments=[str(pids)]))
    idents = read_identities(pids, 3)
    wait_status(exp.workspace.store, run.id, S.RUNNING)
    assert len(list(run.get_children())) == 5

    assert run.cancel(timeout=60) is True
    assert run.get_status() == "Canceled"
    assert {c.get_status() for c in run.get_children()} == {"Canceled"}
    assert [i for i in idents if exists(i)] == []
    assert run.cancel() is False  # a second cancel: nothing to do
    # As Azure ML: wait_for_completion raises only for Failed.
    assert run.wait_for_completion(timeout=30)["status"] == "Canceled"


def test_children_of_a_script_that_dies_are_not_left_running(exp: Experiment, src: Path) -> None:
    body = """
    import os, signal
    from runtui import Run
    run = Run.get_context()
    kids = run.create_children(count=3)
    kids[0].complete()
    os.kill(os.getpid(), signal.SIGKILL)
    """
    write_script(src, body)
    run = exp.submit(ScriptRunConfig(source_directory=src, script="train.py"))
    final = wait_terminal(exp.workspace.store, run.id)
    assert final.status == S.FAILED and final.error == "killed by signal SIGKILL"
    statuses = sorted(c.get_status() for c in run.get_children())
    assert statuses == ["Completed", "Failed", "Failed"]
    lost = [c for c in run.get_children() if c.get_status() == "Failed"]
    assert all("owner process lost" in c.get_details()["error"]["message"] for c in lost)


def test_the_scripts_exit_decides_its_status_as_in_azure(exp: Experiment, src: Path) -> None:
    # Azure's _SubmittedRun: fail() inside the script records the error but does not end the run; exit 0 completes.
    body = """
    from runtui import Run
    Run.get_context().fail("validation accuracy too low")
    """
    write_script(src, body)
    run = exp.submit(ScriptRunConfig(source_directory=src, script="train.py"))
    final = wait_terminal(exp.workspace.store, run.id)
    assert final.status == S.COMPLETED and final.error == "validation accuracy too low" and final.exit_code == 0


def test_failed_script_raises_from_wait_for_completion(exp: Experiment, src: Path) -> None:
    write_script(src, "import json\njson.loads('{oops')")
    run = exp.submit(ScriptRunConfig(source_directory=src, script="train.py"))
    with pytest.raises(RunFailedError, match="JSONDecodeError"):
        run.wait_for_completion(timeout=120)
    details = run.wait_for_completion(raise_on_error=False, timeout=120)
    assert details["status"] == "Failed" and details["exitCode"] == 1


def test_bad_submissions(exp: Experiment, src: Path, tmp_path: Path) -> None:
    with pytest.raises(SubmitError, match="not found in source_directory"):
        exp.submit(ScriptRunConfig(source_directory=src, script="nope.py"))
    with pytest.raises(SubmitError, match="does not exist"):
        exp.submit(ScriptRunConfig(source_directory=tmp_path / "missing", script="train.py"))
    # numbers become strings as in Azure (issue 11); objects without a string form are refused
    assert ScriptRunConfig(source_directory=src, script="train.py", arguments=["--lr", 0.1]).arguments == [
        "--lr",
        "0.1",
    ]
    with pytest.raises(ValidationError, match="give strings or numbers"):
        ScriptRunConfig(source_directory=src, script="train.py", arguments=["--lr", object()])
    assert list(exp.get_runs()) == []
