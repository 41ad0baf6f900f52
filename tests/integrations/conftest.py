"""Framework tests run real frameworks on tiny models on the CPU, offline, each in a fresh workspace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Before any framework import: CPU only, no network, Keras on the torch backend, quiet progress bars.
os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


@pytest.fixture
def workspace(tmp_path: Path):  # type: ignore[no-untyped-def]
    import runtui

    return runtui.Workspace(path=tmp_path / "ws")
