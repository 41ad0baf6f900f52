"""runtui: a local-first tracker and live terminal monitor for machine-learning training runs.

`import runtui` is cheap: the SDK classes load on first attribute access (PEP 562), and the store
(SQLAlchemy) only when a workspace first touches it. Textual, Rich and watchfiles are never imported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runtui._version import __version__
from runtui.status import RunStatus

VERSION = __version__  # azureml.core.VERSION

if TYPE_CHECKING:
    from runtui.core.environment import Environment
    from runtui.core.experiment import Experiment
    from runtui.core.model import Model
    from runtui.core.run import Run
    from runtui.core.script_run_config import ScriptRunConfig
    from runtui.core.workspace import Workspace

__all__ = [
    "VERSION",
    "Environment",
    "Experiment",
    "Model",
    "Run",
    "RunStatus",
    "ScriptRunConfig",
    "Workspace",
    "__version__",
]

_LAZY = {
    "Workspace": "runtui.core.workspace",
    "Experiment": "runtui.core.experiment",
    "Run": "runtui.core.run",
    "ScriptRunConfig": "runtui.core.script_run_config",
    "Model": "runtui.core.model",
    "Environment": "runtui.core.environment",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'runtui' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
