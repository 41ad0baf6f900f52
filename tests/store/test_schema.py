"""Schema v1 -> v2 migration from a real v1 store (tests/store/fixtures/v1_store.db, made by runtui v1's own code),
on SQLite and on PostgreSQL (the fixture's rows loaded into a PostgreSQL schema made by v1's DDL): nothing lost."""

from __future__ import annotations

import math
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from runtui.status import RunStatus
from runtui.store import Store
from runtui.store.db import Database
from runtui.store.engine import dispose_engine

FIXTURES = Path(__file__).parent / "fixtures"
V1_DB = FIXTURES / "v1_store.db"
V1_PG_DDL = FIXTURES / "v1_postgresql.sql"
V1_TABLES = [
    "store_meta",
    "experiment",
    "run",
    "run_tag",
    "run_property",
    "metric",
    "metric_summary",
    "artifact",
    "log_chunk",
]

# What the v1 store holds, measured on the v1 file itself; the migrated store must hold the same.
V1_FACTS = {
    "experiments": "SELECT count(*) FROM experiment",
    "runs": "SELECT count(*), sum(length(id)), count(parent_id) FROM run",
    "run_statuses": "SELECT count(*) FROM run WHERE status IN ('Completed', 'Failed')",
    "tags": "SELECT count(*), count(value) FROM run_tag",
    "properties": "SELECT count(*), sum(length(value)) FROM run_property",
    "points": "SELECT count(*), sum(value), sum(step), count(text), count(value) FROM metric",
    "series": "SELECT count(*), sum(count), sum(last_step), sum(min), sum(max) FROM metric_summary",
    "descriptions": "SELECT count(*) FROM metric_summary WHERE description <> ''",
    "artifacts": "SELECT count(*), sum(size) FROM artifact",
    "log_chunks": 'SELECT count(*), sum(length(data)), sum("offset") FROM log_chunk',
}
V2_FACTS = {
    **V1_FACTS,
    "points": "SELECT count(*), sum(value), sum(step), count(text), count(value) FROM metric_point",
    "series": "SELECT count(*), sum(count), sum(last_step), sum(min), sum(max) FROM metric_series",
    "descriptions": "SELECT count(*) FROM metric_series WHERE description <> ''",
}


def _facts(run: Any, queries: dict[str, str]) -> dict[str, tuple[Any, ...]]:
    out = {}
    for key, sql in queries.items():
        row = tuple(run(sql))
        out[key] = tuple(round(v, 6) if isinstance(v, float) else v for v in row)
    return out


def _v1_facts() -> dict[str, tuple[Any, ...]]:
    with sqlite3.connect(f"file:{V1_DB}?mode=ro", uri=True) as conn:
        facts = _facts(lambda sql: conn.execute(sql).fetchone(), V1_FACTS)
        assert conn.execute("SELECT schema_version FROM store_meta").fetchone() == (1,)
    return facts


def _v2_facts(store: Store) -> dict[str, tuple[Any, ...]]:
    with store.engine.connect() as conn:
        return _facts(lambda sql: conn.execute(text(sql)).one(), V2_FACTS)


def _sqlite_copy(tmp_path: Path) -> str:
    db = tmp_path / "store" / "runtui.db"
    db.parent.mkdir(mode=0o700)
    shutil.copy(V1_DB, db)
    return f"sqlite:///{db}"


def _load_into_postgres(url: str) -> None:
    """A v1 store on PostgreSQL: v1's DDL, then every row of the v1 fixture, table by table."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn, sqlite3.connect(f"file:{V1_DB}?mode=ro", uri=True) as src:
            ddl = "\n".join(line for line in V1_PG_DDL.read_text().splitlines() if not line.startswith("--"))
            for statement in ddl.split(";"):
                if statement.strip():
                    conn.exec_driver_sql(statement)
            for table in V1_TABLES:
                cur = src.execute(f'SELECT * FROM "{table}"')
                columns = [d[0] for d in cur.description]
                rows = [dict(zip(columns, r, strict=True)) for r in cur.fetchall()]
                quoted = ", ".join(f'"{c}"' for c in columns)
                marks = ", ".join(f":{c}" for c in columns)
                if rows:
                    conn.execute(text(f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})'), rows)
            # BIGSERIAL ids were given explicitly: move the sequence past them, as v1 itself would have.
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('metric', 'id'), (SELECT max(id) FROM metric))")
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def v1_url(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "sqlite":
        url = _sqlite_copy(tmp_path)
        yield url
        dispose_engine(url)
    else:
        pg_url = request.getfixturevalue("pg_schema_url")
        _load_into_postgres(pg_url)
        yield pg_url


def test_the_fixture_is_a_real_v1_store_with_every_kind_of_row() -> None:
    facts = _v1_facts()
    assert facts["runs"][0] >= 7 and facts["runs"][2] >= 3  # runs and children
    assert facts["tags"][0] > facts["tags"][1] > 0  # key-only tags and valued tags
    assert facts["artifacts"][0] >= 3 and facts["log_chunks"][0] >= 6
    with sqlite3.connect(f"file:{V1_DB}?mode=ro", uri=True) as conn:
        kinds = {k for (k,) in conn.execute("SELECT DISTINCT kind FROM metric")}
        assert kinds == {"scalar", "text", "list", "row", "table"}
        assert conn.execute("SELECT count(*) FROM metric WHERE text = 'nan'").fetchone()[0] == 3


def test_v1_store_is_migrated_with_nothing_lost(v1_url: str) -> None:
    before = _v1_facts()
    Database.forget_schema(v1_url)
    store = Store(v1_url)
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT schema_version FROM store_meta")).scalar() == 2
        tables = {"metric", "metric_summary"} & set(
            r[0]
            for r in conn.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                    if store.sqlite
                    else "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
                )
            )
        )
        assert tables == set(), "the v1 metric tables are gone"
    assert _v2_facts(store) == before

    # Through the API: every kind of value reads back as it was logged, NaN and infinity included.
    exps = {e.name: e for e in store.list_experiments()}
    assert set(exps) == {"mnist", "cifar"}
    assert len({e.id for e in exps.values()}) == 2 and all(len(e.id) == 36 for e in exps.values())
    top = sorted(store.query_runs(experiment="mnist", top_level_only=True), key=lambda r: r.created_at)
    every = sorted(store.query_runs(experiment="mnist"), key=lambda r: (r.created_at, r.id))
    assert [r.number for r in every] == [1, 2, 3, 4, 5, 6]  # creation order, children included
    assert [r.number for r in top] == [1, 3, 5]
    run = top[0]
    series = {s.name: s for s in store.get_series(run.id)}
    assert series["loss"].values[:2] == [1.0, 0.5] and len(series["loss"].values) == 50
    assert math.isnan(series["acc"].values[0]) and series["acc"].values[1] == 0.5
    assert series["inf"].values == [math.inf]
    assert series["note"].values == ["hello"]
    assert series["hist"].values == [[1, 2, 3.5]]
    assert series["row"].values == [{"x": 1, "y": 2.5}]
    assert series["table"].values == [{"a": [1, 2], "b": [3.0, 4.0]}]
    summaries = {s.name: s for s in store.get_summaries([run.id])[run.id]}
    assert summaries["loss"].count == 50 and summaries["loss"].description == "training loss"
    assert summaries["loss"].min == pytest.approx(1 / 50)
    assert store.get_tags([run.id])[run.id] == {"quality": None, "seed": "0"}
    assert "".join(d for _, _, d in store.read_log_chunks(run.id)) == "epoch 0 done\nhéllo ünïcode\n"

    # The migrated store takes new writes: a new run is numbered after the old ones, points continue.
    new = store.create_runs([_new_run("mnist")])[0]
    assert new.number == 7
    store.write_metrics([(new.id, "loss", None, 0.1, None, "scalar", 1.0)])
    live = [r for r in store.query_runs(statuses=[RunStatus.RUNNING])]
    assert [r.id for r in live] == [new.id]
    assert store.get_series(new.id)[0].values == [0.1]


def _new_run(experiment: str) -> Any:
    from runtui.store import NewRun

    return NewRun(id=f"{experiment}_new", experiment=experiment, status=RunStatus.RUNNING)


def test_a_failed_migration_leaves_the_v1_store_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from runtui.errors import StoreError
    from runtui.store import schema

    url = _sqlite_copy(tmp_path)
    original = schema.MIGRATIONS[1]

    def half_then_crash(conn: Any) -> None:
        original(conn)
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(schema.MIGRATIONS, 1, half_then_crash)
    Database.forget_schema(url)
    with pytest.raises((StoreError, RuntimeError)):
        Store(url)
    dispose_engine(url)
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        assert conn.execute("SELECT schema_version FROM store_meta").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM metric").fetchone()[0] == _v1_facts()["points"][0]
    monkeypatch.setitem(schema.MIGRATIONS, 1, original)
    Database.forget_schema(url)
    assert _v2_facts(Store(url)) == _v1_facts()
    dispose_engine(url)
