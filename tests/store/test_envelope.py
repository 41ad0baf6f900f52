"""sampled_envelope: a series in fixed-width buckets with each bucket's mean, min and max, on real stores
(SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import time

import pytest

from runtui.status import RunStatus
from runtui.store import NewRun, Store
from runtui.store.overview import sampled_envelope


def test_buckets_keep_the_datas_min_and_max(store: Store) -> None:
    store.create_runs([NewRun(id="m", experiment="e", status=RunStatus.RUNNING)])
    now = time.time()
    points = [("m", "loss", s, 1.0 if s == 1234 else 0.1, None, "scalar", now) for s in range(10_000)]
    points += [("m", "note", 0, None, "hello", "text", now)]
    store.write_metrics(points)
    env = sampled_envelope(store, "m", "loss", width=25)
    assert len(env.steps) == 400 and env.steps[:3] == [0, 25, 50]
    assert sum(env.counts) == 10_000
    spike = 1234 // 25
    assert env.maxs[spike] == 1.0 and env.mins[spike] == pytest.approx(0.1)
    assert env.means[spike] == pytest.approx((24 * 0.1 + 1.0) / 25)
    assert max(v for v in env.maxs if v is not None) == 1.0

    # a viewer that keeps the width re-reads from its last bucket on
    tail = sampled_envelope(store, "m", "loss", width=25, from_step=9_990)
    assert tail.steps == [9_975] and tail.counts == [25]

    assert sampled_envelope(store, "m", "note", width=1).steps == []  # not a scalar series
    assert sampled_envelope(store, "m", "nope", width=1).steps == []
    with pytest.raises(ValueError):
        sampled_envelope(store, "m", "loss", width=0)


def test_non_finite_points_are_left_out_of_the_figures(store: Store) -> None:
    store.create_runs([NewRun(id="m", experiment="e", status=RunStatus.RUNNING)])
    now = time.time()
    store.write_metrics([("m", "x", 0, 1.0, None, "scalar", now), ("m", "x", 1, 2.0, None, "scalar", now)])
    store.write_metrics([("m", "x", 2, None, "nan", "scalar", now)])
    env = sampled_envelope(store, "m", "x", width=1)
    assert env.means[:2] == [1.0, 2.0]
    assert env.means[2:] in ([], [None])
