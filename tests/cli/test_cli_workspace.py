"""Where commands look for runs: a --home/--store (or $RUNTUI_HOME) that points nowhere sensible is one clear
line and creates nothing; creating a workspace is explicit (`runtui init`, `submit`, `demo`, the SDK)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import assert_one_line_error, make_runs, runtui

pytestmark = pytest.mark.timeout(240)

READERS = [["ls"], ["ls", "--json"], ["show", "x"], ["logs", "x"], ["cancel", "x"], ["tag", "x", "a=1"], ["gc"]]


@pytest.mark.parametrize("command", READERS, ids=lambda c: "-".join(c))
def test_a_home_that_does_not_exist_is_refused_and_not_created(tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "no" / "such" / "dir"
    result = runtui("--home", missing, *command)
    assert_one_line_error(result, 1, f"no runtui workspace at {missing} (from --home)", "init")
    assert not (tmp_path / "no").exists()


def test_an_empty_home_is_a_usage_error(tmp_path: Path) -> None:
    result = runtui("--home", "", "ls", cwd=tmp_path)
    assert_one_line_error(result, 2, "--home is empty")
    assert list(tmp_path.iterdir()) == []  # no store made in the current folder


def test_a_file_as_home_is_refused_and_left_alone(tmp_path: Path) -> None:
    passwd = tmp_path / "passwd"
    passwd.write_text("root:x:0:0::/root:/bin/sh\n")
    for args in (["--home", passwd, "ls"], ["--home", passwd, "submit", passwd], ["init", passwd]):
        result = runtui(*args)
        assert_one_line_error(result, 2, f"{passwd}: that is a file, not a workspace folder")
    assert passwd.read_text() == "root:x:0:0::/root:/bin/sh\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["passwd"]


def test_an_existing_folder_without_a_store_is_not_a_workspace(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    result = runtui("--home", folder, "ls")
    assert_one_line_error(result, 1, f"no runtui store at {folder / 'runtui.db'}", f"runtui --home {folder} init")
    assert list(folder.iterdir()) == []


def test_runtui_home_from_the_environment_is_checked_too(tmp_path: Path) -> None:
    missing = tmp_path / "gone"
    result = runtui("ls", extra_env={"RUNTUI_HOME": str(missing)})
    assert_one_line_error(result, 1, f"no runtui workspace at {missing} (from $RUNTUI_HOME)")
    assert not missing.exists()


def test_a_sqlite_store_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "elsewhere" / "runs.db"
    result = runtui("--store", f"sqlite:///{db}", "ls", home=tmp_path / "home")
    assert_one_line_error(result, 1, f"no runtui store at {db} (from --store)")
    assert not db.parent.exists()
    assert_one_line_error(runtui("--store", "", "ls", home=tmp_path / "home"), 2, "--store is empty")


def test_init_creates_a_workspace_once(tmp_path: Path) -> None:
    home = tmp_path / "new" / "ws"
    first = runtui("init", home)
    assert first.code == 0, first.err
    assert first.out == f"{home}\n"
    assert first.err.strip() == f"created a runtui workspace in {home}"
    assert (home / "runtui.db").is_file()
    assert home.stat().st_mode & 0o777 == 0o700
    again = runtui("--home", home, "init")
    assert again.code == 0, again.err
    assert again.err.strip() == f"{home} is already a runtui workspace"
    listing = runtui("ls", home=home)
    assert (listing.code, listing.out, listing.err.strip()) == (0, "", "no runs")


def test_the_sdk_creates_the_workspace_and_the_cli_then_reads_it(tmp_path: Path) -> None:
    home = tmp_path / "sdk"
    [run_id] = make_runs(home, [{"experiment": "first"}])
    rows = runtui("ls", "--json", home=home).json_lines()
    assert [r["runId"] for r in rows] == [run_id]


def test_usage_lines_say_what_is_optional() -> None:
    submit = runtui("submit")
    assert_one_line_error(submit, 2, "the following arguments are required: SCRIPT", "runtui submit --help")
    assert "ARGS" not in submit.err
    assert "SCRIPT [ARGS ...]" in runtui("submit", "--help").out
    top = runtui("--help").out
    assert top.startswith("usage: runtui [-h] [--version] [--home DIR] [--store URL] [COMMAND [ARGS ...]]")
    assert "[FILTER]" in runtui("ls", "--help").out
    assert "[DIR]" in runtui("init", "--help").out
    logs_help = runtui("logs", "--help").out
    assert "0 Completed, 1 Failed" in logs_help and "3 Canceled" in " ".join(logs_help.split())
