"""Log chunks copied into the store: appending (sequence numbers, also from two threads at once), extent and
byte-range reads, NUL and surrogate refusal. On each store kind."""

from __future__ import annotations

import threading

import pytest

from runtui.errors import ValidationError
from runtui.status import RunStatus
from runtui.store import NewRun, Store


def _run(store: Store) -> str:
    store.create_runs([NewRun(id="logs_1_00000001", experiment="logs", status=RunStatus.RUNNING)])
    return "logs_1_00000001"


def _append_all(store: Store, run_id: str, texts: list[str]) -> None:
    offset = 0
    for t in texts:
        store.append_log(run_id, t, offset)
        offset += len(t.encode("utf-8"))


def test_append_numbers_chunks_in_order(store: Store) -> None:
    run_id = _run(store)
    assert store.log_extent(run_id) is None
    assert [store.append_log(run_id, t, 0) for t in ("a", "b", "c")] == [0, 1, 2]
    assert [seq for seq, _, _ in store.read_log_chunks(run_id)] == [0, 1, 2]
    assert store.read_log_chunks(run_id, after_seq=1) == [(2, 0, "c")]


def test_extent_counts_utf8_bytes(store: Store) -> None:
    run_id = _run(store)
    _append_all(store, run_id, ["héllo\n", "wörld ✓\n"])
    assert store.log_extent(run_id) == len("héllo\nwörld ✓\n".encode())


def test_range_reads_return_the_chunks_covering_the_range(store: Store) -> None:
    run_id = _run(store)
    texts = ["0123456789", "abcdefghij", "KLMNOPQRST"]
    _append_all(store, run_id, texts)
    assert store.read_log_range(run_id, 0, 5) == [(0, "0123456789")]
    assert store.read_log_range(run_id, 9, 11) == [(0, "0123456789"), (10, "abcdefghij")]
    assert store.read_log_range(run_id, 20, 30) == [(20, "KLMNOPQRST")]
    assert store.read_log_range(run_id, 25, 25) == []
    assert store.read_log_range(run_id, 30, 40) == [(20, "KLMNOPQRST")]  # the last chunk; nothing past the end
    assert store.read_log_range("logs_1_ffffffff", 0, 10) == []


def test_nul_characters_are_refused_with_a_clear_error(store: Store) -> None:
    run_id = _run(store)
    with pytest.raises(ValidationError, match="NUL"):
        store.append_log(run_id, "a\x00b", 0)
    assert store.log_extent(run_id) is None


def test_unpaired_surrogates_are_a_validation_error(store: Store) -> None:
    run_id = _run(store)
    with pytest.raises(ValidationError, match="surrogate"):
        store.append_log(run_id, "bad \udc80 text", 0)


def test_two_appenders_of_one_run_never_collide(store: Store) -> None:
    """Sequence numbers are assigned inside the write transaction under a per-run lock (PostgreSQL) or the
    database's write lock (SQLite): concurrent appends all land, each with its own number."""
    run_id = _run(store)
    errors: list[BaseException] = []

    def writer(tag: str) -> None:
        try:
            for i in range(40):
                store.append_log(run_id, f"{tag}{i}\n", 0)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    seqs = [seq for seq, _, _ in store.read_log_chunks(run_id)]
    assert seqs == list(range(80))


def test_append_logs_of_many_runs_in_one_transaction(store: Store) -> None:
    """The box agent's merged log copy: chunks of two runs, interleaved, continue each run's own sequence."""
    store.create_runs([NewRun(id=r, experiment="e", status=RunStatus.RUNNING) for r in ("a", "b")])
    assert store.append_log("a", "first\n", 0) == 0
    seqs = store.append_logs([("a", "x\n", 6, "output"), ("b", "y\n", 0, "output"), ("a", "z\n", 8, "output")])
    assert seqs == [1, 0, 2]
    assert store.read_log_chunks("a") == [(0, 0, "first\n"), (1, 6, "x\n"), (2, 8, "z\n")]
    assert store.read_log_chunks("b") == [(0, 0, "y\n")]
    with pytest.raises(ValidationError, match="NUL"):
        store.append_logs([("b", "ok\n", 2, "output"), ("a", "bad \x00", 10, "output")])
    assert store.read_log_chunks("b") == [(0, 0, "y\n")]  # nothing of a refused batch is written
    assert store.append_logs([]) == []
