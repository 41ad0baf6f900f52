"""Keras 3: `RuntuiCallback`, a Keras callback that records `model.fit` as a runtui run.

    from runtui.integrations.keras import RuntuiCallback
    model.fit(x, y, epochs=10, callbacks=[RuntuiCallback(experiment_name="mnist", batch_every=50)])

- epoch metrics (`loss`, `val_loss`, the compiled metrics) are logged with the epoch as their step;
- every `batch_every` training batches, the batch metrics are logged as `batch/<name>` with the global batch
  index as their step (0 or None: no batch metrics);
- at train begin the fit's params (epochs, steps), the optimizer's config (`optimizer/<key>`), the model's name and
  its parameter count become run properties.

Works with any Keras 3 backend (KERAS_BACKEND=torch, jax or tensorflow). The run this callback starts ends with
the process (Completed, or Failed with the traceback of an uncaught exception); `finish()` ends it earlier.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from runtui.integrations._common import add_properties, end_run, number, require, resolve_run

keras = require(
    "keras",
    "keras",
    "runtui.integrations.keras",
    hint=" (set KERAS_BACKEND to an installed backend: torch, jax, tensorflow)",
)

if TYPE_CHECKING:
    from runtui.core.run import Run


class RuntuiCallback(keras.callbacks.Callback):  # type: ignore[misc,name-defined,unused-ignore]
    """A Keras callback writing to a runtui run (see the module docstring)."""

    def __init__(
        self,
        experiment_name: str | None = None,
        *,
        run: Run | None = None,
        display_name: str | None = None,
        workspace: Any = None,
        batch_every: int | None = 10,
        tags: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if batch_every is not None and (not isinstance(batch_every, int) or batch_every < 0):
            raise ValueError(f"batch_every must be a non-negative int or None, not {batch_every!r}")
        self._experiment_name = experiment_name
        self._given_run = run
        self._display_name = display_name
        self._workspace = workspace
        self._batch_every = batch_every or 0
        self._tags = dict(tags or {})
        self._run: Any = None
        self._owned = False
        self._epoch = 0
        self._batches_seen = 0

    @property
    def run(self) -> Run:
        """The run (started on first use)."""
        if self._run is None:
            self._run, self._owned = resolve_run(
                self._given_run, self._experiment_name, self._display_name, self._workspace
            )
            if self._tags:
                self._run.set_tags(self._tags)
        return self._run  # type: ignore[no-any-return,unused-ignore]

    # ------------------------------------------------------------------ Keras events

    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        run = self.run
        props: dict[str, Any] = {k: v for k, v in (self.params or {}).items() if k != "verbose"}
        model = self.model
        if model is not None:
            props["model_name"] = model.name
            with contextlib.suppress(Exception):  # a model that is not built yet has no weights to count
                props["trainable_params"] = sum(math.prod(w.shape) for w in model.trainable_weights)
            optimizer = getattr(model, "optimizer", None)
            if optimizer is not None and hasattr(optimizer, "get_config"):
                props["optimizer"] = optimizer.get_config()
        add_properties(run, props, "keras RuntuiCallback")

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        step = self._batches_seen
        self._batches_seen += 1
        if not self._batch_every or step % self._batch_every or not logs:
            return
        run = self.run
        for key, value in logs.items():
            x = number(value)
            if x is not None:
                run.log(f"batch/{key}", x, step=step)

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        run = self.run
        for key, value in (logs or {}).items():
            x = number(value)
            if x is not None:
                run.log(key, x, step=epoch)

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        if self._run is not None:
            self._run.flush()

    # ------------------------------------------------------------------ the end

    def finish(self, error: BaseException | str | None = None) -> None:
        """End the run this callback started now: Completed, or Failed with `error`. A run it did not start
        (a submitted run, or one passed in) is only flushed."""
        end_run(self._run, self._owned, error)


__all__ = ["RuntuiCallback"]
