"""`runtui sync --to URL [--from-home DIR]`: a local workspace copied into another store (SQLite, and PostgreSQL
when configured), again with nothing to copy, and bad input as one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import assert_one_line_error, make_runs, runtui

pytestmark = pytest.mark.timeout(180)


def test_sync_copies_a_workspace_then_nothing(store_url: str, home: Path, tmp_path: Path) -> None:
    ids = make_runs(
        home,
        [
            {"experiment": "a", "name": "one", "metrics": {"loss": [0.5, 0.25]}, "tags": {"k": "v"}},
            {"experiment": "b", "status": "Failed", "error": "bad", "properties": {"author": "ada"}},
        ],
    )
    first = runtui("sync", "--to", store_url, "--from-home", home)
    assert first.code == 0, first.err
    assert "2 runs new, 0 updated, 0 unchanged; 2 metric points, 2 experiments new" in first.out
    assert "stay in the run folders on this host" in first.err

    copied = runtui("--store", store_url, "ls", "--json", home=tmp_path / "elsewhere").json_lines()
    assert sorted(r["runId"] for r in copied) == sorted(ids)
    details = json.loads(runtui("--store", store_url, "show", "--json", ids[1], home=tmp_path / "elsewhere").out)
    assert details["status"] == "Failed" and details["properties"] == {"author": "ada"}

    again = runtui("sync", "--to", store_url, "--from-home", home)
    assert again.code == 0, again.err
    assert "0 runs new, 0 updated, 2 unchanged; 0 metric points, 0 experiments new" in again.out


def test_sync_of_the_current_workspace(store_url: str, home: Path) -> None:
    make_runs(home, [{"experiment": "a"}])
    result = runtui("sync", "--to", store_url, home=home)  # the workspace named by --home
    assert result.code == 0, result.err
    assert "1 runs new" in result.out


def test_from_home_ignores_the_store_url_in_the_environment(store_url: str, home: Path) -> None:
    make_runs(home, [{"experiment": "a"}])
    result = runtui("sync", "--to", store_url, "--from-home", home, extra_env={"RUNTUI_STORE_URL": store_url})
    assert result.code == 0, result.err  # the source is the folder's own store, not the target
    assert "1 runs new" in result.out


def test_bad_input(home: Path, tmp_path: Path) -> None:
    make_runs(home, [{"experiment": "a"}])
    own = f"sqlite:///{home / 'runtui.db'}"
    assert runtui("sync", home=home).code == 2  # --to is required (argparse's one-line usage error)
    assert_one_line_error(runtui("sync", "--to", "  ", home=home), 2, "--to needs a store URL")
    assert_one_line_error(runtui("sync", "--to", own, home=home), 2, "same store")
    assert_one_line_error(
        runtui("sync", "--to", f"sqlite:///{tmp_path / 't.db'}", "--from-home", tmp_path / "nope"), 1, "no such folder"
    )
    (tmp_path / "empty").mkdir()
    assert_one_line_error(
        runtui("sync", "--to", f"sqlite:///{tmp_path / 't.db'}", "--from-home", tmp_path / "empty"),
        1,
        "no runtui store there",
    )
    assert_one_line_error(runtui("sync", "--to", "nosuchdb://x/y", home=home), 1, "cannot open store")
