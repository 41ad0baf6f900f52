"""A store that cannot be opened: one clear line, exit code 1, for every command that needs the store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from cli_helpers import assert_one_line_error, make_runs, runtui

pytestmark = pytest.mark.timeout(180)

COMMANDS = [["ls"], ["show", "x"], ["logs", "x"], ["cancel", "x"], ["fail", "x"], ["tag", "x", "a=1"], ["gc"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_store_under_a_file_cannot_be_created(tmp_path: Path, command: list[str]) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's folder should be")
    url = f"sqlite:///{blocker}/sub/runtui.db"
    result = runtui("--store", url, *command, home=tmp_path / "home")
    assert_one_line_error(result, 1, "no runtui store at", "not-a-folder is a file, not a folder")
    assert blocker.read_text() == "a file where the store's folder should be"


def test_store_under_a_file_cannot_be_created_by_init(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's folder should be")
    result = runtui("--store", f"sqlite:///{blocker}/sub/runtui.db", "init", tmp_path / "home")
    assert_one_line_error(result, 1, "cannot create the store at", "not-a-folder")
    assert blocker.read_text() == "a file where the store's folder should be"


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("nonsense", "cannot open store"),
        ("nosuchdb://host/db", "cannot open store"),
        ("postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=5", "failed on store"),
    ],
)
def test_bad_store_urls(tmp_path: Path, url: str, fragment: str) -> None:
    result = runtui("ls", "--store", url, home=tmp_path / "home")
    assert_one_line_error(result, 1, fragment)


def test_password_in_a_store_url_is_not_printed(tmp_path: Path) -> None:
    url = "postgresql+psycopg://alice:s3cret@127.0.0.1:1/none?connect_timeout=5"
    result = runtui("ls", "--store", url, home=tmp_path / "home")
    assert result.code == 1
    assert "s3cret" not in result.err


def test_store_from_a_newer_runtui_is_refused_and_left_alone(home: Path) -> None:
    make_runs(home, [{"experiment": "old"}])
    db = home / "runtui.db"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE store_meta SET schema_version = schema_version + 100")
    result = runtui("ls", home=home)
    assert_one_line_error(result, 1, "was written by a newer runtui", "upgrade runtui")
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM run").fetchone() == (1,)


def test_not_a_database_file(home: Path) -> None:
    home.mkdir()
    (home / "runtui.db").write_bytes(b"this is not a SQLite database, just some bytes" * 100)
    result = runtui("ls", home=home)
    assert_one_line_error(result, 1, "failed on store")
    assert (home / "runtui.db").read_bytes().startswith(b"this is not a SQLite database")


def test_bad_workspace_config(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.json").write_text("{not json")
    result = runtui("ls", home=home)
    assert_one_line_error(result, 2, "is not valid JSON")
