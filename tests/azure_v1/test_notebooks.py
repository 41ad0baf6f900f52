"""Real public Azure ML v1 notebooks and scripts, ported with only the import changed (see each folder's header),
run as a user would: `nbrun.py notebook.ipy` in a copy of the folder, against a fresh local workspace.

Each port names the cells expected to fail with the reason (today only the samples' own NumPy 1.24 failures:
np.float/np.str are gone); the test asserts exactly those fail, so a cell that starts or stops failing shows.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from process_cleanup import kill_leftover_processes

HERE = Path(__file__).parent
RUNNER = HERE / "nbrun.py"
pytestmark = pytest.mark.timeout(420)


@dataclass(frozen=True)
class Port:
    folder: str
    prints: list[str]  # lines or fragments the notebook itself prints, in this order
    # cell number -> fragment of its error, for cells that fail today (with why, in the comment at the entry)
    failing: dict[int, str] = field(default_factory=dict)
    check: Callable[[Path, str], object] | None = None  # more checks on (folder after the run, output); False fails


def digest(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.relative_to(folder).as_posix().startswith(skip)
    }


# Not runtui's: the sample calls np.float/np.str, removed in NumPy 1.24 (Azure's current images fail the same way).
NUMPY_ALIAS = "module 'numpy' has no attribute"


def workspace_of(folder: Path) -> Any:
    from runtui import Workspace

    return Workspace(path=folder.parent / "ws")


def _export_run_history_check(folder: Path, out: str) -> bool:
    [exp] = [e for e in workspace_of(folder).experiments.values() if e.name == "export-to-tensorboard"]
    [root] = list(exp.get_runs())
    children = list(root.get_children())
    metrics = root.get_metrics()
    return (
        root.get_status() == "Completed"
        and len(children) == 7
        and {c.get_status() for c in children} == {"Completed"}
        and metrics["alpha"] == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
        and len(metrics["mse"]) == 7
    )


def _first_experiment_check(folder: Path, out: str) -> bool:
    # Ten interactive runs, each collecting ./outputs (created by start_logging, as Azure does) when it completes.
    [exp] = [e for e in workspace_of(folder).experiments.values() if e.name == "diabetes-experiment"]
    runs = list(exp.get_runs())
    return (
        len(runs) == 10
        and {r.get_status() for r in runs} == {"Completed"}
        and all(f"outputs/model_alpha_{r.get_metrics()['alpha_value']}.pkl" in r.get_file_names() for r in runs)
        and (folder / "model_alpha_0.1.pkl").stat().st_size > 0
    )


def _train_on_local_check(folder: Path, out: str) -> None:
    # The script writes empty ridge_*.pkl files into its working folder and the models into ./outputs: none of
    # it may appear in the user's scripts folder (the run works in its own copy of the snapshot).
    assert sorted(p.name for p in (folder / "scripts").iterdir()) == ["mylib.py", "train.py"]
    assert "'outputs/ridge_0.40.pkl'" in out


PORTS = [
    Port(
        "train_on_local",
        prints=[
            "alpha is 0.40, and mse is 3295.71",
            "'status': 'Completed'",
            "When alpha is 0.40, we have min MSE 3295.71.",
            "'outputs/ridge_0.00.pkl'",
        ],
        failing={},
        check=_train_on_local_check,
    ),
    Port(
        "manage_runs",
        prints=[
            "Running\nRunning\n",
            "Completed",
            "Is it still running? Running",
            "Has it completed? Completed",
            "Writing .amlignore",
            "{'author': 'azureml-user'}",
            "'author'",  # the error printed by the second add_properties
            "{'quality': 'great run'}",
            "{'quality': 'fantastic run'}",
            "{'quality': 'fantastic run', 'worth another look': None}",
            "status='Completed')]",
            "Did the run cancel? Canceled",
            "Failed",
        ],
        failing={},
    ),
    Port(
        "logging_api",
        prints=[
            "status='Running')",
            "Experiment(name='logging-api-test')",
            "status='Completed')",
            "{'scale factor': 2",
            "'logging-api/myfile.txt'",
            "Downloading file logging-api/myfile.txt to files/myfile.txt...",
            "{'Competition Rank': '1', 'My Favorite Run': None}",
        ],
        failing={},
        check=lambda folder, out: (
            (folder / "files" / "myfile.txt").read_text() == "This is an output file that will be uploaded.\n"
        ),
    ),
    Port(
        "train_on_amlcompute",
        prints=["'./train-on-amlcompute/train.py'", "alpha is 0.40, and mse is 3295.71", "'status': 'Completed'"],
        failing={},
    ),
    Port(
        "dp100_run_experiments",
        prints=[
            "Starting experiment: mslearn-diabetes",
            "Analyzing 300 rows of data",
            "Writing diabetes-experiment-files/diabetes_experiment.py",
            "'status': 'Completed'",
            "observations 300",
            "outputs/sample.csv",  # written by the submitted script into ./outputs, collected into the run
            "Run ID:",
        ],
        failing={},
        # The source folder of the submitted script is left as the notebook wrote it (its outputs are the run's).
        check=lambda folder, out: (
            sorted(p.name for p in (folder / "diabetes-experiment-files").iterdir())
            == ["diabetes.csv", "diabetes_experiment.py"]
        ),
    ),
    Port(
        "first_experiment",
        prints=["Experiment(name='diabetes-experiment')", "Best run_id: diabetes-experiment_", "Best run_id rmse: 5"],
        check=_first_experiment_check,
    ),
    Port(
        "export_run_history",
        prints=[],
        failing={},
        check=_export_run_history_check,
    ),
    Port(
        "aml_labs_getting_started",
        prints=[
            "Starting experiment: diabetes-experiment",
            "Analyzing 300 rows of data",
            "Writing diabetes-experiment-files/diabetes_experiment.py",
            "'status': 'Completed'",
            "observations 300",
            "outputs/sample.csv",
            "Run ID:",
        ],
        failing={},
    ),
    Port(
        "dp100_train_models",
        prints=[
            "Writing diabetes-training/diabetes_training.py",
            "Writing diabetes-training-params/diabetes_training.py",
        ],
        # Not runtui's: the lab's script calls np.float (removed in NumPy 1.24), so both training runs fail and
        # wait_for_completion raises Azure's ActivityFailedException (cells 4, 9), as Azure would on a current
        # image; the cells that read those runs' AUC metric then find none (6, 11).
        failing={
            4: "ActivityFailedException: Activity Failed:",
            6: "KeyError: 'AUC'",
            9: "ActivityFailedException: Activity Failed:",
            11: "KeyError: 'AUC'",
        },
        check=lambda folder, out: NUMPY_ALIAS in out,
    ),
    Port(
        "sklearn_iris",
        prints=["'./sklearn-iris/train_iris.py'"],
        # Not runtui's: train_iris.py calls np.str (removed in NumPy 1.24), so the run fails and cell 8's
        # wait_for_completion raises ActivityFailedException, as Azure would on a current image.
        failing={8: "ActivityFailedException: Activity Failed:"},
        check=lambda folder, out: NUMPY_ALIAS in out,
    ),
]


def run_port(port: Port, tmp_path: Path) -> tuple[Path, str, list[str]]:
    folder = tmp_path / port.folder
    shutil.copytree(HERE / port.folder, folder)
    home = tmp_path / "ws"
    env = dict(os.environ, RUNTUI_HOME=str(home), MPLBACKEND="Agg", PYTHONUNBUFFERED="1")
    env.pop("RUNTUI_RUN_ID", None)
    root = str(HERE.parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    try:
        proc = subprocess.run(
            [sys.executable, str(RUNNER), "notebook.ipy"],
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=360,
        )
    finally:
        from runtui import config
        from runtui.store import open_store

        db = home / config.DB_FILE
        if db.exists():
            kill_leftover_processes(open_store(config.sqlite_url(db)))
    out = proc.stdout
    failed = [line for line in out.splitlines() if line.startswith("CELL ")]
    return folder, out + proc.stderr, failed


@pytest.mark.parametrize("port", PORTS, ids=[p.folder for p in PORTS])
def test_ported_notebook(port: Port, tmp_path: Path) -> None:
    folder, out, failed = run_port(port, tmp_path)
    got = {int(line.split()[1]): line for line in failed}
    assert sorted(got) == sorted(port.failing), f"failed cells: {failed}\n--- output ---\n{out[-6000:]}"
    for n, fragment in port.failing.items():
        assert fragment in got[n], got[n]
    pos = 0
    for fragment in port.prints:
        found = out.find(fragment, pos)
        assert found >= 0, f"{fragment!r} not printed (in order)\n--- output ---\n{out[-6000:]}"
        pos = found + len(fragment)
    if port.check is not None:
        assert port.check(folder, out) is not False, f"the check of {port.folder} failed"
