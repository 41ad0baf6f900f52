"""`runtui submit --azureml-compat`: an Azure ML v1 training script runs with its imports unchanged (real
supervisor and script processes), never in place of a real installed azureml-core, and not without the switch."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
from cli_helpers import ROOT, runtui, write_script

from runtui.core.workspace import Workspace

pytestmark = pytest.mark.timeout(240)

# A v1 training script as users write it: nothing in it names runtui.
V1_TRAIN = """
import os
import pickle
import sys

from azureml.core import Run
from azureml.core.model import Model
from azureml.core.run import Run as RunAgain
from azureml.exceptions import UserErrorException

run = Run.get_context()
assert Run is RunAgain and Model is not None
reg = float(sys.argv[sys.argv.index("--reg") + 1])
run.log("Regularization Rate", reg)
for loss in (0.5, 0.25, 0.125):
    run.log("loss", loss)
run.log("Accuracy", 0.875)
os.makedirs("outputs", exist_ok=True)
with open("outputs/model.pkl", "wb") as fh:
    pickle.dump({"weights": [1, 2, 3], "reg": reg}, fh)
try:
    run.log("", 1)
except UserErrorException as exc:
    print("caught UserErrorException:", type(exc).__name__, flush=True)
print("azureml.core is", Run.__module__, flush=True)
run.complete()
"""


def test_v1_script_runs_unchanged_with_the_switch(home: Path, tmp_path: Path) -> None:
    src = tmp_path / "project"
    write_script(src, "train.py", V1_TRAIN)
    result = runtui("submit", "--azureml-compat", "-e", "v1", "--wait", src / "train.py", "--reg", 0.01, home=home)
    assert result.code == 0, result.out + result.err
    run_id, *output = result.out.splitlines()
    assert "caught UserErrorException: ValidationError" in output
    assert "azureml.core is runtui.core.run" in output

    run = Workspace(path=home).get_run(run_id)
    assert run.get_status() == "Completed"
    metrics = run.get_metrics()
    assert metrics["loss"] == [0.5, 0.25, 0.125]
    assert metrics["Accuracy"] == 0.875 and metrics["Regularization Rate"] == 0.01
    assert "outputs/model.pkl" in run.get_file_names()
    run.download_file("outputs/model.pkl", str(tmp_path / "model.pkl"))
    assert pickle.loads((tmp_path / "model.pkl").read_bytes()) == {"weights": [1, 2, 3], "reg": 0.01}
    assert not (src / "outputs").exists()  # the script ran in the run's working copy, not in the source folder


def test_without_the_switch_the_import_fails_and_is_the_runs_error(home: Path, tmp_path: Path) -> None:
    src = tmp_path / "project"
    write_script(src, "train.py", V1_TRAIN)
    result = runtui("submit", "-e", "v1", "--wait", src / "train.py", "--reg", "0.01", home=home)
    assert result.code == 1
    run_id = result.out.splitlines()[0]
    assert "ModuleNotFoundError: No module named 'azureml'" in result.out  # the script's stderr, streamed
    run = Workspace(path=home).get_run(run_id)
    assert run.get_status() == "Failed"
    error = run.get_details()["error"]
    assert "ModuleNotFoundError" in str(error), error
    assert run.get_metrics() == {}


def test_a_real_installed_azureml_core_is_used_not_the_stand_in(home: Path, tmp_path: Path) -> None:
    # A distribution named azureml-core (metadata and package) on the script's path, as `pip install` leaves it.
    site = tmp_path / "site"
    (site / "azureml" / "core").mkdir(parents=True)
    (site / "azureml" / "__init__.py").write_text("")
    (site / "azureml" / "core" / "__init__.py").write_text("REAL = True\n")
    dist = site / "azureml_core-1.61.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: azureml-core\nVersion: 1.61.0\n")
    src = tmp_path / "project"
    which = "import azureml.core\nprint('real' if getattr(azureml.core, 'REAL', False) else 'shim')\n"
    write_script(src, "which.py", which)
    path = os.pathsep.join([str(site), str(ROOT), os.environ.get("PYTHONPATH", "")])
    result = runtui("submit", "--azureml-compat", "--wait", src / "which.py", home=home, extra_env={"PYTHONPATH": path})
    assert result.code == 0, result.out + result.err
    assert result.out.splitlines()[1:] == ["real"]


def test_the_switch_goes_before_the_script(home: Path, tmp_path: Path) -> None:
    # Everything after SCRIPT belongs to the script: the flag there is the script's argument, not runtui's.
    src = tmp_path / "project"
    write_script(src, "echo.py", "import sys\nprint(sys.argv[1:])\n")
    result = runtui("submit", "--wait", src / "echo.py", "--azureml-compat", home=home)
    assert result.code == 0, result.err
    assert result.out.splitlines()[1:] == ["['--azureml-compat']"]
