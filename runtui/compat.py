"""Unchanged Azure ML v1 imports, opt-in: `enable_azureml_imports()` makes `import azureml.core` (and
`azureml.core.run`, `azureml.core.model`, `azureml.exceptions`, ...) resolve to runtui.

Never shadows a real azureml: if the `azureml-core` distribution is installed, nothing is done; and the finder
is appended at the END of `sys.meta_path`, so an importable real `azureml.core` always wins even without
distribution metadata. Light: nothing is imported from runtui's SDK until a shim module is imported.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Sequence
from typing import Any

from runtui.core.script_run_config import AZUREML_COMPAT_ENV, script_environment

__all__ = [
    "AZUREML_COMPAT_ENV",
    "AzureMLShimFinder",
    "disable_azureml_imports",
    "enable_azureml_imports",
    "real_azureml_installed",
    "script_environment",
]

# alias module -> [(runtui module, [names] or None for its public names)]. Packages get an empty __path__.
_SHIMS: dict[str, list[tuple[str, Sequence[str] | None]]] = {
    "azureml": [],
    "azureml.core": [
        ("runtui.core.workspace", ["Workspace"]),
        ("runtui.core.experiment", ["Experiment"]),
        ("runtui.core.run", ["Run"]),
        ("runtui.core.script_run_config", ["ScriptRunConfig", "RunConfiguration"]),
        ("runtui.core.model", ["Model"]),
        ("runtui.core.environment", ["Environment", "ComputeTarget", "Datastore", "Dataset"]),
        ("runtui._version", ["__version__"]),
    ],
    "azureml.core.workspace": [("runtui.core.workspace", ["Workspace"])],
    "azureml.core.experiment": [("runtui.core.experiment", ["Experiment", "ViewType"])],
    "azureml.core.run": [("runtui.core.run", ["Run"])],
    "azureml.core.script_run": [("runtui.core.run", ["Run"])],
    "azureml.core.script_run_config": [("runtui.core.script_run_config", ["ScriptRunConfig"])],
    "azureml.core.runconfig": [
        ("runtui.core.script_run_config", ["RunConfiguration"]),
        (
            "runtui.core.environment",
            ["DockerConfiguration", "MpiConfiguration", "PyTorchConfiguration", "TensorflowConfiguration"],
        ),
    ],
    "azureml.core.model": [("runtui.core.model", ["Model"])],
    "azureml.core.environment": [("runtui.core.environment", ["Environment", "CondaDependencies"])],
    "azureml.core.conda_dependencies": [("runtui.core.environment", ["CondaDependencies"])],
    "azureml.core.compute": [("runtui.core.environment", ["ComputeTarget", "AmlCompute", "ComputeInstance"])],
    "azureml.core.compute_target": [("runtui.core.environment", ["ComputeTarget"])],
    "azureml.core.authentication": [
        (
            "runtui.core.environment",
            [
                "InteractiveLoginAuthentication",
                "ServicePrincipalAuthentication",
                "AzureCliAuthentication",
                "MsiAuthentication",
            ],
        )
    ],
    "azureml.exceptions": [],  # filled by _exceptions()
}
_PACKAGES = {"azureml", "azureml.core", "azureml.core.compute"}
# The marker on every module the shim made, so tests and users can tell the shim from the real SDK.
SHIM_MARKER = "__runtui_shim__"


def _exceptions() -> dict[str, Any]:
    """azureml.exceptions names mapped onto runtui's errors (so `except UserErrorException` catches runtui's
    ValidationError, `except ActivityFailedException` what wait_for_completion raises on a Failed run)."""
    from runtui import errors

    activity_failed = getattr(errors, "ActivityFailedException", errors.RunFailedError)
    return {
        "AzureMLException": errors.RuntuiError,
        "UserErrorException": errors.ValidationError,
        "ActivityFailedException": activity_failed,
        "ActivityCanceledException": getattr(errors, "ActivityCanceledException", errors.RunFailedError),
        "ExperimentExecutionException": errors.SubmitError,
        "RunConfigurationException": errors.ValidationError,
        "ModelNotFoundException": errors.NotFoundError,
        "ModelPathNotFoundException": errors.NotFoundError,
        "ProjectSystemException": errors.NotFoundError,
        "WorkspaceException": errors.NotFoundError,
        "SnapshotException": errors.SubmitError,
        "TrainingException": errors.RuntuiError,
        "WebserviceException": errors.RuntuiError,
        "ComputeTargetException": errors.NotSupportedLocallyError,
        "AuthenticationException": errors.NotSupportedLocallyError,
        "DiscoveryUrlNotFoundException": errors.NotSupportedLocallyError,
    }


def _build(fullname: str) -> types.ModuleType:
    module = types.ModuleType(fullname, f"runtui's stand-in for {fullname} (runtui.compat)")
    setattr(module, SHIM_MARKER, True)
    if fullname in _PACKAGES:
        module.__path__ = []
    for source, names in _SHIMS[fullname]:
        src = importlib.import_module(source)
        for name in names or [n for n in dir(src) if not n.startswith("_")]:
            setattr(module, name, getattr(src, name))
    if fullname == "azureml.core":
        module.__dict__["VERSION"] = module.__dict__["__version__"]
    if fullname == "azureml.exceptions":
        module.__dict__.update(_exceptions())
    return module


class _ShimLoader(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return _build(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        return None


class AzureMLShimFinder(importlib.abc.MetaPathFinder):
    """Finds the shim modules, only after every other finder found nothing (it sits last in sys.meta_path)."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _SHIMS:
            return None
        return importlib.machinery.ModuleSpec(fullname, _ShimLoader(), is_package=fullname in _PACKAGES)


def real_azureml_installed() -> bool:
    """True when the real azureml-core distribution is installed (then the shim stays off)."""
    from importlib import metadata

    try:
        metadata.distribution("azureml-core")
    except metadata.PackageNotFoundError:
        return False
    return True


def enable_azureml_imports() -> bool:
    """Let `import azureml.core` (and the other v1 modules above) resolve to runtui. Returns True when the shim is
    active, False when a real azureml-core is installed (it is left alone). Calling it again changes nothing."""
    if any(isinstance(f, AzureMLShimFinder) for f in sys.meta_path):
        return True
    if real_azureml_installed():
        return False
    sys.meta_path.append(AzureMLShimFinder())
    return True


def disable_azureml_imports() -> None:
    """Remove the finder and forget every shim module imported so far."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, AzureMLShimFinder)]
    for name in list(sys.modules):
        if name in _SHIMS and getattr(sys.modules[name], SHIM_MARKER, False):
            del sys.modules[name]
