"""Bad input to the SDK: a clear runtui error, and nothing already stored is lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtui import Experiment, ScriptRunConfig, Workspace
from runtui.errors import NotFoundError, RuntuiError, ValidationError


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "cannot be empty"),
        ("x" * 256, "at most 255"),
        ("bad\nname", "invalid experiment name"),
        ("with space", "invalid experiment name"),
        ("../escape", "invalid experiment name"),
        (42, "must be a string"),
        (None, "must be a string"),
    ],
)
def test_experiment_names(ws: Workspace, name: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Experiment(ws, name)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("display_name", "message"),
    [("", "cannot be empty"), ("a\x1b[31mred", "control characters"), ("n" * 2000, "at most 1024"), (3, "string")],
)
def test_display_names(ws: Workspace, display_name: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Experiment(ws, "e").start_logging(display_name=display_name)  # type: ignore[arg-type]
    assert list(Experiment(ws, "e").get_runs()) == []  # nothing half-made


def test_metric_names_and_values(ws: Workspace) -> None:
    run = Experiment(ws, "e").start_logging()
    run.log("good", 1.0)
    with pytest.raises(ValidationError, match="metric name must be a string"):
        run.log(3, 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="cannot be empty"):
        run.log("", 1.0)
    with pytest.raises(ValidationError, match="control characters"):
        run.log("a\x00b", 1.0)
    with pytest.raises(ValidationError, match="cannot log a value of type object"):
        run.log("obj", object())
    with pytest.raises(ValidationError, match="cannot log a value of type dict"):
        run.log("dict", {"a": 1})
    with pytest.raises(ValidationError, match="step must be a non-negative int"):
        run.log("s", 1.0, step=-1)
    with pytest.raises(ValidationError, match="holds a object"):
        run.log_list("l", [1, object()])
    with pytest.raises(ValidationError, match="must be a list"):
        run.log_list("l", "not a list")
    with pytest.raises(ValidationError, match="must be a list"):
        run.log_table("t", {"a": 1})
    with pytest.raises(ValidationError, match="exactly one of"):
        run.log_image("img")
    run.complete()
    assert run.get_metrics() == {"good": 1.0}  # the good point survived every bad call


def test_tags_and_properties(ws: Workspace) -> None:
    run = Experiment(ws, "e").start_logging()
    run.tag("kept", "yes")
    with pytest.raises(ValidationError, match="tag key must be a string"):
        run.tag(5, "x")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="at most 4096"):
        run.tag("k", "v" * 5000)
    with pytest.raises(ValidationError, match="property key must be a string"):
        run.add_properties({1: "x"})  # type: ignore[dict-item]
    with pytest.raises(ValidationError, match="properties must be a dict"):
        run.add_properties(["a"])  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="NUL"):
        run.add_properties({"k": "a\x00b"})
    assert run.get_tags() == {"kept": "yes"}
    assert run.get_properties() == {}
    run.complete()


def test_children_bad_counts(ws: Workspace) -> None:
    run = Experiment(ws, "e").start_logging()
    for bad in (0, -1, "3", 2.5, None, True):
        with pytest.raises(ValidationError, match="count must be a positive int"):
            run.create_children(count=bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="tag_values needs tag_key"):
        run.create_children(tag_values=["a"])
    assert list(run.get_children()) == []
    run.complete()


def test_unknown_run_ids(ws: Workspace) -> None:
    with pytest.raises(NotFoundError, match="no run with id or id prefix 'nope'"):
        ws.get_run("nope")
    with pytest.raises(ValidationError, match="cannot be empty"):
        ws.get_run("")


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "a/../../b", "", "snapshot.zip", "~/x"])
def test_file_names_cannot_escape_the_run(ws: Workspace, tmp_path: Path, name: str) -> None:
    run = Experiment(ws, "e").start_logging()
    src = tmp_path / "f.txt"
    src.write_text("data")
    with pytest.raises(ValidationError):
        run.upload_file(name, str(src))
    with pytest.raises(ValidationError):
        run.download_file(name, str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()
    run.complete()


def test_download_unknown_file(ws: Workspace, tmp_path: Path) -> None:
    run = Experiment(ws, "e").start_logging()
    with pytest.raises(NotFoundError, match="has no file 'outputs/none'"):
        run.download_file("outputs/none", str(tmp_path))
    run.complete()


def test_script_run_config_bad_arguments() -> None:
    with pytest.raises(ValidationError, match=r"arguments\[1\] is a dict"):
        ScriptRunConfig(script="train.py", arguments=["--lr", {"a": 1}])
    with pytest.raises(ValidationError, match="must be a list, not one string"):
        ScriptRunConfig(script="train.py", arguments="--lr 3")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="non-empty"):
        ScriptRunConfig(script="")
    with pytest.raises(ValidationError, match="environment variable"):
        ScriptRunConfig(environment_variables={"A": 1})  # type: ignore[dict-item]


def test_submit_needs_a_config(ws: Workspace) -> None:
    with pytest.raises(ValidationError, match="takes a ScriptRunConfig"):
        Experiment(ws, "e").submit("train.py")  # type: ignore[arg-type]


def test_errors_are_runtui_errors() -> None:
    assert issubclass(ValidationError, RuntuiError) and issubclass(NotFoundError, RuntuiError)


def test_paths_flags_and_types_of_the_v1_entry_points(ws: Workspace, tmp_path: Path) -> None:
    """Values of the wrong kind are one clear ValidationError (not a TypeError from deep inside), and the run's
    files and the registry stay as they were."""
    from runtui import Model, Run

    exp = Experiment(ws, "e")
    run = exp.start_logging(snapshot_directory=None)
    run.upload_file("outputs/a.txt", __file__)
    cases = [
        (lambda: run.download_files(output_directory=3), "output_directory must be a file or folder path"),
        (lambda: run.download_files(output_paths="x.txt"), "output_paths is a list of paths"),
        (lambda: run.download_files(output_paths=[3]), "each of output_paths must be a file or folder path"),
        (lambda: run.get_all_logs(destination=3), "destination must be a file or folder path"),
        (lambda: Run.list(None), "Run.list needs an Experiment, not NoneType"),
        (lambda: list(exp.get_runs(type=3)), "type must be a run type name"),
        (lambda: Experiment.from_directory(3), "from_directory: path must be a file or folder path"),
        (lambda: Workspace.from_config(path=3), "from_config: path must be a file or folder path"),
        (lambda: Model.list(ws, latest="yes"), "latest must be True or False"),
    ]
    for call, message in cases:
        with pytest.raises(ValidationError, match=message) as caught:
            call()
        assert "\n" not in str(caught.value)
    assert run.get_file_names() == ["outputs/a.txt"]
    assert not (Path.cwd() / "outputs" / "a.txt").exists()  # no download started
    assert [r.id for r in Run.list(exp)] == [run.id]  # the good forms still work
    run.complete()
