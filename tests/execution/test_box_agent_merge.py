"""The box agent merges the metric batches of a box's runs into few transactions (what lets 200 runs share one
work connection), gives each caller its own share of the result, and lets a bad batch fail only its caller.
Needs RUNTUI_TEST_POSTGRES_URL (a real PostgreSQL, a real agent process)."""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any

import pytest

from runtui.execution.box_agent import AgentLink, AgentStore
from runtui.status import RunStatus
from runtui.store import NewRun, open_store

pytestmark = [pytest.mark.timeout(300), pytest.mark.postgres]
CALLERS = 8
POINTS = 100


@pytest.fixture
def url(store_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    if store_url.startswith("sqlite"):
        pytest.skip("the box agent serves PostgreSQL stores")
    monkeypatch.setenv("RUNTUI_BOX_AGENT_IDLE_S", "1")  # the agent leaves 1 s after its last client
    return store_url


def _race(url: str, host: str, batches: list[list[Any]]) -> list[Any]:
    """Each batch from its own link (as separate scripts), released together; results or exceptions."""
    out: list[Any] = [None] * len(batches)
    barrier = threading.Barrier(len(batches))
    links = [AgentLink(url, host) for _ in batches]
    for link in links:
        link.request("ping")  # connected (and the agent started) before the race

    def send(k: int) -> None:
        barrier.wait()
        try:
            out[k] = AgentStore(links[k]).write_metric_batch(batches[k], {})
        except Exception as exc:  # the caller's own failure, checked below
            out[k] = exc

    threads = [threading.Thread(target=send, args=(k,)) for k in range(len(batches))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for link in links:
        link.close()
    return out


def test_batches_of_many_runs_share_transactions_and_results_stay_per_caller(url: str) -> None:
    host = "merge-" + secrets.token_hex(3)
    store = open_store(url)
    store.create_runs([NewRun(id=f"m{k}", experiment="merge", status=RunStatus.RUNNING) for k in range(CALLERS)])
    store.create_runs([NewRun(id="done", experiment="merge", status=RunStatus.RUNNING)])
    store.set_status("done", RunStatus.COMPLETED)
    now = time.time()
    merged_once = False
    for round_ in range(3):  # merging needs calls that arrive while another is written: allow a few rounds
        batches = [
            [(f"m{k}", "loss", None, float(i), None, "scalar", now) for i in range(POINTS)]
            + ([("done", "late", None, 1.0, None, "scalar", now)] * 5 if k == 0 else [])
            for k in range(CALLERS)
        ]
        results = _race(url, host, batches)
        assert [r.written for r in results] == [POINTS] * CALLERS
        assert results[0].refused == {"done": 5} and all(r.refused == {} for r in results[1:])
        for k in range(CALLERS):
            assert store.count_points(f"m{k}") == POINTS * (round_ + 1)
        link = AgentLink(url, host)
        try:
            seen = link.request("ping")
        finally:
            link.close()
        if seen["metric_transactions"] < seen["metric_batches"]:
            merged_once = True
            break
    assert merged_once, f"no two batches ever shared a transaction: {seen}"
    assert store.count_points("done") == 0


def test_a_rejected_batch_fails_only_its_caller(url: str) -> None:
    host = "merge-" + secrets.token_hex(3)
    store = open_store(url)
    store.create_runs([NewRun(id=f"p{k}", experiment="poison", status=RunStatus.RUNNING) for k in range(4)])
    now = time.time()
    batches: list[list[Any]] = [[(f"p{k}", "loss", None, 1.0, None, "scalar", now)] for k in range(4)]
    batches[2] = [("p2", "note", None, None, "NUL \x00 inside", "text", now)]  # PostgreSQL text cannot hold it
    results = _race(url, host, batches)
    from runtui.errors import ValidationError

    assert isinstance(results[2], ValidationError), repr(results[2])  # the SDK writer isolates bad points on it
    assert [r.written for k, r in enumerate(results) if k != 2] == [1, 1, 1]
    assert [store.count_points(f"p{k}") for k in range(4)] == [1, 1, 0, 1]


def test_log_copies_of_many_supervisors_merge_and_keep_each_runs_order(url: str) -> None:
    host = "merge-" + secrets.token_hex(3)
    store = open_store(url)
    store.create_runs([NewRun(id=f"l{k}", experiment="logs", status=RunStatus.RUNNING) for k in range(CALLERS)])
    links = [AgentLink(url, host) for _ in range(CALLERS)]
    for link in links:
        link.request("ping")
    barrier = threading.Barrier(CALLERS)
    seqs: list[list[int]] = [[] for _ in range(CALLERS)]

    def copy(k: int) -> None:
        barrier.wait()
        agent = AgentStore(links[k])
        offset = 0
        for i in range(20):
            text = f"line {i} of {k}\n"
            seqs[k].append(agent.append_log(f"l{k}", text, offset))
            offset += len(text)

    threads = [threading.Thread(target=copy, args=(k,)) for k in range(CALLERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seen = links[0].request("ping")
    for link in links:
        link.close()
    for k in range(CALLERS):
        assert seqs[k] == list(range(20))
        assert "".join(c[2] for c in store.read_log_chunks(f"l{k}")) == "".join(f"line {i} of {k}\n" for i in range(20))
    assert seen["log_chunks"] == CALLERS * 20 and seen["log_transactions"] < seen["log_chunks"]  # merged


# A submitted script: how many metric batches its box's agent wrote while the script logged and flushed 5 times.
THROUGH_AGENT_SCRIPT = """
import json
from runtui.core.run import Run
from runtui.execution.box_agent import AgentLink
run = Run.get_context()
link = AgentLink(run._store.url)
before = link.request("ping")["metric_batches"]
for i in range(5):
    run.log("loss", float(i))
    run.flush()
print("agent batches " + json.dumps(link.request("ping")["metric_batches"] - before), flush=True)
"""


def test_a_submitted_scripts_metric_batches_go_through_the_agent(
    url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from exec_helpers import submit, wait_status, write_script

    from runtui import config

    host = "merge-" + secrets.token_hex(3)
    monkeypatch.setenv("RUNTUI_HOST", host)
    src = tmp_path / "src"
    src.mkdir()
    script = write_script(src, THROUGH_AGENT_SCRIPT)
    ws = config.resolve(path=tmp_path / "ws", store_url=url)
    store = open_store(url)
    rec = submit(store, ws, src, script)
    done = wait_status(store, rec.id, RunStatus.COMPLETED, RunStatus.FAILED)
    log = (ws.run_dir(rec.id) / "logs" / "output.log").read_text()
    assert done.status is RunStatus.COMPLETED, log
    [line] = [x for x in log.splitlines() if x.startswith("agent batches ")]
    assert json.loads(line.removeprefix("agent batches ")) >= 5  # each flush was a batch, sent through the agent
    [series] = store.get_series(rec.id, ["loss"])
    assert list(series.values) == [0.0, 1.0, 2.0, 3.0, 4.0]


def _until(predicate: Any, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)  # the polling period of this wait


def test_an_ending_runs_last_copies_go_before_the_boxs_bulk_copies(url: str) -> None:
    """A cancel waits for the script's last metric flush and the supervisor's last log chunk before Canceled: those
    of a run the agent has read as CancelRequested take the second level, ahead of other runs' bulk copies queued
    earlier. Before: every copy waited at the bulk level (the waiter count at level 1 never rose)."""
    from runtui.execution.box_agent import Agent

    store = open_store(url)
    store.create_runs([NewRun(id=r, experiment="prio", status=RunStatus.RUNNING) for r in ("bulk", "ending")])
    store.set_status("ending", RunStatus.CANCEL_REQUESTED)
    agent = Agent(url, "prio-" + secrets.token_hex(3), idle_s=1.0)
    order: list[str] = []

    class Recording:  # the agent's real store, with the order of its calls written down
        def __getattr__(self, name: str) -> Any:
            order.append(name)
            return getattr(store, name)

    agent._store = Recording()  # type: ignore[assignment]
    agent.note_statuses(store.get_runs_by_id(["bulk", "ending"]))  # what the agent's status thread does
    holding, release = threading.Event(), threading.Event()

    def hold(_store: Any) -> None:
        holding.set()
        release.wait(60)

    holder = threading.Thread(target=agent.call, args=(hold,), daemon=True)
    holder.start()
    assert holding.wait(60)  # the connection is busy: everything below queues
    bulk = threading.Thread(target=agent._logs.submit, args=(("bulk", "a line\n", 0, "output"),), daemon=True)
    bulk.start()
    _until(lambda: agent._waiting[2] == 1, "the bulk log copy to queue")
    point = ("ending", "loss", 0, 1.0, None, "scalar", time.time())
    last = threading.Thread(target=agent._metrics.submit, args=(([point], {}),), daemon=True)
    last.start()
    try:
        _until(lambda: agent._waiting[1] == 1, "the ending run's flush to queue ahead of bulk copies", timeout=10)
    finally:
        release.set()
        for t in (holder, bulk, last):
            t.join(60)
    assert order.index("write_metric_batch") < order.index("append_logs")
    assert store.count_points("ending") == 1


def test_a_cancel_is_pushed_from_the_databases_notice_while_the_connection_is_busy(url: str) -> None:
    """The agent passes a cancel of one of its runs on from the status notification itself: the push arrives
    while its one work connection is held by another call. Before, every change only woke the agent's status
    read, which queued behind that call (and behind every metric batch of the box)."""
    import socket
    import tempfile
    from pathlib import Path

    from runtui.execution.box_agent import Agent, recv_msg, send_msg

    store = open_store(url)
    store.create_runs([NewRun(id=r, experiment="push", status=RunStatus.RUNNING) for r in ("mine", "other")])
    agent = Agent(url, "push-" + secrets.token_hex(3), idle_s=0.2)
    folder = Path(tempfile.mkdtemp(prefix="rt-push-", dir="/tmp"))  # a Unix socket path must stay short
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(folder / "a.sock"))
    listener.listen(8)
    server = threading.Thread(target=agent.serve, args=(listener,), daemon=True)
    server.start()
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(str(folder / "a.sock"))
    client.settimeout(30.0)  # bounds a failing test; a push takes milliseconds

    def next_push() -> dict[str, str]:
        while True:
            msg = recv_msg(client)
            if msg[0] == "push":
                return dict(msg[1])

    holding, release = threading.Event(), threading.Event()
    holder: threading.Thread | None = None
    try:
        send_msg(client, (1, "watch", ["mine"]))
        assert next_push() == {"mine": "Running"}  # the current status, read once at registration

        def hold(_store: Any) -> None:
            holding.set()
            release.wait(60)

        holder = threading.Thread(target=agent.call, args=(hold,), kwargs={"level": 0}, daemon=True)
        holder.start()
        assert holding.wait(30)  # from here on, any status read waits for `release`
        store.set_status("other", RunStatus.CANCEL_REQUESTED)  # not this client's run: never pushed to it
        store.set_status("mine", RunStatus.CANCEL_REQUESTED)
        assert next_push() == {"mine": "CancelRequested"}
        assert "mine" in agent.ending  # its last flush and log copy now go ahead of the box's bulk copies
    finally:
        release.set()
        if holder is not None:
            holder.join(60)
        client.close()
        server.join(60)
        listener.close()
        (folder / "a.sock").unlink(missing_ok=True)
        folder.rmdir()
    assert not server.is_alive()


def test_a_read_older_than_a_notified_cancel_is_not_pushed() -> None:
    """The status read may have begun before the cancel committed: it must not push Running after the notified
    CancelRequested (CancelRequested only moves on to an ending)."""
    from runtui.execution.box_agent import Agent

    agent = Agent("postgresql+psycopg://unused/none", "stale", idle_s=1.0)
    agent.watched = frozenset({"mine"})
    assert agent._on_status("mine", "CancelRequested") is True
    assert agent._on_status("elsewhere", "CancelRequested") is False
    assert agent._stale("mine", "Running") is True
    assert agent._stale("mine", "Canceled") is False
    assert agent._stale("other", "Running") is False
