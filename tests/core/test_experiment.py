"""Experiment as Azure ML v1's: archive/reactivate, tags, id, list(view_type=, tags=), delete, from_directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtui import Experiment, Workspace
from runtui.core.experiment import ViewType
from runtui.errors import NotFoundError, NotSupportedLocallyError, ValidationError
from runtui.store.records import ExperimentRecord

V2 = "archived_at" in ExperimentRecord.__dataclass_fields__
needs_v2 = pytest.mark.skipif(not V2, reason="needs store schema v2 (branch store-v2): experiment id/archive/tags")


@needs_v2
def test_archive_reactivate_and_list_views(ws: Workspace) -> None:
    a, b = Experiment(ws, "a"), Experiment(ws, "b")
    assert len(a.id) == 36 and a.id != b.id  # a uuid, as Azure's
    assert a.archived_time is None
    a.archive()
    assert a.archived_time is not None and a.archived_time.endswith("Z")
    assert [e.name for e in Experiment.list(ws)] == ["b"]
    assert [e.name for e in Experiment.list(ws, view_type=ViewType.ArchivedOnly)] == ["a"]
    assert sorted(e.name for e in Experiment.list(ws, view_type="All")) == ["a", "b"]
    assert [e.name for e in Experiment.list(ws, experiment_name="b")] == ["b"]
    assert "a" not in ws.experiments
    a.reactivate()
    assert a.archived_time is None and len(Experiment.list(ws)) == 2
    with pytest.raises(ValidationError, match="cannot be renamed"):
        a.reactivate(new_name="c")
    with pytest.raises(ValidationError, match="view_type must be"):
        Experiment.list(ws, view_type="Archived")


@needs_v2
def test_experiment_tags(ws: Workspace) -> None:
    exp = Experiment(ws, "tagged")
    exp.tag("team", "vision")
    exp.set_tags({"n": 3, "flag": None})
    assert exp.tags == {"team": "vision", "n": "3", "flag": None}
    assert [e.name for e in Experiment.list(ws, tags={"team": "vision"})] == ["tagged"]
    assert Experiment.list(ws, tags=["missing"]) == []
    assert exp.remove_tags(["n", "absent"]) == ["n"]
    assert exp.tags == {"team": "vision", "flag": None}
    with pytest.raises(ValidationError, match="tag key"):
        exp.tag("", "x")


@needs_v2
def test_delete_removes_runs_and_their_files(ws: Workspace) -> None:
    exp = Experiment(ws, "doomed")
    keep = Experiment(ws, "kept").start_logging()
    with exp.start_logging() as run:
        run.upload_file("outputs/x.txt", __file__)
    assert run.folder.is_dir()
    Experiment.delete(ws, exp.id)
    assert not run.folder.exists()
    assert [e.name for e in Experiment.list(ws, view_type="All")] == ["kept"]
    with pytest.raises(NotFoundError):
        ws.get_run(run.id)
    with pytest.raises(NotFoundError, match="no experiment with id"):
        Experiment.delete(ws, "nope")
    with pytest.raises(ValidationError, match="needs an experiment id"):
        Experiment.delete(ws, "")
    keep.complete()


def test_from_directory_reads_azure_project_files(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / ".azureml").mkdir(parents=True)
    (project / ".azureml" / "project.json").write_text(json.dumps({"Experiment": "from-project"}))
    assert Experiment.from_directory(project).name == "from-project"
    plain = tmp_path / "my-exp"
    plain.mkdir()
    assert Experiment.from_directory(plain).name == "my-exp"
    with pytest.raises(NotFoundError, match="no folder"):
        Experiment.from_directory(tmp_path / "missing")
    (project / ".azureml" / "project.json").write_text("{")
    with pytest.raises(ValidationError, match="not valid JSON"):
        Experiment.from_directory(project)


def test_start_logging_takes_azure_arguments_and_cloud_members_say_so(ws: Workspace) -> None:
    exp = Experiment(ws, "args", _skip_name_validation=True)
    run = exp.start_logging("first", snapshot_directory=None)
    assert run.display_name == "first"
    run.complete()
    assert exp.workspace_object is ws
    for call in (lambda: exp.get_portal_url(), lambda: Experiment.get_docs_url()):
        with pytest.raises(NotSupportedLocallyError, match="no local meaning"):
            call()


@needs_v2
def test_delete_is_refused_while_a_run_is_live(ws: Workspace) -> None:
    from runtui.core.experiment import ExperimentBusyError, experiment_summary

    exp = Experiment(ws, "busy")
    done = exp.start_logging()
    done.complete()
    live = exp.start_logging()
    summary = experiment_summary(ws, "busy")
    assert (summary.runs, summary.live) == (2, [live.id])
    with pytest.raises(ExperimentBusyError, match=f"1 live run\\(s\\) \\({live.id}\\)"):
        Experiment.delete(ws, exp.id)
    assert ws.get_run(done.id).id == done.id  # nothing was deleted
    live.complete()
    Experiment.delete(ws, "busy")  # Azure takes the id; the name is accepted too
    assert Experiment.list(ws, view_type="All") == []
    with pytest.raises(NotFoundError, match="no experiment named 'busy'"):
        experiment_summary(ws, "busy")
