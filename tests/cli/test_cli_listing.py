"""`runtui ls` and `runtui show`: tables, JSON, filters, prefixes, and their bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import HeldRun, assert_one_line_error, make_runs, open_store, runtui

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def three_runs(home: Path) -> list[str]:
    return make_runs(
        home,
        [
            {
                "experiment": "mnist",
                "name": "baseline",
                "metrics": {"loss": [0.9, 0.5, 0.2], "accuracy": [0.5, 0.8]},
                "tags": {"quality": "great", "best": None},
                "properties": {"author": "alice"},
            },
            {"experiment": "mnist", "name": "bad lr", "metrics": {"loss": [3.0]}, "status": "Failed", "error": "x"},
            {"experiment": "cifar", "metrics": {"sys/cpu": [5.0], "acc": [0.7]}},
        ],
    )


def test_ls_table(home: Path, three_runs: list[str]) -> None:
    result = runtui("ls", home=home)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split() == ["STATUS", "NAME", "ID", "DURATION", "METRIC", "TAGS"]
    assert len(lines) == 4
    newest_first = [line.split()[0] for line in lines[1:]]
    assert newest_first == ["Completed", "Failed", "Completed"]
    baseline = next(line for line in lines if three_runs[0] in line)
    assert "baseline" in baseline
    assert "loss=0.2" in baseline  # the headline metric is the first one logged, with its last value
    assert "quality=great" in baseline and " best" in baseline
    cifar = next(line for line in lines if three_runs[2] in line)
    assert "acc=0.7" in cifar  # system metrics are never the headline
    assert "\x1b" not in result.out  # not a terminal: no colours


def test_ls_json_lines(home: Path, three_runs: list[str]) -> None:
    result = runtui("ls", "--json", home=home)
    assert result.code == 0, result.err
    rows = result.json_lines()
    assert [r["runId"] for r in rows] == list(reversed(three_runs))
    first = rows[-1]
    assert first["experiment"] == "mnist"
    assert first["status"] == "Completed"
    assert first["displayName"] == "baseline"
    assert first["tags"] == {"quality": "great", "best": None}
    assert first["headlineMetric"] == {"name": "loss", "value": 0.2}
    assert first["createdTimeUtc"].endswith("Z")
    assert first["durationSeconds"] >= 0
    assert rows[1]["status"] == "Failed"


def test_ls_filter_and_experiment(home: Path, three_runs: list[str]) -> None:
    ids = lambda *args: [r["runId"] for r in runtui("ls", "--json", *args, home=home).json_lines()]  # noqa: E731
    assert ids("status:failed") == [three_runs[1]]
    assert ids("tag:quality=great") == [three_runs[0]]
    assert ids("metric:loss<0.5") == [three_runs[0]]
    assert ids("prop:author=alice or exp:cifar") == [three_runs[2], three_runs[0]]
    assert ids("--experiment", "mnist") == [three_runs[1], three_runs[0]]
    assert ids("--experiment", "mnist", "not status:failed") == [three_runs[0]]
    assert ids("--experiment", "nope") == []


def test_ls_default_shows_live_and_recent_runs_all_shows_every_run(home: Path) -> None:
    held = HeldRun(home, "live")
    try:
        done = make_runs(home, [{"experiment": "old"} for _ in range(4)])
        default = [r["runId"] for r in runtui("ls", "--json", "--limit", "2", home=home).json_lines()]
        assert default == [done[3], done[2], held.run_id]  # the two newest, and the live run beyond them
        everything = [r["runId"] for r in runtui("ls", "--json", "--all", "--limit", "2", home=home).json_lines()]
        assert everything == [*reversed(done), held.run_id]
        table = runtui("ls", "--limit", "2", home=home)
        assert "Running" in table.out and "held" in table.out
    finally:
        held.close()


def test_ls_empty_store(home: Path) -> None:
    assert runtui("init", home).code == 0
    result = runtui("ls", home=home)
    assert result.code == 0
    assert result.out == ""
    assert result.err.strip() == "no runs"
    assert runtui("ls", "--json", home=home).out == ""


def test_ls_escapes_control_characters_from_runs(home: Path) -> None:
    hostile = "\x1b]0;pwned\x07\x1b[2J\x1b[1;1H"
    [run_id] = make_runs(home, [{"experiment": "evil", "tags": {"note": hostile}}])
    result = runtui("ls", home=home)
    assert "\x1b" not in result.out and "\x07" not in result.out
    assert "note=\\x1b]0;pwned\\x07\\x1b[2J\\x1b[1;1H" in result.out
    rows = runtui("ls", "--json", home=home).json_lines()
    assert rows[0]["tags"]["note"] == hostile  # JSON keeps the exact value, escaped as JSON does
    show = runtui("show", run_id, home=home)
    assert "\x1b" not in show.out


@pytest.mark.parametrize(
    ("filter_text", "position"),
    [("status:", 8), ("(tag:a", 1), ("metric:loss<abc", 13), ("tag:a and", 7), ("bogus:x", 1)],
)
def test_ls_invalid_filter_names_the_position(
    home: Path, three_runs: list[str], filter_text: str, position: int
) -> None:
    store = open_store(home)
    before = store.current_revision()
    result = runtui("ls", filter_text, home=home)
    assert_one_line_error(result, 2, f"invalid filter at position {position}")
    assert store.current_revision() == before


def test_ls_invalid_experiment_name(home: Path) -> None:
    assert_one_line_error(runtui("ls", "--experiment", "no such/name", home=home), 2, "invalid experiment name")


def test_show_text_and_json(home: Path, three_runs: list[str]) -> None:
    result = runtui("show", three_runs[0], home=home)
    assert result.code == 0, result.err
    out = result.out
    assert f"Run         {three_runs[0]}" in out
    assert "Name        baseline" in out
    assert "Status      Completed" in out
    assert "Tags        best quality=great" in out
    assert "Properties  author=alice" in out
    assert "loss" in out and "last 0.2  min 0.2  max 0.9  (3 points)" in out

    details = json.loads(runtui("show", "--json", three_runs[0], home=home).out)
    assert details["runId"] == three_runs[0]
    assert details["status"] == "Completed"
    assert details["properties"] == {"author": "alice"}
    assert details["children"] == []
    assert {m["name"]: m["last"] for m in details["metrics"]} == {"loss": 0.2, "accuracy": 0.8}

    failed = runtui("show", three_runs[1], home=home).out
    assert "Status      Failed" in failed
    assert "Error\n  x" in failed


def test_show_accepts_an_unambiguous_prefix(home: Path, three_runs: list[str]) -> None:
    cifar = three_runs[2]
    result = runtui("show", "--json", "cifar", home=home)
    assert json.loads(result.out)["runId"] == cifar
    result = runtui("show", "--json", cifar[:-3], home=home)
    assert json.loads(result.out)["runId"] == cifar


def test_show_unknown_and_ambiguous_ids(home: Path, three_runs: list[str]) -> None:
    assert_one_line_error(runtui("show", "nope_123", home=home), 1, "no run with id or id prefix 'nope_123'")
    result = runtui("show", "mnist", home=home)
    assert_one_line_error(result, 2, "'mnist' is ambiguous", three_runs[0], three_runs[1])
    assert_one_line_error(runtui("show", "", home=home), 2, "a run id cannot be empty")


def _strict(constant: str) -> None:
    raise AssertionError(f"not JSON: {constant}")


def test_json_output_is_strict_json_even_with_nan_metrics(home: Path) -> None:
    [run_id] = make_runs(home, [{"experiment": "nan", "metrics": {"loss": [0.5, float("nan")]}}])
    [line] = runtui("ls", "--json", home=home).out.splitlines()
    assert json.loads(line, parse_constant=_strict)["headlineMetric"] == {"name": "loss", "value": None}
    details = json.loads(runtui("show", "--json", run_id, home=home).out, parse_constant=_strict)
    assert details["metrics"][0]["last"] is None
    assert "loss=nan" in runtui("ls", home=home).out


_SWEEP = """
import sys
from runtui import Experiment, Workspace
ws = Workspace(path=sys.argv[1])
exp = Experiment(ws, "sweep")
parent = exp.start_logging(display_name="the sweep")
for i in range(3):
    child = parent.child_run(name=f"trial {i}")
    child.log("loss", 1.0 / (i + 1))
    grandchild = child.child_run(name=f"fold {i}")
    grandchild.complete()
    child.complete()
parent.complete()
single = exp.start_logging(display_name="学习率 单独")
single.log("note", "text metric")
single.set_tags({"emoji": "🚀", "c1": "\\x9b2J"})
single.complete()
print(parent.id)
"""


def _sweep(home: Path) -> str:
    import subprocess
    import sys

    from cli_helpers import ROOT, env

    proc = subprocess.run(
        [sys.executable, "-c", _SWEEP, str(home)], capture_output=True, text=True, env=env(), cwd=ROOT, check=True
    )
    return proc.stdout.strip()


def test_ls_shows_the_tree_and_flat_opts_out(home: Path) -> None:
    parent = _sweep(home)
    lines = runtui("ls", home=home).out.splitlines()
    assert len(lines) == 1 + 8
    assert "学习率 单独" in lines[1]  # top-level runs newest first
    assert "the sweep" in lines[2] and parent in lines[2]
    # its children under it in the order they ran, each grandchild one step further in
    expected = ["└ trial 0", "  └ fold 0", "└ trial 1", "  └ fold 1", "└ trial 2", "  └ fold 2"]
    for line, shown in zip(lines[3:], expected, strict=True):
        assert f"  {shown}  " in line, (shown, line)
    # a child whose parent is filtered out stays at the top level, marked
    orphans = runtui("ls", "name:trial", home=home)
    assert orphans.code == 0, orphans.err
    assert [line.count("↳ trial") for line in orphans.out.splitlines()[1:]] == [1, 1, 1]
    flat = runtui("ls", "--flat", home=home).out.splitlines()
    assert flat[0].split() == ["STATUS", "NAME", "ID", "PARENT", "DURATION", "METRIC", "TAGS"]
    trial = next(line for line in flat if "trial 0" in line)
    assert parent in trial.replace("trial 0", "")  # the PARENT column
    assert "└" not in "\n".join(flat)


def test_ls_orphan_children_are_marked(home: Path) -> None:
    _sweep(home)
    lines = runtui("ls", "--experiment", "sweep", "metric:loss<2", home=home).out.splitlines()
    trials = [line for line in lines[1:] if "trial" in line]
    assert len(trials) == 3 and all("↳ trial" in line for line in trials)


def test_ls_wide_names_line_up_by_cells(home: Path) -> None:
    _sweep(home)
    lines = runtui("ls", "--flat", home=home).out.splitlines()
    from runtui.formatting import cell_width

    id_column = lines[0].index("ID")
    wide = next(line for line in lines if "学习率" in line)
    cut = wide.index("sweep_")  # the run id starts in the ID column, counted in cells
    assert cell_width(wide[:cut]) == id_column


def test_ls_json_is_the_same_from_both_read_paths(home: Path) -> None:
    """The fast SQLite path (`runtui.store.listing`, no SQLAlchemy) and the store layer's (other stores and
    filters) write the same bytes for the same runs."""
    import time

    from runtui.cli.commands.listing import _fast_json, encode_pieces, prepared
    from runtui.core.workspace import Workspace
    from runtui.store.overview import list_runs

    _sweep(home)
    make_runs(home, [{"experiment": "nan", "metrics": {"loss": [0.5, float("nan")]}, "tags": {"k": "v\x7f"}}])
    held = HeldRun(home)
    try:
        ws = Workspace(path=home)
        now = time.time()
        for everything, limit in ((True, 50), (False, 3)):
            args = type(
                "Args", (), {"filter": None, "experiment": None, "all": everything, "archived": False, "limit": limit}
            )()
            fast = _fast_json(ws.config, args, now)  # type: ignore[arg-type]
            assert fast is not None
            fast_lines = "".join(fast).splitlines()
            listing = list_runs(ws.store, everything=everything, limit=limit)
            assert fast_lines == list(encode_pieces([prepared(listing)], now))
            for line in fast_lines:
                assert line.isascii() and line.isprintable()
                json.loads(line, parse_constant=_strict)
        assert len(fast_lines) == 3  # the 3 newest, the live run among them
        assert json.loads(fast_lines[0])["runId"] == held.run_id
    finally:
        held.close()


def test_ls_json_reads_sqlite_without_sqlalchemy(home: Path) -> None:
    import subprocess
    import sys

    from cli_helpers import ROOT, env

    [run_id] = make_runs(home, [{"experiment": "light", "metrics": {"loss": [0.1]}}])
    code = (
        "import sys\nfrom runtui.cli import main\n"
        f"rc = main(['--home', {str(home)!r}, 'ls', '--all', '--json'])\n"
        "sys.stderr.write(repr(sorted(m for m in ('sqlalchemy', 'sqlmodel', 'rich', 'textual') if m in sys.modules)))\n"
        "raise SystemExit(rc)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env(), cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "[]"
    assert json.loads(proc.stdout)["runId"] == run_id
