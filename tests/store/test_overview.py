"""The viewer-shaped reads in runtui.store.overview, on real stores (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import time

import pytest

from runtui.status import RunStatus
from runtui.store import NewRun, Store
from runtui.store.filters import compile_filter
from runtui.store.overview import (
    child_counts,
    experiment_counts,
    matching_runs,
    run_page,
    sampled_series,
    set_run_times,
)

S = RunStatus


def make(store: Store) -> None:
    runs = [NewRun(id=f"a{i:03d}", experiment="alpha", status=S.RUNNING if i < 2 else S.QUEUED) for i in range(12)]
    runs += [NewRun(id="a000-c1", experiment="alpha", status=S.RUNNING, parent_id="a000")]
    runs += [NewRun(id="a000-c2", experiment="alpha", status=S.RUNNING, parent_id="a000", tags=(("best", None),))]
    runs += [NewRun(id="b1", experiment="beta", status=S.RUNNING, tags=(("best", None),))]
    store.create_runs(runs)
    for i in range(12):
        set_run_times(store, f"a{i:03d}", created_at=1000.0 + i, started_at=1000.0 + i)
    store.set_status("a005", S.CANCELED)
    store.ensure_experiment("empty")


def test_experiment_counts(store: Store) -> None:
    make(store)
    counts = experiment_counts(store)
    assert set(counts) == {"alpha", "beta", "empty"}
    assert (counts["alpha"].total, counts["alpha"].live) == (14, 13)
    assert (counts["empty"].total, counts["empty"].live) == (0, 0)
    only = experiment_counts(store, ["beta", "nope"])
    assert set(only) == {"beta"} and only["beta"].total == 1


def test_run_page_pages_top_level_runs_newest_first(store: Store) -> None:
    make(store)
    first = run_page(store, experiment="alpha", limit=5)
    assert [r.id for r in first.runs] == ["a011", "a010", "a009", "a008", "a007"]
    assert first.more
    last = first.runs[-1]
    second = run_page(store, experiment="alpha", limit=5, before=(last.created_at, last.id))
    assert [r.id for r in second.runs] == ["a006", "a005", "a004", "a003", "a002"]
    third = run_page(store, experiment="alpha", limit=5, before=(second.runs[-1].created_at, second.runs[-1].id))
    assert [r.id for r in third.runs] == ["a001", "a000"] and not third.more
    kids = run_page(store, parent_id="a000")
    assert {r.id for r in kids.runs} == {"a000-c1", "a000-c2"}
    live = run_page(store, experiment="alpha", statuses=[S.RUNNING])
    assert {r.id for r in live.runs} == {"a000", "a001"}
    with pytest.raises(ValueError):
        run_page(store)


def test_child_counts(store: Store) -> None:
    make(store)
    assert child_counts(store, ["a000", "a001", "missing"]) == {"a000": 2}
    assert child_counts(store, []) == {}


def test_matching_runs_with_a_filter_and_among_ids(store: Store) -> None:
    make(store)
    where = compile_filter("tag:best")
    assert {r.id for r in matching_runs(store, where)} == {"a000-c2", "b1"}
    assert {r.id for r in matching_runs(store, where, run_ids=["b1", "a000"])} == {"b1"}
    assert len(matching_runs(store, None, statuses=[S.CANCELED])) == 1
    assert len(matching_runs(store, None, limit=3)) == 3


def test_sampled_series_downsamples_in_the_store(store: Store) -> None:
    store.create_runs([NewRun(id="m", experiment="e", status=S.RUNNING)])
    now = time.time()
    store.write_metrics([("m", "loss", step, float(step), None, "scalar", now) for step in range(5000)])
    store.write_metrics([("m", "few", step, 1.0 / (step + 1), None, "scalar", now) for step in range(10)])
    series = sampled_series(store, "m", "loss", 100)
    assert 90 <= len(series.steps) <= 101
    assert series.steps == sorted(series.steps) and series.steps[0] == 0
    # averages of consecutive steps: the shape survives
    assert series.values[0] == pytest.approx(sum(range(50)) / 50)
    assert series.values[-1] > series.values[0]
    few = sampled_series(store, "m", "few", 100)
    assert few.steps == list(range(10)) and few.values[0] == 1.0
    assert sampled_series(store, "m", "nope", 10).steps == []
    with pytest.raises(ValueError):
        sampled_series(store, "m", "loss", 0)


def test_set_run_times_pins_timestamps_without_bumping_the_feed(store: Store) -> None:
    store.create_runs([NewRun(id="r", experiment="e", status=S.RUNNING)])
    revision = store.current_revision()
    set_run_times(store, "r", created_at=10.0, started_at=11.0, ended_at=None)
    rec = store.get_run("r")
    assert (rec.created_at, rec.started_at, rec.ended_at) == (10.0, 11.0, None)
    assert store.current_revision() == revision


def test_listing_headline_is_the_trees_headline(store: Store) -> None:
    """`runtui ls` and the TUI's tree pick the same headline metric (first number or string, not `sys/*`)."""
    import time as _time

    from runtui.status import RunStatus
    from runtui.store import NewRun
    from runtui.store.overview import headline_metrics
    from runtui.tui.data import headline

    store.create_runs([NewRun(id=rid, experiment="h", status=RunStatus.RUNNING) for rid in ("a", "b", "c")])
    t = _time.time()
    store.write_metrics(
        [("a", "sys/cpu", None, 5.0, None, "scalar", t), ("a", "note", None, None, "warm-up", "text", t + 1)]
    )
    store.write_metrics(
        [("a", "loss", None, 0.5, None, "scalar", t + 2), ("b", "loss", None, None, "nan", "scalar", t)]
    )
    store.write_metrics([("c", "table", None, None, "[1]", "list", t)])
    summaries = store.get_summaries(["a", "b", "c"])
    listed = headline_metrics(store, ["a", "b", "c"])
    assert listed["a"] == headline(summaries["a"]) == ("note", "warm-up")
    assert listed["b"][0] == "loss" and listed["b"][1] != listed["b"][1]  # NaN on both sides
    assert "c" not in listed and headline(summaries["c"]) is None
