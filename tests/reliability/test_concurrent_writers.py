"""Many writers at once, with a viewer refreshing all the time: nothing lost, no lock errors, no starvation.

16 real processes each log 50,000 points (plus tags, properties, a child run and status changes) through the
SDK into one store while a TUI-like reader refreshes in a loop; then 16 threads of one process share one run.
Afterwards every point is in the store, checked by exact counts and checksums per run and metric.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from reliability_support import (
    METRIC_ROWS,
    Finished,
    finish,
    integrity_ok,
    metrics_match_summaries,
    query,
    spawn,
    stderr_problems,
)
from reliability_worker import point_value

pytestmark = pytest.mark.reliability

WRITERS = 16
POINTS = 50_000
NAMES = ["loss", "accuracy", "lr", "grad_norm"]
FLUSH_EVERY = 5_000
# A liveness bound, not a benchmark: a writer must never wait this long for one flush or one tag write.
# Measured on 2 busy cores: SQLite's busy handler is not fair (a long waiter polls every 100 ms while newcomers
# poll every few ms), so with 16 writers one of them may wait 5-14 s for the write lock; PostgreSQL ~2.5 s.
MAX_WAIT_S = 30.0


def _expected(index: int) -> dict[str, tuple[int, float, float, int]]:
    """Per metric name: (count, sum of values, sum of step*value, sum of steps)."""
    out: dict[str, list[float]] = {name: [0, 0.0, 0.0, 0] for name in NAMES}
    for i in range(POINTS):
        name = NAMES[i % len(NAMES)]
        step = i // len(NAMES)
        v = point_value(index, i)
        acc = out[name]
        acc[0] += 1
        acc[1] += v
        acc[2] += step * v
        acc[3] += step
    return {k: (int(v[0]), v[1], v[2], int(v[3])) for k, v in out.items()}


@pytest.mark.timeout(900)
def test_sixteen_processes_lose_nothing_while_a_reader_refreshes(store_url: str, tmp_path: Path) -> None:
    home = tmp_path / "ws"
    stop = tmp_path / "stop-reader"
    reader = spawn("reader", {"url": store_url, "stop_file": str(stop)})
    writers = [
        spawn(
            "writer",
            {
                "home": str(home),
                "url": store_url,
                "index": k,
                "points": POINTS,
                "names": NAMES,
                "flush_every": FLUSH_EVERY,
            },
        )
        for k in range(WRITERS)
    ]
    results: list[Finished] = [finish(p, timeout=600) for p in writers]
    stop.touch()
    seen = finish(reader, timeout=120)

    for k, res in enumerate(results):
        assert res.returncode == 0, f"writer {k} exited {res.returncode}: {res.stderr[-3000:]}"
        assert stderr_problems(res.stderr) == [], f"writer {k} reported trouble: {res.stderr[-3000:]}"
    assert seen.returncode == 0 and stderr_problems(seen.stderr) == [], seen.stderr[-3000:]
    assert seen.last("done")["refreshes"] > 0

    done = [res.last("done") for res in results]
    # Liveness: the reader never held a writer up for long (the figures are reported, not benchmarked).
    worst_flush = max(d["max_flush"] for d in done)
    worst_sync = max(d["max_sync"] for d in done)
    print(f"\n{WRITERS} writers x {POINTS} points: worst flush {worst_flush:.2f} s, worst tag write {worst_sync:.2f} s")
    assert worst_flush < MAX_WAIT_S
    assert worst_sync < MAX_WAIT_S

    integrity_ok(store_url)
    metrics_match_summaries(store_url)
    for k, d in enumerate(done):
        rows = query(
            store_url,
            "SELECT name, COUNT(*), SUM(value), SUM(step * value), SUM(step), COUNT(DISTINCT step), MAX(step)"
            " FROM " + METRIC_ROWS + " WHERE run_id = :r GROUP BY name",
            r=d["run_id"],
        )
        got = {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}
        assert got == _expected(k), f"writer {k}: points lost or altered"
        for name, count, *_rest, distinct, max_step in rows:
            assert distinct == count and max_step == count - 1, f"writer {k} {name}: steps collide or have gaps"
        (status,) = query(store_url, "SELECT status FROM run WHERE id = :r", r=d["run_id"])[0]
        assert status == "Completed"
        assert query(store_url, "SELECT status FROM run WHERE id = :r", r=d["child_id"]) == [("Failed",)]
        tags = dict(query(store_url, "SELECT key, value FROM run_tag WHERE run_id = :r", r=d["run_id"]))
        assert tags == {"progress": str(POINTS), "done": None}
        props = dict(query(store_url, "SELECT key, value FROM run_property WHERE run_id = :r", r=d["run_id"]))
        assert props == {"writer": str(k)}
    total = query(
        store_url,
        "SELECT COUNT(*) FROM " + METRIC_ROWS + " WHERE name <> 'acc'",
    )[0][0]
    assert total == WRITERS * POINTS


@pytest.mark.timeout(600)
def test_sixteen_threads_share_one_run(store_url: str, tmp_path: Path) -> None:
    threads, points = 16, 50_000
    args = {"home": str(tmp_path / "ws"), "url": store_url, "threads": threads, "points": points}
    res = finish(spawn("threads", args), 500)
    assert res.returncode == 0, res.stderr[-3000:]
    assert stderr_problems(res.stderr) == [], res.stderr[-3000:]
    done = res.last("done")
    assert done["errors"] == []
    integrity_ok(store_url)
    metrics_match_summaries(store_url)
    rows = query(
        store_url,
        "SELECT name, COUNT(*), SUM(value), COUNT(DISTINCT step), MIN(step), MAX(step) FROM " + METRIC_ROWS + ""
        " WHERE run_id = :r GROUP BY name",
        r=done["run_id"],
    )
    got = {r[0]: r[1:] for r in rows}
    shared = threads * len(range(0, points, 10))
    # Every thread's own series, exact; the shared series got one step per point, no step given twice.
    assert got.pop("shared") == (shared, float(shared), shared, 0, shared - 1)
    for k in range(threads):
        expected_sum = sum(point_value(k, i) for i in range(points))
        assert got[f"t{k}"] == (points, expected_sum, points, 0, points - 1)
    assert query(store_url, "SELECT status FROM run WHERE id = :r", r=done["run_id"]) == [("Completed",)]
    tags = dict(query(store_url, "SELECT key, value FROM run_tag WHERE run_id = :r", r=done["run_id"]))
    assert tags == {f"thread{k}": "40000" for k in range(threads)}
