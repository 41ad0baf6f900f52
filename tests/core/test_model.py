"""The local model registry with Azure ML v1's Model API (real stores, real files, a real sklearn model)."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from runtui import Experiment, Model, Workspace
from runtui.errors import NotFoundError, NotSupportedLocallyError, ValidationError
from runtui.store import Store

pytestmark = pytest.mark.skipif(
    not hasattr(Store, "register_model"), reason="needs store schema v2 (branch store-v2): the model table"
)


def _trained_run(ws: Workspace, tmp_path: Path) -> tuple[object, Path]:
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    local = tmp_path / "model.pkl"
    local.write_bytes(pickle.dumps(clf))
    run = Experiment(ws, "train").start_logging()
    run.upload_file("outputs/model.pkl", local)
    return run, local


def test_register_versions_and_find_the_path(ws: Workspace, tmp_path: Path) -> None:
    run, local = _trained_run(ws, tmp_path)
    m1 = run.register_model(
        "clf",
        "outputs/model.pkl",
        tags={"area": "demo"},
        properties={"acc": 0.9},
        model_framework="ScikitLearn",
        model_framework_version="1.9",
        description="first",
    )
    run.complete()
    m2 = run.register_model(model_name="clf", model_path="outputs/model.pkl")
    assert (m1.id, m1.version, m2.version) == ("clf:1", 1, 2)
    assert m1.tags == {"area": "demo"} and m1.properties == {"acc": "0.9"} and m1.description == "first"
    assert m1.model_framework == "ScikitLearn" and m1.run_id == run.id and m1.experiment_name == "train"
    assert m1.size == local.stat().st_size
    path = Model.get_model_path("clf", _workspace=ws)
    assert path == str(m2.path) and Path(path).name == "model.pkl"
    assert Model.get_model_path("clf", version=1, _workspace=ws) == str(m1.path)
    model = pickle.loads(Path(path).read_bytes())
    assert list(model.predict([[0.0], [3.0]])) == [0, 1]
    # a finished run's file is shared (hard link) where the file system allows; the content is the same anyway
    assert Path(path).read_bytes() == (run.folder / "outputs/model.pkl").read_bytes()
    assert Model(ws, "clf").version == 2 and Model(ws, "clf", version=1).description == "first"
    assert Model(ws, id="clf:1") == m1


def test_list_filters(ws: Workspace, tmp_path: Path) -> None:
    run, _ = _trained_run(ws, tmp_path)
    run.register_model("a", "outputs/model.pkl", tags={"stage": "prod"})
    run.register_model("a", "outputs/model.pkl")
    run.register_model("b", "outputs/model.pkl", properties={"k": "v"})
    run.complete()
    assert [(m.name, m.version) for m in Model.list(ws)] == [("b", 1), ("a", 2), ("a", 1)]
    assert [m.version for m in Model.list(ws, name="a")] == [2, 1]
    assert [m.id for m in Model.list(ws, tags=["stage"])] == ["a:1"]
    assert [m.id for m in Model.list(ws, tags=[["stage", "prod"]])] == ["a:1"]
    assert [m.id for m in Model.list(ws, properties=["k"])] == ["b:1"]
    assert sorted(m.id for m in Model.list(ws, latest=True)) == ["a:2", "b:1"]
    assert sorted(ws.models) == ["a", "b"]


def test_register_a_folder_and_a_local_file_and_download(ws: Workspace, tmp_path: Path) -> None:
    run = Experiment(ws, "folders").start_logging()
    for name in ("outputs/m/weights.bin", "outputs/m/config.json"):
        run.upload_file(name, __file__)
    folder_model = run.register_model("folder", "outputs/m")
    assert sorted(p.name for p in folder_model.path.iterdir()) == ["config.json", "weights.bin"]
    run.complete()
    local = tmp_path / "local.txt"
    local.write_text("v1")
    registered = Model.register(ws, model_path=local, model_name="local", tags={"x": 1})
    local.write_text("v2 overwritten in place")  # the registry kept its own copy
    assert registered.path.read_text() == "v1"
    out = registered.download(target_dir=tmp_path / "dl")
    assert Path(out).read_text() == "v1"
    with pytest.raises(ValidationError, match="already exists"):
        registered.download(target_dir=tmp_path / "dl")
    assert registered.download(target_dir=tmp_path / "dl", exist_ok=True) == out
    dl = folder_model.download(tmp_path / "dl2")
    assert sorted(os.listdir(dl)) == ["config.json", "weights.bin"]


def test_tags_properties_delete_and_cloud_members(ws: Workspace, tmp_path: Path) -> None:
    src = tmp_path / "f.txt"
    src.write_text("x")
    m = Model.register(ws, src, "m")
    m.add_tags({"a": "1"})
    m.remove_tags(["a"])
    m.add_properties({"p": 2})
    m.update(description="new")
    assert (m.tags, m.properties, m.description) == ({}, {"p": "2"}, "new")
    assert Model.deserialize(ws, m.serialize()) == m
    folder = m.folder
    m.delete()
    assert not folder.exists()
    with pytest.raises(NotFoundError):
        Model(ws, "m")
    for call in (lambda: Model.deploy(ws, "svc", [m]), lambda: Model.package(ws, [m]), lambda: m.get_sas_urls()):
        with pytest.raises(NotSupportedLocallyError, match="no local meaning"):
            call()


def test_bad_input_registers_nothing(ws: Workspace, tmp_path: Path) -> None:
    run, _ = _trained_run(ws, tmp_path)
    with pytest.raises(NotFoundError, match=r"no file or folder 'outputs/missing\.pkl'"):
        run.register_model("clf", "outputs/missing.pkl")
    for bad in ("", "-x", "a b", "a/b", 3):
        with pytest.raises(ValidationError, match="invalid model name"):
            run.register_model(bad, "outputs/model.pkl")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        run.register_model("clf", "../../etc/passwd")
    with pytest.raises(ValidationError, match="tag value"):
        run.register_model("clf", "outputs/model.pkl", tags={"k": "v" * 5000})
    with pytest.raises(ValidationError, match="model description must be a string"):
        run.register_model("clf", "outputs/model.pkl", description=3)  # type: ignore[arg-type]
    with pytest.raises(NotFoundError, match="nothing at"):
        Model.register(ws, tmp_path / "nope", "clf")
    with pytest.raises(ValidationError, match="version must be a positive int"):
        Model(ws, "clf", version=0)
    with pytest.raises(ValidationError, match="model id"):
        Model(ws, id="nocolon")
    assert Model.list(ws) == []
    assert not (ws.path / "models").exists() or not any((ws.path / "models").rglob("*.pkl"))
    run.complete()


def test_update_tags_properties_in_one_call_and_bad_input_changes_nothing(ws: Workspace, tmp_path: Path) -> None:
    src = tmp_path / "f.txt"
    src.write_text("x")
    m = Model.register(ws, src, "m", tags={"old": "1", "keep": "k"})
    m.update_tags_properties(add_tags={"new": 2}, remove_tags=["old"], add_properties={"framework": "sklearn"})
    again = Model(ws, "m")  # read back from the store
    assert again.tags == {"keep": "k", "new": "2"}
    assert again.properties == {"framework": "sklearn"}
    with pytest.raises(ValidationError):
        m.update_tags_properties(add_tags={"": "x"})
    with pytest.raises(ValidationError):
        m.update_tags_properties(remove_tags=[""])
    assert Model(ws, "m").tags == {"keep": "k", "new": "2"}
