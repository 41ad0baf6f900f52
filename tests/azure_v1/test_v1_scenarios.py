"""Azure ML v1 usage, run unchanged against runtui: each scenario folder holds a notebook written for runtui
(`scenario.py`, `# %%` cells) that makes the v1 calls a public v1 sample makes, in the same order, with its own
training scripts and generated data (README.md names the sample each follows). nbrun.py runs it as Jupyter's
"Run all" in a copy of the folder against a fresh workspace; the test asserts every cell ran, what the notebook
printed (in order), and what the workspace holds afterwards: statuses, metric values and their Python types as
v1's get_metrics returns them, files, tags, properties, models, and source folders left as they were.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from v1_harness import HERE, digest, failed_cells, run_notebook

pytestmark = pytest.mark.timeout(420)
# Scenarios run a few at a time (each in its own folder and workspace): most of a scenario's time is waiting on
# the processes of its submitted runs, so overlapping them keeps this module's wall time down on two cores.
PARALLEL = 4


def experiment_runs(folder: Path, name: str) -> list[Any]:
    """The experiment's top-level runs, oldest first."""
    from runtui import Experiment, Workspace

    ws = Workspace(path=folder.parent / "ws")
    return sorted(Experiment(ws, name).get_runs(), key=lambda r: r.get_details()["createdTimeUtc"])


def only_floats(values: object, count: int) -> bool:
    return isinstance(values, list) and len(values) == count and all(type(v) is float for v in values)


def check_local_script_sweep(folder: Path, out: str) -> None:
    import joblib
    from runtui import Model, Workspace

    [run] = experiment_runs(folder, "local-sweep")
    assert run.get_status() == "Completed"
    metrics = run.get_metrics()
    assert only_floats(metrics["alpha"], 20) and only_floats(metrics["mse"], 20)  # np.float64 logged -> float
    assert metrics["alpha"] == pytest.approx([i * 0.05 for i in range(20)])
    best_at = min(range(20), key=lambda i: metrics["mse"][i])
    best = metrics["alpha"][best_at]
    assert 0 < best_at < 19  # the generated data has a real optimum inside the grid
    assert f"best penalty {best:.2f}, mse {metrics['mse'][best_at]:.3f}" in out
    outputs = [n for n in run.get_file_names() if n.startswith("outputs/")]
    assert outputs == [f"outputs/ridge_{i * 0.05:.2f}.pkl" for i in range(20)]
    # The script's empty marker files stay in the run's working copy, never in the submitted folder.
    assert digest(folder / "src") == digest(HERE / "local_script_sweep" / "src")
    assert (folder / "sweep.png").stat().st_size > 0
    ws = Workspace(path=folder.parent / "ws")
    assert joblib.load(Model.get_model_path("sweep-best", _workspace=ws)).alpha == pytest.approx(best)


def check_run_lifecycle(folder: Path, out: str) -> None:
    runs = experiment_runs(folder, "lifecycle")
    statuses = [r.get_status() for r in runs]
    # live, with-block, greet.py, spawn_children.py, notebook parent, cancelled slow.py, failed slow.py
    assert statuses == ["Completed"] * 5 + ["Canceled", "Failed"], statuses
    assert runs[0].get_metrics() == {"note": "logged from the notebook"}
    assert runs[2].get_metrics() == {"note": "logged by a submitted script"}
    assert runs[2].get_properties() == {"owner": "scenario"}
    assert runs[2].get_tags() == {"grade": "better", "revisit": None}
    kids = list(runs[3].get_children())
    assert len(kids) == 4 and {k.get_status() for k in kids} == {"Completed"}
    for ended in runs[5:]:  # ended by the notebook, not by the script finishing its minute of work
        assert ended.get_details()["endTimeUtc"] is not None
        assert "finished on its own" not in json.dumps(ended.get_details_with_logs())


def check_logging_kinds(folder: Path, out: str) -> None:
    [run] = experiment_runs(folder, "logging-kinds")
    assert run.get_status() == "Completed"
    m = run.get_metrics()
    assert m["colour"] == "Blue" and m["factor"] == 3 and m["answer"] == 42
    assert type(m["factor"]) is int and type(m["answer"]) is int
    assert m["squares"] == [n * n * 3 for n in range(10)]
    assert only_floats(m["logistic"], 12)
    assert m["logistic"] == pytest.approx([1 / (1 + math.exp(-s)) for s in range(-6, 6)])
    xs = [s / 4 * 3 for s in range(12)]
    assert m["wave"]["x"] == pytest.approx(xs) and m["wave"]["sin"] == pytest.approx([math.sin(x) for x in xs])
    assert set(m["wave"]) == {"x", "sin"} and only_floats(m["wave"]["sin"], 12)  # np.sin's float64 -> float
    assert m["curve"] == {"x": pytest.approx(xs), "tanh": pytest.approx([math.tanh(x) for x in xs])}
    for name in ("precision", "recall"):  # the description is not a column
        assert set(m[name]) == {"low", "mid", "high", "wide", "narrow", "spare"}
        assert all(len(v) == 300 and all(type(i) is int for i in v) for v in m[name].values())
    assert m["Cosine"] in run.get_file_names() and isinstance(m["Cosine"], str)
    assert (folder / "fetched" / "Cosine.png").read_bytes().startswith(b"\x89PNG")
    assert (folder / "fetched" / "summary.txt").read_text() == "written by the logging scenario\n"
    assert run.get_tags() == {"keeper": None, "rank": "2"}  # v1 keeps tag values as strings


def check_copied_project_folder(folder: Path, out: str) -> None:
    [run] = experiment_runs(folder, "project-folder")
    m = run.get_metrics()
    assert m["penalty"] == pytest.approx([0.1, 0.575, 1.05, 1.525, 2.0]) and only_floats(m["mae"], 5)
    assert [n for n in run.get_file_names() if n.startswith("outputs/")] == [
        f"outputs/lasso_{p:.3f}.pkl" for p in (0.1, 0.575, 1.05, 1.525, 2.0)
    ]
    assert sorted(p.name for p in (folder / "project").iterdir()) == ["regress.py"]


def check_interactive_sweep(folder: Path, out: str) -> None:
    import joblib

    runs = experiment_runs(folder, "first-sweep")
    penalties = [0.1, 0.5, 1.0, 5.0, 10.0, 50.0]
    assert [r.get_metrics()["penalty"] for r in runs] == penalties
    assert {r.get_status() for r in runs} == {"Completed"}
    best = min(runs, key=lambda r: r.get_metrics()["rmse"])
    assert f"best run: {best.id}\n" in out
    assert f"best rmse: {round(best.get_metrics()['rmse'], 4)}\n" in out
    for k, run in enumerate(runs):
        # The notebook's runs share ./outputs, which each collects as it stands when it completes.
        expect = [f"outputs/ridge_{p}.pkl" for p in penalties[: k + 1]] + [f"ridge_{penalties[k]}.pkl"]
        assert sorted(run.get_file_names()) == sorted(expect)
    penalty = best.get_metrics()["penalty"]
    assert joblib.load(folder / f"ridge_{penalty}.pkl").alpha == penalty


def check_notebook_child_runs(folder: Path, out: str) -> None:
    [root] = experiment_runs(folder, "child-sweep")
    assert root.get_status() == "Completed"
    penalties = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0]
    m = root.get_metrics()
    assert m["alpha"] == penalties and only_floats(m["mse"], 7)
    kids = list(root.get_children())
    assert sorted(k.get_details()["displayName"] for k in kids) == sorted(f"penalty{p}" for p in penalties)
    assert {k.get_status() for k in kids} == {"Completed"} and all(k.get_metrics() == {} for k in kids)


def check_script_arguments(folder: Path, out: str) -> None:
    import joblib

    [run] = experiment_runs(folder, "svm_args")
    m = run.get_metrics()
    assert m["Kernel type"] == "linear" and m["Penalty"] == 0.5 and type(m["Penalty"]) is float
    assert type(m["Accuracy"]) is float and f"held-out accuracy {m['Accuracy']:.3f}" in out
    model = joblib.load(run.folder / "outputs" / "model.joblib")
    assert (model.kernel, model.C) == ("linear", 0.5)
    assert sorted(p.name for p in (folder / "svm-project").iterdir()) == ["classify.py"]


def check_explore_then_submit(folder: Path, out: str) -> None:
    import pandas as pd

    data = pd.read_csv(folder / "patients.csv")
    explore, job = experiment_runs(folder, "explore-patients")
    m = explore.get_metrics()
    assert m["rows"] == 400 and type(m["rows"]) is int
    assert m["visit counts"] == list(data.visits.unique()) and all(type(v) is int for v in m["visit counts"])
    for column in ("glucose", "pressure", "bmi"):
        described = data[column].describe()
        assert m[column] == {"stat": list(described.index), "value": pytest.approx(list(described.values))}
    assert sorted(explore.get_file_names()) == [m["outcomes"], "outputs/sample.csv"]
    assert len((folder / "downloaded" / "outputs" / "sample.csv").read_text().splitlines()) == 61
    counts = data["outcome"].value_counts()
    jm = job.get_metrics()
    assert jm == {"rows": 400, "label 0": int(counts[0]), "label 1": int(counts[1])}
    assert all(type(v) is int for v in jm.values())  # numpy int64 from value_counts -> int
    assert len((job.folder / "outputs" / "sample.csv").read_text().splitlines()) == 51
    assert sorted(p.name for p in (folder / "count-job").iterdir()) == ["count_labels.py", "patients.csv"]
    assert any((folder / "job-logs").rglob("*.log"))


def check_train_and_register(folder: Path, out: str) -> None:
    import joblib
    from runtui import Model, Workspace

    runs = experiment_runs(folder, "train-logistic")
    assert [r.get_status() for r in runs] == ["Completed", "Completed"]
    for run, rate in zip(runs, (0.01, 0.1), strict=True):
        m = run.get_metrics()
        assert m["Regularization Rate"] == rate
        assert all(type(m[k]) is float for k in ("Regularization Rate", "Accuracy", "AUC"))  # np.float64 -> float
        assert 0.5 < m["AUC"] <= 1.0
    ws = Workspace(path=folder.parent / "ws")
    models = sorted(Model.list(ws), key=lambda model: model.version)
    assert [(model.name, model.version) for model in models] == [("logistic", 1), ("logistic", 2)]
    assert models[1].tags == {"Training context": "Script with an argument"}
    assert float(models[0].properties["AUC"]) == pytest.approx(runs[0].get_metrics()["AUC"])
    assert pytest.approx(100) == joblib.load(Model.get_model_path("logistic", version=1, _workspace=ws)).C
    for job in ("plain", "with-argument"):
        assert sorted(p.name for p in (folder / job).iterdir()) == ["patients.csv", "train_logistic.py"]


def check_inspect_run_json(folder: Path, out: str) -> None:
    import pandas as pd

    data = pd.read_csv(folder / "readings.csv")
    explore, job = experiment_runs(folder, "getting-started")
    m = explore.get_metrics()
    assert json.loads(json.dumps(m)) == m  # printable as JSON, as the notebook does
    assert m["distinct counts"] == sorted(data["count"].unique().tolist())
    counts = data["label"].value_counts()
    assert job.get_metrics() == {"rows": 320, "label 0": int(counts[0]), "label 1": int(counts[1])}
    assert sorted(p.name for p in (folder / "summarise-job").iterdir()) == ["readings.csv", "summarise.py"]


@dataclass(frozen=True)
class Scenario:
    folder: str
    prints: list[str]  # lines or fragments the notebook prints, in this order
    check: Callable[[Path, str], None]


SCENARIOS = [
    Scenario(
        "local_script_sweep",
        [
            "Run(experiment='local-sweep'",
            "penalty 0.00 -> mse ",
            "penalty 0.95 -> mse ",
            "'status': 'Completed'",
            "best penalty ",
            "'outputs/ridge_0.95.pkl'",
            "registered sweep-best version 1 url ",
        ],
        check_local_script_sweep,
    ),
    Scenario(
        "run_lifecycle",
        [
            "live: Running\n",
            "status='Running')",
            "details: Running True\n",
            "completed: Completed\n",
            "inside with: Running\nafter with: Completed\n",
            "just submitted: True\n",
            "with logs: True\n",
            "submitted: Completed\n",
            "{'owner': 'scenario'}\nsecond value refused: PropertyOverwriteError\n{'owner': 'scenario'}\n",
            "{'grade': 'good'}\n{'grade': 'better'}\n{'grade': 'better', 'revisit': None}\n",
            "queries: True True []\n",
            "script children: Completed [0, 1, 2, 3]\n",
            "notebook children: [0, 1, 2] {'Completed'}\n",
            "after cancel: Canceled\n",
            "after fail: Failed\n",
            # .amlignore keeps ./outputs (made by start_logging) and ./snapshots out of the snapshot
            "snapshot: ['.amlignore', 'greet.py', 'scenario.py', 'slow.py', 'spawn_children.py']\n",
        ],
        check_run_lifecycle,
    ),
    Scenario(
        "logging_kinds",
        [
            "status='Running')",
            "Experiment(name='logging-kinds')",
            "status='Completed')",
            "'factor': 3",
            "{'factor': 3}\n",
            "['images/Cosine.png', 'notes/summary.txt']\n",
            "fetching notes/summary.txt -> fetched/summary.txt\n",
            "{'keeper': None, 'rank': '2'}\n",
        ],
        check_logging_kinds,
    ),
    Scenario(
        "copied_project_folder",
        [
            "'./project/regress.py'",
            "Run(experiment='project-folder'",
            "penalty 0.100 -> mae ",
            "penalty 2.000 -> mae ",
            "'status': 'Completed'",
            "{'mae': [",
        ],
        check_copied_project_folder,
    ),
    Scenario(
        "interactive_sweep",
        ["Experiment(name='first-sweep')", "best run: first-sweep_", "best rmse: ", "ridge_"],
        check_interactive_sweep,
    ),
    Scenario("notebook_child_runs", ["root: Completed\n"], check_notebook_child_runs),
    Scenario(
        "script_arguments",
        [
            "'./svm-project/classify.py'",
            "held-out accuracy ",
            "'status': 'Completed'",
            "['--kernel', 'linear', '--penalty', '0.5']\n",
            "'Kernel type': 'linear', 'Penalty': 0.5}\n",
            "['outputs/model.joblib', 'logs/output.log']\n",
        ],
        check_script_arguments,
    ),
    Scenario(
        "explore_then_submit",
        [
            "started: explore-patients\n",
            "exploring 400 rows\n",
            "rows = 400\n",
            "outputs/sample.csv\n",
            "downloaded: downloaded/outputs/sample.csv\n",
            "'count-job/count_labels.py'",
            "'status': 'Completed'",
            "label 0 = ",
            "rows = 400\n",
            "logs: True\n",
            "run: explore-patients_",
            "run: explore-patients_",
        ],
        check_explore_then_submit,
    ),
    Scenario(
        "train_and_register",
        [
            "Regularization Rate 0.01\noutputs/model.pkl\n",
            "logistic version: 1\n  tag Training context = Script\n  property AUC = ",
            "Regularization Rate 0.1\noutputs/model.pkl\n",
            "logistic version: 2\n  tag Training context = Script with an argument\n",
            "logistic version: 1\n",
        ],
        check_train_and_register,
    ),
    Scenario(
        "inspect_run_json",
        [
            "started: getting-started\n",
            "Completed True\n",
            '"rows": 320\n',
            '[\n  "images/labels.png",\n  "outputs/sample.csv"\n]\n',
            "'summarise-job/summarise.py'",
            '"label 0": ',
            "outputs/head.csv\n",
            "run: getting-started_",
            "run: getting-started_",
        ],
        check_inspect_run_json,
    ),
]


Outcome = tuple[dict[str, str], Path, str, int]  # (digest of the source before, the run's folder, output, exit)


def _run(scenario: Scenario, tmp: Path) -> Outcome:
    source = HERE / scenario.folder
    before = digest(source)
    return (before, *run_notebook(source, "scenario.py", tmp))


@pytest.fixture(scope="module")
def launched(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[Outcome]]]:
    # Only the scenarios this session selected (-k), in their test order.
    items = [i for i in request.session.items if isinstance(i, pytest.Function)]
    by_id = {s.folder: s for s in SCENARIOS}
    chosen = [by_id[i.callspec.id] for i in items if i.originalname == "test_v1_scenario"]
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        yield {s.folder: pool.submit(_run, s, tmp_path_factory.mktemp(s.folder)) for s in chosen}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.folder for s in SCENARIOS])
def test_v1_scenario(scenario: Scenario, launched: dict[str, Future[Outcome]]) -> None:
    before, folder, out, code = launched[scenario.folder].result()
    assert failed_cells(out) == {} and code == 0, f"--- output ---\n{out[-6000:]}"
    pos = 0
    for fragment in scenario.prints:
        found = out.find(fragment, pos)
        assert found >= 0, f"{fragment!r} not printed (in order)\n--- output ---\n{out[-6000:]}"
        pos = found + len(fragment)
    scenario.check(folder, out)
    assert digest(HERE / scenario.folder) == before  # the checked-in scenario is never written to
