"""ScriptRunConfig: what to run for `Experiment.submit`, with Azure ML v1's signature. Validated when it is made,
so mistakes show early; the cloud-only parts are accepted with a one-line warning that they have no local meaning.
"""

from __future__ import annotations

import os
import shlex
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtui.core import values as _values
from runtui.errors import ValidationError

if TYPE_CHECKING:
    from runtui.core.experiment import Experiment
    from runtui.store.records import RunRecord

MAX_DURATION_SECONDS_DEFAULT = 2592000  # Azure's default: 30 days
# Set in a submitted script's environment by ScriptRunConfig(azureml_compat=True) / `runtui submit --azureml-compat`.
AZUREML_COMPAT_ENV = "RUNTUI_AZUREML_COMPAT"


class RuntuiCompatWarning(UserWarning):
    """An Azure ML setting that has no local meaning and is ignored."""


def _ignored(what: str, why: str) -> None:
    warnings.warn(f"runtui: {what} is ignored ({why})", RuntuiCompatWarning, stacklevel=3)


class RunConfiguration:
    """The parts of Azure's RunConfiguration that have a local meaning: script, arguments, command, target,
    environment (its environment_variables), environment_variables and max_run_duration_seconds."""

    def __init__(
        self,
        script: str | None = None,
        arguments: Sequence[Any] | None = None,
        framework: str | None = None,
        communicator: str | None = None,
        conda_dependencies: Any = None,
        _history_enabled: Any = None,
        _path: Any = None,
        _name: Any = None,
        command: Sequence[Any] | str | None = None,
    ) -> None:
        self.script = script
        self.arguments = list(arguments or [])
        self.command = command
        self.target = "local"
        self.environment: Any = None
        self.environment_variables: dict[str, str] = {}
        self.max_run_duration_seconds: int | None = None
        self.node_count = 1


def _is_local_target(target: Any) -> bool:
    return (
        target is None
        or (isinstance(target, str) and target.lower() in ("local", ""))
        or (getattr(target, "name", None) == "local")
    )


def _env_vars(obj: Any, where: str) -> dict[str, str]:
    """environment_variables of an Azure Environment / RunConfiguration (duck-typed: azureml need not exist)."""
    raw = getattr(obj, "environment_variables", None)
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ValidationError(f"{where}.environment_variables must be a dict, not {type(raw).__name__}")
    return {str(k): str(v) for k, v in raw.items()}


class ScriptRunConfig:
    """A script (or command) in a source folder, with its arguments: what `exp.submit()` runs.

    Azure's signature; runtui adds `environment_variables=` (merged over the environment's), `python=` (the
    interpreter, default this one) and `azureml_compat=` (the script may `import azureml.core` unchanged).
    """

    MAX_DURATION_SECONDS_DEFAULT = MAX_DURATION_SECONDS_DEFAULT

    def __init__(
        self,
        source_directory: str | os.PathLike[str] = ".",
        script: str | None = None,
        arguments: Sequence[Any] | None = None,
        run_config: Any = None,
        _telemetry_values: Any = None,
        compute_target: Any = None,
        environment: Any = None,
        distributed_job_config: Any = None,
        resume_from: Any = None,
        max_run_duration_seconds: int | float | None = MAX_DURATION_SECONDS_DEFAULT,
        command: Sequence[Any] | str | None = None,
        docker_runtime_config: Any = None,
        *,
        environment_variables: Mapping[str, str] | None = None,
        python: str | None = None,
        azureml_compat: bool = False,
    ) -> None:
        if not isinstance(source_directory, (str, os.PathLike)):
            raise ValidationError(
                f"ScriptRunConfig.source_directory must be a path, not {type(source_directory).__name__}"
            )
        self.source_directory = source_directory
        env: dict[str, str] = {}
        if run_config is not None:
            script = script or getattr(run_config, "script", None)
            arguments = arguments if arguments else getattr(run_config, "arguments", None)
            command = command or getattr(run_config, "command", None)
            if not _is_local_target(getattr(run_config, "target", None)):
                _ignored("run_config.target", "runs execute on this machine")
            env.update(_env_vars(run_config, "run_config"))
            environment = environment or getattr(run_config, "environment", None)
            duration = getattr(run_config, "max_run_duration_seconds", None)
            if duration is not None and max_run_duration_seconds == MAX_DURATION_SECONDS_DEFAULT:
                max_run_duration_seconds = duration
        self.run_config = run_config if run_config is not None else RunConfiguration()
        if not _is_local_target(compute_target):
            _ignored("compute_target", "runs execute on this machine")
        if environment is not None:
            vars_ = _env_vars(environment, "environment")
            env.update(vars_)
            _ignored(
                "environment (apart from its environment_variables)" if vars_ else "environment",
                "the script runs with this machine's Python packages",
            )
        if distributed_job_config is not None:
            _ignored("distributed_job_config", "one process runs the script; start workers from it yourself")
        if docker_runtime_config is not None:
            _ignored("docker_runtime_config", "scripts do not run in Docker")
        if resume_from is not None:
            _ignored("resume_from", "datastore paths have no local meaning")

        if script is not None and command:
            raise ValidationError("ScriptRunConfig: give script= (with arguments=) or command=, not both")
        if command is not None:
            if isinstance(command, str):
                command = shlex.split(command)
            if isinstance(command, (bytes, Mapping)) or not isinstance(command, Sequence) or not command:
                raise ValidationError("ScriptRunConfig.command must be a non-empty list (or a command line string)")
            self.command: list[str] | None = [_arg(c, "command", i) for i, c in enumerate(command)]
            if arguments:
                raise ValidationError("ScriptRunConfig: arguments= goes with script=; put them in command= instead")
        else:
            self.command = None
            if script is None:
                script = "train.py"  # runtui's default; Azure requires script= or command=
            if not isinstance(script, str) or not script:
                raise ValidationError("ScriptRunConfig.script must be a non-empty file name (e.g. 'train.py')")
        self.script = script
        if isinstance(arguments, (str, bytes)):
            raise ValidationError("ScriptRunConfig.arguments must be a list, not one string")
        if arguments is not None and not isinstance(arguments, Sequence):
            raise ValidationError(f"ScriptRunConfig.arguments must be a list, not {type(arguments).__name__}")
        # Azure passes every argument to the script as str(value): samples give numbers (['--reg', 0.01]).
        self.arguments: list[str] = [_arg(a, "arguments", i) for i, a in enumerate(arguments or [])]

        for k, v in dict(environment_variables or {}).items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise ValidationError(f"environment variable {k!r}: names and values must be strings")
            env[k] = v
        for k, v in env.items():
            if not k or "=" in k or "\0" in k or "\0" in v:
                raise ValidationError(f"invalid environment variable name or value: {k!r}")
        self.environment_variables = env
        self.environment = environment
        self.compute_target = compute_target if compute_target is not None else "local"
        self.distributed_job_config = distributed_job_config
        self.docker_runtime_config = docker_runtime_config
        self.resume_from = resume_from

        if max_run_duration_seconds is not None and (
            isinstance(max_run_duration_seconds, bool)
            or not isinstance(max_run_duration_seconds, (int, float))
            or not 0 < max_run_duration_seconds < float("inf")
        ):
            raise ValidationError(
                f"ScriptRunConfig.max_run_duration_seconds must be a positive number, not {max_run_duration_seconds!r}"
            )
        self.max_run_duration_seconds = max_run_duration_seconds
        if python is not None and (not isinstance(python, str) or not python):
            raise ValidationError(f"ScriptRunConfig.python must be an interpreter path or name, not {python!r}")
        self.python = python
        if not isinstance(azureml_compat, bool):
            raise ValidationError(f"ScriptRunConfig.azureml_compat must be True or False, not {azureml_compat!r}")
        self.azureml_compat = azureml_compat

    @property
    def source_path(self) -> Path:
        return Path(self.source_directory).expanduser().resolve()

    @property
    def target(self) -> str:
        return "local"

    def __repr__(self) -> str:
        what = f"command={self.command!r}" if self.command else f"script={self.script!r}, arguments={self.arguments!r}"
        return f"ScriptRunConfig(source_directory={str(self.source_directory)!r}, {what})"


def _arg(value: Any, what: str, i: int) -> str:
    if isinstance(value, str):
        return value
    if (
        value is None
        or isinstance(value, (bytes, Mapping))
        or (not isinstance(value, (int, float)) and not hasattr(value, "item") and not hasattr(value, "__fspath__"))
    ):
        # Azure's DataReference/Dataset inputs and other objects have no string form a script could use.
        raise ValidationError(
            f"ScriptRunConfig.{what}[{i}] is a {type(value).__name__} ({value!r:.60}); give strings or numbers"
        )
    if hasattr(value, "__fspath__"):
        return os.fspath(value)
    return str(value.item() if hasattr(value, "item") else value)


_SUBMIT_KEYWORDS = ("display_name", "grace_period", "sample_interval", "log_store_max_bytes")


def submit_config(
    experiment: Experiment,
    config: Any,
    *,
    tags: Mapping[str, Any] | None = None,
    parent_id: str | None = None,
    **kwargs: Any,
) -> RunRecord:
    """Submit `config` in `experiment` (optionally as a child of `parent_id`): exp.submit and run.submit_child."""
    from runtui.execution.launch import submit_run
    from runtui.ids import check_display_name

    if isinstance(config, RunConfiguration):  # Azure accepts a RunConfiguration whose script is set
        config = ScriptRunConfig(".", run_config=config)
    if not isinstance(config, ScriptRunConfig):
        raise ValidationError(f"submit() takes a ScriptRunConfig, not {type(config).__name__}")
    unknown = set(kwargs) - set(_SUBMIT_KEYWORDS)
    if unknown:
        raise ValidationError(
            f"submit() got unknown keyword(s) {', '.join(sorted(unknown))}; accepted: {', '.join(_SUBMIT_KEYWORDS)}"
        )
    env = dict(config.environment_variables)
    # The shim turned on in this process (runtui.compat.enable_azureml_imports()) carries over to the scripts it
    # submits: a v1 notebook's `from azureml.core.run import Run` in train.py works as the notebook's own imports do.
    shim_on = any(type(f).__name__ == "AzureMLShimFinder" for f in sys.meta_path)
    if config.azureml_compat or shim_on:
        env.update(script_environment(env))
    duration = config.max_run_duration_seconds
    return submit_run(
        experiment.workspace.store,
        experiment.workspace.config,
        experiment=experiment.name,
        source_directory=config.source_path,
        script=config.script if config.command is None else None,
        command=config.command,
        arguments=list(config.arguments),
        environment_variables=env,
        python=config.python,
        tags=_values.normalize_tags(tags or {}),
        display_name=check_display_name(kwargs.get("display_name")),
        parent_id=parent_id,
        grace_period=kwargs.get("grace_period"),
        sample_interval=kwargs.get("sample_interval"),
        log_store_max_bytes=kwargs.get("log_store_max_bytes"),
        max_run_duration_seconds=None if duration == MAX_DURATION_SECONDS_DEFAULT else duration,
    )


def script_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment additions that turn runtui's `azureml` import shim on in a submitted script's interpreter
    before the script runs: runtui/_azureml_bootstrap (a `sitecustomize` that calls
    runtui.compat.enable_azureml_imports(), then any other sitecustomize) first on PYTHONPATH."""
    bootstrap = str(Path(__file__).resolve().parents[1] / "_azureml_bootstrap")
    current = (env or {}).get("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    parts = [p for p in current.split(os.pathsep) if p and p != bootstrap]
    return {"PYTHONPATH": os.pathsep.join([bootstrap, *parts]), AZUREML_COMPAT_ENV: "1"}
