"""Run isolation and outputs (issue 11, items 1 and 5): working copies, ./outputs and ./logs collected into the
run's files on every ending, start_logging's outputs/snapshot, and Azure's submitted-run status semantics."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from exec_helpers import wait_status, wait_until, write_script

from runtui import Experiment, Run, ScriptRunConfig, Workspace
from runtui.config import WorkspaceConfig
from runtui.errors import ActivityFailedException, RunFailedError, SubmitError, ValidationError
from runtui.execution import outputs
from runtui.status import RunStatus

pytestmark = pytest.mark.timeout(180)
S = RunStatus


@pytest.fixture
def exp(ws: WorkspaceConfig, monkeypatch: pytest.MonkeyPatch) -> Experiment:
    monkeypatch.setenv("RUNTUI_CANCEL_GRACE", "5")
    return Experiment(Workspace(path=ws.home, store_url=ws.store_url), "outs")


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file under `folder` with the hash of its bytes: equal digests mean an unchanged folder."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


TRAIN = """
import os, pickle, sys, time
from runtui import Run
run = Run.get_context()
tag = sys.argv[1]
gate = sys.argv[2] if len(sys.argv) > 2 else None
os.makedirs("outputs", exist_ok=True)
with open("outputs/model.pkl", "wb") as fh:
    pickle.dump({"trained_by": tag}, fh)
os.makedirs("logs", exist_ok=True)
with open("logs/train.txt", "w") as fh:
    fh.write(f"log of {tag}\\n")
open("stray.txt", "w").write(tag)  # a file in the working folder, outside ./outputs
run.log("acc", 0.5)
if gate:  # both runs exist at once: each waits until the other has written its model
    open(os.path.join(gate, tag), "w").close()
    while len(os.listdir(gate)) < 2:
        time.sleep(0.01)
"""


def test_concurrent_runs_of_one_folder_keep_their_own_outputs(exp: Experiment, src: Path, tmp_path: Path) -> None:
    write_script(src, TRAIN)
    (src / "data.csv").write_text("x\n1\n")
    before = tree_digest(src)
    gate = tmp_path / "gate"
    gate.mkdir()
    runs = [
        exp.submit(ScriptRunConfig(source_directory=src, script="train.py", arguments=[tag, str(gate)]))
        for tag in ("a", "b")
    ]
    import pickle

    for run, tag in zip(runs, ("a", "b"), strict=True):
        details = run.wait_for_completion(timeout=120)
        assert details["status"] == "Completed"
        names = run.get_file_names()
        assert "outputs/model.pkl" in names and "logs/train.txt" in names and "logs/output.log" in names
        assert names.count("logs/output.log") == 1
        got = Path(run.download_file("outputs/model.pkl", tmp_path / f"model_{tag}.pkl"))
        assert pickle.loads(got.read_bytes()) == {"trained_by": tag}
        assert (run.folder / "logs" / "train.txt").read_text() == f"log of {tag}\n"
        assert not (run.folder / "working").exists()  # the working copy is gone once collected
        assert run.get_metrics() == {"acc": 0.5}
    assert tree_digest(src) == before  # nothing written into the user's folder
    assert not (src / "outputs").exists() and not (src / "stray.txt").exists()


def test_outputs_are_collected_when_the_script_fails_or_is_canceled(exp: Experiment, src: Path) -> None:
    write_script(
        src,
        """
        import os
        os.makedirs("outputs", exist_ok=True)
        open("outputs/partial.txt", "w").write("epoch 3")
        raise SystemExit(3)
        """,
    )
    run = exp.submit(ScriptRunConfig(source_directory=src, script="train.py"))
    with pytest.raises(ActivityFailedException, match=r"Activity Failed:\n.*script exited with code 3") as info:
        run.wait_for_completion(timeout=120)
    assert isinstance(info.value, RunFailedError) and "code 3" in info.value.error_details
    assert "outputs/partial.txt" in run.get_file_names()

    write_script(
        src,
        """
        import os, sys, time
        open("outputs/checkpoint.txt", "w").write("saved")  # ./outputs exists when the script starts
        open(sys.argv[1], "w").write("started")
        while True:
            time.sleep(0.05)
        """,
    )
    pid_file = src.parent / "started"
    run = exp.submit(ScriptRunConfig(source_directory=src, script="train.py", arguments=[str(pid_file)]))
    wait_status(exp.workspace.store, run.id, S.RUNNING)
    wait_until(pid_file.exists, what="the script's start marker")  # written after the checkpoint
    assert run.cancel(timeout=60) is True
    # Azure: wait_for_completion raises only for Failed; a Canceled run returns.
    assert run.wait_for_completion(timeout=60)["status"] == "Canceled"
    assert "outputs/checkpoint.txt" in run.get_file_names()
    assert (run.folder / "outputs" / "checkpoint.txt").read_text() == "saved"


def test_snapshot_honours_amlignore_then_gitignore_and_outputs_never_leak(exp: Experiment, src: Path) -> None:
    write_script(src, "import os\nprint(sorted(p for p in os.listdir('.') if p != 'outputs'))\n")
    (src / "outputs").mkdir()
    (src / "outputs" / "old_model.pkl").write_text("from an earlier interactive run")
    (src / "big.bin").write_text("data")
    (src / "notes.txt").write_text("n")
    (src / ".gitignore").write_text("notes.txt\n")
    run = exp.submit(ScriptRunConfig(source_directory=src, script="train.py"))
    run.wait_for_completion(timeout=120)
    listing = run.get_details_with_logs()["logFiles"]["logs/output.log"]
    assert listing.strip() == str(sorted([".gitignore", "big.bin", "train.py"]))
    assert "outputs/old_model.pkl" not in run.get_file_names()

    (src / ".amlignore").write_text("big.bin\n")  # .amlignore wins over .gitignore
    run = exp.submit(ScriptRunConfig(source_directory=src, script="train.py"))
    run.wait_for_completion(timeout=120)
    listing = run.get_details_with_logs()["logFiles"]["logs/output.log"]
    assert listing.strip() == str(sorted([".amlignore", ".gitignore", "notes.txt", "train.py"]))

    (src / ".amlignore").write_text("train.py\n")
    with pytest.raises(SubmitError, match=r"left out of the snapshot .* by an ignore file"):
        exp.submit(ScriptRunConfig(source_directory=src, script="train.py"))


def test_executable_scripts_keep_their_mode_in_the_working_copy(exp: Experiment, src: Path) -> None:
    script = src / "train.sh"
    script.write_text("#!/bin/sh\npwd\nmkdir -p outputs && echo ok > outputs/done.txt\n")
    script.chmod(0o755)
    run = exp.submit(ScriptRunConfig(source_directory=src, script="train.sh"))
    run.wait_for_completion(timeout=120)
    assert run.get_details_with_logs()["logFiles"]["logs/output.log"].strip() == str(run.folder / "working")
    assert (run.folder / "outputs" / "done.txt").read_text() == "ok\n"


STATUS_SCRIPT = """
import sys
from runtui import Run
run = Run.get_context()
with run:
    run.log("step", 1)
    run.complete()
    print("after complete:", run.get_status(), flush=True)
    assert run.cancel() is False
    run.fail("looked bad")
    print("after fail:", run.get_status(), flush=True)
run.log("after_with", 2)
sys.exit(int(sys.argv[1]))
"""


@pytest.mark.parametrize(("code", "final"), [(0, "Completed"), (4, "Failed")])
def test_status_calls_inside_a_submitted_script_leave_the_verdict_to_its_exit(
    exp: Experiment, src: Path, code: int, final: str
) -> None:
    write_script(src, STATUS_SCRIPT)
    run = exp.submit(ScriptRunConfig(source_directory=src, script="train.py", arguments=[str(code)]))
    details = run.wait_for_completion(timeout=120, raise_on_error=False)
    assert details["status"] == final and details["exitCode"] == code
    log = run.get_details_with_logs()["logFiles"]["logs/output.log"]
    assert "after complete: Running" in log and "after fail: Running" in log
    assert "cancel() is not supported on the run a submitted script runs as" in log
    # Every point, also those logged after the `with` block, is in the store once wait returns.
    assert run.get_metrics() == {"step": 1, "after_with": 2}
    if code:
        with pytest.raises(ActivityFailedException):
            run.wait_for_completion(timeout=30)


# ---------------------------------------------------------------------- start_logging


def test_start_logging_creates_outputs_snapshots_and_collects(
    exp: Experiment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "nb"
    work.mkdir()
    (work / "notebook_helper.py").write_text("x = 1\n")
    monkeypatch.chdir(work)
    with exp.start_logging() as run:
        assert (work / "outputs").is_dir()  # created at start, as Azure does
        (work / "outputs" / "model.pkl").write_bytes(b"weights")
        (work / "logs").mkdir()
        (work / "logs" / "nb.log").write_text("hello")
        snapshot_id = run.get_snapshot_id()
        assert snapshot_id is not None
        with pytest.raises(ValidationError, match="already has a snapshot"):
            run.take_snapshot(".")
    assert run.get_status() == "Completed"
    assert {"outputs/model.pkl", "logs/nb.log"} <= set(run.get_file_names())
    assert (run.folder / "outputs" / "model.pkl").read_bytes() == b"weights"
    # The user's files stay, and the run's copy is its own (not a hard link the next run would rewrite).
    (work / "outputs" / "model.pkl").write_bytes(b"next run")
    assert (run.folder / "outputs" / "model.pkl").read_bytes() == b"weights"
    import zipfile

    with zipfile.ZipFile(run.folder / "snapshot.zip") as zf:
        assert zf.namelist() == ["notebook_helper.py"]  # ./outputs and ./logs are never snapshotted

    custom = exp.start_logging(
        "named", run_id="outs_custom_1", outputs="my_out", snapshot_directory=None, display_name="named"
    )
    assert custom.id == "outs_custom_1" and custom.display_name == "named"
    assert custom.get_snapshot_id() is None
    (work / "my_out" / "a.txt").write_text("A")
    custom.fail("boom")  # collected on failure too
    assert custom.get_file_names() == ["logs/nb.log", "outputs/a.txt"]  # ./logs is collected as well
    assert custom.take_snapshot(str(work / "notebook_helper.py"))  # a file can be snapshotted later

    none = exp.start_logging(outputs=False, snapshot_directory=None)
    none.complete()
    assert none.get_file_names() == ["logs/nb.log"]  # outputs=False: no ./outputs tracked


def test_start_logging_refuses_bad_values_and_loses_nothing(exp: Experiment, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="outputs must be a folder path"):
        exp.start_logging(outputs=3)
    with pytest.raises(ValidationError, match="snapshot_directory must be a folder path or None"):
        exp.start_logging(snapshot_directory=3.5)
    with pytest.raises(ValidationError, match="at most 4 positional"):
        exp.start_logging("a", None, None, None, "extra")
    run = exp.start_logging(snapshot_directory=None, outputs=str(tmp_path / "o"))
    with pytest.raises(ValidationError, match="already exists"):
        exp.start_logging(run_id=run.id, snapshot_directory=None)
    run.complete()
    assert [r.id for r in exp.get_runs()] == [run.id]  # the refused calls created nothing


def test_interactive_copies_over_the_cap_are_left_out_with_a_message(
    exp: Experiment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(outputs.OUTPUTS_MAX_ENV, "0.001")  # about 1 KB
    out = tmp_path / "o"
    run = exp.start_logging(snapshot_directory=None, outputs=str(out))
    (out / "small.txt").write_text("s")
    (out / "huge.bin").write_bytes(os.urandom(64 * 1024))
    run.complete()
    names = run.get_file_names()
    assert "outputs/small.txt" in names
    err = capsys.readouterr().err
    if "outputs/huge.bin" in names:  # the filesystem cloned it (reflink): no bytes copied, nothing capped
        assert (run.folder / "outputs" / "huge.bin").read_bytes() == (out / "huge.bin").read_bytes()
    else:
        assert "outputs/huge.bin (64.0 KB) was not collected" in err and "RUNTUI_OUTPUTS_MAX_MB" in err
        assert str(out / "huge.bin") in err
    monkeypatch.setenv(outputs.OUTPUTS_MAX_ENV, "lots")
    with pytest.raises(ValidationError, match="RUNTUI_OUTPUTS_MAX_MB must be a number"):
        outputs.max_copy_bytes()


def test_get_context_accepts_azures_keywords_outside_a_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from runtui.core import context

    monkeypatch.delenv("RUNTUI_RUN_ID", raising=False)
    monkeypatch.setattr(context, "_context", None)
    run = Run.get_context(allow_offline=True, used_for_context_manager=True)
    assert run.id.startswith("OfflineRun_")


def test_a_default_snapshot_over_the_cap_is_skipped_with_a_message_an_explicit_one_raises(
    exp: Experiment,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dataset.bin").write_bytes(os.urandom(20_000))
    monkeypatch.setenv("RUNTUI_SNAPSHOT_MAX_MB", "0.01")  # about 10 KB
    run = exp.start_logging(outputs=False)
    assert run.get_snapshot_id() is None and run.get_status() == "Running"
    err = capsys.readouterr().err
    assert "runtui: no snapshot for this run: the snapshot of" in err and "snapshot_directory=None" in err
    run.complete()
    with pytest.raises(SubmitError, match="Pass snapshot_directory=None to start_logging"):
        exp.start_logging(snapshot_directory=".", outputs=False)
    assert [r.id for r in exp.get_runs()] == [run.id]


def test_collected_files_are_recorded_in_one_transaction(exp: Experiment) -> None:
    from runtui.errors import NotFoundError

    store = exp.workspace.store
    run = exp.start_logging(outputs=False, snapshot_directory=None)
    store.add_artifact(run.id, "outputs/a.txt", 1)
    before = store.current_revision()
    store.add_artifacts(run.id, [("outputs/a.txt", 5), ("outputs/b/c.bin", 7)])
    assert store.current_revision() == before + 1  # one commit for all
    assert [(a.path, a.size) for a in store.list_artifacts(run.id)] == [("outputs/a.txt", 5), ("outputs/b/c.bin", 7)]
    store.add_artifacts(run.id, [])
    assert store.current_revision() == before + 1
    with pytest.raises(NotFoundError, match="no run with id"):
        store.add_artifacts("outs_1_00000000", [("outputs/x", 1)])
    run.complete()


def test_a_working_copy_with_nothing_to_collect_costs_no_store_call(tmp_path: Path) -> None:
    """A submitted run that wrote no ./outputs or ./logs: the end of its run (a cancel's path) makes no store call.
    On PostgreSQL the supervisor's store is the box agent, where even a call with nothing to record waited for its
    turn on the box's one connection behind the other runs' copies."""
    calls: list[str] = []

    class Recording:  # a store that only writes down what it is asked
        def __getattr__(self, name: str) -> object:
            calls.append(name)
            return lambda *args, **kwargs: None

    run_dir = tmp_path / "run"
    working = run_dir / "working"
    (working / "outputs").mkdir(parents=True)
    result = outputs.collect_working_copy(Recording(), "r", run_dir, working)  # type: ignore[arg-type]
    assert result.files == 0 and result.artifacts == []
    assert calls == []
    assert not working.exists()  # the empty working copy is still removed
