"""Where "the run's log" is read from: the file on the run's own host (or with a SQLite store), the store's copy
for another host's run on a shared store; and reading either as one byte stream."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runtui.execution.log_source import (
    FileLogSource,
    LogFollower,
    StoreLogSource,
    log_file,
    reads_from_store,
    run_log_source,
)
from runtui.status import RunStatus
from runtui.store import NewRun, Store


def _run(store: Store, host: str, n: int = 1) -> str:
    run_id = f"src_1_{n:08x}"
    store.create_runs([NewRun(id=run_id, experiment="src", status=RunStatus.RUNNING, host=host, kind="submitted")])
    return run_id


def test_a_run_of_this_host_reads_its_file(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNTUI_HOST", "boxA")
    run_id = _run(store, "boxA")
    source = run_log_source(store, tmp_path / "runs", store.get_run(run_id))
    assert isinstance(source, FileLogSource)
    assert source.path == log_file(tmp_path / "runs", run_id)
    assert source.stat() is None  # no file yet: "no log yet", not an error


def test_another_hosts_run_reads_the_store_copy_on_a_shared_store(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNTUI_HOST", "boxB")
    run_id = _run(store, "boxA")
    rec = store.get_run(run_id)
    source = run_log_source(store, tmp_path / "runs", rec)
    if store.sqlite:  # nothing is ever copied into a SQLite store: its runs' logs are files on its host
        assert not reads_from_store(store, rec)
        assert isinstance(source, FileLogSource)
    else:
        assert reads_from_store(store, rec)
        assert isinstance(source, StoreLogSource)
        assert source.label == "boxA:output.log"


def test_a_run_without_a_host_reads_the_file(store: Store, tmp_path: Path) -> None:
    run_id = _run(store, "")
    assert isinstance(run_log_source(store, tmp_path, store.get_run(run_id)), FileLogSource)


def test_store_source_reads_byte_ranges_across_chunks(store: Store) -> None:
    run_id = _run(store, "boxA")
    source = StoreLogSource(store, run_id, "boxA")
    assert source.stat() is None
    texts = ["héllo ", "wörld\n", "✓ done\n"]
    offset = 0
    for t in texts:
        store.append_log(run_id, t, offset)
        offset += len(t.encode())
    whole = "".join(texts).encode()
    info = source.stat()
    assert info is not None and info[1] == len(whole)
    for start, end in [(0, len(whole)), (1, 2), (5, 9), (7, len(whole) + 10), (len(whole), len(whole) + 5)]:
        assert source.read(start, end) == whole[start:end]


def test_file_source_and_identity(tmp_path: Path) -> None:
    path = tmp_path / "output.log"
    source = FileLogSource(path)
    assert source.stat() is None
    path.write_bytes(b"abc")
    first = source.stat()
    assert first is not None and first[1] == 3
    assert source.read(1, 10) == b"bc"
    os.link(path, tmp_path / "kept")  # the old file lives on, so the replacement cannot reuse its inode
    (tmp_path / "new").write_bytes(b"new file")
    os.replace(tmp_path / "new", path)
    second = source.stat()
    assert second is not None and second[1] == 8
    assert second[0] != first[0]  # replaced: readers start over


def test_follower_decodes_across_reads_and_restarts_on_truncation(tmp_path: Path) -> None:
    path = tmp_path / "output.log"
    follower = LogFollower(FileLogSource(path), read_chunk=2)
    assert follower.read_new() == ""
    path.write_bytes("a✓".encode()[:3])
    assert follower.read_new() == "a"
    with path.open("ab") as fh:
        fh.write("a✓".encode()[3:] + b"\n")
    assert follower.read_new() == "✓\n"
    path.write_bytes(b"x")  # truncated (same file, smaller)
    assert follower.read_new() == "x"
    with path.open("ab") as fh:
        fh.write(b"\xe2")
    assert follower.read_new(final=True) == "\ufffd"


def test_follower_over_the_store(store: Store) -> None:
    run_id = _run(store, "boxA")
    follower = LogFollower(StoreLogSource(store, run_id))
    assert follower.read_new() == ""
    store.append_log(run_id, "one\n", 0)
    assert follower.read_new() == "one\n"
    store.append_log(run_id, "two\n", 4)
    assert follower.read_new() == "two\n"
    assert follower.read_new(final=True) == ""


def test_tail_text_of_a_big_store_copy_starts_at_a_line(store: Store) -> None:
    from runtui.execution.run_output import tail_text

    run_id = _run(store, "boxA")
    body = "".join(f"line {i}\n" for i in range(1000))
    store.append_log(run_id, body, 0)
    text = tail_text(StoreLogSource(store, run_id), limit=100)
    head, _, rest = text.partition("\n")
    assert head.startswith("[... ") and "bytes omitted" in head
    assert rest.endswith("line 999\n") and rest.startswith("line ")
    assert len(rest.encode()) <= 100
    assert tail_text(StoreLogSource(store, run_id), limit=10**6) == body
