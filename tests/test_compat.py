"""runtui.compat: `import azureml.core` resolves to runtui, and never shadows a real azureml (fresh interpreters)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str, *extra_path: Path) -> subprocess.CompletedProcess[str]:
    path = ":".join([*(str(p) for p in extra_path), str(ROOT)])
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": path, "PATH": "/usr/bin:/bin", "RUNTUI_HOME": str(ROOT / ".no-such-home")},
    )


SHIM_CODE = """
import sys
import runtui.compat as c
assert c.enable_azureml_imports() is True
assert c.enable_azureml_imports() is True  # twice: one finder
assert sum(type(f).__name__ == "AzureMLShimFinder" for f in sys.meta_path) == 1
import azureml.core
from azureml.core import Workspace, Experiment, Run, ScriptRunConfig, Model, Environment, VERSION
from azureml.core.run import Run as Run2
from azureml.core.model import Model as Model2
from azureml.core.experiment import ViewType
from azureml.core.runconfig import RunConfiguration, DockerConfiguration
from azureml.core.compute import ComputeTarget, AmlCompute
from azureml.core.authentication import InteractiveLoginAuthentication
from azureml.exceptions import ActivityFailedException, UserErrorException
import runtui
from runtui.errors import ValidationError
assert Run is Run2 is runtui.Run and Model is Model2 is runtui.Model
assert VERSION == runtui.__version__
assert issubclass(ValidationError, UserErrorException)
assert azureml.core.__runtui_shim__
print("sqlalchemy" in sys.modules, "textual" in sys.modules)
c.disable_azureml_imports()
try:
    import azureml.core.run
except ImportError:
    print("gone")
"""


def test_shim_resolves_v1_imports_to_runtui() -> None:
    out = _python(SHIM_CODE)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False", "gone"]  # still light; removable


def test_without_the_shim_azureml_is_not_importable() -> None:
    out = _python("import azureml.core")
    assert out.returncode != 0 and "No module named 'azureml'" in out.stderr


def _fake_azureml(root: Path, with_metadata: bool) -> Path:
    pkg = root / "azureml" / "core"
    pkg.mkdir(parents=True)
    (root / "azureml" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("REAL = True\nVERSION = '1.61.0'\n")
    if with_metadata:
        meta = root / "azureml_core-1.61.0.dist-info"
        meta.mkdir()
        (meta / "METADATA").write_text("Metadata-Version: 2.1\nName: azureml-core\nVersion: 1.61.0\n")
    return root


def test_a_real_installed_azureml_core_is_never_shadowed(tmp_path: Path) -> None:
    site = _fake_azureml(tmp_path / "site", with_metadata=True)
    code = (
        "import runtui.compat as c\nprint(c.real_azureml_installed(), c.enable_azureml_imports())\n"
        "import azureml.core\nprint(azureml.core.REAL)"
    )
    out = _python(code, site)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False", "True"]


def test_an_importable_azureml_without_metadata_still_wins(tmp_path: Path) -> None:
    site = _fake_azureml(tmp_path / "site", with_metadata=False)
    code = "import runtui.compat as c\nprint(c.enable_azureml_imports())\nimport azureml.core\nprint(azureml.core.REAL)"
    out = _python(code, site)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True"]  # the finder sits last: the real package is found first


def test_script_environment_puts_the_bootstrap_first(tmp_path: Path) -> None:
    from runtui.compat import AZUREML_COMPAT_ENV, script_environment

    env = script_environment({"PYTHONPATH": "/a:/b"})
    parts = env["PYTHONPATH"].split(":")
    assert parts[0].endswith("_azureml_bootstrap") and parts[1:] == ["/a", "/b"]
    assert (Path(parts[0]) / "sitecustomize.py").is_file()
    assert env[AZUREML_COMPAT_ENV] == "1"
    assert script_environment(env)["PYTHONPATH"] == env["PYTHONPATH"]  # not added twice
