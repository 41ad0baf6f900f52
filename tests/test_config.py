"""Workspace discovery: RUNTUI_HOME / RUNTUI_STORE_URL, .runtui/config.json in a parent folder, the default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtui import Workspace
from runtui.config import resolve
from runtui.errors import NotFoundError, ValidationError


def test_runtui_home_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNTUI_HOME", str(tmp_path / "home"))
    cfg = resolve()
    assert cfg.home == tmp_path / "home"
    assert cfg.store_url == f"sqlite:///{tmp_path / 'home' / 'runtui.db'}"
    assert cfg.runs_dir == tmp_path / "home" / "runs"


def test_store_url_env_overrides_the_store_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNTUI_HOME", str(tmp_path))
    monkeypatch.setenv("RUNTUI_STORE_URL", "postgresql+psycopg://u@h/db")
    cfg = resolve()
    assert cfg.store_url == "postgresql+psycopg://u@h/db" and cfg.runs_dir == tmp_path / "runs"


def test_config_file_in_a_parent_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNTUI_HOME", raising=False)
    project = tmp_path / "project"
    (project / ".runtui").mkdir(parents=True)
    (project / ".runtui" / "config.json").write_text(json.dumps({"runs_dir": "my-runs"}))
    deep = project / "src" / "pkg"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    ws = Workspace.from_config()
    assert ws.config.home == project / ".runtui"
    assert ws.config.runs_dir == project / ".runtui" / "my-runs"
    assert ws.config.store_url.endswith("/project/.runtui/runtui.db")
    assert Workspace.from_config(project / ".runtui" / "config.json").config.home == project / ".runtui"
    assert Workspace.from_config(deep).config.config_file == project / ".runtui" / "config.json"


def test_from_config_with_a_folder_that_has_none(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"no \.runtui/config\.json"):
        Workspace.from_config(tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "not valid JSON"), ("[1]", "JSON object"), ('{"colour": "blue"}', "unknown keys: colour")],
)
def test_bad_config_files(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / ".runtui").mkdir()
    path = tmp_path / ".runtui" / "config.json"
    path.write_text(content)
    with pytest.raises(ValidationError, match=message):
        Workspace.from_config(path)


def test_explicit_path(tmp_path: Path) -> None:
    ws = Workspace(path=tmp_path / "w")
    assert ws.path == tmp_path / "w" and ws.runs_dir == tmp_path / "w" / "runs"
