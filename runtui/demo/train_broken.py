"""Demo script: a run that trains for a few steps and then dies with a traceback, as real runs do."""

from __future__ import annotations

import random
import time

from runtui import Run


def allocate(batch_size: int) -> None:
    if batch_size > 256:
        raise RuntimeError(
            "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 7.79 GiB total capacity; "
            "6.12 GiB already allocated) [simulated by the runtui demo]"
        )


def train_step(step: int, batch_size: int) -> float:
    # The data loader doubles the batch size once warm-up ends: the kind of bug that crashes a run late.
    allocate(batch_size * (2 if step >= 8 else 1))
    return 2.0 / (step + 1) + random.random() * 0.05


def main() -> None:
    run = Run.get_context()
    run.add_properties({"model": "vit-b16", "batch_size": "192"})
    for step in range(100):
        loss = train_step(step, 192)
        run.log("loss", loss)
        print(f"step {step}: loss={loss:.4f}", flush=True)
        time.sleep(1.0)


if __name__ == "__main__":
    main()
