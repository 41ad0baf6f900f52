"""Runs at interpreter start in a script submitted with azureml_compat=True (`runtui submit --azureml-compat`):
turns on runtui's `azureml` import shim, then runs any other sitecustomize this one hides on sys.path."""

from __future__ import annotations

import os
import sys


def _chain() -> None:
    import importlib.machinery
    import importlib.util

    here = os.path.dirname(os.path.abspath(__file__))
    path = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
    if spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


if os.environ.get("RUNTUI_AZUREML_COMPAT") == "1":
    try:
        from runtui.compat import enable_azureml_imports

        enable_azureml_imports()
    except Exception as exc:  # the script still runs; its azureml imports will say what is missing
        print(f"runtui: the azureml import shim could not be enabled: {exc}", file=sys.stderr)
_chain()
