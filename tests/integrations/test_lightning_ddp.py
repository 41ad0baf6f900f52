"""RuntuiLogger under real DDP on the CPU: two processes (Lightning's subprocess launcher, gloo), one run.

Lightning starts rank 1 by running the script again with LOCAL_RANK=1; that copy inherits the environment
(RUNTUI_HOME, and RUNTUI_RUN_ID for a submitted run), so only the rank-zero rule keeps it from opening a second
run or writing the same points twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("lightning")
import torch.distributed

import runtui

if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
    pytest.skip("this torch build has no gloo backend for CPU DDP", allow_module_level=True)

pytestmark = pytest.mark.timeout(600)

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """\
import os, sys
import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset
from runtui.integrations.lightning import RuntuiLogger

class Tiny(L.LightningModule):
    def __init__(self, lr=0.05):
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Linear(3, 1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

g = torch.Generator().manual_seed(0)
x = torch.randn(64, 3, generator=g)
data = DataLoader(TensorDataset(x, x.sum(dim=1, keepdim=True)), batch_size=8)
trainer = L.Trainer(
    logger=RuntuiLogger(experiment_name="ddp", display_name="ddp-" + sys.argv[1]),
    accelerator="cpu", devices=2, strategy="ddp", max_epochs=2, log_every_n_steps=1,
    enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False,
    default_root_dir=os.path.join(os.getcwd(), "lightning_logs"),
)
trainer.fit(Tiny(), data)
print("rank", trainer.global_rank, "done", flush=True)
"""


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNTUI_")}
    env.update(RUNTUI_HOME=str(home), PYTHONPATH=str(ROOT), CUDA_VISIBLE_DEVICES="")
    return env


def _check_one_run(ws: runtui.Workspace, name: str) -> Any:
    runs = list(ws.store.query_runs(experiment="ddp"))
    assert [r.display_name for r in runs] == [name], "rank 1 must not open a run of its own"
    rec = runs[0]
    assert rec.status.value == "Completed", rec.error
    series = {s.name: s for s in ws.store.get_series(rec.id)}
    # 64 samples over 2 ranks = 4 batches of 8 per rank and epoch; 2 epochs: steps 0..7, each logged once
    assert series["train_loss"].steps == list(range(8))
    assert ws.get_run(rec.id).get_properties()["lr"] == "0.05"
    return rec


def test_interactive_ddp_fit_is_one_run_logged_by_rank_zero(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ws = runtui.Workspace(path=home)
    (tmp_path / "train.py").write_text(SCRIPT)
    done = subprocess.run(
        [sys.executable, "train.py", "interactive"],
        cwd=tmp_path, env=_env(home), capture_output=True, text=True, timeout=500, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "rank 0 done" in done.stdout and "rank 1 done" in done.stdout  # both ranks really trained
    _check_one_run(ws, "ddp-interactive")


def test_submitted_ddp_fit_logs_once_into_the_submitted_run(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ws = runtui.Workspace(path=home)
    src = tmp_path / "src"
    src.mkdir()
    (src / "train.py").write_text(SCRIPT)
    # The supervisor inherits this process's environment: CPU only (the package conftest sets it).
    config = runtui.ScriptRunConfig(source_directory=src, script="train.py", arguments=["submitted"])
    run = runtui.Experiment(ws, "ddp").submit(config)
    run.wait_for_completion(timeout=500)
    rec = ws.store.get_run(run.id)
    assert rec.status.value == "Completed", rec.error
    runs = list(ws.store.query_runs(experiment="ddp"))
    assert [r.id for r in runs] == [run.id], "rank 1 must not open a run of its own"
    series = {s.name: s for s in ws.store.get_series(rec.id)}
    assert series["train_loss"].steps == list(range(8))
