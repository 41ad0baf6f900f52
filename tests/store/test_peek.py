"""runtui.store.peek: the plain-sqlite3 reads of the TUI's first paint give the store layer's answers.

Each read is compared with its store-layer twin on the same real SQLite store (archived and empty
experiments, children, live and finished runs, scalar/text/NaN/system metrics, ties in creation time, pages).
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from runtui.status import RunStatus
from runtui.store import NewRun, Store, open_store
from runtui.store.overview import child_counts, experiment_counts, run_page, set_run_times
from runtui.store.peek import PEEK_SCHEMA, open_peek, sqlite_path
from runtui.tui.data import archived_experiments, headline, peek_first_paint, read_overview, read_page

S = RunStatus
FIXTURES = Path(__file__).parent / "fixtures"


def build(path: Path) -> Store:
    store = open_store(f"sqlite:///{path}")
    runs = [NewRun(id=f"a{i:03d}", experiment="alpha", status=S.RUNNING if i < 3 else S.QUEUED) for i in range(14)]
    runs += [NewRun(id=f"a000-c{i}", experiment="alpha", status=S.RUNNING, parent_id="a000") for i in range(3)]
    runs += [NewRun(id="a000-c0-g", experiment="alpha", status=S.RUNNING, parent_id="a000-c0")]
    runs += [NewRun(id="b1", experiment="beta", status=S.RUNNING, tags=(("best", None),))]
    runs += [NewRun(id="old1", experiment="old", status=S.RUNNING)]
    store.create_runs(runs)
    for i in range(14):
        # two pairs of runs share a creation time: pages must break the tie by id, as the store layer does
        set_run_times(store, f"a{i:03d}", created_at=1000.0 + i // 2 * 2, started_at=1000.0 + i)
    store.set_status("a005", S.CANCELED)
    store.set_status("a006", S.RUNNING)
    store.set_status("a006", S.COMPLETED)
    store.set_status("old1", S.FAILED, error="boom")
    store.ensure_experiment("empty")
    store.archive_experiment("old")
    now = 2000.0
    store.write_metrics(
        [
            ("a000", "sys/cpu_percent", None, 12.0, None, "scalar", now),  # never a headline
            ("a000", "loss", None, 0.5, None, "scalar", now + 1),
            ("a000", "loss", None, 0.25, None, "scalar", now + 2),
            ("a000", "acc", None, 0.9, None, "scalar", now + 1),  # same first time as loss: the name decides
            ("a001", "note", None, None, "hello", "text", now),
            ("a001", "loss", None, 1.0, None, "scalar", now + 5),
            ("a002", "loss", None, None, "nan", "scalar", now),  # NaN is stored as text on SQLite
            ("a003", "table", None, None, '{"x": [1]}', "table", now),  # not a number or string
            ("a003", "sys/gpu", None, 3.0, None, "scalar", now),
            ("b1", "reward", 7, 3.5, None, "scalar", now),
        ]
    )
    return store


def same(a: object, b: object) -> bool:
    """Equal, NaN included (NaN != NaN, but both print as nan): records and dicts print all their fields."""
    return repr(a) == repr(b)


@pytest.fixture
def built(tmp_path: Path) -> tuple[Store, Path]:
    path = tmp_path / "runtui.db"
    return build(path), path


def test_reads_equal_the_store_layer(built: tuple[Store, Path]) -> None:
    store, path = built
    peek = open_peek(f"sqlite:///{path}")
    assert peek is not None
    try:
        assert peek.revision() == store.current_revision()
        assert peek.experiment_counts() == experiment_counts(store)
        assert peek.archived() == archived_experiments(store) == {"old"}
        cases: list[dict[str, object]] = [
            {"experiment": "alpha"},
            {"experiment": "alpha", "limit": 5},
            {"experiment": "alpha", "limit": 3, "before": (1004.0, "a005")},
            {"experiment": "alpha", "statuses": [S.RUNNING, S.QUEUED]},
            {"experiment": "beta"},
            {"experiment": "empty"},
            {"experiment": "nope"},
            {"parent_id": "a000"},
            {"parent_id": "a000-c0"},
            {"parent_id": "b1"},
        ]
        for case in cases:
            assert peek.run_page(**case) == run_page(store, **case), case  # type: ignore[arg-type]
        ids = ["a000", "a000-c0", "a001", "b1", "nope"]
        assert peek.child_counts(ids) == child_counts(store, ids)
        every = [f"a{i:03d}" for i in range(14)] + ["b1", "old1", "nope"]
        summaries = store.get_summaries(every)
        expected = {rid: h for rid in every if (h := headline(summaries.get(rid, []))) is not None}
        assert same(peek.headlines(every), expected)
        assert expected["a000"] == ("acc", 0.9) and expected["a001"] == ("note", "hello")
        assert expected["a002"][0] == "loss" and expected["a002"][1] != expected["a002"][1]  # NaN kept as NaN
        assert "a003" not in expected
        with pytest.raises(ValueError):
            peek.run_page()
    finally:
        peek.close()


def test_first_paint_equals_overview_and_pages(built: tuple[Store, Path]) -> None:
    store, path = built
    peek = open_peek(f"sqlite:///{path}")
    assert peek is not None
    try:
        first = peek_first_paint(peek, None, auto_expand=1)
        saved = peek_first_paint(peek, ["exp:beta", "run:a000", "exp:old", "exp:gone", "bogus"], auto_expand=1)
    finally:
        peek.close()
    overview = read_overview(store)
    assert (first.revision, first.experiments, first.archived) == (
        overview.revision,
        overview.experiments,
        overview.archived,
    )
    assert list(first.pages) == ["exp:alpha"]  # the experiment with the most live runs
    assert same(first.pages["exp:alpha"], read_page(store, "exp:alpha"))
    # The last session's open nodes: experiments and runs; hidden (archived) and vanished ones are skipped.
    assert list(saved.pages) == ["exp:beta", "run:a000"]
    for key, page in saved.pages.items():
        assert same(page, read_page(store, key))


def test_only_sqlite_stores_at_the_known_schema(tmp_path: Path) -> None:
    from runtui.models import SCHEMA_VERSION

    assert PEEK_SCHEMA == SCHEMA_VERSION
    assert open_peek("postgresql+psycopg://postgres@127.0.0.1:5432/test") is None
    assert open_peek(f"sqlite:///{tmp_path / 'missing.db'}") is None
    assert open_peek("sqlite://") is None and sqlite_path("sqlite:///x.db?mode=ro") == "x.db"
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    assert open_peek(f"sqlite:///{tmp_path / 'junk.db'}") is None
    with sqlite3.connect(tmp_path / "other.db") as conn:
        conn.execute("CREATE TABLE t (x)")
    assert open_peek(f"sqlite:///{tmp_path / 'other.db'}") is None
    # A store made by the previous release (schema 1) is left to the store layer, which migrates it.
    v1 = tmp_path / "v1.db"
    shutil.copy(FIXTURES / "v1_store.db", v1)
    assert open_peek(f"sqlite:///{v1}") is None
    open_store(f"sqlite:///{v1}")  # migrated to the current schema
    migrated = open_peek(f"sqlite:///{v1}")
    assert migrated is not None
    migrated.close()
