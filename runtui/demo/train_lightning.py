"""Demo script: a small PyTorch Lightning fit logged through runtui's RuntuiLogger (only when Lightning is installed).

Inside the submitted run the logger writes to `Run.get_context()`: metrics with the global step, the
hyper-parameters as properties, and the two best checkpoints as run outputs. Slowed down on purpose so that the
curves grow while you watch, and light on the CPU.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from typing import Any

import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset

from runtui.integrations.lightning import RuntuiLogger

STEP_PAUSE_S = 0.25  # default --pause


class Regressor(L.LightningModule):
    def __init__(self, lr: float = 0.05, hidden: int = 16, dropout: float = 0.1, pause: float = STEP_PAUSE_S) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(8, hidden), torch.nn.ReLU(), torch.nn.Dropout(dropout), torch.nn.Linear(hidden, 1)
        )

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train_loss", loss)
        time.sleep(self.hparams["pause"])  # a real model would be busy here
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self.net(x), y))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.hparams["lr"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--pause", type=float, default=STEP_PAUSE_S, help="seconds of sleep per training step")
    args = parser.parse_args()
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    w = torch.randn(8, 1, generator=g)
    x = torch.randn(512, 8, generator=g)
    y = x @ w + 0.1 * torch.randn(512, 1, generator=g)
    train = DataLoader(TensorDataset(x[:448], y[:448]), batch_size=32, shuffle=True)
    val = DataLoader(TensorDataset(x[448:], y[448:]), batch_size=64)
    with tempfile.TemporaryDirectory(prefix="runtui-demo-ckpt-") as ckpt_dir:
        trainer = L.Trainer(
            logger=RuntuiLogger(),
            max_epochs=args.epochs,
            log_every_n_steps=1,
            accelerator="cpu",
            enable_progress_bar=False,
            enable_model_summary=False,
            callbacks=[L.pytorch.callbacks.ModelCheckpoint(dirpath=ckpt_dir, monitor="val_loss", save_top_k=2)],
        )
        trainer.fit(Regressor(pause=args.pause), train, val)
    print("fit finished", flush=True)


if __name__ == "__main__":
    main()
