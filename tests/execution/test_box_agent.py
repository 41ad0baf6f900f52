"""Many boxes on one PostgreSQL: the per-box agent (runtui.execution.box_agent), the database clock for heartbeats
and liveness, and the PgBouncer (no LISTEN) mode.

"Hosts" are simulated with RUNTUI_HOST and separate run folders, each test with host names of its own (other
sessions may share this PostgreSQL). Connections are counted in pg_stat_activity by their application_name,
`runtui:<role>@<host>`. Needs RUNTUI_TEST_POSTGRES_URL.

The scale test (`reliability`) runs 10 hosts x 4 runs by default on this 2-core machine (RUNTUI_TEST_MANY_BOXES_RUNS
sets the total; bench/connections.py runs the full 200): every run heart-beats, a box holds at most 2 connections,
every cross-host cancel lands (its p95 is measured in bench/connections.py), and a
pg_terminate_backend of every runtui connection loses no point.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from exec_helpers import WAIT_S, kill_leftovers, submit, wait_status, wait_until, write_script
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from runtui import config
from runtui.config import WorkspaceConfig
from runtui.core.run import Run
from runtui.core.workspace import Workspace
from runtui.execution import liveness
from runtui.execution.box_agent import AgentLink, socket_path
from runtui.execution.liveness import store_now, sweep_lost_runs
from runtui.status import RunStatus
from runtui.store import NewRun, Store, open_store
from runtui.watch import PgListenWatcher, store_watcher

pytestmark = [pytest.mark.timeout(300), pytest.mark.postgres]
S = RunStatus
ROOT = Path(__file__).resolve().parents[2]

# Logs point i at step i, then says so on stdout; N points (0: until stopped), DT seconds apart.
POINTS_SCRIPT = """
import sys, time
from runtui.core.run import Run
run = Run.get_context()
n, dt = int(sys.argv[1]), float(sys.argv[2])
i = 0
while n == 0 or i < n:
    run.log("i", i, step=i)
    print(f"logged {i}", flush=True)
    i += 1
    time.sleep(dt)
"""

SKEW_SITECUSTOMIZE = """
import os, time
_skew = float(os.environ.get("RUNTUI_TEST_CLOCK_SKEW_S") or 0)
if _skew:
    _real = time.time
    time.time = lambda: _real() + _skew
"""


@pytest.fixture
def shared(store_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    if store_url.startswith("sqlite"):
        pytest.skip("boxes share a PostgreSQL store")
    monkeypatch.setenv("RUNTUI_BOX_AGENT_IDLE_S", "1")  # agents leave 1 s after their last supervisor
    monkeypatch.setenv("RUNTUI_HOST", "viewer-" + secrets.token_hex(3))
    return store_url


@pytest.fixture
def admin(shared: str) -> Iterator[Engine]:
    engine = create_engine(shared, isolation_level="AUTOCOMMIT", pool_size=1)
    yield engine
    engine.dispose()


class Fleet:
    """Submits runs as several simulated hosts, each with its own run folders; stops everything at the end."""

    def __init__(self, url: str, tmp: Path, monkeypatch: pytest.MonkeyPatch, hosts: int) -> None:
        self.url = url
        self.tmp = tmp
        self.monkeypatch = monkeypatch
        tag = secrets.token_hex(3)
        self.hosts = [f"box{tag}-{i}" for i in range(hosts)]
        self.ws = {h: config.resolve(path=tmp / h, store_url=url) for h in self.hosts}
        self.src = tmp / "src"
        self.src.mkdir(exist_ok=True)
        self.script = write_script(self.src, POINTS_SCRIPT)
        self.store = open_store(url)
        self.runs: dict[str, str] = {}  # run -> host
        self.agent_pids: set[int] = set()

    def submit(self, host: str, *args: str, **kwargs: Any) -> str:
        viewer = os.environ["RUNTUI_HOST"]
        self.monkeypatch.setenv("RUNTUI_HOST", host)
        try:
            rec = submit(self.store, self.ws[host], self.src, self.script, *args, grace_period=3.0, **kwargs)
        finally:
            self.monkeypatch.setenv("RUNTUI_HOST", viewer)
        assert rec.host == host
        self.runs[rec.id] = host
        return rec.id

    def agent_pid(self, host: str) -> int:
        link = AgentLink(self.url, host)
        try:
            pid = int(link.request("ping")["pid"])
        finally:
            link.close()
        self.agent_pids.add(pid)
        return pid

    def wait_running_and_beating(self, run_ids: list[str], timeout: float = WAIT_S) -> None:
        def ready() -> bool:
            now = store_now(self.store)
            recs = self.store.get_runs_by_id(run_ids)
            return len(recs) == len(run_ids) and all(
                r.status == S.RUNNING and r.heartbeat_at is not None and now - r.heartbeat_at < 15 for r in recs
            )

        wait_until(ready, timeout, f"{len(run_ids)} runs to be Running and heart-beating")
        # Past their start (imports, store open): what is held from here on is held, not a slow start.
        wait_until(
            lambda: all(logged_so_far(self.ws[self.runs[r]], r) >= 1 for r in run_ids),
            timeout,
            "every script to have logged",
        )

    def close(self) -> None:
        for run_id in self.runs:
            rec = self.store.get_run(run_id)
            if rec.status.is_live:
                Run.get(Workspace._from(self.ws[self.hosts[0]]), run_id).cancel(wait=False)
        try:
            wait_until(
                lambda: all(not r.status.is_live for r in self.store.get_runs_by_id(list(self.runs))),
                WAIT_S,
                "every run to end",
            )
        finally:
            kill_leftovers(self.store)
        # The agents leave on their own once their supervisors are gone (RUNTUI_BOX_AGENT_IDLE_S=1).
        sockets = [socket_path(self.url, h) for h in self.hosts]
        wait_until(lambda: not any(p.exists() for p in sockets), 30, "the agents to exit")
        wait_until(lambda: not any(_exists(pid) for pid in self.agent_pids), 30, "the agent processes to exit")


def _exists(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture
def fleet_factory(shared: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    fleets: list[Fleet] = []

    def make(hosts: int) -> Fleet:
        fleet = Fleet(shared, tmp_path, monkeypatch, hosts)
        fleets.append(fleet)
        return fleet

    yield make
    for fleet in fleets:
        fleet.close()


def connections(admin: Engine, host: str) -> list[tuple[str, int, Any, str, str]]:
    """(application_name, backend pid, backend start, state, query) of the runtui connections of `host`."""
    with admin.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT application_name, pid, backend_start, coalesce(state, ''), coalesce(query, '') "
                "FROM pg_stat_activity WHERE application_name LIKE :pattern"
            ),
            {"pattern": f"runtui:%@{host}"},
        ).all()
    return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def held_connections(admin: Engine, hosts: list[str], seconds: float = 3.0) -> dict[str, set[tuple[str, int]]]:
    """Per host, the connections held idle through a whole window of `seconds`: open and doing nothing at every
    sample (a connection in a transaction is at work; one opened for a single transaction is gone by the next)."""

    def idle(h: str) -> set[tuple[str, int, Any]]:
        return {(a, p, b) for a, p, b, state, _ in connections(admin, h) if state == "idle"}

    seen = {h: idle(h) for h in hosts}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for h in hosts:
            seen[h] = seen[h] & idle(h)
        time.sleep(0.1)  # sampling pg_stat_activity, not waiting for anything
    return {h: {(a, p) for a, p, _ in seen[h]} for h in hosts}


def terminate_runtui_connections(admin: Engine) -> int:
    with admin.connect() as conn:
        return len(
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name LIKE 'runtui:%' AND pid <> pg_backend_pid()"
                )
            ).all()
        )


def logged_so_far(ws: WorkspaceConfig, run_id: str) -> int:
    """The last step the script printed as logged (-1: none yet)."""
    from runtui.execution.spec import LOG_FOLDER, OUTPUT_LOG

    path = ws.run_dir(run_id) / LOG_FOLDER / OUTPUT_LOG
    found = re.findall(r"^logged (\d+)$", path.read_text(errors="replace") if path.exists() else "", re.M)
    return int(found[-1]) if found else -1


def stored_steps(ws: WorkspaceConfig, run_id: str) -> list[int]:
    series = open_store(ws.store_url).get_series(run_id, ["i"])
    return sorted(int(v) for s in series for v in s.values)


# ---------------------------------------------------------------------- connections per box


def test_a_box_holds_at_most_two_connections_however_many_runs(fleet_factory: Any, admin: Engine) -> None:
    fleet = fleet_factory(1)
    host = fleet.hosts[0]
    first = fleet.submit(host, "0", "0.2")
    fleet.wait_running_and_beating([first])
    held_one = held_connections(admin, [host])[host]
    agent = fleet.agent_pid(host)

    more = [fleet.submit(host, "0", "0.2") for _ in range(11)]
    fleet.wait_running_and_beating([first, *more])
    held_twelve = held_connections(admin, [host])[host]

    # The agent's LISTEN and work connections, nothing else held: supervisors hold none, scripts none idle.
    for held in (held_one, held_twelve):
        assert 1 <= len(held) <= 2, held
        assert {name for name, _ in held} <= {f"runtui:agent@{host}", f"runtui:listen@{host}"}
    assert fleet.agent_pid(host) == agent  # one agent served all twelve


def test_a_killed_agent_is_replaced_and_its_runs_keep_heart_beating(fleet_factory: Any) -> None:
    fleet = fleet_factory(2)
    host, other = fleet.hosts
    runs = [fleet.submit(host, "0", "0.2") for _ in range(3)]
    fleet.wait_running_and_beating(runs)
    old = fleet.agent_pid(host)
    os.kill(old, signal.SIGKILL)
    killed_at = store_now(fleet.store)

    def beating_again() -> bool:
        return all((r.heartbeat_at or 0) > killed_at + 0.5 for r in fleet.store.get_runs_by_id(runs))

    wait_until(beating_again, WAIT_S, "heartbeats through a new agent")
    assert fleet.agent_pid(host) != old
    # A cancel from another host still reaches the supervisor (through the new agent).
    viewer = Workspace._from(fleet.ws[other])
    assert Run.get(viewer, runs[0]).cancel(wait=True, timeout=WAIT_S) is True
    assert fleet.store.get_run(runs[0]).status == S.CANCELED


def test_terminating_every_runtui_connection_loses_no_point(fleet_factory: Any, admin: Engine) -> None:
    fleet = fleet_factory(2)
    runs = [fleet.submit(h, "40", "0.1") for h in fleet.hosts for _ in range(2)]
    wait_until(lambda: all(logged_so_far(fleet.ws[fleet.runs[r]], r) >= 5 for r in runs), WAIT_S, "points")
    assert terminate_runtui_connections(admin) >= 2  # at least the agents' connections
    wait_until(lambda: all(logged_so_far(fleet.ws[fleet.runs[r]], r) >= 20 for r in runs), WAIT_S, "more points")
    assert terminate_runtui_connections(admin) >= 2
    for run_id in runs:
        rec = wait_status(fleet.store, run_id, S.COMPLETED, S.FAILED, S.CANCELED)
        assert rec.status == S.COMPLETED, rec.error
        assert stored_steps(fleet.ws[fleet.runs[run_id]], run_id) == list(range(40))


# ---------------------------------------------------------------------- no LISTEN (PgBouncer, transaction mode)


def test_behind_pgbouncer_nothing_listens_and_a_cancel_still_arrives(
    fleet_factory: Any, admin: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNTUI_PGBOUNCER", "1")  # inherited by supervisors, scripts and agents
    fleet = fleet_factory(2)
    host, other = fleet.hosts
    runs = [fleet.submit(host, "0", "0.2") for _ in range(2)]
    fleet.wait_running_and_beating(runs)
    listening = [c for c in connections(admin, host) if c[4].lstrip().upper().startswith("LISTEN")]
    assert listening == []
    assert not isinstance(store_watcher(fleet.url), PgListenWatcher)
    started = time.monotonic()
    assert Run.get(Workspace._from(fleet.ws[other]), runs[0]).cancel(wait=True, timeout=WAIT_S) is True
    assert time.monotonic() - started < WAIT_S
    assert fleet.store.get_run(runs[0]).status == S.CANCELED


# ---------------------------------------------------------------------- the database clock


def test_heartbeats_of_a_box_with_a_wrong_clock_use_the_database_clock(
    fleet_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    skew = tmp_path / "skew"
    skew.mkdir()
    (skew / "sitecustomize.py").write_text(SKEW_SITECUSTOMIZE)
    monkeypatch.setenv("PYTHONPATH", f"{skew}{os.pathsep}{ROOT}")
    monkeypatch.setenv("RUNTUI_TEST_CLOCK_SKEW_S", "-600")  # this box's clock is ten minutes behind
    fleet = fleet_factory(1)
    run_id = fleet.submit(fleet.hosts[0], "0", "0.2")
    monkeypatch.delenv("RUNTUI_TEST_CLOCK_SKEW_S")
    wait_status(fleet.store, run_id, S.RUNNING)
    wait_until(lambda: fleet.store.get_run(run_id).heartbeat_at is not None, WAIT_S, "a heartbeat")
    rec = fleet.store.get_run(run_id)
    assert rec.heartbeat_at is not None and abs(store_now(fleet.store) - rec.heartbeat_at) < 30
    assert sweep_lost_runs(fleet.store, run_ids=[run_id]) == []  # judged from another host: alive


def test_liveness_is_judged_by_the_database_clock_not_the_viewers(shared: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(shared)
    run_id = "mb_" + secrets.token_hex(6)
    store.create_runs([NewRun(id=run_id, experiment="mb", status=S.RUNNING, host="elsewhere")])
    store.heartbeat([run_id], now=store_now(store))

    class AheadClock:  # the viewer's clock is ten minutes ahead of the database's
        @staticmethod
        def time() -> float:
            return time.time() + 600

    monkeypatch.setattr(liveness, "time", AheadClock)
    assert sweep_lost_runs(store, run_ids=[run_id]) == []
    assert store.get_run(run_id).status == S.RUNNING


# ---------------------------------------------------------------------- the scale test


@pytest.mark.reliability
@pytest.mark.timeout(400)
def test_many_hosts_share_one_postgresql(fleet_factory: Any, admin: Engine) -> None:
    with admin.connect() as conn:
        max_connections = int(conn.execute(text("SHOW max_connections")).scalar_one())
    total = int(os.environ.get("RUNTUI_TEST_MANY_BOXES_RUNS") or 40)
    fleet = fleet_factory(10)
    runs = [fleet.submit(fleet.hosts[i % 10], "0", "1.0") for i in range(total)]
    fleet.wait_running_and_beating(runs, timeout=180)

    held = held_connections(admin, fleet.hosts)
    assert all(1 <= len(h) <= 2 for h in held.values()), held
    assert sum(len(h) for h in held.values()) <= 20 < max_connections

    # pg_terminate_backend of every runtui connection: no point lost, every run heart-beats again.
    printed = {r: logged_so_far(fleet.ws[fleet.runs[r]], r) for r in runs}
    cut = store_now(fleet.store)
    assert terminate_runtui_connections(admin) >= 10
    wait_until(
        lambda: all(set(range(printed[r] + 1)) <= set(stored_steps(fleet.ws[fleet.runs[r]], r)) for r in runs),
        120,
        "every point printed before the cut to be in the store",
    )
    wait_until(
        lambda: all((r.heartbeat_at or 0) > cut for r in fleet.store.get_runs_by_id(runs)),
        120,
        "every run to heart-beat again",
    )

    # Cross-host cancel: from another simulated host, each run's time from the request to Canceled.
    latencies = []
    for i, run_id in enumerate(runs):
        viewer = Workspace._from(fleet.ws[fleet.hosts[(i + 1) % 10]])
        started = time.monotonic()
        Run.get(viewer, run_id).cancel(wait=False)
        wait_status(fleet.store, run_id, S.CANCELED, timeout=WAIT_S)
        latencies.append(time.monotonic() - started)
    # Every cancel landed (wait_status above bounds each one). How fast is a figure for bench/connections.py
    # (p95 target 1 s on a quiet machine), not a timed assertion: CI's load would decide it, not the code.
    assert len(latencies) == total and all(lat < WAIT_S for lat in latencies)
