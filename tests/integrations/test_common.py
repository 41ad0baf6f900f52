"""What every integration promises: no framework is imported before it is used, and a missing one is one clear
error naming the extra to install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runtui.integrations._common import flatten, property_value

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORKS = {"torch", "lightning", "pytorch_lightning", "transformers", "keras", "mlflow", "tensorflow", "jax", "yaml"}


def _python(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KERAS_BACKEND": "torch"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


def test_importing_runtui_and_the_cli_loads_no_framework() -> None:
    code = (
        "import sys, runtui, runtui.integrations, runtui.progress\n"
        "from runtui.cli.parsing import build_parser; build_parser()\n"
        "print('\\n'.join(sys.modules))"
    )
    proc = _python(code)
    assert proc.returncode == 0, proc.stderr
    loaded = {line.split(".")[0] for line in proc.stdout.splitlines()}
    assert not loaded & FRAMEWORKS
    assert not loaded & {"textual", "rich"}  # the progress bar is UI-free


@pytest.mark.parametrize(
    ("module", "blocked", "extra"),
    [
        ("lightning", ["lightning", "pytorch_lightning"], "lightning"),
        ("transformers", ["transformers"], "transformers"),
        ("keras", ["keras"], "keras"),
    ],
)
def test_a_missing_framework_is_one_clear_error(module: str, blocked: list[str], extra: str) -> None:
    block = "".join(f"sys.modules[{name!r}] = None\n" for name in blocked)  # what `import` sees when it is missing
    proc = _python(f"import sys\n{block}import runtui.integrations.{module}\n")
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.endswith(f"which is not installed: pip install 'runtui[{extra}]'"), last
    assert "MissingFrameworkError" in last


def test_hyperparameters_become_property_text() -> None:
    params = {"lr": 0.1, "opt": {"name": "adam", "betas": [0.9, 0.99]}, "none": None, "empty": {}, "long": "x" * 5000}
    flat = dict(flatten(params))
    assert set(flat) == {"lr", "opt/name", "opt/betas", "none", "empty", "long"}
    assert property_value(flat["opt/betas"]) == "[0.9, 0.99]"
    assert property_value(flat["none"]) == "None" and property_value(flat["empty"]) == "{}"
    text = property_value(flat["long"])
    assert len(text) == 4096 and text.endswith("…")
    assert property_value(object()).startswith('"<object object')
