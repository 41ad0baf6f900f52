"""Demo script: a learning-rate sweep. The parent run trains one child run per learning rate, side by side.

Each child logs loss and accuracy curves; the largest learning rate diverges and its child is failed.
A child canceled from the monitor or the CLI stops training; the others go on.
"""

from __future__ import annotations

import argparse
import math
import random
import time

from runtui import Run


def curve(lr: float, epoch: int, rng: random.Random) -> tuple[float, float]:
    """A plausible (loss, accuracy) after `epoch` epochs at learning rate `lr`."""
    speed = min(lr, 0.1) * 0.6
    floor = 0.05 + abs(math.log10(lr) + 1.3) * 0.08
    loss = floor + (2.3 - floor) * math.exp(-speed * (epoch + 1)) + rng.gauss(0, 0.015)
    accuracy = max(0.0, min(1.0, 1.0 - loss / 2.4 + rng.gauss(0, 0.005)))
    return max(loss, 0.0), accuracy


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--epoch-seconds", type=float, default=3.0)
    parser.add_argument("--learning-rates", default="0.3,0.1,0.03,0.01,0.003")
    opts = parser.parse_args()
    lrs = opts.learning_rates.split(",")

    run = Run.get_context()
    run.add_properties({"search": "grid", "parameter": "learning_rate", "trials": str(len(lrs))})
    children = run.create_children(tag_key="lr", tag_values=lrs)
    for child, lr in zip(children, lrs, strict=True):
        child.display_name = f"lr={lr}"
        child.add_properties({"learning_rate": lr, "optimizer": "sgd", "batch_size": "128"})
    print(f"sweep over learning rates {', '.join(lrs)}: {len(children)} child runs", flush=True)

    rng = random.Random(20240611)
    training = dict(zip(children, (float(lr) for lr in lrs), strict=True))
    best = 0.0
    for epoch in range(opts.epochs):
        for child, lr in list(training.items()):
            if child.get_status() != "Running":  # canceled (or failed) from outside: stop training it
                print(f"epoch {epoch + 1}: {child.display_name} is {child.get_status()}; dropped", flush=True)
                del training[child]
                continue
            loss, accuracy = curve(lr, epoch, rng)
            if lr >= 0.3 and epoch >= 12:
                loss = loss * (1.6 ** (epoch - 11))  # too large a step: the loss explodes
            if not math.isfinite(loss) or loss > 50:
                child.log("loss", float("nan"))
                child.fail(f"loss diverged at epoch {epoch + 1} (learning rate {lr} is too large)")
                print(f"epoch {epoch + 1}: lr={lr} diverged; child run failed", flush=True)
                del training[child]
                continue
            child.log("loss", loss)
            child.log("accuracy", accuracy)
            best = max(best, accuracy)
        run.log("best_accuracy", best)
        print(f"epoch {epoch + 1}/{opts.epochs}: {len(training)} trials training, best accuracy {best:.4f}", flush=True)
        if not training:
            break
        time.sleep(opts.epoch_seconds)

    for child in training:
        child.complete()
    for child, lr in zip(children, lrs, strict=True):
        metrics = child.get_metrics()
        acc = metrics.get("accuracy")
        final = acc[-1] if isinstance(acc, list) and acc else acc
        run.log_row("trials", learning_rate=float(lr), final_accuracy=final, status=child.get_status())
    run.tag("best_accuracy", f"{best:.4f}")
    print("sweep done", flush=True)


if __name__ == "__main__":
    main()
