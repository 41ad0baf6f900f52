"""`import runtui` stays light inside training scripts, and imports only point down the layers."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "runtui"


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return {line.split(".")[0] for line in out.splitlines()}


def test_import_runtui_loads_no_ui_and_no_database() -> None:
    loaded = _loaded_after("import runtui; runtui.__version__")
    assert not loaded & {"textual", "rich", "watchfiles", "sqlalchemy", "sqlmodel", "pydantic", "psutil"}


def test_logging_a_run_loads_no_ui(tmp_path: Path) -> None:
    code = (
        "import os, runtui\n"
        f"ws = runtui.Workspace(path={str(tmp_path)!r})\n"
        "run = runtui.Experiment(ws, 'light').start_logging()\n"
        "run.log('x', 1.0)\nrun.complete()\n"
    )
    loaded = _loaded_after(code)
    assert "sqlalchemy" in loaded  # it did touch the store
    assert not loaded & {"textual", "rich", "watchfiles"}


# Which top-level parts of runtui each layer may import (besides itself and the leaf modules).
LEAVES = {
    "runtui._version",
    "runtui.errors",
    "runtui.status",
    "runtui.ids",
    "runtui.identity",
    "runtui.config",
    "runtui.terminal_text",
    "runtui.progress",
}
ALLOWED: dict[str, set[str]] = {
    "models": set(),  # runtui/models.py: the SQLModel tables (sqlmodel only)
    "store": {"models"},
    "watch": {"store"},
    "execution": {"store", "watch"},
    "core": {"store", "execution"},
    "cli": {"core", "store", "execution", "watch", "tui", "demo", "integrations"},
    "tui": {"core", "store", "watch", "execution"},
    "demo": {"core", "integrations"},
    "integrations": {"core", "store"},  # framework integrations and importers sit on the SDK and the store
}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) < 2 or module in LEAVES:
        return None
    return parts[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {m for m in found if m.startswith("runtui.")}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_layers_only_import_downwards(path: Path) -> None:
    rel = path.relative_to(ROOT).with_suffix("")
    own = _layer(".".join(rel.parts))
    if own is None or own not in ALLOWED:
        return
    for target in _imports(path):
        layer = _layer(target)
        if layer is None or layer == own:
            continue
        assert layer in ALLOWED[own], f"{rel} (layer {own}) imports {target} (layer {layer})"


def test_store_layer_imports_no_other_runtui_layer() -> None:
    for path in (PACKAGE / "store").rglob("*.py"):
        for target in _imports(path):
            assert target in LEAVES or target.startswith(("runtui.store", "runtui.models")), (
                f"{path.name} imports {target}"
            )
