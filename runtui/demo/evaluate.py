"""Demo script: a quick evaluation that completes in seconds, logging a list, a table and properties."""

from __future__ import annotations

import random
import time

from runtui import Run

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def main() -> None:
    run = Run.get_context()
    run.add_properties({"checkpoint": "resnet18-epoch4", "dataset": "cifar10-test", "samples": "10000"})
    rng = random.Random(3)
    per_class = [round(0.78 + rng.random() * 0.18, 4) for _ in CLASSES]
    for i, name in enumerate(CLASSES):
        print(f"evaluating {name:<10} accuracy={per_class[i]:.4f}", flush=True)
        time.sleep(0.2)
    accuracy = sum(per_class) / len(per_class)
    run.log("accuracy", accuracy)
    run.log_list("per_class_accuracy", per_class)
    run.log_table("confusion_top", {"true": ["cat", "dog", "truck"], "predicted": ["dog", "cat", "automobile"]})
    run.tag("quality", "great" if accuracy > 0.85 else "ok")
    print(f"accuracy {accuracy:.4f}", flush=True)


if __name__ == "__main__":
    main()
