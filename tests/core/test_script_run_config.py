"""ScriptRunConfig with Azure ML v1's signature, submitted for real (supervisor + script subprocesses)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from runtui import Environment, Experiment, Run, ScriptRunConfig, Workspace
from runtui.core.environment import DockerConfiguration, MpiConfiguration
from runtui.core.script_run_config import RunConfiguration, RuntuiCompatWarning
from runtui.errors import ValidationError

pytestmark = pytest.mark.timeout(180)

SCRIPT = """
import os, sys
from runtui import Run
run = Run.get_context()
run.log("args", " ".join(sys.argv[1:]))
run.log("greeting", os.environ.get("GREETING", "none"))
print("done", flush=True)
"""


@pytest.fixture
def src(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "train.py").write_text(SCRIPT)
    return folder


def test_azure_signature_and_number_arguments(src: Path) -> None:
    cfg = ScriptRunConfig(source_directory=str(src), script="train.py", arguments=["--reg", 0.01, "--n", 30, True],
                          compute_target="local", max_run_duration_seconds=600)  # fmt: skip
    assert cfg.arguments == ["--reg", "0.01", "--n", "30", "True"]
    assert cfg.run_config.target == "local" and cfg.target == "local"
    assert cfg.max_run_duration_seconds == 600
    assert ScriptRunConfig(str(src), "train.py", compute_target=None).command is None


def test_cloud_settings_warn_once_each(src: Path) -> None:
    env = Environment("sklearn-env")
    env.environment_variables = {"GREETING": "hello"}
    with pytest.warns(RuntuiCompatWarning) as caught:
        cfg = ScriptRunConfig(str(src), "train.py", compute_target="gpu-cluster", environment=env,
                              docker_runtime_config=DockerConfiguration(use_docker=True),
                              distributed_job_config=MpiConfiguration(node_count=2))  # fmt: skip
    messages = [str(w.message) for w in caught]
    assert len(messages) == 4 and all(m.startswith("runtui: ") and "\n" not in m for m in messages)
    assert cfg.environment_variables == {"GREETING": "hello"}  # honoured


def test_run_config_supplies_script_and_arguments(src: Path) -> None:
    rc = RunConfiguration(script="train.py", arguments=["--a", 1])
    rc.environment_variables = {"X": "1"}
    cfg = ScriptRunConfig(str(src), run_config=rc)
    assert (cfg.script, cfg.arguments, cfg.environment_variables) == ("train.py", ["--a", "1"], {"X": "1"})


def test_bad_configs_are_refused(src: Path) -> None:
    with pytest.raises(ValidationError, match=r"script= .* or command=, not both"):
        ScriptRunConfig(str(src), script="train.py", command=["python", "x.py"])
    with pytest.raises(ValidationError, match="put them in command="):
        ScriptRunConfig(str(src), command=["ls"], arguments=["-l"])
    with pytest.raises(ValidationError, match="command must be a non-empty list"):
        ScriptRunConfig(str(src), command=[])
    with pytest.raises(ValidationError, match="max_run_duration_seconds must be a positive number"):
        ScriptRunConfig(str(src), "train.py", max_run_duration_seconds=0)
    with pytest.raises(ValidationError, match="max_run_duration_seconds"):
        ScriptRunConfig(str(src), "train.py", max_run_duration_seconds="1h")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"arguments\[0\] is a NoneType"):
        ScriptRunConfig(str(src), "train.py", arguments=[None])
    with pytest.raises(ValidationError, match="azureml_compat must be True or False"):
        ScriptRunConfig(str(src), "train.py", azureml_compat="yes")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="source_directory must be a path"):
        ScriptRunConfig(3)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="environment_variables must be a dict"):
        env = Environment("e")
        env.environment_variables = ["A=1"]  # type: ignore[assignment]
        ScriptRunConfig(str(src), "train.py", environment=env)


@pytest.mark.timeout(420)  # three real submissions in a row: room for a loaded machine
def test_submit_numbers_command_env_and_children(ws: Workspace, src: Path) -> None:
    exp = Experiment(ws, "src")
    env = Environment("e")
    env.environment_variables = {"GREETING": "hi"}
    with pytest.warns(RuntuiCompatWarning):
        cfg = ScriptRunConfig(str(src), "train.py", arguments=["--lr", 0.1, "--epochs", 3], environment=env,
                              max_run_duration_seconds=3600)  # fmt: skip
    run = exp.submit(cfg, tags={"n": 1})
    run.wait_for_completion(timeout=120)
    assert run.get_metrics() == {"args": "--lr 0.1 --epochs 3", "greeting": "hi"}
    assert run.get_tags() == {"n": "1"}
    assert run.type == "azureml.scriptrun"
    assert [r.id for r in exp.get_runs(type="azureml.scriptrun")] == [run.id]
    spec = json.loads((run.folder / "supervisor.json").read_text())
    assert spec["max_run_duration_seconds"] == 3600
    assert "logs/output.log" in run.get_details()["logFiles"]
    assert run.get_details()["runDefinition"]["arguments"] == ["--lr", "0.1", "--epochs", "3"]

    cmd = exp.submit(ScriptRunConfig(str(src), command=["python", "train.py", "--x", 2]))
    cmd.wait_for_completion(timeout=120)
    assert cmd.get_metrics()["args"] == "--x 2"
    assert json.loads((cmd.folder / "supervisor.json").read_text())["command"][0] == sys.executable

    with exp.start_logging() as parent:
        child = parent.submit_child(ScriptRunConfig(str(src), "train.py", arguments=[7]), tags={"fold": 0})
        child.wait_for_completion(timeout=120)
    assert child.parent == parent and child.get_metrics()["args"] == "7" and child.get_tags() == {"fold": "0"}
    assert [c.id for c in parent.get_children(type="azureml.scriptrun")] == [child.id]
    with pytest.raises(ValidationError, match="unknown keyword"):
        exp.submit(cfg, tgas={})
    with pytest.raises(ValidationError, match="takes a ScriptRunConfig"):
        parent.submit_child("train.py")


AZURE_SCRIPT = """
from azureml.core import Run, VERSION
from azureml.core.run import Run as Run2
from azureml.exceptions import UserErrorException
run = Run.get_context()
assert Run is Run2
run.log("version", VERSION)
run.log("module", Run.__module__)
"""


def test_azureml_compat_script_runs_unchanged(ws: Workspace, src: Path) -> None:
    (src / "azure_train.py").write_text(AZURE_SCRIPT)
    run = Experiment(ws, "compat").submit(ScriptRunConfig(str(src), "azure_train.py", azureml_compat=True))
    run.wait_for_completion(timeout=120, raise_on_error=False)
    assert run.get_status() == "Completed", run.get_details_with_logs()["logFiles"]
    assert run.get_metrics()["module"] == "runtui.core.run"
    plain = Experiment(ws, "compat").submit(ScriptRunConfig(str(src), "azure_train.py"))
    plain.wait_for_completion(timeout=120, raise_on_error=False)
    assert plain.get_status() == "Failed"  # without the switch, azureml is not importable here
    assert isinstance(Run.get(ws, run.id), Run)


NOTEBOOK = """
import sys
import runtui.compat
runtui.compat.enable_azureml_imports()
from azureml.core import Experiment, ScriptRunConfig, Workspace
ws = Workspace(path=sys.argv[1], store_url=sys.argv[2])
run = Experiment(ws, "notebook").submit(ScriptRunConfig(source_directory=sys.argv[3], script="azure_train.py"))
run.wait_for_completion(timeout=120, raise_on_error=False)
print(run.get_status(), run.get_metrics()["module"])
"""


def test_the_shim_of_a_notebook_carries_over_to_its_submitted_scripts(ws: Workspace, src: Path) -> None:
    import subprocess

    (src / "azure_train.py").write_text(AZURE_SCRIPT)
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [sys.executable, "-c", NOTEBOOK, str(ws.path), ws.config.store_url, str(src)],
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["Completed", "runtui.core.run"]
