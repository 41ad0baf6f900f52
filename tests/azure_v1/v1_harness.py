"""Shared by the scenario and sample tests: run a notebook with nbrun.py in a copy of its folder, against a fresh
workspace, leaving no process behind."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from process_cleanup import kill_leftover_processes

HERE = Path(__file__).parent
RUNNER = HERE / "nbrun.py"


def digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def run_notebook(source: Path, notebook: str, tmp_path: Path, *, azureml: bool = False) -> tuple[Path, str, int]:
    """Copy `source` (a folder) under tmp_path, run `notebook` in it; returns (the copy, stdout+stderr, exit)."""
    folder = tmp_path / source.name
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    home = tmp_path / "ws"
    env = dict(os.environ, RUNTUI_HOME=str(home), MPLBACKEND="Agg", PYTHONUNBUFFERED="1")
    env.pop("RUNTUI_RUN_ID", None)
    root = str(HERE.parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    command = [sys.executable, str(RUNNER), *(["--azureml"] if azureml else []), notebook]
    try:
        proc = subprocess.run(
            command, cwd=folder, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=360
        )
    finally:
        from runtui import config
        from runtui.store import open_store

        db = home / config.DB_FILE
        if db.exists():
            kill_leftover_processes(open_store(config.sqlite_url(db)))
    return folder, proc.stdout + proc.stderr, proc.returncode


def failed_cells(out: str) -> dict[int, str]:
    return {int(line.split()[1]): line for line in out.splitlines() if line.startswith("CELL ")}
