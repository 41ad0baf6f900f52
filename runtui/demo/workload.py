"""Submitting the demo workload: the scripts next to this module, as real supervised runs.

About five minutes in all, mostly sleeping: each script is one Python process plus its supervisor, so the
demo stays light on a 2-core box.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runtui.core.run import Run
    from runtui.core.workspace import Workspace

FOLDER = Path(__file__).resolve().parent


@dataclass(frozen=True)
class DemoJob:
    """One demo run: what it shows, and how it is submitted."""

    role: str
    experiment: str
    script: str
    display_name: str
    arguments: tuple[str, ...] = ()
    tags: dict[str, str | None] = field(default_factory=dict)


JOBS: tuple[DemoJob, ...] = (
    DemoJob(
        "sweep",
        "demo-mnist",
        "sweep.py",
        "lr sweep",
        tags={"team": "vision", "sweep": None},
    ),
    DemoJob(
        "long run with a progress bar",
        "demo-cifar10",
        "train_long.py",
        "resnet18 baseline",
        tags={"model": "resnet18", "baseline": None},
    ),
    DemoJob(
        "run that fails",
        "demo-cifar10",
        "train_broken.py",
        "vit-b16 bs192",
        tags={"model": "vit-b16", "gpu": "0"},
    ),
    DemoJob(
        "quick evaluation",
        "demo-eval",
        "evaluate.py",
        "eval resnet18",
        tags={"dataset": "cifar10-test"},
    ),
)


def _installed(module: str) -> bool:
    """Whether `module` can be imported, without importing it (the demo must start fast)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


# Shown only where PyTorch Lightning is installed (`pip install 'runtui[lightning]'`).
if _installed("lightning") and _installed("torch"):
    JOBS += (
        DemoJob(
            "PyTorch Lightning fit",
            "demo-lightning",
            "train_lightning.py",
            "lightning regressor",
            tags={"framework": "lightning"},
        ),
    )

EXPERIMENTS: tuple[str, ...] = tuple(dict.fromkeys(job.experiment for job in JOBS))


def start_demo(ws: Workspace, on_started: Callable[[DemoJob, Run], None] | None = None) -> list[tuple[DemoJob, Run]]:
    """Submit every demo job to `ws`; returns each job with its run (Queued or already Running).
    `on_started` is called after each submission (each takes about a second: a snapshot and a supervisor)."""
    from runtui.core.experiment import Experiment
    from runtui.core.script_run_config import ScriptRunConfig

    started: list[tuple[DemoJob, Run]] = []
    for job in JOBS:
        config = ScriptRunConfig(source_directory=FOLDER, script=job.script, arguments=list(job.arguments))
        run = Experiment(ws, job.experiment).submit(config, tags=job.tags, display_name=job.display_name)
        started.append((job, run))
        if on_started is not None:
            on_started(job, run)
    return started


def live_demo_runs(ws: Workspace) -> list[str]:
    """Ids of the top-level demo runs that are still live."""
    from runtui.status import LIVE

    live = sorted(LIVE)
    return [
        rec.id
        for name in EXPERIMENTS
        for rec in ws.store.query_runs(experiment=name, top_level_only=True, statuses=live)
    ]
