"""submit_run: bad input gets one clear error and leaves nothing behind; good input lays out the run folder."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from exec_helpers import submit, wait_terminal, write_script

from runtui.config import WorkspaceConfig
from runtui.errors import NotFoundError, SubmitError, ValidationError
from runtui.execution.launch import start_supervisor
from runtui.status import RunStatus
from runtui.store import Store

pytestmark = pytest.mark.timeout(120)


def _nothing_created(store: Store, ws: WorkspaceConfig) -> None:
    assert store.count_runs() == 0
    assert not ws.runs_dir.exists() or list(ws.runs_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"script": "missing.py"}, SubmitError, "script 'missing.py' not found in source_directory"),
        ({"script": "pkg"}, SubmitError, "is not a file"),
        ({"script": "../outside.py"}, SubmitError, "outside source_directory"),
        ({"script": ""}, ValidationError, "script must be a file name"),
        ({"script": 3}, ValidationError, "script must be a file name"),
        ({"script": "data.txt"}, SubmitError, "neither a Python file"),
        ({"arguments": ["--epochs", 3]}, ValidationError, r"arguments\[1\] is a int \(3\); arguments must be strings"),
        ({"arguments": "--epochs 3"}, ValidationError, "arguments must be a list of strings"),
        ({"arguments": [None]}, ValidationError, r"arguments\[0\] is a NoneType"),
        ({"environment_variables": {"A": 1}}, ValidationError, "names and values must be strings"),
        ({"environment_variables": {"A=B": "1"}}, ValidationError, "invalid environment variable"),
        ({"environment_variables": ["A"]}, ValidationError, "must be a dict"),
        ({"python": "no-such-python-3.99"}, SubmitError, "python interpreter 'no-such-python-3.99' not found"),
        ({"experiment": "bad name!"}, ValidationError, "invalid experiment name"),
        ({"parent_id": "exec_1_00000000"}, NotFoundError, "no run with id"),
        ({"grace_period": -1.0}, ValidationError, "RUNTUI_CANCEL_GRACE"),
        ({"environment_variables": {"RUNTUI_CANCEL_GRACE": "soon"}}, ValidationError, "RUNTUI_CANCEL_GRACE"),
        ({"sample_interval": 0.0}, ValidationError, "RUNTUI_SAMPLE_INTERVAL"),
        ({"max_run_duration_seconds": 0}, ValidationError, "max_run_duration_seconds must be a positive number"),
        ({"max_run_duration_seconds": "1h"}, ValidationError, "max_run_duration_seconds must be a positive number"),
    ],
)
def test_bad_input(
    store: Store, ws: WorkspaceConfig, src: Path, tmp_path: Path, kwargs: dict[str, Any], error: type, match: str
) -> None:
    write_script(src, "print(1)")
    (src / "pkg").mkdir()
    (src / "data.txt").write_text("not a script")
    (tmp_path / "outside.py").write_text("print(1)")
    kwargs = dict(kwargs)  # the parameter is shared by the SQLite and PostgreSQL runs of this test
    script = kwargs.pop("script", "train.py")
    args = kwargs.pop("arguments", [])
    from runtui.execution.launch import submit_run

    params: dict[str, Any] = {
        "experiment": "exec",
        "source_directory": src,
        "script": script,
        "arguments": args,
        "environment_variables": {},
        "python": None,
        "tags": {},
        "display_name": None,
    }
    params.update(kwargs)
    with pytest.raises(error, match=match):
        submit_run(store, ws, **params)
    _nothing_created(store, ws)


def test_missing_and_wrong_source_folder(store: Store, ws: WorkspaceConfig, tmp_path: Path) -> None:
    with pytest.raises(SubmitError, match=r"source_directory .*nope does not exist"):
        submit(store, ws, tmp_path / "nope", "train.py")
    (tmp_path / "file").write_text("")
    with pytest.raises(SubmitError, match="is not a folder"):
        submit(store, ws, tmp_path / "file", "train.py")
    _nothing_created(store, ws)


def test_grace_from_the_environment(
    store: Store, ws: WorkspaceConfig, src: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNTUI_CANCEL_GRACE", "not a number")
    with pytest.raises(ValidationError, match=r"\$RUNTUI_CANCEL_GRACE"):
        submit(store, ws, src, write_script(src, "print(1)"), grace_period=None)


def test_snapshot_over_the_cap_creates_no_run(
    store: Store, ws: WorkspaceConfig, src: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_script(src, "print(1)")
    (src / "weights.bin").write_bytes(b"0" * 4096)
    monkeypatch.setenv("RUNTUI_SNAPSHOT_MAX_MB", "0.001")
    with pytest.raises(SubmitError, match=r"weights\.bin"):
        submit(store, ws, src, "train.py")
    _nothing_created(store, ws)


def test_run_folder_layout_and_record(store: Store, ws: WorkspaceConfig, src: Path) -> None:
    write_script(src, "print('hi')")
    rec = submit(store, ws, src, "train.py", "a", tags={"team": "vision", "draft": None}, display_name="first")
    assert rec.status == RunStatus.QUEUED and rec.kind == "submitted"
    assert rec.display_name == "first" and rec.arguments == ("a",) and rec.script == "train.py"
    assert rec.host and rec.user
    assert store.get_tags([rec.id])[rec.id] == {"team": "vision", "draft": None}
    run_dir = ws.run_dir(rec.id)
    for folder in (ws.runs_dir, run_dir, run_dir / "logs", run_dir / "outputs"):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700, folder
    assert stat.S_IMODE(os.stat(run_dir / "supervisor.json").st_mode) == 0o600
    assert (run_dir / "snapshot.zip").is_file()
    assert (run_dir / "snapshot.id").read_text().strip()  # the snapshot's id (Azure's get_snapshot_id)
    assert wait_terminal(store, rec.id).status == RunStatus.COMPLETED
    assert not (run_dir / "working").exists()  # the run's working copy is removed once its outputs are collected


def test_max_run_duration_cancels_the_run_and_keeps_its_outputs(store: Store, ws: WorkspaceConfig, src: Path) -> None:
    body = """
    import time
    open("outputs/epoch1.txt", "w").write("1")
    while True:
        time.sleep(0.05)
    """
    rec = submit(store, ws, src, write_script(src, body), max_run_duration_seconds=1.5, grace_period=5.0)
    final = wait_terminal(store, rec.id)
    assert final.status == RunStatus.CANCELED
    assert final.error is not None and "exceeded max_run_duration_seconds=1.5" in final.error
    assert [a.path for a in store.list_artifacts(rec.id)] == ["outputs/epoch1.txt"]
    assert final.ended_at is not None and final.started_at is not None
    assert final.ended_at - final.started_at >= 1.5


def test_a_submitted_child_of_another_run(store: Store, ws: WorkspaceConfig, src: Path) -> None:
    write_script(src, "print('child')")
    parent = submit(store, ws, src, "train.py")
    child = submit(store, ws, src, "train.py", parent_id=parent.id)
    assert child.parent_id == parent.id
    assert [r.id for r in store.descendants(parent.id)] == [child.id]
    assert wait_terminal(store, child.id).status == RunStatus.COMPLETED


def test_a_supervisor_that_cannot_start_is_reported(tmp_path: Path) -> None:
    (tmp_path / "supervisor.json").write_text("{not json")
    with pytest.raises(SubmitError, match=r"the supervisor failed to start .*cannot read the supervisor spec"):
        start_supervisor(tmp_path / "supervisor.json")
