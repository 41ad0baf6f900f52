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


PARALLEL_CHILD = """
import json, os, sys, time
import psutil
from runtui.store import listing

db, table, now = sys.argv[1], sys.argv[2], float(sys.argv[3])
listing.PARALLEL_MIN_RUNS = 10  # the test store is small
out = {}
for experiment in (None, "sweep"):
    opened = listing.open_read_only(db)
    serial = "".join(listing.json_chunks(*opened, experiment=experiment, everything=True, limit=0, now=now))
    opened[0].close()
    both = listing.parallel_json_chunks(db, table, experiment=experiment, now=now)
    out[str(experiment)] = {"forked": both is not None, "same": both is not None and "".join(both) == serial,
                            "lines": serial.count("\\n")}

# A child that fails: its half is listed here instead, nothing lost or doubled.
parent, real = os.getpid(), listing.open_read_only
listing.open_read_only = lambda path: real(path) if os.getpid() == parent else None
opened = real(db)
serial = "".join(listing.json_chunks(*opened, experiment=None, everything=True, limit=0, now=now))
out["fallback_same"] = "".join(listing.parallel_json_chunks(db, table, experiment=None, now=now)) == serial
listing.open_read_only = real

# A consumer that stops after the first block (`ls --json | head`): the child is killed and reaped.
gen = listing.parallel_json_chunks(db, table, experiment=None, now=now)
next(gen)
had_child = bool(psutil.Process().children())
gen.close()
out["stopped"] = had_child and not psutil.Process().children()
print(json.dumps(out))
"""


def test_two_process_listing_is_the_serial_listing(tmp_path: Path) -> None:
    """`ls --all --json` of a big store lists its older half in a forked child: the same bytes, in order; a
    failing child's half is listed by the parent; a child is never left behind. Run in a fresh interpreter
    (the fork path stays off in a process that already runs threads, as this test process may)."""
    import subprocess
    import sys

    if not hasattr(__import__("os"), "fork"):
        pytest.skip("no fork on this platform: the listing stays serial")
    db = tmp_path / "runtui.db"
    _store(db)
    opened = open_read_only(str(db))
    assert opened is not None
    opened[0].close()
    proc = subprocess.run(
        [sys.executable, "-c", PARALLEL_CHILD, str(db), opened[1], str(time.time())],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["None"] == {"forked": True, "same": True, "lines": FIRST_PIECE * 2 + 7}
    assert out["sweep"]["forked"] and out["sweep"]["same"] and out["sweep"]["lines"] > 10
    assert out["fallback_same"] is True
    assert out["stopped"] is True
