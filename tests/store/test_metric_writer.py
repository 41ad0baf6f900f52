"""The metrics write path: flush semantics, and a point the database refuses never blocks the others."""

from __future__ import annotations

import time
from pathlib import Path

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


def test_points_for_a_finished_run_are_refused_counted_and_reported_once(store: Store) -> None:
    store.create_runs(
        [NewRun(id=r, experiment="e", status=RunStatus.RUNNING) for r in ("live", "done", "gone", "stop")]
    )
    store.set_status("done", RunStatus.COMPLETED)
    store.set_status("gone", RunStatus.FAILED)
    store.set_status("stop", RunStatus.CANCELED)
    now = time.time()
    # The store itself refuses them, inside its write transaction.
    result = store.write_metric_batch(
        [("live", "m", None, 1.0, None, "scalar", now), ("done", "m", None, 1.0, None, "scalar", now)]
        + [("gone", "m", None, 2.0, None, "scalar", now)] * 2
    )
    assert (result.written, result.refused) == (1, {"done": 1, "gone": 2})
    # The writer drops only those, counts them and names the runs (once each to the callback).
    writer = MetricWriter(store, flush_interval=5.0)
    told: list[tuple[str, int]] = []
    writer.on_refused = lambda run_id, n: told.append((run_id, n))
    for i in range(3):
        writer.put(("live", "m", None, float(i), None, "scalar", now))
        writer.put(("stop", "m", None, float(i), None, "scalar", now))
        assert writer.flush(timeout=60)
    assert writer.refused == 3 and writer.dropped == 0
    assert writer.refused_runs() == {"stop": 3}
    assert told == [("stop", 1)]
    assert store.count_points("live") == 4 and store.count_points("stop") == 0
    assert store.get_summaries(["stop"]) == {"stop": []}


def test_a_description_travels_with_its_points(store: Store) -> None:
    rid = _run(store)
    writer = MetricWriter(store, flush_interval=5.0)
    writer.describe(rid, "loss", "training loss")
    assert writer.flush(timeout=60)  # a flush lands between describe() and put(): nothing to write yet
    writer.put((rid, "loss", None, 1.0, None, "scalar", time.time()))
    writer.put((rid, "acc", None, 0.5, None, "scalar", time.time()), description="accuracy")
    assert writer.flush(timeout=60)
    got = {s.name: s.description for s in store.get_summaries([rid])[rid]}
    assert got == {"loss": "training loss", "acc": "accuracy"}


def test_the_default_flush_is_fast_while_writes_are_cheap_and_slows_down_when_busy(tmp_path: Path) -> None:
    """The SDK's default flush: 0.25 s while a write is quick (a logged value reaches a watching TUI in ~0.2 s),
    stretching to 0.5 s (what a SIGKILL can lose at most) as writes slow down on a busy store."""
    from runtui.store import open_store
    from runtui.store.metric_writer import FAST_FLUSH_S, FLUSH_INTERVAL_S, MetricWriter, next_interval

    assert (FAST_FLUSH_S, FLUSH_INTERVAL_S) == (0.25, 0.5)  # the README quotes both
    assert next_interval(0.002) == FAST_FLUSH_S
    assert FAST_FLUSH_S < next_interval(0.02) < FLUSH_INTERVAL_S
    assert next_interval(3.0) == FLUSH_INTERVAL_S
    writer = MetricWriter(open_store(f"sqlite:///{tmp_path / 's.db'}"))
    assert writer.adaptive and writer.flush_interval == FLUSH_INTERVAL_S
    assert not MetricWriter(writer.store, flush_interval=5.0).adaptive  # a fixed interval stays fixed
