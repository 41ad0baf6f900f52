"""The metrics write path: flush semantics, and a point the database refuses never blocks the others."""

from __future__ import annotations

import time

import pytest

from runtui.status import RunStatus
from runtui.store import NewRun, Store
from runtui.store.metric_writer import MetricWriter


def _run(store: Store) -> str:
    store.create_runs([NewRun(id="w1", experiment="e", status=RunStatus.RUNNING)])
    return "w1"


def test_flush_waits_for_everything_queued(store: Store) -> None:
    rid = _run(store)
    writer = MetricWriter(store, flush_interval=5.0)  # only flush() makes it write
    for i in range(25_000):  # more than one transaction's worth
        writer.put((rid, "x", None, float(i), None, "scalar", time.time()))
    assert writer.flush(timeout=60)
    [series] = store.get_series(rid, ["x"])
    assert series.values == [float(i) for i in range(25_000)]
    assert series.steps == list(range(25_000))


def test_a_refused_point_is_dropped_alone(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    rid = _run(store)
    writer = MetricWriter(store, flush_interval=0.05)
    now = time.time()
    writer.put((rid, "ok", None, 1.0, None, "scalar", now))
    # A step no database integer can hold: refused by the database, not by validation (which it bypasses).
    writer.put((rid, "bad", 2**70, 1.0, None, "scalar", now))
    writer.put((rid, "ok", None, 2.0, None, "scalar", now))
    assert writer.flush(timeout=60)
    assert writer.dropped == 1
    assert store.get_series(rid, ["ok"])[0].values == [1.0, 2.0]
    assert store.get_series(rid, ["bad"]) == []
    assert "dropped metric point 'bad'" in capsys.readouterr().err
    # and the writer goes on working afterwards
    writer.put((rid, "ok", None, 3.0, None, "scalar", now))
    assert writer.flush(timeout=60)
    assert store.get_series(rid, ["ok"])[0].values == [1.0, 2.0, 3.0]
