"""Run as Azure ML v1's Run: value shapes, the members v1 code uses, and their bad input (real stores and files)."""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

import numpy as np
import pytest

from runtui import Experiment, Run, Workspace
from runtui.errors import NotFoundError, NotSupportedLocallyError, ValidationError
from runtui.store.records import RunRecord

V2 = "number" in RunRecord.__dataclass_fields__
needs_v2 = pytest.mark.skipif(not V2, reason="needs store schema v2 (branch store-v2): run.number/description")


def test_get_metrics_values_and_shapes_as_azure(ws: Workspace) -> None:
    run = Experiment(ws, "shapes").start_logging()
    run.log("epochs", 3)
    run.log("converged", True)
    run.log("missing", None)
    run.log("lr", 0.5)
    run.log("np_int", np.int64(4))
    run.log_list("acc", [0.1, 0.2])
    run.log_list("acc", (x for x in [0.3]))  # any iterable
    run.log_list("single", [7])
    run.log_list("arr", np.array([1, 2]))
    run.log_row("one_row", epoch=1, loss=0.5)
    run.log_row("rows", epoch=1)
    run.log_row("rows", epoch=2)
    run.log_table("table", {"x": [1, 2], "y": np.array([3.0, 4.0])})
    run.log_table("table", {"x": [3], "y": [5.0]})
    run.complete()
    m = run.get_metrics()
    assert m["epochs"] == 3 and type(m["epochs"]) is int
    assert m["converged"] is True
    assert m["missing"] is None
    assert m["np_int"] == 4 and type(m["np_int"]) is int
    assert m["acc"] == [0.1, 0.2, 0.3]
    assert m["single"] == 7
    assert m["arr"] == [1, 2]
    assert m["one_row"] == {"epoch": 1, "loss": 0.5}
    assert m["rows"] == {"epoch": [1, 2]}
    assert m["table"] == {"x": [1, 2, 3], "y": [3.0, 4.0, 5.0]}
    assert run.get_metrics("epochs") == {"epochs": 3}


def test_document_metrics_are_stored_as_json(ws: Workspace) -> None:
    run = Experiment(ws, "docs").start_logging()
    cm = {"schema_type": "confusion_matrix", "schema_version": "1.0.0", "data": {"class_labels": ["a", "b"],
          "matrix": np.array([[3, 1], [0, 4]])}}  # fmt: skip
    run.log_confusion_matrix("cm", cm)
    run.log_accuracy_table("acc", '{"schema_type": "accuracy_table", "data": {}}')
    run.log_residuals("res", {"schema_type": "residuals", "data": {"bin_edges": [0, 1], "bin_counts": [2]}})
    run.log_predictions("pred", {"schema_type": "predictions", "data": {"bin_averages": [0.5]}})
    with pytest.raises(ValidationError, match="expected a dict"):
        run.log_confusion_matrix("bad", [1, 2])  # type: ignore[arg-type]
    run.complete()
    m = run.get_metrics()
    assert m["cm"]["data"]["matrix"] == [[3, 1], [0, 4]]
    assert m["acc"]["schema_type"] == "accuracy_table"
    assert set(m) == {"cm", "acc", "res", "pred"}
    kinds = {s.name: s.kind for s in ws.store.get_summaries([run.id])[run.id]}
    assert kinds == {"cm": "confusion_matrix", "acc": "accuracy_table", "res": "residuals", "pred": "predictions"}


def test_recursive_metrics_drop_runs_without_metrics(ws: Workspace) -> None:
    with Experiment(ws, "rec").start_logging() as parent:
        quiet, loud = parent.create_children(count=2)
        loud.log("x", 1)
        quiet.complete()
        loud.complete()
    assert parent.get_metrics(recursive=True) == {loud.id: {"x": 1}}
    assert parent.get_metrics(recursive=True, run_type="azureml.scriptrun") == {}


def test_tags_properties_and_attributes(ws: Workspace, caplog: pytest.LogCaptureFixture) -> None:
    run = Experiment(ws, "attrs").start_logging()
    with caplog.at_level(logging.WARNING, logger="runtui"):
        run.tag("shape", [1, 2])
        run.set_tags({"n": np.float32(0.5), "i": 3})
    assert "Converting non-string tag value" in caplog.text
    run.add_properties({"best": np.int64(2)})
    assert run.tags == {"shape": "[1, 2]", "n": "0.5", "i": "3"}
    assert run.properties == {"best": "2"}
    assert run.remove_tags(tags=["shape", "absent"]) == ["shape"]
    assert run.type is None  # interactive runs have no Azure run type
    assert run.flush(timeout_seconds=5) is True
    with pytest.raises(ValidationError, match="timeout_seconds"):
        run.flush(timeout_seconds=-1)
    with pytest.raises(ValidationError, match="tag key"):
        run.remove_tags(tags=[3])  # type: ignore[list-item]
    run.complete()


@needs_v2
def test_number_and_description(ws: Workspace) -> None:
    exp = Experiment(ws, "numbers")
    first, second = exp.start_logging(), exp.start_logging()
    assert (first.number, second.number) == (1, 2)
    first.description = "baseline"
    assert Run(exp, first.id).description == "baseline"
    with pytest.raises(ValidationError, match="description"):
        first.description = 3  # type: ignore[assignment]
    first.complete()
    second.complete()


def test_create_children_are_numbered_as_azure(ws: Workspace) -> None:
    with Experiment(ws, "batch").start_logging() as parent:
        kids = parent.create_children(count=3)
        for k in kids:
            k.complete()
    assert [k.get_tags() for k in kids] == [{"azureml.batch_child_number": str(i)} for i in range(3)]


def test_details_have_azure_keys(ws: Workspace) -> None:
    exp = Experiment(ws, "details")
    run = exp.start_logging()
    run.upload_file("logs/extra.txt", __file__)
    run.fail("bad data", error_code="DataError")
    d = run.get_details()
    assert d["submittedBy"] == d["user"]
    assert d["runDefinition"]["target"] == "local" and d["runDefinition"]["script"] is None
    assert d["error"]["error"]["code"] == "UserError" and "bad data" in d["error"]["error"]["message"]
    assert d["error"]["time"].endswith("Z")
    assert d["logFiles"] == {"logs/extra.txt": str(run.folder / "logs" / "extra.txt")}  # an interactive run's logs
    assert d["inputDatasets"] == [] and d["outputDatasets"] == []
    assert run.get_detailed_status() == {"status": "Failed", "details": None}


def test_upload_and_download_many_files(ws: Workspace, tmp_path: Path) -> None:
    src = tmp_path / "model"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("a")
    (src / "sub" / "b.txt").write_text("b")
    other = tmp_path / "c.txt"
    other.write_text("c")
    run = Experiment(ws, "files").start_logging()
    run.upload_folder("outputs/model", src)
    run.upload_files(["outputs/c.txt"], [other])
    assert sorted(run.get_file_names()) == ["outputs/c.txt", "outputs/model/a.txt", "outputs/model/sub/b.txt"]
    with pytest.raises(ValidationError, match="2 names but 1 paths"):
        run.upload_files(["x", "y"], [other])
    with pytest.raises(NotFoundError, match="no file"):
        run.upload_files(["x"], [tmp_path / "nope"])
    with pytest.raises(NotFoundError, match="no folder"):
        run.upload_folder("x", tmp_path / "nope")
    assert len(run.get_file_names()) == 3  # the refused calls copied nothing

    out = tmp_path / "down"
    run.download_files(prefix="outputs/model", output_directory=out)
    assert (out / "outputs/model/sub/b.txt").read_text() == "b"
    flat = tmp_path / "flat"
    run.download_files(prefix="outputs/model/", output_directory=flat, append_prefix=False)
    assert sorted(p.relative_to(flat).as_posix() for p in flat.rglob("*.txt")) == ["a.txt", "sub/b.txt"]
    with pytest.raises(ValidationError, match="output_paths"):
        run.download_files(prefix="outputs/model", output_paths=[tmp_path / "one"])
    run.upload_file("logs/note.log", other)
    logs = run.get_all_logs(destination=tmp_path / "logs_copy")
    assert logs == [str(tmp_path / "logs_copy" / "logs" / "note.log")]
    run.complete()


def test_run_list_and_get_runs_take_azure_types(ws: Workspace) -> None:
    exp = Experiment(ws, "types")
    run = exp.start_logging()
    run.complete()
    assert [r.id for r in Run.list(exp)] == [run.id]
    assert [r.id for r in Run.list(exp, status="Completed")] == [run.id]
    assert list(exp.get_runs(type="azureml.scriptrun")) == []
    assert [r.id for r in exp.get_runs(type="interactive")] == [run.id]


def test_restore_snapshot_has_azure_meaning(ws: Workspace, tmp_path: Path) -> None:
    bare = Experiment(ws, "snap").start_logging(snapshot_directory=None)
    with pytest.raises(NotFoundError, match="no snapshot"):
        bare.restore_snapshot()
    bare.complete()
    src = tmp_path / "src"
    src.mkdir()
    (src / "train.py").write_text("print(1)")
    run = Experiment(ws, "snap").start_logging(snapshot_directory=str(src))
    snap = run.get_snapshot_id()
    assert snap is not None
    path = run.restore_snapshot(path=tmp_path)
    assert path == str((tmp_path / f"{snap}.zip").resolve())
    assert zipfile.ZipFile(path).namelist() == ["train.py"]
    assert Path(run.restore_snapshot(snap)).parent.is_dir()  # default: the temporary folder, absolute
    with pytest.raises(NotFoundError, match="has no snapshot 'other'"):
        run.restore_snapshot("other", tmp_path)
    # a missing folder is created, as Azure's download does; a file in the way is refused
    assert Path(run.restore_snapshot(path=tmp_path / "missing" / "deep")).is_file()
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ValidationError, match="must be a folder"):
        run.restore_snapshot(path=tmp_path / "afile")
    run.complete()


def test_cloud_only_members_say_so(ws: Workspace) -> None:
    run = Experiment(ws, "cloud").start_logging()
    for call in (
        lambda: run.get_secret("k"),
        lambda: run.get_secrets(["k"]),
        lambda: run.get_environment(),
        lambda: run.clean(),
        lambda: run.get_portal_url(),
        lambda: Run.get_docs_url(),
        lambda: Run.list_by_compute("cpu"),
        lambda: Run.add_type_provider("x", None),
    ):
        with pytest.raises(NotSupportedLocallyError, match="has no local meaning in runtui"):
            call()
    run.complete()


def test_run_constructor_and_get_context_take_azure_arguments(ws: Workspace) -> None:
    exp = Experiment(ws, "ctor")
    run = exp.start_logging()
    assert Run(exp, run.id, outputs="outputs", _run_dto=None) == run
    offline = Run.get_context(allow_offline=True, used_for_context_manager=True)
    assert offline.id.startswith("OfflineRun_")
    assert Run.get_submitted_run() is offline  # Azure's deprecated alias
    run.complete()


def test_bad_input_to_the_new_members(ws: Workspace, tmp_path: Path) -> None:
    run = Experiment(ws, "bad").start_logging()
    run.log("kept", 1)
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(ValidationError, match="exists and is not a folder"):
        run.get_all_logs(destination=a_file)
    with pytest.raises(ValidationError, match="prefix must be a string"):
        run.download_files(prefix=3)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="metric name"):
        run.get_metrics(name=3)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="list of names"):
        run.upload_files("a.txt", [a_file])  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="must be a list of values"):
        run.log_list("l", {"a": 1})
    with pytest.raises(ValidationError, match="must be a dict"):
        run.add_properties([("a", 1)])  # type: ignore[arg-type]
    assert run.get_metrics() == {"kept": 1}  # nothing lost
    assert run.get_file_names() == []
    run.complete()
