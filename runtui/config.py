"""Where a workspace lives and which store it uses. Light: no SQLAlchemy here.

Discovery, first match wins:
1. `RUNTUI_HOME` (a workspace folder) and/or `RUNTUI_STORE_URL` (any SQLAlchemy URL);
2. `.runtui/config.json` in the current folder or one of its parents;
3. the default workspace `~/.runtui`.

`config.json` may hold `{"store_url": "...", "runs_dir": "..."}`; relative paths are relative to the file's folder.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from runtui.errors import ValidationError

CONFIG_DIR = ".runtui"
CONFIG_FILE = "config.json"
DB_FILE = "runtui.db"


@dataclass(frozen=True)
class WorkspaceConfig:
    home: Path  # the workspace folder: the default SQLite file and the run folders live here
    store_url: str
    runs_dir: Path
    config_file: Path | None = None

    def run_dir(self, run_id: str) -> Path:
        return run_folder(self.runs_dir, run_id)


def run_folder(runs_dir: Path, run_id: str) -> Path:
    """The folder of one run. Run ids are checked so that no id can point outside `runs_dir`."""
    from runtui.ids import check_run_id

    return runs_dir / check_run_id(run_id)


def default_home() -> Path:
    env = os.environ.get("RUNTUI_HOME")
    return Path(env).expanduser() if env else Path.home() / CONFIG_DIR


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def find_config_file(start: Path | None = None) -> Path | None:
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        path = candidate / CONFIG_DIR / CONFIG_FILE
        if path.is_file():
            return path
    return None


def load_config_file(path: Path) -> WorkspaceConfig:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValidationError(f"cannot read workspace config {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise ValidationError(f"workspace config {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValidationError(f"workspace config {path} must hold a JSON object")
    unknown = set(data) - {"store_url", "runs_dir", "home"}
    if unknown:
        raise ValidationError(f"workspace config {path} has unknown keys: {', '.join(sorted(unknown))}")
    home = path.parent
    if "home" in data:
        home = (path.parent / str(data["home"])).expanduser()
    runs_dir = (home / str(data["runs_dir"])).expanduser() if "runs_dir" in data else home / "runs"
    store_url = str(data.get("store_url") or sqlite_url(home / DB_FILE))
    return WorkspaceConfig(home=home, store_url=store_url, runs_dir=runs_dir, config_file=path)


def resolve(
    path: str | os.PathLike[str] | None = None, store_url: str | None = None, *, discover: bool = True
) -> WorkspaceConfig:
    """The workspace for an explicit folder, or by discovery (see the module docstring)."""
    env_url = os.environ.get("RUNTUI_STORE_URL") or None
    if path is not None:
        home = Path(path).expanduser()
        cfg_file = home / CONFIG_FILE
        if cfg_file.is_file():
            cfg = load_config_file(cfg_file)
            return WorkspaceConfig(cfg.home, store_url or cfg.store_url, cfg.runs_dir, cfg_file)
        url = store_url or env_url or sqlite_url(home / DB_FILE)
        return WorkspaceConfig(home=home, store_url=url, runs_dir=home / "runs")
    if os.environ.get("RUNTUI_HOME") is None and discover:
        found = find_config_file()
        if found is not None:
            cfg = load_config_file(found)
            return WorkspaceConfig(cfg.home, store_url or env_url or cfg.store_url, cfg.runs_dir, found)
    home = default_home()
    url = store_url or env_url or sqlite_url(home / DB_FILE)
    return WorkspaceConfig(home=home, store_url=url, runs_dir=home / "runs")
