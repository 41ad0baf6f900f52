"""The JSON listing built by SQLite (`json_chunks`) writes exactly the bytes of the per-row Python encoder that
`runtui ls --json` uses today (`encode_pieces` over `pieces`), for hostile and ordinary runs alike."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from runtui.cli.commands.listing import encode_pieces
from runtui.status import RunStatus
from runtui.store import NewRun, Store
from runtui.store.listing import FIRST_PIECE, json_chunks, open_read_only, pieces
from runtui.store.metrics import PendingPoint

HOSTILE = '\x1b]0;pwned\x07 é ✓ 😀 \u2028 "q" \\ \x7f'


def _store(path: Path) -> Store:
    store = Store(f"sqlite:///{path}")
    base = 1_700_000_000.0
    runs = []
    for i in range(FIRST_PIECE * 2 + 7):  # more than the first block: the reader thread's blocks too
        exp = "sweep" if i % 3 else HOSTILE[:12]
        status = [RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.RUNNING, RunStatus.CANCELED][i % 4]
        runs.append(
            NewRun(
                id=f"r{i:04d}",
                experiment=exp,
                status=status,
                parent_id=f"r{i - 1:04d}" if i % 5 == 1 else None,
                display_name=["", None, f"name {i}", HOSTILE][i % 4],
                tags=((("k", "v"), ("emoji", "😀"), ("none", None)) if i % 2 else (("note", HOSTILE),)),
                created_at=base + i * 1.2345678 + (32768 * 2**-22 if i % 7 == 0 else 0),  # a .5 microsecond
                started_at=None if i % 6 == 0 else base + i * 1.2345678 + 0.25,
            )
        )
    store.create_runs(runs)
    for i, r in enumerate(runs):
        if r.status is not RunStatus.RUNNING:
            store.set_status(r.id, r.status, ended_at=base + i * 1.2345678 + [0.5, 1 / 3, 1e-4][i % 3])
    t = time.time()
    points: list[PendingPoint] = []
    for i, r in enumerate(runs):
        if i % 4 == 0:
            continue  # no metric
        if i % 4 == 1:
            points.append((r.id, "sys/gpu", None, 1.0, None, "scalar", t - 10))  # system metrics never headline
            points.append((r.id, "loss", None, 0.1 + i / 3, None, "scalar", t))
        elif i % 4 == 2:
            points.append((r.id, "note", None, None, HOSTILE, "text", t))
        else:
            points.append((r.id, "acc", None, float("nan"), None, "scalar", t))
    store.write_metrics(points)
    return store


@pytest.mark.parametrize(("everything", "experiment"), [(True, None), (False, None), (True, "sweep")])
def test_json_chunks_are_the_encoders_bytes(tmp_path: Path, everything: bool, experiment: str | None) -> None:
    db = tmp_path / "runtui.db"
    _store(db)
    now = time.time()
    opened = open_read_only(str(db))
    assert opened is not None
    conn, table = opened
    chunks = list(json_chunks(conn, table, experiment=experiment, everything=everything, limit=20, now=now))
    expected = list(encode_pieces(pieces(conn, table, experiment=experiment, everything=everything, limit=20), now))
    assert "".join(chunks) == "".join(line + "\n" for line in expected)
    assert len(chunks[0].splitlines()) == min(FIRST_PIECE, len(expected))  # the first block is small
    for line in "".join(chunks).splitlines():
        assert line.isascii() and line.isprintable()
        json.loads(line)
    if everything and experiment is None:
        assert len(expected) == FIRST_PIECE * 2 + 7


def test_json_chunks_of_an_empty_store(tmp_path: Path) -> None:
    db = tmp_path / "runtui.db"
    Store(f"sqlite:///{db}")
    opened = open_read_only(str(db))
    assert opened is not None
    assert list(json_chunks(opened[0], opened[1], experiment=None, everything=True, limit=5, now=0.0)) == []


def test_a_reader_that_stops_early_ends_the_listing_thread(tmp_path: Path) -> None:
    """`runtui ls --json | head`: closing the generator after the first block stops and joins the reader."""
    import threading

    db = tmp_path / "runtui.db"
    _store(db)
    opened = open_read_only(str(db))
    assert opened is not None
    gen = json_chunks(opened[0], opened[1], experiment=None, everything=True, limit=5, now=0.0)
    next(gen)
    next(gen)  # the reader thread is running now
    gen.close()
    assert not [t for t in threading.enumerate() if t.name == "runtui-listing"]
