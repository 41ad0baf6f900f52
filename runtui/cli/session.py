"""The workspace a command works on (from --home / --store / discovery) and how RUN arguments are resolved."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runtui.config import WorkspaceConfig
    from runtui.core.run import Run
    from runtui.core.workspace import Workspace
    from runtui.store.store import Store


def workspace_config(args: argparse.Namespace) -> WorkspaceConfig:
    """Where the workspace named by the global options is, without importing the SDK (for fast read paths);
    refused like `workspace()` when it should exist and does not."""
    from runtui import config

    check_workspace(args, getattr(args, "command", None) or "ui")
    return config.resolve(getattr(args, "home", None), getattr(args, "store", None))


def workspace(args: argparse.Namespace) -> Workspace:
    """The workspace named by the global options (refused if it should exist and does not: see
    `check_workspace`). The store is not opened until first used."""
    from runtui.core.workspace import Workspace

    check_workspace(args, getattr(args, "command", None) or "ui")

    return Workspace(path=getattr(args, "home", None), store_url=getattr(args, "store", None))


# Commands that may create the workspace they are pointed at (creating one is explicit: these, or the SDK's
# first start_logging/submit); the others need one that exists, except in the default ~/.runtui.
CREATES = frozenset({"init", "submit", "demo"})
NEEDS_NO_WORKSPACE = frozenset({"version"})


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (`sqlite:///path`), None for other stores and in-memory SQLite."""
    if not url.startswith("sqlite:///"):
        return None
    path = url.removeprefix("sqlite:///").split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def _check_folder_option(value: str, name: str) -> None:
    from runtui.errors import ValidationError

    if not value.strip():
        raise ValidationError(f"{name} is empty: give the workspace folder (or leave it out for the default)")
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise ValidationError(f"{name} {value}: that is a file, not a workspace folder")


def check_options(args: argparse.Namespace) -> None:
    """Usage errors in --home/--store (or $RUNTUI_HOME), for every command, before anything else: an empty
    value, a file where the workspace folder should be."""
    from runtui.errors import ValidationError

    home: str | None = getattr(args, "home", None)
    store: str | None = getattr(args, "store", None)
    env_home = os.environ.get("RUNTUI_HOME")
    if home is not None:
        _check_folder_option(home, "--home")
    elif env_home:
        _check_folder_option(env_home, "$RUNTUI_HOME")
    if store is not None and not store.strip():
        raise ValidationError("--store is empty: give a store URL (e.g. postgresql+psycopg://user@host/db)")


def check_workspace(args: argparse.Namespace, command: str) -> None:
    """Refuse, with one line and before anything is opened (opening a SQLite store creates it), a --home/--store
    (or $RUNTUI_HOME/$RUNTUI_STORE_URL, or a config file) naming a workspace or store that does not exist, for
    the commands that only read or change existing runs. The default ~/.runtui is created when first used."""
    from runtui import config
    from runtui.errors import NotFoundError

    if command in CREATES or command in NEEDS_NO_WORKSPACE:
        return
    home: str | None = getattr(args, "home", None)
    store: str | None = getattr(args, "store", None)
    env_home = os.environ.get("RUNTUI_HOME")
    cfg = config.resolve(home, store)
    named = "--home" if home is not None else "$RUNTUI_HOME" if env_home else None
    if named is None and cfg.config_file is not None:
        named = str(cfg.config_file)
    other_store = store is not None or bool(os.environ.get("RUNTUI_STORE_URL")) or cfg.config_file is not None
    hint = " ".join(
        ["runtui", *(["--home", str(cfg.home)] if named else []), *(["--store", store] if store else []), "init"]
    )
    if named is not None and not other_store and not cfg.home.is_dir():
        raise NotFoundError(f"no runtui workspace at {cfg.home} (from {named}); create one with '{hint}'")
    db = _sqlite_file(cfg.store_url)
    if db is not None and not db.is_file() and (named is not None or other_store):
        where = "--store" if store is not None else named or "$RUNTUI_STORE_URL"
        blocker = next((p for p in db.parents if p.exists()), None)
        if blocker is not None and not blocker.is_dir():
            raise NotFoundError(f"no runtui store at {db} (from {where}): {blocker} is a file, not a folder")
        raise NotFoundError(f"no runtui store at {db} (from {where}); create it with '{hint}'")


def resolve_runs(store: Store, refs: Sequence[str]) -> list[str]:
    """Full run ids for ids or unambiguous prefixes, all resolved before anything is changed.

    Raises NotFoundError / AmbiguousRunIdError (which names the candidates) for the first bad one.
    """
    from runtui.errors import ValidationError

    out: list[str] = []
    for ref in refs:
        if not ref.strip():
            raise ValidationError("a run id cannot be empty")
        full = store.resolve_run_id(ref)
        if full not in out:
            out.append(full)
    return out


def get_run(ws: Workspace, ref: str) -> Run:
    from runtui.core.run import Run

    [run_id] = resolve_runs(ws.store, [ref])
    return Run.get(ws, run_id)
