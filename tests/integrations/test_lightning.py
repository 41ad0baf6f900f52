"""RuntuiLogger on a real Lightning fit of a tiny model on the CPU."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("lightning")
import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset

from runtui.integrations.lightning import RuntuiLogger


class Tiny(L.LightningModule):
    def __init__(self, lr: float = 0.05, hidden: int = 4, optim: dict[str, Any] | None = None, explode_at: int = -1):
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(torch.nn.Linear(3, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1))

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        if self.global_step == self.hparams.explode_at:
            raise RuntimeError("loss exploded at step 3")
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self.net(x), y))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


def _data() -> DataLoader:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(32, 3, generator=g)
    return DataLoader(TensorDataset(x, x.sum(dim=1, keepdim=True)), batch_size=8)


def _trainer(logger: RuntuiLogger, tmp_path: Path, **kw: Any) -> L.Trainer:
    kw.setdefault("max_epochs", 3)
    return L.Trainer(
        logger=logger,
        log_every_n_steps=1,
        accelerator="cpu",
        devices=1,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
        **kw,
    )


def test_fit_logs_metrics_hparams_checkpoints_and_completes(workspace: Any, tmp_path: Path) -> None:
    logger = RuntuiLogger(experiment_name="lit", workspace=workspace, display_name="tiny", tags={"team": "a"})
    ckpt = L.pytorch.callbacks.ModelCheckpoint(monitor="val_loss", save_top_k=2, filename="{epoch}")
    trainer = _trainer(logger, tmp_path, callbacks=[ckpt])
    trainer.fit(Tiny(optim={"name": "sgd", "momentum": 0.0}), _data(), _data())

    run = workspace.get_run(logger.version)
    assert run.get_status() == "Completed"
    assert run.display_name == "tiny" and run.get_tags()["team"] == "a"
    props = run.get_properties()
    assert props["lr"] == "0.05" and props["hidden"] == "4" and props["optim/name"] == "sgd"
    series = {s.name: s for s in workspace.store.get_series(run.id)}
    # 4 batches x 3 epochs, one point per step, with Lightning's global step
    assert series["train_loss"].steps == list(range(12))
    assert len(series["val_loss"].values) == 3 and all(v > 0 for v in series["val_loss"].values)
    assert series["epoch"].values[-1] == 2
    # save_top_k=2 of 3 epochs: exactly the two kept checkpoints are run outputs, and the best one is tagged
    files = sorted(f for f in run.get_file_names() if f.startswith("outputs/checkpoints/"))
    kept = sorted(f"outputs/checkpoints/{Path(p).name}" for p in ckpt.best_k_models)
    assert files == kept and len(files) == 2
    assert run.get_tags()["best_checkpoint"] == f"outputs/checkpoints/{Path(ckpt.best_model_path).name}"
    assert (run.folder / files[0]).stat().st_size > 0


def test_failing_fit_ends_failed_with_the_error(workspace: Any, tmp_path: Path) -> None:
    logger = RuntuiLogger(experiment_name="lit", workspace=workspace)
    trainer = _trainer(logger, tmp_path, enable_checkpointing=False)
    with pytest.raises(RuntimeError, match="loss exploded"):
        trainer.fit(Tiny(explode_at=3), _data())
    rec = workspace.store.get_run(logger.version)
    assert rec.status.value == "Failed"
    assert "loss exploded at step 3" in (rec.error or "")
    series = {s.name: s for s in workspace.store.get_series(rec.id)}
    assert series["train_loss"].steps == [0, 1, 2]  # what was logged before the failure is kept


def test_sweep_trials_are_child_runs_and_properties_stay_immutable(workspace: Any, tmp_path: Path) -> None:
    import runtui

    parent = runtui.Experiment(workspace, "sweep").start_logging(display_name="sweep")
    ids = []
    for lr in (0.01, 0.1):
        logger = RuntuiLogger(parent_run=parent, display_name=f"lr={lr}")
        _trainer(logger, tmp_path, max_epochs=1, enable_checkpointing=False).fit(Tiny(lr=lr), _data())
        logger.log_hyperparams({"lr": 99.0, "new_key": 1})  # lr stays as first logged; new keys still land
        ids.append(logger.version)
    parent.complete()
    children = {c.id: c for c in parent.get_children()}
    assert set(children) == set(ids)
    for rid, lr in zip(ids, (0.01, 0.1), strict=True):
        child = children[rid]
        assert child.get_status() == "Completed"
        assert child.get_properties()["lr"] == str(lr) and child.get_properties()["new_key"] == "1"
        assert "train_loss" in child.get_metrics()


def test_demo_script_logs_to_its_submitted_run(workspace: Any) -> None:
    """The `runtui demo` Lightning job, submitted for real: the logger finds the run through Run.get_context() and
    leaves its ending to the supervisor."""
    import runtui
    from runtui.demo.workload import FOLDER, JOBS

    assert any(job.script == "train_lightning.py" for job in JOBS)  # Lightning is installed here
    config = runtui.ScriptRunConfig(
        source_directory=FOLDER, script="train_lightning.py", arguments=["--epochs", "2", "--pause", "0"]
    )
    run = runtui.Experiment(workspace, "demo-lightning").submit(config)
    run.wait_for_completion(timeout=240)
    assert run.get_status() == "Completed"
    props = run.get_properties()
    assert props["hidden"] == "16" and props["pause"] == "0.0"
    series = {s.name: s for s in workspace.store.get_series(run.id)}
    assert series["train_loss"].steps == list(range(28))  # 448 samples / 32 = 14 steps x 2 epochs
    assert len(series["val_loss"].values) == 2
    ckpts = [f for f in run.get_file_names() if f.startswith("outputs/checkpoints/")]
    assert len(ckpts) == 2
    assert [r.id for r in workspace.store.query_runs(experiment="demo-lightning")] == [run.id]  # no extra run


def test_end_run_false_keeps_the_run_open_for_test_after_fit(workspace: Any, tmp_path: Path) -> None:
    class WithTest(Tiny):
        def test_step(self, batch: Any, batch_idx: int) -> None:
            x, y = batch
            self.log("test_loss", torch.nn.functional.mse_loss(self.net(x), y))

    logger = RuntuiLogger(experiment_name="lit", workspace=workspace, end_run=False)
    trainer = _trainer(logger, tmp_path, max_epochs=1, enable_checkpointing=False)
    model = WithTest()
    trainer.fit(model, _data())
    assert workspace.store.get_run(logger.version).status.value == "Running"
    trainer.test(model, _data(), verbose=False)
    logger.experiment.complete()
    run = workspace.get_run(logger.version)
    assert run.get_status() == "Completed"
    assert "test_loss" in run.get_metrics() and "train_loss" in run.get_metrics()
