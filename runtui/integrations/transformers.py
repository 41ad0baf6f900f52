"""Hugging Face Transformers: `RuntuiCallback`, a TrainerCallback that records a Trainer as a runtui run.

    from runtui.integrations.transformers import RuntuiCallback
    trainer = Trainer(model, args, ..., callbacks=[RuntuiCallback(experiment_name="bert")])

`report_to="runtui"` is not possible: Transformers resolves `report_to` names through a fixed table of its own
integrations and offers no public way to add one, so the callback is passed in `callbacks=` (the one line above);
`report_to="none"` keeps Transformers from also starting the loggers it finds installed.

- every `on_log` (training loss, learning rate, grad norm, and the `eval_*` metrics of `evaluate()`) is logged with
  the Trainer's `global_step`;
- at train begin the TrainingArguments become run properties under Transformers' names (`learning_rate`,
  `num_train_epochs`, ...) and the model config becomes `model/<key>` properties;
- at train end the final model (`save_pretrained`, with the tokenizer/processor when the Trainer has one) is saved
  into the run's `outputs/model/` (`log_model=False` to skip);
- only the main process (`state.is_world_process_zero`) writes.

The run this callback starts ends with the process (Completed, or Failed with the traceback of an uncaught
exception), so that `evaluate()` after `train()` still logs to it; `finish()` ends it earlier. Inside a submitted
run it logs to `Run.get_context()`, which its supervisor ends.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtui.integrations._common import add_properties, end_run, number, require, resolve_run

require("transformers", "transformers", "runtui.integrations.transformers")
from transformers import TrainerCallback  # noqa: E402

if TYPE_CHECKING:
    from runtui.core.run import Run

MODEL_DIR = "outputs/model"
# Summary values Transformers logs once at the end of train(): kept, but they are not series.
_SKIP_LOG_KEYS = frozenset({"total_flos"})


class RuntuiCallback(TrainerCallback):  # type: ignore[misc,unused-ignore]
    """A Transformers TrainerCallback writing to a runtui run (see the module docstring)."""

    def __init__(
        self,
        experiment_name: str | None = None,
        *,
        run: Run | None = None,
        display_name: str | None = None,
        workspace: Any = None,
        log_model: bool = True,
        tags: Mapping[str, Any] | None = None,
    ) -> None:
        self._experiment_name = experiment_name
        self._given_run = run
        self._display_name = display_name
        self._workspace = workspace
        self._log_model = log_model
        self._tags = dict(tags or {})
        self._run: Any = None
        self._owned = False

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

    # ------------------------------------------------------------------ Trainer events

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        run = self.run
        add_properties(run, _training_arguments(args), "RuntuiCallback")
        config = getattr(model, "config", None)
        if config is not None and hasattr(config, "to_dict"):
            add_properties(run, {"model": config.to_dict()}, "RuntuiCallback")

    def on_log(self, args: Any, state: Any, control: Any, logs: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero or not logs:
            return
        run = self.run
        step = int(state.global_step)
        for key, value in logs.items():
            if key in _SKIP_LOG_KEYS:
                continue
            x = number(value)
            if x is not None:
                run.log(key, x, step=step)

    def on_train_end(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        run = self.run
        if self._log_model and model is not None and hasattr(model, "save_pretrained"):
            processor = kwargs.get("processing_class") or kwargs.get("tokenizer")
            with tempfile.TemporaryDirectory(prefix="runtui-model-") as tmp:
                model.save_pretrained(tmp)
                if processor is not None and hasattr(processor, "save_pretrained"):
                    processor.save_pretrained(tmp)
                for path in sorted(Path(tmp).rglob("*")):
                    if path.is_file():
                        run.upload_file(f"{MODEL_DIR}/{path.relative_to(tmp).as_posix()}", path)
        run.flush()

    # ------------------------------------------------------------------ the end

    def finish(self, error: BaseException | str | None = None) -> None:
        """End the run this callback started now: Completed, or Failed with `error`. A run it did not start
        (a submitted run, or one passed in) is only flushed."""
        end_run(self._run, self._owned, error)


def _training_arguments(args: Any) -> dict[str, Any]:
    """TrainingArguments as a flat dict, without what is not a setting (tokens, the logging folder's clock)."""
    raw = args.to_dict() if hasattr(args, "to_dict") else dict(vars(args))
    return {k: v for k, v in raw.items() if "token" not in k.lower() and not k.startswith("_")}


__all__ = ["RuntuiCallback"]
