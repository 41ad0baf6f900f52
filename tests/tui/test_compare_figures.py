"""The compare view's figures: a spike in one run survives down-sampling and sets the shared y range."""

from __future__ import annotations

import time

from runtui.status import RunStatus as S
from runtui.store import NewRun, Store
from runtui.store.overview import sampled_envelope, sampled_series
from runtui.tui.widgets.compare_chart import plot_many


def test_a_spike_in_one_run_reaches_the_top_of_the_shared_chart(ws_store: Store) -> None:
    ws_store.create_runs([NewRun(id=r, experiment="e", status=S.RUNNING) for r in ("a", "b")])
    now = time.time()
    ws_store.write_metrics([("a", "loss", s, 1.0 if s == 777 else 0.1, None, "scalar", now) for s in range(10_000)])
    ws_store.write_metrics([("b", "loss", s, 0.2, None, "scalar", now) for s in range(10_000)])
    a = sampled_envelope(ws_store, "a", "loss", width=50)
    b = sampled_envelope(ws_store, "b", "loss", width=50)
    drawn = plot_many([(a.steps, a.means, a.mins, a.maxs), (b.steps, b.means, b.mins, b.maxs)], 60, 8)
    assert drawn is not None
    cells, _, (y0, y1) = drawn
    assert (y0, y1) == (0.1, 1.0)
    assert any(bits and which == 0 for bits, which in cells[0]), "run a's spike is not on the top row"
    # the old way, bucket means only: the spike is averaged away (50 points a bucket)
    means = sampled_series(ws_store, "a", "loss", 200)
    assert max(v for v in means.values if v is not None) < 0.2
