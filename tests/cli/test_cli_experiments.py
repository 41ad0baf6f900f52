"""`runtui experiment ls|archive|reactivate|delete` and `runtui ls` hiding archived experiments' runs, on each
store kind, through real `python -m runtui` processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import ROOT, WAIT_S, HeldRun, Result, assert_one_line_error, env, make_runs, runtui

from runtui.config import resolve

pytestmark = pytest.mark.timeout(180)


def runtui_answering(answer: str, *args: str, home: Path) -> Result:
    """`python -m runtui --home HOME ARGS...` with `answer` on its stdin (a pipe, as `echo y | runtui ...`)."""
    proc = subprocess.run(
        [sys.executable, "-m", "runtui", "--home", str(home), *args],
        input=answer,
        capture_output=True,
        text=True,
        env=env(),
        cwd=ROOT,
        timeout=WAIT_S,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def listed_runs(home: Path, *args: str) -> set[str]:
    result = runtui("ls", "--json", *args, home=home)
    assert result.code == 0, result.err
    return {r["runId"] for r in result.json_lines()}


def experiments(home: Path, *args: str) -> dict[str, dict[str, object]]:
    result = runtui(*args, home=home)
    assert result.code == 0, result.err
    return {e["name"]: e for e in result.json_lines()}


def test_archive_hides_runs_until_asked_and_reactivate_shows_them(store_url: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    old, new = make_runs(home, [{"experiment": "old"}, {"experiment": "new", "metrics": {"acc": [0.5]}}], store_url)
    s = ("--store", store_url)
    assert listed_runs(home, *s) == {old, new}

    archived = runtui(*s, "experiment", "archive", "old", home=home)
    assert archived.code == 0, archived.err
    assert "archived experiment 'old'" in archived.err
    # Azure's ActiveOnly view by default; --all/--archived, --experiment or an exp: term bring them back
    assert listed_runs(home, *s) == {new}
    assert runtui(*s, "ls", home=home).out.count("\n") == 2  # header + the one active run (table path)
    assert listed_runs(home, *s, "--all") == listed_runs(home, *s, "--archived") == {old, new}
    assert listed_runs(home, *s, "--experiment", "old") == {old}
    result = runtui(*s, "ls", "--json", "exp:old", home=home)
    assert {r["runId"] for r in result.json_lines()} == {old}
    result = runtui(*s, "ls", "--json", "status:completed", home=home)  # a filter that names no experiment
    assert {r["runId"] for r in result.json_lines()} == {new}

    views = ["experiment", "ls", "--json"]
    assert set(experiments(home, *s, *views)) == {"new"}
    only_archived = experiments(home, *s, *views, "--archived")
    assert set(only_archived) == {"old"}
    assert only_archived["old"]["archived"] is True and only_archived["old"]["runs"] == 1
    assert str(only_archived["old"]["archivedTimeUtc"]).endswith("Z")
    every = experiments(home, *s, *views, "--all")
    assert set(every) == {"old", "new"} and every["new"]["archived"] is False and every["new"]["runs"] == 1
    table = runtui(*s, "experiment", "ls", "--all", home=home).out.splitlines()
    assert table[0].split()[:4] == ["NAME", "STATE", "RUNS", "LIVE"]
    assert [line.split()[:3] for line in table[1:]] == [["new", "Active", "1"], ["old", "Archived", "1"]]

    assert runtui(*s, "experiment", "reactivate", "old", home=home).code == 0
    assert listed_runs(home, *s) == {old, new}
    assert set(experiments(home, *s, *views)) == {"old", "new"}
    assert experiments(home, *s, *views, "--archived") == {}


def test_delete_asks_then_deletes_runs_and_their_files(store_url: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    doomed = make_runs(home, [{"experiment": "doomed"}, {"experiment": "doomed", "status": "Failed"}], store_url)
    [kept] = make_runs(home, [{"experiment": "kept"}], store_url)
    cfg = resolve(path=home)
    for run_id in [*doomed, kept]:
        (cfg.run_dir(run_id) / "outputs").mkdir(parents=True, exist_ok=True)
        (cfg.run_dir(run_id) / "outputs" / "model.pkl").write_bytes(b"weights")
    s = ("--store", store_url)
    prompt = "Delete experiment 'doomed' with 2 runs and their files? [y/N]"

    for answer in ("n\n", "\n", "", "yes please\n"):  # anything but y/yes (and EOF) keeps everything
        declined = runtui_answering(answer, *s, "experiment", "delete", "doomed", home=home)
        assert declined.code == 1, declined.err
        assert declined.err.splitlines() == [prompt + " ", "not deleted"]
        assert listed_runs(home, *s, "--all") == {*doomed, kept}
        assert all(cfg.run_dir(r).is_dir() for r in doomed)

    deleted = runtui_answering("y\n", *s, "experiment", "delete", "doomed", home=home)
    assert deleted.code == 0, deleted.err
    assert deleted.err.splitlines() == [prompt + " ", "deleted experiment 'doomed' and 2 runs with their files"]
    assert listed_runs(home, *s, "--all") == {kept}
    assert not any(cfg.run_dir(r).exists() for r in doomed)
    assert (cfg.run_dir(kept) / "outputs" / "model.pkl").read_bytes() == b"weights"
    assert set(experiments(home, *s, "experiment", "ls", "--all", "--json")) == {"kept"}
    assert_one_line_error(runtui(*s, "show", doomed[0], home=home), 1, doomed[0])

    # --yes skips the question (an archived experiment can be deleted too)
    assert runtui(*s, "experiment", "archive", "kept", home=home).code == 0
    quiet = runtui(*s, "experiment", "delete", "kept", "--yes", home=home)
    assert quiet.code == 0, quiet.err
    assert quiet.err == "deleted experiment 'kept' and 1 run with their files\n"
    assert listed_runs(home, *s, "--all") == set()
    assert not cfg.run_dir(kept).exists()


def test_delete_is_refused_while_a_run_is_live(home: Path) -> None:
    [done] = make_runs(home, [{"experiment": "busy"}])
    held = HeldRun(home, "busy")
    try:
        refused = runtui("experiment", "delete", "busy", "--yes", home=home)
        assert_one_line_error(refused, 1, "experiment 'busy' has 1 live run(s)", held.run_id, "runtui cancel")
        asked = runtui_answering("y\n", "experiment", "delete", "busy", home=home)  # refused before asking
        assert_one_line_error(asked, 1, "live run(s)")
        assert listed_runs(home, "--all") == {done, held.run_id}
    finally:
        held.close()
    gone = runtui("experiment", "delete", "busy", "--yes", home=home)
    assert gone.code == 0, gone.err
    assert listed_runs(home, "--all") == set()


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["experiment", "delete", "nope", "--yes"], 1, "no experiment named 'nope'"),
        (["experiment", "delete", "nope"], 1, "no experiment named 'nope'"),  # refused before the question
        (["experiment", "archive", "nope"], 1, "no experiment named 'nope'"),
        (["experiment", "reactivate", "nope"], 1, "no experiment named 'nope'"),
        (["experiment", "delete", "a/b", "--yes"], 2, "invalid experiment name 'a/b'"),
        (["experiment", "archive", ""], 2, "experiment name cannot be empty"),
        (["experiment", "delete"], 2, "NAME"),
        (["experiment"], 2, "ACTION"),
        (["experiment", "drop", "x"], 2, "invalid choice: 'drop'"),
        (["experiment", "ls", "--all", "--archived"], 2, "not allowed with"),
        (["ls", "--archived", "--experiment", "a/b"], 2, "invalid experiment name"),
    ],
)
def test_experiment_bad_input_is_one_line_and_changes_nothing(
    home: Path, args: list[str], code: int, fragment: str
) -> None:
    [run_id] = make_runs(home, [{"experiment": "a"}])
    assert_one_line_error(runtui(*args, home=home), code, fragment)
    assert listed_runs(home, "--all") == {run_id}
    assert json.loads(runtui("experiment", "ls", "--json", home=home).out)["name"] == "a"


def test_experiment_commands_refuse_a_workspace_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    for args in (["experiment", "ls"], ["experiment", "delete", "a", "--yes"], ["experiment", "archive", "a"]):
        assert_one_line_error(runtui(*args, home=missing), 1, "no runtui workspace at")
    assert not missing.exists()  # nothing was created by asking
