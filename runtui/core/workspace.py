"""Workspace: where runs are kept (a folder with the default SQLite store and the run folders) and its store."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from runtui import config as _config

if TYPE_CHECKING:
    from runtui.core.experiment import Experiment
    from runtui.core.run import Run
    from runtui.store.store import Store


class Workspace:
    """A runtui workspace.

    `Workspace()` finds the workspace by discovery (see `runtui.config`); `Workspace(path=...)` uses that
    folder; `store_url` points at another store (e.g. a shared PostgreSQL database).
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, store_url: str | None = None) -> None:
        self.config = _config.resolve(path, store_url)
        self._store: Store | None = None

    @classmethod
    def from_config(cls, path: str | os.PathLike[str] | None = None) -> Workspace:
        """Find `.runtui/config.json` in `path` (a folder or the file itself), the current folder or a parent;
        otherwise the default workspace (`$RUNTUI_HOME` or `~/.runtui`)."""
        if path is not None:
            p = Path(path).expanduser()
            if p.is_file():
                cfg = _config.load_config_file(p)
            else:
                found = _config.find_config_file(p)
                if found is None:
                    from runtui.errors import NotFoundError

                    raise NotFoundError(f"no {_config.CONFIG_DIR}/{_config.CONFIG_FILE} in {p} or its parents")
                cfg = _config.load_config_file(found)
            ws = cls.__new__(cls)
            ws.config = cfg
            ws._store = None
            return ws
        return cls()

    @classmethod
    def _from(cls, cfg: _config.WorkspaceConfig) -> Workspace:
        ws = cls.__new__(cls)
        ws.config = cfg
        ws._store = None
        return ws

    @property
    def store(self) -> Store:
        """The store, opened on first use (this is when SQLAlchemy is imported)."""
        if self._store is None:
            from runtui.store.store import open_store

            self._store = open_store(self.config.store_url)
        return self._store

    @property
    def path(self) -> Path:
        return self.config.home

    @property
    def runs_dir(self) -> Path:
        return self.config.runs_dir

    @property
    def experiments(self) -> dict[str, Experiment]:
        from runtui.core.experiment import Experiment

        return {e.name: Experiment(self, e.name) for e in self.store.list_experiments()}

    def get_run(self, run_id: str) -> Run:
        """A run by id or unambiguous id prefix."""
        from runtui.core.run import Run

        return Run.get(self, run_id)

    def __repr__(self) -> str:
        from runtui.store.engine import redact

        return f"Workspace(path={str(self.config.home)!r}, store={redact(self.config.store_url)!r})"
