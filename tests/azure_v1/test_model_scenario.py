"""Issue 11's model scenario with a v1-style training script (local_script_sweep/src: a ridge sweep that saves one
model per penalty under ./outputs and leaves marker files in its working folder): two concurrent submissions of one
folder each keep their own ./outputs, the folder is left unchanged, and the model registers and is found by
Model.get_model_path."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from process_cleanup import kill_leftover_processes
from runtui import Experiment, Run, ScriptRunConfig, Workspace

HERE = Path(__file__).parent
pytestmark = pytest.mark.timeout(300)
MODELS = [f"outputs/ridge_{a / 100:.2f}.pkl" for a in range(0, 100, 5)]


def digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, Path, dict[str, str], list[Run]]]:
    root = tmp_path_factory.mktemp("model_scenario")
    scripts = root / "scripts"
    shutil.copytree(HERE / "local_script_sweep" / "src", scripts)
    before = digest(scripts)
    ws = Workspace(path=root / "ws")
    exp = Experiment(workspace=ws, name="train-on-local")
    config = ScriptRunConfig(source_directory=str(scripts), script="fit.py")
    try:
        runs = [exp.submit(config), exp.submit(config)]  # the second starts while the first runs
        for run in runs:
            run.wait_for_completion(timeout=240)
        yield ws, scripts, before, runs
    finally:
        kill_leftover_processes(ws.store)


def test_concurrent_runs_of_one_folder_each_keep_their_own_models(trained: Any) -> None:
    import joblib

    _, scripts, before, runs = trained
    assert [r.get_status() for r in runs] == ["Completed", "Completed"]
    assert runs[0].id != runs[1].id
    for run in runs:
        names = run.get_file_names()
        assert [n for n in names if n.startswith("outputs/")] == MODELS
        model = joblib.load(run.folder / "outputs" / "ridge_0.40.pkl")
        assert model.alpha == pytest.approx(0.4)
        assert len(run.get_metrics()["mse"]) == 20
    a, b = (r.folder / "outputs" / "ridge_0.40.pkl" for r in runs)
    assert a.stat().st_ino != b.stat().st_ino  # two files, not one shared
    assert digest(scripts) == before  # not even the script's ridge_*.pkl marker files reach the source folder


def test_register_model_and_find_it_with_get_model_path(trained: Any) -> None:
    import joblib

    ws, _, _, runs = trained
    model = runs[1].register_model(model_name="best_ridge_model", model_path="./outputs/ridge_0.40.pkl")
    from runtui import Model

    path = Model.get_model_path("best_ridge_model", _workspace=ws)
    assert model.name == "best_ridge_model" and model.version == 1
    assert joblib.load(path).alpha == pytest.approx(0.4)
