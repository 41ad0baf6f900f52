"""The metric batch write path (runtui/store/metrics.py): every point goes in once, in order, whatever the batch
size (the multi-row INSERT tiers on SQLite, COPY on PostgreSQL) and whatever the SQLite build allows."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest

from runtui.status import RunStatus
from runtui.store import NewRun, Store, open_store
from runtui.store.metrics import SQLITE_ROWS_PER_INSERT, PendingPoint, insert_flat, series_of

# Crosses every tier: two 2,000-row statements, three 100-row ones, then single rows.
MIXED = 2 * 2000 + 3 * 100 + 51


def _points(run_id: str, n: int) -> list[PendingPoint]:
    # Two interleaved metrics, steps left to the store; among them a text value and a NaN, as the SDK queues
    # them (runtui.core.values.scalar: NaN travels as text with no number).
    out: list[PendingPoint] = []
    for i in range(n):
        t = 1_700_000_000.0 + i
        if i % 2:
            out.append((run_id, "acc", None, i / 7, None, "scalar", t))
        elif i == 10:
            out.append((run_id, "loss", None, None, "diverged", "text", t))
        elif i == 20:
            out.append((run_id, "loss", None, None, "nan", "scalar", t))
        else:
            out.append((run_id, "loss", None, i * 0.5, None, "scalar", t))
    return out


@pytest.mark.parametrize("n", [1, 7, 100, 2000, MIXED])
def test_every_point_goes_in_once_and_in_order(store: Store, n: int) -> None:
    store.create_runs([NewRun(id="r", experiment="e", status=RunStatus.RUNNING)])
    points = _points("r", n)
    assert store.write_metrics(points) == n
    assert store.count_points("r") == n
    series = {s.name: s for s in store.get_series("r")}
    for name in ("loss", "acc"):
        sent = [p for p in points if p[1] == name]
        if not sent:
            continue
        got = series[name]
        assert got.steps == list(range(len(sent)))  # steps left to the store count from 0
        expected = [p[4] if p[5] == "text" else p[3] for p in sent]
        shown = ["nan" if isinstance(v, float) and math.isnan(v) else v for v in got.values]
        assert shown == ["nan" if p[4] == "nan" else e for p, e in zip(sent, expected, strict=True)]


def test_a_sqlite_build_that_binds_999_parameters_uses_the_smaller_statements(tmp_path: Path) -> None:
    """SQLite before 3.32 allows 999 parameters a statement: the 2,000-row statement (10,000) is skipped, the
    100-row one (500) still used, nothing lost."""
    store = open_store(f"sqlite:///{tmp_path / 'old.db'}")
    store.create_runs([NewRun(id="r", experiment="e", status=RunStatus.RUNNING)])
    store.write_metrics(_points("r", 1))  # makes the series
    with store.db.engine.begin() as conn:
        dbapi = conn.connection.driver_connection
        assert isinstance(dbapi, sqlite3.Connection)
        dbapi.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
        sid = series_of(conn, "r", "loss").id
        flat: list[object] = []
        for i in range(MIXED):
            flat += [sid, 1000 + i, float(i), 1.7e9 + i, None]
        insert_flat(conn, flat)
        dbapi.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 32766)
    assert store.count_points("r") == MIXED + 1
    (loss,) = [s for s in store.get_series("r") if s.name == "loss"]
    assert loss.steps[1:] == list(range(1000, 1000 + MIXED))
    assert loss.values[1:] == [float(i) for i in range(MIXED)]
    assert 5 * max(SQLITE_ROWS_PER_INSERT) > 999 >= 5 * min(SQLITE_ROWS_PER_INSERT)
