"""`runtui demo --no-ui`: real submitted scripts start in a scratch workspace; `--stop` ends them."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import open_store, runtui, wait_for

from runtui.demo.workload import EXPERIMENTS, JOBS
from runtui.status import RunStatus

pytestmark = pytest.mark.timeout(300)


def test_demo_starts_real_runs_and_stops(home: Path) -> None:
    result = runtui("demo", "--no-ui", home=home)
    assert result.code == 0, result.err
    assert f"starting the runtui demo in workspace {home}" in result.out
    assert f"started the runtui demo: {len(JOBS)} runs" in result.out  # 5 where PyTorch Lightning is installed
    assert f"runtui demo --stop --home {home}" in result.out
    store = open_store(home)
    try:
        top = [r for r in store.query_runs(top_level_only=True)]
        assert sorted(r.experiment for r in top) == sorted(job.experiment for job in JOBS)
        assert all(r.kind == "submitted" for r in top)
        by_name = {r.display_name: r for r in top}
        sweep = by_name["lr sweep"]
        assert store.get_tags([sweep.id])[sweep.id] == {"team": "vision", "sweep": None}

        # The scripts really run: the sweep makes its child runs and they log curves; the broken run fails with
        # its traceback; the quick evaluation completes with its properties; the long run draws a progress bar.
        def children_logging() -> bool:
            kids = list(store.query_runs(parent_id=sweep.id))
            return len(kids) == 5 and all(store.get_summaries([k.id])[k.id] for k in kids)

        wait_for(children_logging, "the sweep's child runs to log metrics")
        broken = by_name["vit-b16 bs192"]
        wait_for(lambda: store.get_run(broken.id).status == RunStatus.FAILED, "the broken run to fail")
        assert "CUDA out of memory" in (store.get_run(broken.id).error or "")
        quick = by_name["eval resnet18"]
        wait_for(lambda: store.get_run(quick.id).status == RunStatus.COMPLETED, "the evaluation to complete")
        assert store.get_properties([quick.id])[quick.id]["dataset"] == "cifar10-test"
        long = by_name["resnet18 baseline"]
        wait_for(lambda: "\r" in _log(home, long.id), "the progress bar")
        assert "%|" in _log(home, long.id)
        assert store.get_run(long.id).status == RunStatus.RUNNING

        listing = runtui("ls", "--json", home=home).json_lines()
        assert {r["experiment"] for r in listing} == set(EXPERIMENTS)
    finally:
        stop = runtui("demo", "--stop", home=home)
    assert stop.code == 0, stop.err
    for rec in store.query_runs():
        assert rec.status.is_terminal, rec
    assert runtui("demo", "--stop", home=home).err.strip() == "no demo runs are live"


def _log(home: Path, run_id: str) -> str:
    path = home / "runs" / run_id / "logs" / "output.log"
    # bytes, decoded by hand: text mode would turn the bar's carriage returns into newlines
    return path.read_bytes().decode("utf-8", errors="replace") if path.exists() else ""
