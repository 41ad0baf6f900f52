"""A realistic, deterministic store to look at: for the screenshots script and the snapshot tests.

Fixed run ids, fixed timestamps (relative to `BASE_TIME`) and computed (not random) metric curves, so every
build is identical and a screen rendered with the clock pinned at `NOW` is identical too.

Contents: a learning-rate sweep (a parent run with four children logging loss/accuracy, one still running
and one failed), a failed run with a Python traceback, a long pre-training run with a tqdm progress log and
CPU/RAM/GPU samples, tagged and annotated runs, a canceled run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from runtui.config import WorkspaceConfig, resolve
from runtui.status import RunStatus
from runtui.store import NewRun, Store, open_store
from runtui.store.overview import set_run_times

BASE_TIME = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
NOW = BASE_TIME + 3 * 3600  # the clock the screenshots are taken at
HOST = "gpu-box-01"  # the demo box; pass it as the app's local_host so its runs count as local

S = RunStatus


@dataclass(frozen=True)
class ShowRun:
    id: str
    experiment: str
    name: str
    status: RunStatus
    start: float  # seconds after BASE_TIME
    end: float | None = None  # seconds after BASE_TIME
    parent: str | None = None
    tags: tuple[tuple[str, str | None], ...] = ()
    props: tuple[tuple[str, str], ...] = ()
    script: str | None = None
    args: tuple[str, ...] = ()
    steps: int = 0
    lr: float = 0.01
    error: str | None = None
    exit_code: int | None = None


def _id(exp: str, n: int) -> str:
    return f"{exp}_{int(BASE_TIME)}_{n:08x}"


TRACEBACK = """Traceback (most recent call last):
  File "train.py", line 88, in <module>
    main(args)
  File "train.py", line 61, in main
    loss = step(model, batch, optimizer)
  File "train.py", line 34, in step
    out = model(batch["image"].cuda())
torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 23.65 GiB total capacity)"""

SWEEP = "lr-sweep"
RESNET = "resnet50"
MNIST = "mnist-baseline"

RUNS: list[ShowRun] = [
    ShowRun(
        _id(SWEEP, 1),
        SWEEP,
        "sweep lr",
        S.RUNNING,
        600,
        tags=(("sweep", None),),
        props=(("search", "grid"),),
        script="sweep.py",
        args=("--trials", "4"),
    ),
    ShowRun(
        _id(SWEEP, 2),
        SWEEP,
        "lr=0.1",
        S.FAILED,
        620,
        1500,
        parent=_id(SWEEP, 1),
        steps=80,
        lr=0.1,
        error="loss became NaN at step 81 (lr too high)",
        exit_code=1,
        tags=(("lr", "0.1"),),
    ),
    ShowRun(
        _id(SWEEP, 3),
        SWEEP,
        "lr=0.03",
        S.COMPLETED,
        640,
        6400,
        parent=_id(SWEEP, 1),
        steps=300,
        lr=0.03,
        exit_code=0,
        tags=(("lr", "0.03"), ("best", None)),
    ),
    ShowRun(
        _id(SWEEP, 4),
        SWEEP,
        "lr=0.01",
        S.COMPLETED,
        660,
        7000,
        parent=_id(SWEEP, 1),
        steps=300,
        lr=0.01,
        exit_code=0,
        tags=(("lr", "0.01"),),
    ),
    ShowRun(
        _id(SWEEP, 5),
        SWEEP,
        "lr=0.003",
        S.RUNNING,
        7100,
        parent=_id(SWEEP, 1),
        steps=140,
        lr=0.003,
        tags=(("lr", "0.003"),),
    ),
    ShowRun(
        _id(RESNET, 1),
        RESNET,
        "baseline",
        S.COMPLETED,
        60,
        5400,
        steps=250,
        lr=0.02,
        exit_code=0,
        tags=(("quality", "great"), ("best", None)),
        props=(("author", "alice"), ("dataset", "imagenet-1k")),
        script="train.py",
        args=("--epochs", "90", "--batch-size", "256"),
    ),
    ShowRun(
        _id(RESNET, 2),
        RESNET,
        "augment-v2",
        S.FAILED,
        5500,
        5820,
        steps=12,
        lr=0.02,
        exit_code=1,
        error=TRACEBACK,
        props=(("author", "bob"),),
        script="train.py",
        args=("--augment", "v2"),
    ),
    ShowRun(
        _id(RESNET, 3),
        RESNET,
        "long-pretrain",
        S.RUNNING,
        1800,
        steps=400,
        lr=0.01,
        tags=(("stage", "pretrain"),),
        props=(("author", "alice"),),
        script="pretrain.py",
        args=("--steps", "100000"),
    ),
    ShowRun(_id(MNIST, 1), MNIST, "cnn-small", S.COMPLETED, 100, 400, steps=50, lr=0.05, exit_code=0),
    ShowRun(_id(MNIST, 2), MNIST, "cnn-wide", S.CANCELED, 500, 900, steps=30, lr=0.05, tags=(("note", "superseded"),)),
]


def _loss(step: int, lr: float) -> float:
    decay = 0.02 + lr * 2
    return 0.08 + 2.2 * math.exp(-step * decay) + 0.03 * math.sin(step * 0.7) * math.exp(-step * 0.01)


def _accuracy(step: int, lr: float) -> float:
    return min(0.99, 0.1 + 0.85 * (1 - math.exp(-step * (0.015 + lr))) + 0.01 * math.cos(step * 0.5))


def _log_text(run: ShowRun) -> str:
    lines = [
        f"\x1b[1mrunning {run.script or 'train.py'}\x1b[0m {' '.join(run.args)}",
        f"\x1b[2m[config]\x1b[0m lr={run.lr} batch_size=256 seed=0",
    ]
    for step in range(0, max(run.steps, 1), max(1, run.steps // 12) if run.steps else 1):
        lines.append(
            f"\x1b[36mstep {step:5d}\x1b[0m  loss \x1b[33m{_loss(step, run.lr):.4f}\x1b[0m"
            f"  acc {_accuracy(step, run.lr):.3f}"
        )
    if run.id == _id(RESNET, 3):
        bar = "".join(
            f"\rpretrain: {p:3d}%|{'█' * (p // 5)}{' ' * (20 - p // 5)}| {p * 1000}/100000 [12:{p:02d}<40:00, 8.1it/s]"
            for p in range(0, 38)
        )
        lines.append(bar)
    if run.status == S.FAILED and run.error:
        lines.append("\x1b[31m" + run.error.replace("\n", "\x1b[0m\n\x1b[31m") + "\x1b[0m")
    if run.status == S.COMPLETED:
        lines.append("\x1b[32mdone\x1b[0m: best checkpoint saved to outputs/model.pt")
    # the long run is mid-progress-bar: no newline after its last redraw
    return "\n".join(lines) + ("" if run.id == _id(RESNET, 3) else "\n")


def build_showcase(home: Path) -> WorkspaceConfig:
    """Create the showcase workspace in `home` (which must not hold a store yet) and return its config."""
    config = resolve(path=home)
    store = open_store(config.store_url)
    _fill(store, config)
    return config


def _fill(store: Store, config: WorkspaceConfig) -> None:
    store.create_runs(
        [
            NewRun(
                id=r.id,
                experiment=r.experiment,
                status=S.RUNNING,
                parent_id=r.parent,
                display_name=r.name,
                kind="child" if r.parent else "submitted",
                host=HOST,
                user="alice",
                pid=41000 + i,
                script=r.script,
                arguments=r.args,
                tags=r.tags,
                properties=r.props,
            )
            for i, r in enumerate(RUNS)
        ]
    )
    for r in RUNS:
        points = []
        for step in range(r.steps):
            t = BASE_TIME + r.start + step * 5
            points.append((r.id, "loss", step, _loss(step, r.lr), None, "scalar", t))
            points.append((r.id, "accuracy", step, _accuracy(step, r.lr), None, "scalar", t + 0.5))
        if r.id == _id(RESNET, 3):
            for step in range(r.steps):
                t = BASE_TIME + r.start + step * 5
                points.append((r.id, "sys/cpu_percent", step, 310 + 40 * math.sin(step / 9), None, "scalar", t))
                points.append((r.id, "sys/rss_mb", step, 5900 + 10 * step, None, "scalar", t))
                points.append((r.id, "sys/gpu_util", step, 92 + 5 * math.sin(step / 5), None, "scalar", t))
        if points:
            store.write_metrics(points)
        if r.status != S.RUNNING:
            store.set_status(r.id, r.status, error=r.error, exit_code=r.exit_code)
        log = config.run_dir(r.id) / "logs" / "output.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(_log_text(r), encoding="utf-8")
    for r in RUNS:
        set_run_times(
            store,
            r.id,
            created_at=BASE_TIME + r.start - 5,
            started_at=BASE_TIME + r.start,
            ended_at=None if r.end is None else BASE_TIME + r.end,
        )
