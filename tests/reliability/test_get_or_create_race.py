"""Get-or-create under a real race: 8 processes x 20 trials, released together, on SQLite and PostgreSQL.

Every trial creates a new experiment in all 8 processes at one instant, plus a run in it, a child of a shared
hub run, a tag, a property and a point of one shared series. Select-then-insert loses this race on PostgreSQL
(READ COMMITTED: `duplicate key ... experiment_pkey`); the store's atomic upserts must not. Afterwards: 0 errors,
one experiment row per name, run numbers handed out once, and every process saw the same series id.

Sized for < 60 s on a quiet 2-core machine (8 interpreters importing the store once, then ~6 short write
transactions per process and trial).
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from reliability_support import WORKER, integrity_ok, query, stderr_problems, worker_env

pytestmark = pytest.mark.reliability

PROCESSES = 8
TRIALS = 20
STEP_TIMEOUT_S = 120.0  # a liveness bound for one trial (or the start-up), not a benchmark


@pytest.fixture(params=["sqlite", "postgres"])
def race_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store' / 'runtui.db'}"
    else:
        yield request.getfixturevalue("pg_schema_url")  # skips without RUNTUI_TEST_POSTGRES_URL


class Lines:
    """JSON lines from one worker's stdout, read with a deadline (the buffer survives between calls)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        self.proc, self.fd, self.buf = proc, proc.stdout.fileno(), b""

    def next(self, deadline: float) -> dict[str, Any]:
        while b"\n" not in self.buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"worker {self.proc.pid} did not report in time")
            ready, _, _ = select.select([self.fd], [], [], min(remaining, 0.5))
            if ready:
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                    raise AssertionError(f"worker {self.proc.pid} closed stdout; stderr: {err[-3000:]}")
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        event: dict[str, Any] = json.loads(line)
        return event


@pytest.mark.timeout(600)
def test_eight_processes_race_through_get_or_create(race_url: str) -> None:
    from runtui.status import RunStatus
    from runtui.store import Store
    from runtui.store.engine import dispose_engine
    from runtui.store.store import NewRun

    store = Store(race_url)  # schema made here, so the race is about rows, not about creating tables
    store.create_runs([NewRun(id=f"hub-{t}", experiment="hubs", status=RunStatus.RUNNING) for t in range(TRIALS)])
    dispose_engine(race_url)

    pipes = [os.pipe() for _ in range(TRIALS)]  # (read, write); the write ends stay here only
    reads = [r for r, _ in pipes]
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), "race", json.dumps({"url": race_url, "index": k, "fds": reads})],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=worker_env(),
            pass_fds=reads,
        )
        for k in range(PROCESSES)
    ]
    for r in reads:
        os.close(r)
    lines = [Lines(p) for p in procs]
    seen: list[list[dict[str, Any]]] = []
    try:
        for t, (_, write_end) in enumerate(pipes):
            deadline = time.monotonic() + STEP_TIMEOUT_S
            for ln in lines:
                assert ln.next(deadline) == {"event": "ready", "trial": t}
            os.close(write_end)  # the release: every worker's read returns at once
            seen.append([ln.next(time.monotonic() + STEP_TIMEOUT_S) for ln in lines])
        ends = [p.communicate(timeout=STEP_TIMEOUT_S) for p in procs]
    finally:
        for _, w in pipes[len(seen) :]:
            os.close(w)
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()

    for k, (p, (_, err)) in enumerate(zip(procs, ends, strict=True)):
        assert p.returncode == 0, f"worker {k} exited {p.returncode}: {err.decode()[-3000:]}"
        assert stderr_problems(err.decode()) == [], err.decode()[-3000:]
    for t, results in enumerate(seen):
        assert [r["errors"] for r in results] == [[]] * PROCESSES, f"trial {t}: {results}"
        ids = {r["series_id"] for r in results}
        assert len(ids) == 1 and None not in ids, f"trial {t}: the processes saw different series ids {ids}"

    for t in range(TRIALS):
        exp, hub = f"race-{t}", f"hub-{t}"
        assert query(race_url, "SELECT count(*) FROM experiment WHERE name = :n", n=exp) == [(1,)]
        numbers = query(race_url, "SELECT number FROM run WHERE experiment = :n ORDER BY number", n=exp)
        assert [n for (n,) in numbers] == list(range(1, PROCESSES + 1))  # every number handed out once
        children = query(race_url, "SELECT count(*) FROM run WHERE parent_id = :h", h=hub)
        assert children == [(PROCESSES,)]
        [(sid, count)] = query(race_url, "SELECT id, count FROM metric_series WHERE run_id = :h", h=hub)
        assert sid == seen[t][0]["series_id"] and count == PROCESSES
        steps = query(race_url, "SELECT step FROM metric_point WHERE series_id = :s ORDER BY step", s=sid)
        assert [s for (s,) in steps] == list(range(PROCESSES))  # steps continue, never collide
        assert query(race_url, "SELECT value FROM run_property WHERE run_id = :h AND key = 'same'", h=hub) == [
            ("value",)
        ]
    hub_numbers = [n for (n,) in query(race_url, "SELECT number FROM run WHERE experiment = 'hubs'")]
    assert sorted(hub_numbers) == list(range(1, TRIALS * (PROCESSES + 1) + 1))
    integrity_ok(race_url)
