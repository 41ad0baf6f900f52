"""The Keras 3 RuntuiCallback on a real `model.fit` (torch backend, CPU, synthetic data)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
import numpy as np  # noqa: E402

from runtui.integrations.keras import RuntuiCallback  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _model() -> Any:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse", metrics=["mae"])
    return model


def _data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.random.default_rng(seed).normal(size=(n, 3)).astype("float32")
    return x, x.sum(axis=1, keepdims=True)


def test_fit_logs_epoch_and_batch_metrics_and_params(workspace: Any) -> None:
    cb = RuntuiCallback(experiment_name="keras", workspace=workspace, batch_every=3, tags={"backend": "torch"})
    x, y = _data(32, 0)
    history = _model().fit(x, y, epochs=3, batch_size=8, validation_data=_data(16, 1), callbacks=[cb], verbose=0)
    cb.finish()

    run = workspace.get_run(cb.run.id)
    assert run.get_status() == "Completed" and run.get_tags()["backend"] == "torch"
    series = {s.name: s for s in workspace.store.get_series(run.id)}
    assert series["loss"].steps == [0, 1, 2]
    assert series["loss"].values == pytest.approx(history.history["loss"])
    assert series["val_mae"].values == pytest.approx(history.history["val_mae"])
    # 4 batches per epoch, 12 in all, every third one: global batch indexes 0, 3, 6, 9
    assert series["batch/loss"].steps == [0, 3, 6, 9]
    props = run.get_properties()
    assert props["epochs"] == "3" and props["steps"] == "4"
    assert float(props["optimizer/learning_rate"]) == pytest.approx(0.05, rel=1e-6) and props["optimizer/name"] == "sgd"
    assert props["trainable_params"] == str(3 * 4 + 4 + 4 + 1)


def test_batch_every_zero_logs_only_epochs(workspace: Any) -> None:
    cb = RuntuiCallback(experiment_name="keras", workspace=workspace, batch_every=0)
    _model().fit(*_data(16, 0), epochs=2, batch_size=8, callbacks=[cb], verbose=0)
    cb.finish("stopped by the test")
    rec = workspace.store.get_run(cb.run.id)
    assert rec.status.value == "Failed" and rec.error == "stopped by the test"
    assert {s.name for s in workspace.store.get_series(rec.id)} == {"loss", "mae"}


def test_failing_fit_ends_failed_with_the_error(tmp_path: Path) -> None:
    script = tmp_path / "fit.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys
            sys.path.insert(0, {str(Path(__file__).parent)!r})
            import keras, runtui
            from test_keras import _model
            from runtui.integrations.keras import RuntuiCallback

            class Broken(keras.utils.PyDataset):
                def __len__(self):
                    return 4
                def __getitem__(self, i):
                    if i == 2:
                        raise RuntimeError("unreadable shard 2")
                    import numpy as np
                    x = np.ones((8, 3), "float32")
                    return x, x.sum(axis=1, keepdims=True)

            cb = RuntuiCallback(experiment_name="keras", workspace=runtui.Workspace(path={str(tmp_path / "ws")!r}))
            print(cb.run.id, flush=True)
            _model().fit(Broken(), epochs=2, callbacks=[cb], verbose=0)
            """
        )
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KERAS_BACKEND": "torch", "CUDA_VISIBLE_DEVICES": ""}
    env.pop("RUNTUI_RUN_ID", None)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=240)
    assert proc.returncode != 0, proc.stderr[-2000:]
    import runtui

    rec = runtui.Workspace(path=tmp_path / "ws").store.get_run(proc.stdout.split()[0])
    assert rec.status.value == "Failed" and "unreadable shard 2" in (rec.error or "")


def test_a_missing_backend_is_one_clear_error(tmp_path: Path) -> None:
    """Keras installed but its backend (here TensorFlow, Keras' default) not: the error says what failed instead of
    "not installed"."""
    if importlib.util.find_spec("tensorflow") is not None:
        pytest.skip("TensorFlow is installed here")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KERAS_BACKEND": "tensorflow"}
    proc = subprocess.run(
        [sys.executable, "-c", "import runtui.integrations.keras"], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("runtui.integrations._common.MissingFrameworkError: runtui.integrations.keras: importing")
