"""The SDK: Workspace, Experiment, Run, ScriptRunConfig, Model (Azure ML SDK v1's run management, locally).

The classes load on first attribute access (PEP 562), so importing one core module (e.g. `runtui.core.values`)
does not import the others: the package itself adds no import edges between its modules.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runtui.core.experiment import Experiment
    from runtui.core.model import Model
    from runtui.core.run import Run
    from runtui.core.script_run_config import ScriptRunConfig
    from runtui.core.workspace import Workspace

__all__ = ["Experiment", "Model", "Run", "ScriptRunConfig", "Workspace"]

_LAZY = {
    "Workspace": "runtui.core.workspace",
    "Experiment": "runtui.core.experiment",
    "Run": "runtui.core.run",
    "ScriptRunConfig": "runtui.core.script_run_config",
    "Model": "runtui.core.model",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'runtui.core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
