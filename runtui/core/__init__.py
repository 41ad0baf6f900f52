"""The SDK: Workspace, Experiment, Run, ScriptRunConfig (Azure ML SDK v1's run management, locally)."""

from runtui.core.experiment import Experiment
from runtui.core.run import Run
from runtui.core.script_run_config import ScriptRunConfig
from runtui.core.workspace import Workspace

__all__ = ["Experiment", "Run", "ScriptRunConfig", "Workspace"]
