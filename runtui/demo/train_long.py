"""Demo script: a long training run that draws a tqdm-style progress bar with carriage returns.

The bar goes to stderr and redraws one line, as tqdm does; each epoch ends with a summary line. Loss is
logged every few batches, validation metrics once per epoch.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time

from runtui import Run

BAR = 24


def bar(prefix: str, done: int, total: int, started: float, loss: float) -> str:
    elapsed = time.monotonic() - started
    rate = done / elapsed if elapsed > 0 else 0.0
    left = (total - done) / rate if rate > 0 else 0.0
    filled = BAR * done / total
    full = int(filled)
    partial = " ▏▎▍▌▋▊▉"[int((filled - full) * 8)] if full < BAR else ""
    cells = ("█" * full + partial).ljust(BAR)
    return (
        f"{prefix}: {100 * done // total:3d}%|{cells}| {done}/{total} "
        f"[{elapsed // 60:02.0f}:{elapsed % 60:02.0f}<{left // 60:02.0f}:{left % 60:02.0f}, "
        f"{rate:5.2f}it/s, loss={loss:.4f}]"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batches", type=int, default=120)
    parser.add_argument("--batch-seconds", type=float, default=0.5)
    opts = parser.parse_args()

    run = Run.get_context()
    run.add_properties({"model": "resnet18", "dataset": "cifar10", "epochs": str(opts.epochs)})
    rng = random.Random(7)
    step = 0
    print(f"training resnet18 on cifar10 for {opts.epochs} epochs of {opts.batches} batches", flush=True)
    for epoch in range(1, opts.epochs + 1):
        started = time.monotonic()
        loss = 0.0
        for batch in range(1, opts.batches + 1):
            time.sleep(opts.batch_seconds)
            step += 1
            loss = 2.0 * math.exp(-step / 150) + 0.25 + rng.gauss(0, 0.03)
            if batch % 5 == 0:
                run.log("loss", loss)
            sys.stderr.write("\r" + bar(f"epoch {epoch}/{opts.epochs}", batch, opts.batches, started, loss))
            sys.stderr.flush()
        val_loss = loss + 0.08 + rng.gauss(0, 0.02)
        val_acc = min(0.99, 0.55 + 0.09 * epoch + rng.gauss(0, 0.01))
        run.log("val_loss", val_loss)
        run.log("val_accuracy", val_acc)
        sys.stderr.write("\n")
        print(f"epoch {epoch}: val_loss={val_loss:.4f} val_accuracy={val_acc:.4f}", flush=True)
    run.upload_file("outputs/model.txt", _model_card(run.id))
    print("saved outputs/model.txt", flush=True)


def _model_card(run_id: str) -> str:
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        fh.write(f"resnet18 trained by run {run_id} (a runtui demo: no real weights)\n")
        return fh.name


if __name__ == "__main__":
    main()
