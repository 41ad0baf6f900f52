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
    assert not loaded & {"textual", "rich", "watchfiles", "sqlalchemy", "sqlmodel", "psutil"}


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
    "runtui.pg_settings",
    "runtui.formatting",
    "runtui.progress",
}
ALLOWED: dict[str, set[str]] = {
    "models": set(),  # schema v2's SQLModel tables (runtui/models.py): below the store
    "store": {"models"},
    "watch": {"store", "models"},
    "execution": {"store", "watch", "models"},
    "core": {"store", "execution", "models"},
    "cli": {"core", "store", "execution", "watch", "tui", "demo", "models", "integrations"},
    "tui": {"core", "store", "watch", "execution", "models"},
    "demo": {"core", "integrations"},
    "integrations": {"core", "store", "models"},  # framework integrations and importers sit on the SDK and the store
}


# Top-level modules that are neither a leaf nor a layer, and what they may import.
ENTRY_POINTS: dict[str, set[str]] = {
    "runtui": {"core", "store"},  # __init__: the SDK's public names (imported lazily)
    "runtui.__main__": {"cli"},
    # the opt-in `azureml.core` shim sits on the SDK; its startup hook (a submitted script's sitecustomize) on it
    "runtui.compat": {"core"},
    "runtui._azureml_bootstrap": set(),
    "runtui._azureml_bootstrap.sitecustomize": {"compat"},
}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) < 2 or module in LEAVES:
        return None
    return parts[1]


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    name = _module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    return _imports_from(path.read_text(encoding="utf-8"), package)


def _imports_from(source: str, package: list[str]) -> set[str]:
    """Every runtui module `source` imports: `import runtui.x`, `from runtui.x import y`, `from runtui import x`
    (x may be a module: counted as runtui.x) and relative imports, resolved against `package`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                if _is_module(f"{module}.{alias.name}"):
                    found.add(f"{module}.{alias.name}")  # `from runtui import store` imports runtui.store
                elif module == "runtui":
                    found.add("runtui.core")  # `from runtui import Run`: the public SDK, which lives in core
                else:
                    found.add(module)
    # A bare `import runtui` loads only leaves (its __init__ is lazy): not a layer import.
    return {m for m in found if m.startswith("runtui.")}


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _check(name: str, imports: set[str]) -> list[str]:
    """What is wrong with module `name` importing `imports` (empty: nothing)."""
    if name in LEAVES:
        # A leaf imports only other leaves: everything else may import it.
        return [f"{name} (a leaf) imports {t}" for t in imports if t not in LEAVES]
    if name in ENTRY_POINTS:
        allowed = ENTRY_POINTS[name]
        return [f"{name} imports {t}" for t in imports if t not in LEAVES and _layer(t) not in allowed | {None}]
    own = _layer(name)
    if own not in ALLOWED:
        return [f"{name} is in no layer: add it to LEAVES, ALLOWED or ENTRY_POINTS"]
    problems = []
    for target in imports:
        layer = _layer(target)
        if layer is None or layer == own:
            continue
        if layer not in ALLOWED[own]:
            problems.append(f"{name} (layer {own}) imports {target} (layer {layer})")
    return problems


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_layers_only_import_downwards(path: Path) -> None:
    """Every module is checked: leaves (which may import only leaves), entry points and layers."""
    problems = _check(_module_name(path), _imports(path))
    assert not problems, "; ".join(problems)


def test_the_checker_sees_every_form_of_import() -> None:
    """The forms that slipped through before: `from runtui import store`, a relative import, a leaf module."""
    source = "from runtui import store\nfrom .. import tui\nimport runtui.demo.workload\nfrom runtui import Run\n"
    found = _imports_from(source, ["runtui", "execution"])
    assert found == {"runtui.store", "runtui.tui", "runtui.demo.workload", "runtui.core"}
    assert _check("runtui.execution.fake", {"runtui.tui"}) == [
        "runtui.execution.fake (layer execution) imports runtui.tui (layer tui)"
    ]
    assert _check("runtui.status", {"runtui.store"}) == ["runtui.status (a leaf) imports runtui.store"]
    assert _check("runtui.nowhere", set()) != []


def test_store_layer_imports_no_other_runtui_layer() -> None:
    for path in (PACKAGE / "store").rglob("*.py"):
        for target in _imports(path):
            ok = target in LEAVES or target.startswith(("runtui.store", "runtui.models"))
            assert ok, f"{path.name} imports {target}"
