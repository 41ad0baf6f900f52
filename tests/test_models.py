"""`runtui.models` in a notebook: runs, metrics and tags written by the SDK, read back with plain SQLModel
(`Session` + `select`) and with pandas `read_sql`, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, create_engine, func, select

import runtui
from runtui.models import Experiment, MetricPoint, MetricSeries, Run, RunTag


@pytest.fixture
def logged(store_url: str, tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """Three runs of one experiment logged through the SDK, the last one with a NaN."""
    ws = runtui.Workspace(path=tmp_path / "ws", store_url=store_url)
    exp = runtui.Experiment(ws, "notebook")
    ids = []
    for lr in (0.1, 0.01, 0.001):
        with exp.start_logging(display_name=f"lr={lr}") as run:
            run.tag("lr", str(lr))
            if lr == 0.1:
                run.tag("baseline")  # a key-only tag
            for step in range(5):
                run.log("loss", lr * (5 - step), description="training loss")
            run.log("acc", float("nan") if lr == 0.001 else 1 - lr)
            ids.append(run.id)
    yield store_url, ids


@pytest.fixture
def engine(logged: tuple[str, list[str]]) -> Iterator[Engine]:
    """A plain SQLModel engine of the user's own, as a notebook would make it."""
    eng = create_engine(logged[0])
    yield eng
    eng.dispose()


def test_session_and_select_read_what_the_sdk_wrote(logged: tuple[str, list[str]], engine: Engine) -> None:
    _, ids = logged
    with Session(engine) as session:
        [exp] = session.exec(select(Experiment).where(Experiment.name == "notebook")).all()
        assert len(exp.id) == 36 and exp.archived_at is None
        runs = session.exec(select(Run).where(Run.experiment == "notebook").order_by(col(Run.number))).all()
        assert [r.id for r in runs] == ids and [r.number for r in runs] == [1, 2, 3]
        assert {r.status for r in runs} == {"Completed"}
        assert all(isinstance(r.created_at, float) and r.ended_at is not None for r in runs)

        # The last loss of every run, through the series table (one row per run and metric).
        last = session.exec(
            select(Run.display_name, MetricSeries.last, MetricSeries.count, MetricSeries.description)
            .join(MetricSeries, col(MetricSeries.run_id) == col(Run.id))
            .where(MetricSeries.name == "loss")
            .order_by(col(Run.number))
        ).all()
        assert [(n, round(v or 0, 6), c, d) for n, v, c, d in last] == [
            ("lr=0.1", 0.1, 5, "training loss"),
            ("lr=0.01", 0.01, 5, "training loss"),
            ("lr=0.001", 0.001, 5, "training loss"),
        ]
        # Every point of one series, in step order.
        points = session.exec(
            select(MetricPoint.step, MetricPoint.value)
            .join(MetricSeries, col(MetricSeries.id) == col(MetricPoint.series_id))
            .where(MetricSeries.run_id == ids[0], MetricSeries.name == "loss")
            .order_by(col(MetricPoint.step))
        ).all()
        assert [(s, round(v or 0, 6)) for s, v in points] == [(0, 0.5), (1, 0.4), (2, 0.3), (3, 0.2), (4, 0.1)]
        # Tags: key-only tags have no value.
        tags = session.exec(
            select(RunTag.key, RunTag.value).where(RunTag.run_id == ids[0]).order_by(col(RunTag.key))
        ).all()
        assert tags == [("baseline", None), ("lr", "0.1")]
        tagged = session.exec(select(func.count()).select_from(RunTag).where(RunTag.key == "lr")).one()
        assert tagged == 3


def test_pandas_read_sql_builds_a_frame_of_runs_metrics_and_tags(logged: tuple[str, list[str]], engine: Engine) -> None:
    _, ids = logged
    stmt = (
        select(col(Run.id), col(Run.number), col(RunTag.value).label("lr"), col(MetricSeries.name))
        .add_columns(col(MetricPoint.step), col(MetricPoint.value))
        .join(RunTag, (col(RunTag.run_id) == col(Run.id)) & (col(RunTag.key) == "lr"))
        .join(MetricSeries, col(MetricSeries.run_id) == col(Run.id))
        .join(MetricPoint, col(MetricPoint.series_id) == col(MetricSeries.id))
        .where(col(Run.experiment) == "notebook")
    )
    frame = pd.read_sql(stmt, engine)
    assert list(frame.columns) == ["id", "number", "lr", "name", "step", "value"]
    assert len(frame) == 3 * (5 + 1)
    final = frame[frame["name"] == "loss"].groupby("lr")["value"].min().round(6).to_dict()
    assert final == {"0.1": 0.1, "0.01": 0.01, "0.001": 0.001}
    # NaN is stored as text (value NULL) so that SQLite keeps it: it reads back as a missing value.
    acc = frame[frame["name"] == "acc"].set_index("id")["value"]
    assert math.isnan(acc[ids[2]]) and acc[ids[0]] == pytest.approx(0.9)
