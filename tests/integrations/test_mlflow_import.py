"""`runtui import mlflow` against real MLflow stores built by MLflow itself (SQLite and the file store)."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mlflow")
from cli_support import runtui_cli
from mlflow_fixture import build, grow

import runtui

# Building MLflow's SQLite schema (its migrations) counts in the first test; on a loaded 2-core box that alone
# took minutes, so this module gets a longer bound than the suite's 300 s.
pytestmark = pytest.mark.timeout(900)

STATUS = {"FINISHED": "Completed", "FAILED": "Failed", "KILLED": "Canceled", "RUNNING": "Running"}


@pytest.fixture(scope="module", params=["sqlite", "file", "postgresql"])
def mlflow_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, Any]]]:
    """One MLflow store per backend for the module (MLflow's SQLite schema takes seconds to create). The
    PostgreSQL one lives in a database of its own, made for the module and dropped after it."""
    tmp = tmp_path_factory.mktemp(f"mlflow-{request.param}")
    if request.param == "sqlite":
        yield f"sqlite:///{tmp / 'mlflow.db'}", build(f"sqlite:///{tmp / 'mlflow.db'}", tmp)
    elif request.param == "file":
        os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
        uri = (tmp / "mlruns").as_uri()
        yield uri, build(uri, tmp)
    else:
        with _postgres_database() as server:
            # MLflow itself writes through psycopg 3 (psycopg2 is not installed); the import reads the plain
            # `postgresql://` URI a user copies from MLflow's settings, which runtui maps onto psycopg 3.
            ids = build(f"postgresql+psycopg://{server}", tmp)
            yield f"postgresql://{server}", ids


@contextlib.contextmanager
def _postgres_database() -> Iterator[str]:
    """`user@host:port/db` of a new, empty database on the test PostgreSQL server; dropped afterwards."""
    url = os.environ.get("RUNTUI_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("RUNTUI_TEST_POSTGRES_URL is not set: no PostgreSQL to build an MLflow store on")
    import psycopg

    server = url.split("://", 1)[1].rsplit("/", 1)[0]
    name = f"mlflow_source_{os.getpid()}"
    admin = f"postgresql://{server}/{url.rsplit('/', 1)[1]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield f"{server}/{name}"
    finally:
        # FORCE: MLflow's engine still holds pooled connections to it.
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _mlflow_view(uri: str) -> dict[str, dict[str, Any]]:
    """Every active run as MLflow's own client reports it."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    exps = {e.experiment_id: e for e in client.search_experiments()}
    out = {}
    for run in client.search_runs(list(exps), max_results=1000):
        info, data = run.info, run.data
        series = {}
        for key in data.metrics:
            series[key] = sorted(
                (m.step, m.timestamp, None if math.isnan(m.value) else m.value)
                for m in client.get_metric_history(info.run_id, key)
            )
        files: dict[str, int] = {}
        stack = [None]
        while stack:
            for f in client.list_artifacts(info.run_id, stack.pop()):
                if f.is_dir:
                    stack.append(f.path)
                else:
                    files[f"outputs/{f.path}"] = f.file_size
        out[f"mlflow_{info.run_id}"] = {
            "experiment": exps[info.experiment_id].name,
            "experiment_id": info.experiment_id,
            "name": info.run_name,
            "status": STATUS[info.status],
            "start": info.start_time / 1000,
            "end": None if info.end_time is None else info.end_time / 1000,
            "parent": data.tags.get("mlflow.parentRunId"),
            "params": dict(data.params),
            "tags": dict(data.tags),
            "series": series,
            "files": files,
        }
    return out


def _runtui_dump(ws: runtui.Workspace) -> dict[str, dict[str, Any]]:
    """Everything runtui keeps of each run, for a field-by-field comparison (the store revision left out)."""
    store = ws.store
    recs = list(store.query_runs())
    ids = [r.id for r in recs]
    props, tags = store.get_properties(ids), store.get_tags(ids)
    out = {}
    for r in recs:
        row = {k: v for k, v in dataclasses.asdict(r).items() if k not in ("revision", "heartbeat_at")}
        series = {
            s.name: sorted(
                (st, round(t * 1000), None if v is None or math.isnan(v) else v)
                for st, v, t in zip(s.steps, s.values, s.times, strict=True)
            )
            for s in store.get_series(r.id)
        }
        files = {a.path: a.size for a in store.list_artifacts(r.id)}
        out[r.id] = {"row": row, "props": props[r.id], "tags": tags[r.id], "series": series, "files": files}
    return out


def _compare(mlflow: dict[str, dict[str, Any]], dump: dict[str, dict[str, Any]], ws: runtui.Workspace) -> None:
    assert set(dump) == set(mlflow)
    for rid, want in mlflow.items():
        got = dump[rid]
        row = got["row"]
        assert row["display_name"] == want["name"], rid
        assert row["status"].value == want["status"], rid
        assert row["created_at"] == pytest.approx(want["start"]) and row["started_at"] == pytest.approx(want["start"])
        if want["end"] is not None and want["status"] != "Running":
            assert row["ended_at"] == pytest.approx(want["end"]), rid
        assert row["parent_id"] == (f"mlflow_{want['parent']}" if want["parent"] else None)
        assert row["kind"] == ("child" if want["parent"] else "interactive")
        assert got["props"] == {
            **want["params"],
            "mlflow.run_id": rid.removeprefix("mlflow_"),
            "mlflow.experiment_id": want["experiment_id"],
            "mlflow.experiment_name": want["experiment"],
        }
        assert got["tags"] == want["tags"]
        assert got["series"] == want["series"], rid
        assert got["files"] == want["files"]
        for path, size in want["files"].items():
            assert (ws.config.run_dir(rid) / path).stat().st_size == size


def _new_home(tmp_path: Path) -> Path:
    """An empty runtui workspace to import into: like every command but init/submit/demo, import refuses a --home
    that does not exist (a typo in --home must not silently start a second workspace)."""
    home = tmp_path / "home"
    res = runtui_cli("init", home=home)
    assert res.code == 0, res.err
    return home


def test_import_twice_copies_everything_once(mlflow_store: tuple[str, dict[str, Any]], tmp_path: Path) -> None:
    uri, ids = mlflow_store
    home = _new_home(tmp_path)
    want = _mlflow_view(uri)
    assert sum(len(p) for r in want.values() for p in r["series"].values()) >= 10_000

    dry = runtui_cli("import", "mlflow", "--from", uri, "--dry-run", home=home)
    assert dry.code == 0, dry.err
    assert "would import" in dry.out and "5 runs new" in dry.out
    assert not (home / "runs").exists() or not any((home / "runs").iterdir())

    first = runtui_cli("import", "mlflow", "--from", uri, home=home)
    assert first.code == 0, first.err
    assert "3 experiments new; 5 runs new, 0 updated, 0 unchanged" in first.out  # MLflow's Default counts
    assert "points/s" in first.out
    assert "is runtui experiment vision-resnet-50" in first.err
    ws = runtui.Workspace(path=home)
    exps = {e.name: e for e in ws.store.list_experiments()}
    assert set(exps) == {"Default", "vision-resnet-50", "nlp"}
    assert exps["vision-resnet-50"].tags == {"area": "cv"}
    assert ws.store.get_run(f"mlflow_{ids['parent']}").description == "a grid over lr"
    assert f"mlflow_{ids['deleted']}" not in {r.id for r in ws.store.query_runs()}
    dump = _runtui_dump(ws)
    _compare(want, dump, ws)
    live = ws.store.get_run(f"mlflow_{ids['live']}")
    assert live.status.value == "Running" and live.heartbeat_at is None  # no sweeper will call it lost

    second = runtui_cli("import", "mlflow", "--from", uri, home=home)
    assert second.code == 0, second.err
    assert "0 runs new, 0 updated, 5 unchanged; 0 metric points" in second.out
    assert _runtui_dump(ws) == dump

    # MLflow moves on; the next import adds exactly that
    grow(uri, ids)
    third = runtui_cli("import", "mlflow", "--from", uri, "--experiment", "nlp", home=home)
    assert third.code == 0, third.err
    assert "0 runs new, 1 updated, 0 unchanged; 101 metric points, 1 properties, 1 tags" in third.out
    _compare(_mlflow_view(uri), _runtui_dump(ws), ws)
    assert ws.store.get_run(f"mlflow_{ids['live']}").status.value == "Completed"


def test_unknown_experiment_is_a_usage_error(mlflow_store: tuple[str, dict[str, Any]], tmp_path: Path) -> None:
    uri, _ = mlflow_store
    res = runtui_cli("import", "mlflow", "--from", uri, "--experiment", "nope", home=_new_home(tmp_path))
    assert res.code == 2
    assert res.err_lines == [res.err_lines[0]] and "no MLflow experiment 'nope'" in res.err_lines[0]


def test_corrupt_stores_are_refused_cleanly(tmp_path: Path) -> None:
    home = tmp_path / "home"
    garbage = tmp_path / "mlflow.db"
    garbage.write_bytes(b"this is not a database" * 100)
    res = runtui_cli("import", "mlflow", "--from", f"sqlite:///{garbage}", home=home)
    assert res.code == 1 and len(res.err_lines) == 1
    assert "is not a readable SQLite database" in res.err

    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE runs (x)").connection.commit()
    res = runtui_cli("import", "mlflow", "--from", str(other), home=home)
    assert res.code == 1 and res.err_lines == [
        f"runtui: error: sqlite:///{other} is not an MLflow tracking database (no table experiments, metrics, params, "
        "tags)"
    ]

    res = runtui_cli("import", "mlflow", "--from", str(tmp_path / "missing"), home=home)
    assert res.code == 1 and "no such file or folder" in res.err

    empty = tmp_path / "empty"
    empty.mkdir()
    res = runtui_cli("import", "mlflow", "--from", str(empty), home=home)
    assert res.code == 1 and "is not an MLflow file store" in res.err


def test_a_damaged_run_loses_nothing_and_a_later_import_completes_it(tmp_path: Path) -> None:
    """A file store with one truncated metric file: the other runs and the damaged run's readable parts are
    imported, the error names the file and line; after the fix, importing again adds only the rest."""
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    uri = (tmp_path / "mlruns").as_uri()
    client = MlflowClient(tracking_uri=uri)
    exp = client.create_experiment("e")
    good = client.create_run(exp, run_name="good").info.run_id
    bad = client.create_run(exp, run_name="bad").info.run_id
    for rid in (good, bad):
        client.log_batch(rid, metrics=[Metric("loss", k / 10, 1_700_000_000_000 + k, k) for k in range(50)])
        client.log_batch(rid, metrics=[Metric("acc", k / 10, 1_700_000_000_000 + k, k) for k in range(50)])
        client.set_terminated(rid, "FINISHED")
    acc = next((tmp_path / "mlruns").glob(f"*/{bad}/metrics/acc"))
    intact = acc.read_text()
    acc.write_text(intact + "17000000\n")  # a torn write
    home = _new_home(tmp_path)

    res = runtui_cli("import", "mlflow", "--from", uri, home=home)
    assert res.code == 1
    assert f"run {bad}: {acc}, line 51: not a metric point" in res.err
    store = runtui.Workspace(path=home).store
    assert store.get_run(f"mlflow_{good}").status.value == "Completed"
    assert {s.name: s.count for s in store.get_summaries([f"mlflow_{good}"])[f"mlflow_{good}"]} == {
        "loss": 50,
        "acc": 50,
    }
    damaged = store.get_run(f"mlflow_{bad}")
    assert damaged.status.value == "Running"  # not finished: its points are not all in yet
    assert {s.name: s.count for s in store.get_summaries([damaged.id])[damaged.id]}.get("acc", 0) == 0

    acc.write_text(intact)
    res = runtui_cli("import", "mlflow", "--from", uri, home=home)
    assert res.code == 0, res.err
    assert "0 runs new, 1 updated, 1 unchanged" in res.out
    counts = {s.name: s.count for s in store.get_summaries([damaged.id])[damaged.id]}
    assert counts == {"loss": 50, "acc": 50}
    assert store.get_run(damaged.id).status.value == "Completed"
