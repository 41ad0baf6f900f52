"""`sync_stores`: a local SQLite store's records copied into another store (SQLite, and PostgreSQL when
configured), idempotently and incrementally; other runs of the target are never touched."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtui.errors import ValidationError
from runtui.status import RunStatus
from runtui.store import NewRun, Store
from runtui.store.engine import dispose_engine
from runtui.store.sync import sync_stores

S = RunStatus


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Store]:
    url = f"sqlite:///{tmp_path / 'local' / 'runtui.db'}"
    yield Store(url)
    dispose_engine(url)


def _point(run_id: str, name: str, value: float | None, step: int | None = None, text: str | None = None):  # type: ignore[no-untyped-def]
    kind = "scalar" if text is None else "text"
    return (run_id, name, step, value, text, kind, time.time())


def _populate(store: Store) -> None:
    store.create_runs(
        [
            NewRun(
                id="mnist_1_00000001",
                experiment="mnist",
                status=S.RUNNING,
                display_name="baseline",
                kind="submitted",
                host="laptop",
                user="ada",
                script="train.py",
                arguments=("--lr", "0.1"),
                tags=(("best", None), ("quality", "good")),
                properties=(("author", "ada"),),
            ),
            NewRun(id="mnist_1_00000002", experiment="mnist", status=S.RUNNING, parent_id="mnist_1_00000001"),
            NewRun(id="cifar_1_00000003", experiment="cifar", status=S.QUEUED),
        ]
    )
    store.write_metrics([_point("mnist_1_00000001", "loss", 1.0 / (i + 1)) for i in range(100)])
    store.write_metrics([_point("mnist_1_00000001", "note", None, text="hello")])
    store.write_metrics([_point("mnist_1_00000002", "acc", 0.5, step=7)])
    store.add_artifact("mnist_1_00000001", "outputs/model.pt", 1234)
    store.set_status("mnist_1_00000002", S.COMPLETED)


def _snapshot(store: Store) -> dict[str, object]:
    """Everything sync promises to copy, in a comparable form (revisions are each store's own)."""
    runs = sorted(store.query_runs(), key=lambda r: r.id)
    ids = [r.id for r in runs]
    return {
        "experiments": [e.name for e in store.list_experiments()],
        "runs": [_fields(r) for r in runs],
        "tags": store.get_tags(ids),
        "props": store.get_properties(ids),
        "summaries": store.get_summaries(ids),
        "series": {rid: [(s.name, s.steps, s.values) for s in store.get_series(rid)] for rid in ids},
        "artifacts": {rid: [(a.path, a.size) for a in store.list_artifacts(rid)] for rid in ids},
    }


def _fields(record: object) -> dict[str, object]:
    from dataclasses import fields

    return {f.name: getattr(record, f.name) for f in fields(record) if f.name != "revision"}  # type: ignore[arg-type]


def test_sync_copies_everything_and_twice_copies_nothing(local: Store, store: Store) -> None:
    _populate(local)
    first = sync_stores(local, store)
    assert (first.runs_created, first.runs_updated, first.runs_unchanged) == (3, 0, 0)
    assert first.metric_points == 102
    assert first.experiments_created == 2
    assert sorted(first.live_runs) == ["cifar_1_00000003", "mnist_1_00000001"]
    assert _snapshot(store) == _snapshot(local)

    revision = store.current_revision()
    second = sync_stores(local, store)
    assert (second.runs_created, second.runs_updated, second.runs_unchanged) == (0, 0, 3)
    assert second.metric_points == 0 and second.experiments_created == 0
    assert store.current_revision() == revision  # nothing written, so no viewer of the target is woken


def test_a_run_changed_locally_is_brought_up_to_date(local: Store, store: Store) -> None:
    _populate(local)
    sync_stores(local, store)
    revision = store.current_revision()
    local.write_metrics([_point("mnist_1_00000001", "loss", 0.001) for _ in range(5)])
    local.set_tags("mnist_1_00000001", {"quality": "great"})
    local.remove_tags("mnist_1_00000001", ["best"])
    local.add_properties("mnist_1_00000001", {"dataset": "v2"})
    local.add_artifact("mnist_1_00000001", "outputs/final.pt", 99)
    local.set_status("mnist_1_00000001", S.COMPLETED)

    report = sync_stores(local, store)
    assert (report.runs_created, report.runs_updated, report.runs_unchanged) == (0, 1, 2)
    assert report.metric_points == 5  # only the new points travel
    assert _snapshot(store) == _snapshot(local)
    changed = store.changes_since(revision)
    assert [r.id for r in changed.runs] == ["mnist_1_00000001"]  # viewers of the target see the update
    assert changed.runs[0].status == S.COMPLETED


def test_other_runs_of_the_target_are_left_alone(local: Store, store: Store) -> None:
    store.create_runs([NewRun(id="gpu_1_0000abcd", experiment="mnist", status=S.RUNNING, host="gpu1")])
    store.write_metrics([_point("gpu_1_0000abcd", "loss", 3.0)])
    _populate(local)
    sync_stores(local, store)
    theirs = store.get_run("gpu_1_0000abcd")
    assert theirs.host == "gpu1" and theirs.status == S.RUNNING
    assert [s.values for s in store.get_series("gpu_1_0000abcd")] == [[3.0]]
    assert store.count_runs() == 4


def test_a_target_series_that_does_not_match_is_copied_again(local: Store, store: Store) -> None:
    _populate(local)
    sync_stores(local, store)
    # Someone logged into the copy directly: it no longer is a prefix of the source's series.
    store.write_metrics([_point("mnist_1_00000001", "loss", 42.0)])
    report = sync_stores(local, store)
    assert report.runs_updated == 1
    assert _snapshot(store) == _snapshot(local)


def test_sync_in_small_batches_and_progress(local: Store, store: Store) -> None:
    local.create_runs([NewRun(id=f"many_1_{i:08x}", experiment="many", status=S.COMPLETED) for i in range(25)])
    seen: list[int] = []
    report = sync_stores(local, store, batch_runs=10, progress=lambda r: seen.append(r.runs_copied))
    assert report.runs_created == 25
    assert seen == [10, 20, 25]
    assert _snapshot(store) == _snapshot(local)


def test_an_empty_source_copies_nothing(local: Store, store: Store) -> None:
    report = sync_stores(local, store)
    assert report.runs_copied == 0 and report.experiments_created == 0


def test_syncing_a_store_into_itself_is_refused(local: Store) -> None:
    with pytest.raises(ValidationError, match="same store"):
        sync_stores(local, Store(local.url))
