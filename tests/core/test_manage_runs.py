"""The Azure ML "manage runs" workflow, end to end, against real SQLite and PostgreSQL stores."""

from __future__ import annotations

import math

import pytest

from runtui import Experiment, Run, RunStatus, Workspace
from runtui.errors import InvalidTransitionError, NotFoundError, PropertyOverwriteError


def test_start_log_status_complete(ws: Workspace) -> None:
    exp = Experiment(workspace=ws, name="explore-runs")
    run = exp.start_logging(display_name="first try")
    assert run.get_status() == "Running"
    run.log("loss", 0.5)
    run.log("loss", 0.25)
    run.log("message", "hello")
    run.complete()
    assert run.get_status() == "Completed"
    assert run.get_metrics() == {"loss": [0.5, 0.25], "message": "hello"}
    details = run.get_details()
    assert details["runId"] == run.id
    assert details["experiment"] == "explore-runs"
    assert details["status"] == "Completed"
    assert details["displayName"] == "first try"
    assert details["parentRunId"] is None
    assert details["startTimeUtc"].endswith("Z") and details["endTimeUtc"].endswith("Z")
    assert details["target"] == "local"
    assert details["host"] and details["user"]
    assert "error" not in details


def test_end_time_absent_while_running(ws: Workspace) -> None:
    run = Experiment(ws, "e").start_logging()
    assert "endTimeUtc" not in run.get_details()
    run.complete()


def test_with_block_completes_fails_and_cancels(ws: Workspace) -> None:
    exp = Experiment(ws, "with-form")
    with exp.start_logging() as ok:
        ok.log("x", 1)
    assert ok.get_status() == "Completed"
    assert ok.get_metrics() == {"x": 1.0}

    with pytest.raises(ZeroDivisionError), exp.start_logging() as bad:
        bad.log("y", 2)
        _ = 1 / 0
    assert bad.get_status() == "Failed"
    assert "ZeroDivisionError" in bad.get_details()["error"]["message"]
    assert bad.get_metrics() == {"y": 2.0}  # what was logged before the failure is kept

    with pytest.raises(KeyboardInterrupt), exp.start_logging() as stopped:
        raise KeyboardInterrupt
    assert stopped.get_status() == "Canceled"


def test_child_runs_in_a_loop_and_in_one_batch(ws: Workspace) -> None:
    exp = Experiment(ws, "children")
    with exp.start_logging() as parent:
        for i in range(3):
            with parent.child_run(name=f"child {i}") as child:
                child.log("i", i)
        batch = parent.create_children(count=5)
        for c in batch:
            c.complete()
        tagged = parent.create_children(tag_key="lr", tag_values=["0.1", "0.01"])
        for c in tagged:
            c.complete()
    children = list(parent.get_children())
    assert len(children) == 10
    assert {c.parent.id for c in children} == {parent.id}  # type: ignore[union-attr]
    assert {c.get_status() for c in children} == {"Completed"}
    assert [c.get_tags() for c in parent.get_children(tags="lr")] != []
    assert {c.get_tags()["lr"] for c in parent.get_children(tags={"lr": None})} == {"0.1", "0.01"}
    assert len(list(parent.get_children(tags={"lr": "0.1"}))) == 1
    # children are not top-level runs, unless asked for
    assert [r.id for r in exp.get_runs()] == [parent.id]
    assert len(list(exp.get_runs(include_children=True))) == 11
    recursive = parent.get_metrics(recursive=True)
    assert recursive[parent.id] == {}
    assert sorted(v["i"] for v in recursive.values() if "i" in v) == [0, 1, 2]


def test_create_children_is_one_transaction(ws: Workspace) -> None:
    parent = Experiment(ws, "batch").start_logging()
    before = ws.store.current_revision()
    kids = parent.create_children(count=50)
    assert ws.store.current_revision() == before + 1
    assert len({k.id for k in kids}) == 50
    parent.complete()


def test_grandchildren_and_recursive_children(ws: Workspace) -> None:
    with Experiment(ws, "deep").start_logging() as root, root.child_run() as child, child.child_run() as grandchild:
        grandchild.tag("deep")
    assert [r.id for r in root.get_children()] == [child.id]
    assert {r.id for r in root.get_children(recursive=True)} == {child.id, grandchild.id}
    assert [r.id for r in root.get_children(recursive=True, tags="deep")] == [grandchild.id]


def test_properties_are_immutable(ws: Workspace) -> None:
    run = Experiment(ws, "props").start_logging()
    run.add_properties({"author": "alice", "seed": 7})
    run.add_properties({"author": "alice"})  # same value again: a no-op
    with pytest.raises(PropertyOverwriteError) as info:
        run.add_properties({"author": "bob", "new": "x"})
    message = str(info.value)
    assert "author" in message and "alice" in message and "bob" in message
    assert run.get_properties() == {"author": "alice", "seed": "7"}  # nothing of the failed call was written
    run.complete()


def test_tags_change_and_key_only(ws: Workspace) -> None:
    run = Experiment(ws, "tags").start_logging()
    run.tag("quality", "great")
    run.tag("quality", "fantastic")
    run.tag("keyonly")
    assert run.get_tags() == {"quality": "fantastic", "keyonly": None}
    assert run.remove_tags(["keyonly", "absent"]) == ["keyonly"]
    assert run.get_tags() == {"quality": "fantastic"}
    run.complete()
    run.tag("after", "completion")  # tags stay mutable after the run ends
    assert run.get_tags()["after"] == "completion"


def test_get_runs_by_properties_and_tags(ws: Workspace) -> None:
    exp = Experiment(ws, "query")
    a = exp.start_logging()
    a.add_properties({"author": "alice"})
    a.tag("quality", "great")
    b = exp.start_logging()
    b.add_properties({"author": "bob"})
    b.tag("quality", "poor")
    c = exp.start_logging()
    c.tag("keyonly")
    for r in (a, b, c):
        r.complete()
    assert [r.id for r in exp.get_runs(properties={"author": "alice"})] == [a.id]
    assert [r.id for r in exp.get_runs(tags={"quality": "great"})] == [a.id]
    assert {r.id for r in exp.get_runs(tags="quality")} == {a.id, b.id}  # key-only form
    assert [r.id for r in exp.get_runs(tags="keyonly")] == [c.id]
    assert [r.id for r in exp.get_runs()] == [c.id, b.id, a.id]  # newest first
    assert [r.id for r in exp.get_runs(status="completed", tags={"quality": "poor"})] == [b.id]
    assert list(exp.get_runs(tags={"quality": "great"}, properties={"author": "bob"})) == []


def test_get_runs_is_a_generator(ws: Workspace) -> None:
    exp = Experiment(ws, "gen")
    gen = exp.get_runs()
    assert iter(gen) is gen


def test_fail_turns_completed_into_failed_but_not_back(ws: Workspace) -> None:
    run = Experiment(ws, "fail").start_logging()
    run.complete()
    run.complete()  # completing twice is a no-op
    run.fail("found a bug in the evaluation afterwards")
    assert run.get_status() == "Failed"
    assert run.get_details()["error"]["message"] == "found a bug in the evaluation afterwards"
    with pytest.raises(InvalidTransitionError, match=r"Failed.*Completed"):
        run.complete()


def test_logging_after_completion_is_refused_by_the_store(ws: Workspace) -> None:
    # Schema v2 (issue 14): a finished run takes no more points; the store refuses them in its write transaction.
    run = Experiment(ws, "late").start_logging()
    run.complete()
    run.log("late_metric", 3.0)
    run.flush()
    assert run.get_metrics(name="late_metric") == {}


def test_log_list_row_table_and_steps(ws: Workspace) -> None:
    run = Experiment(ws, "kinds").start_logging()
    run.log_list("accuracies", [0.6, 0.7, 0.87])
    run.log_row("Y over X", x=1, y=0.4)
    run.log_row("Y over X", x=2, y=0.6)
    run.log_table("table", {"a": [1, 2], "b": ["x", "y"]})
    run.log("stepped", 1.0, step=10)
    run.log("stepped", 2.0, step=20)
    run.log("stepped", 3.0)  # continues after the last step
    run.complete()
    m = run.get_metrics()
    assert m["accuracies"] == [0.6, 0.7, 0.87]
    assert m["Y over X"] == {"x": [1, 2], "y": [0.4, 0.6]}
    assert m["table"] == {"a": [1, 2], "b": ["x", "y"]}
    [series] = ws.store.get_series(run.id, ["stepped"])
    assert series.steps == [10, 20, 21]


def test_nan_and_inf_are_stored_as_such(ws: Workspace) -> None:
    run = Experiment(ws, "nan").start_logging()
    for v in (float("nan"), float("inf"), float("-inf"), 1e308, -0.0):
        run.log("weird", v)
    run.log_list("weird_list", [float("nan"), float("inf")])
    run.complete()
    values = run.get_metrics()["weird"]
    assert math.isnan(values[0]) and values[1:] == [float("inf"), float("-inf"), 1e308, -0.0]
    wl = run.get_metrics()["weird_list"]
    assert math.isnan(wl[0]) and wl[1] == float("inf")
    [summary] = [s for s in ws.store.get_summaries([run.id])[run.id] if s.name == "weird"]
    assert summary.count == 5 and summary.max == float("inf") and summary.min == float("-inf")


def test_files_upload_list_download(ws: Workspace, tmp_path) -> None:  # type: ignore[no-untyped-def]
    run = Experiment(ws, "files").start_logging()
    src = tmp_path / "model.bin"
    src.write_bytes(b"\x00weights")
    run.upload_file("outputs/model.bin", str(src))
    import io

    run.upload_file("outputs/notes.txt", io.BytesIO(b"notes"))
    img = tmp_path / "plot.png"
    img.write_bytes(b"\x89PNG fake but a file")
    run.log_image("curve", path=str(img))
    run.complete()
    assert set(run.get_file_names()) >= {"outputs/model.bin", "outputs/notes.txt", "images/curve.png"}
    out = run.download_file("outputs/model.bin", str(tmp_path / "copy.bin"))
    assert (tmp_path / "copy.bin").read_bytes() == b"\x00weights" and out.endswith("copy.bin")
    assert run.get_metrics()["curve"] == "images/curve.png"


def test_rehydrate_by_id_and_prefix(ws: Workspace) -> None:
    exp = Experiment(ws, "rehydrate")
    run = exp.start_logging()
    run.complete()
    assert Run(exp, run.id).get_status() == "Completed"
    assert Run.get(ws, run.id[:-2]).id == run.id
    with pytest.raises(NotFoundError, match="no run"):
        Run.get(ws, "no-such-run")
    with pytest.raises(NotFoundError, match="belongs to experiment"):
        Run(Experiment(ws, "other"), run.id)


def test_cancel_own_interactive_run_and_children(ws: Workspace) -> None:
    parent = Experiment(ws, "cancel").start_logging()
    kids = parent.create_children(count=2)
    kids[0].complete()
    assert parent.cancel() is True
    assert parent.get_status() == "Canceled"
    assert [k.get_status() for k in kids] == ["Completed", "Canceled"]
    assert parent.cancel() is False  # a finished run: nothing to do


def test_status_enum_is_exported() -> None:
    assert RunStatus("Running") is RunStatus.RUNNING
