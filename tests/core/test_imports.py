"""The core package has no import circle: module-level imports between core modules only point at values.py and
the leaves; the classes that need each other import inside the function that constructs the other."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "runtui" / "core"


def _module_level_core_imports(path: Path) -> set[str]:
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:  # module level only; `if TYPE_CHECKING:` blocks hold annotations, not imports at run time
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("runtui.core"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names if node.module == "runtui.core")
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("runtui.core"))
    return {m.removeprefix("runtui.core.") for m in found if m != "runtui.core"}


# Module-level edges beyond values.py, each one way only: context.py's SubmittedRun subclasses Run.
ALLOWED_EDGES = {"values", "script_run_config"}
SUBCLASS_EDGES = {("context", "run")}


def test_core_modules_import_only_values_at_module_level() -> None:
    graph = {path.stem: _module_level_core_imports(path) for path in sorted(CORE.glob("*.py"))}
    assert graph["values"] == set(), graph["values"]  # the bottom of the core package
    for module, imports in graph.items():
        extra = {t for t in imports - ALLOWED_EDGES if (module, t) not in SUBCLASS_EDGES}
        assert not extra, (module, extra)
    # and no circle through the allowed edges: a subclass edge is never answered by one back
    for module, target in SUBCLASS_EDGES:
        assert module not in graph[target], f"{target} imports {module} at module level: a circle"
