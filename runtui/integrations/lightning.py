"""PyTorch Lightning: `RuntuiLogger`, a Lightning logger that records a fit as a runtui run.

    from runtui.integrations.lightning import RuntuiLogger
    trainer = lightning.Trainer(logger=RuntuiLogger(experiment_name="mnist"))

- metrics go to the run with Lightning's step (the global step); hyper-parameters (`save_hyperparameters()`) become
  run properties, flattened to `a/b` keys; properties are immutable, so a later different value is kept out and
  reported rather than overwriting;
- checkpoints become run files under `outputs/checkpoints/` (`log_model=True`: at the end, the ones the
  ModelCheckpoint still keeps, so `save_top_k` is respected; `"all"`: each one as it is saved; False: none);
- `finalize("success")` completes the run this logger started and `finalize("failed")` fails it with the exception
  being raised; a submitted run (`Run.get_context()`) is left for its supervisor to end;
- only rank zero talks to the store (under DDP the other ranks get a dummy experiment);
- `parent_run=` makes each logger's run a child of that run (one child per trial in a sweep);
- Lightning finalizes its loggers after every `fit`/`validate`/`test`: to log `fit` and then `test` to one run, pass
  `end_run=False` and the run ends with the process (Completed, or Failed on an uncaught exception).

Works with `lightning` (2.x) and the older `pytorch_lightning` package name.
"""

from __future__ import annotations

import sys
from argparse import Namespace
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from runtui.integrations._common import MissingFrameworkError, add_properties, number, resolve_run

try:
    from lightning.fabric.utilities.rank_zero import rank_zero_only
    from lightning.pytorch.loggers.logger import Logger, rank_zero_experiment
except ImportError:
    try:
        from pytorch_lightning.loggers.logger import Logger, rank_zero_experiment  # type: ignore[assignment,no-redef,unused-ignore]
        from pytorch_lightning.utilities.rank_zero import rank_zero_only  # type: ignore[no-redef,unused-ignore]
    except ImportError as exc:
        raise MissingFrameworkError(
            "runtui.integrations.lightning needs the 'lightning' package, which is not installed: "
            "pip install 'runtui[lightning]'"
        ) from exc

if TYPE_CHECKING:
    from runtui.core.run import Run

CHECKPOINT_DIR = "outputs/checkpoints"


class RuntuiLogger(Logger):
    """A Lightning logger writing to a runtui run (see the module docstring)."""

    def __init__(
        self,
        experiment_name: str | None = None,
        *,
        run: Run | None = None,
        parent_run: Any = None,
        display_name: str | None = None,
        workspace: Any = None,
        log_model: bool | Literal["all"] = True,
        prefix: str = "",
        tags: Mapping[str, Any] | None = None,
        end_run: bool = True,
    ) -> None:
        super().__init__()
        self._end_run = end_run
        self._experiment_name = experiment_name
        self._given_run = run
        self._parent_run = parent_run
        self._display_name = display_name
        self._workspace = workspace
        self._log_model = log_model
        self._prefix = prefix
        self._tags = dict(tags or {})
        self._run: Any = None
        self._owned = False
        self._checkpoint_callback: Any = None
        self._uploaded: dict[str, float] = {}  # checkpoint path -> mtime when uploaded

    # ------------------------------------------------------------------ the run

    @property
    @rank_zero_experiment
    def experiment(self) -> Run:
        """The runtui Run (created on first use, on rank zero only)."""
        if self._run is None:
            if self._parent_run is not None:
                self._run, self._owned = self._parent_run.child_run(name=self._display_name), True
            else:
                self._run, self._owned = resolve_run(
                    self._given_run, self._experiment_name, self._display_name, self._workspace
                )
            if self._tags:
                self._run.set_tags(self._tags)
        return self._run  # type: ignore[no-any-return,unused-ignore]

    @property
    def run(self) -> Run:
        return self.experiment

    @property
    def name(self) -> str | None:
        if self._run is not None:
            return str(self._run.experiment.name) if hasattr(self._run, "experiment") else None
        return self._experiment_name or "default"

    @property
    def version(self) -> str | None:
        if getattr(rank_zero_only, "rank", 0) != 0:
            return None
        return str(self.experiment.id)

    # ------------------------------------------------------------------ logging

    @rank_zero_only
    def log_hyperparams(self, params: dict[str, Any] | Namespace, *args: Any, **kwargs: Any) -> None:
        if isinstance(params, Namespace):
            params = vars(params)
        if params:
            add_properties(self.experiment, dict(params), "RuntuiLogger")

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        run = self.experiment
        for key, value in metrics.items():
            x = number(value)
            if x is None:
                continue
            run.log(f"{self._prefix}{key}", x, step=None if step is None else int(step))

    # ------------------------------------------------------------------ checkpoints

    @rank_zero_only
    def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
        if self._log_model == "all" or (self._log_model is True and checkpoint_callback.save_top_k == -1):
            self._upload_checkpoints(checkpoint_callback)
        elif self._log_model is True:
            self._checkpoint_callback = checkpoint_callback  # uploaded at the end: what top-k kept by then

    def _upload_checkpoints(self, callback: Any) -> None:
        paths: set[str] = set()
        for attr in ("best_model_path", "last_model_path"):
            value = getattr(callback, attr, "")
            if value:
                paths.add(str(value))
        paths.update(str(p) for p in getattr(callback, "best_k_models", {}) or {})
        run = self.experiment
        best = str(getattr(callback, "best_model_path", "") or "")
        for path in sorted(paths):
            p = Path(path)
            if not p.is_file():
                continue
            mtime = p.stat().st_mtime
            if self._uploaded.get(path) == mtime:
                continue
            run.upload_file(f"{CHECKPOINT_DIR}/{p.name}", p)
            self._uploaded[path] = mtime
        if best and Path(best).is_file():
            tags = {"best_checkpoint": f"{CHECKPOINT_DIR}/{Path(best).name}"}
            score = number(getattr(callback, "best_model_score", None))
            if score is not None:
                tags["best_checkpoint_score"] = repr(score)
            run.set_tags(tags)

    # ------------------------------------------------------------------ the end

    @rank_zero_only
    def save(self) -> None:
        if self._run is not None:
            self._run.flush()

    @rank_zero_only
    def finalize(self, status: str) -> None:
        if self._run is None:
            return
        run = self._run
        failed = status == "failed"
        if self._checkpoint_callback is not None and not failed:
            self._upload_checkpoints(self._checkpoint_callback)
        run.flush()
        if not self._owned:
            return  # a submitted run or one the caller passed in: its owner ends it
        if failed:
            # Lightning calls finalize("failed") from inside its `except` block: the exception is the one raised.
            exc = sys.exc_info()[1]
            run.fail(exc if exc is not None else "the Lightning fit failed")
        elif status in ("success", "finished") and self._end_run:
            run.complete()

    def __getstate__(self) -> dict[str, Any]:
        # Spawned DDP workers get a copy: they must not inherit an open run (only rank zero logs anyway).
        state = self.__dict__.copy()
        state["_run"] = None
        state["_checkpoint_callback"] = None
        return state


__all__ = ["RuntuiLogger"]
