"""Copying a log file into the store: batching, UTF-8 across reads, NUL, the per-run cap, retry after a store
failure, and the size setting's bad input. Real files and real stores (each kind)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtui.errors import ValidationError
from runtui.execution.log_shipping import LogShipper, complete_utf8_prefix
from runtui.execution.log_source import StoreLogSource
from runtui.execution.spec import LOG_STORE_MAX_ENV, bytes_setting
from runtui.status import RunStatus
from runtui.store import NewRun, Store

RUN = "ship_1_00000001"


@pytest.fixture
def run_id(store: Store) -> str:
    store.create_runs([NewRun(id=RUN, experiment="ship", status=RunStatus.RUNNING, host="boxA")])
    return RUN


def _stored(store: Store, run_id: str) -> str:
    return "".join(data for _, _, data in store.read_log_chunks(run_id))


def _shipper(store: Store, run_id: str, path: Path, **kw: object) -> LogShipper:
    return LogShipper(store, run_id, path, host="boxA", interval=60.0, **kw)  # type: ignore[arg-type]


def test_ships_what_was_appended_and_only_that(store: Store, run_id: str, tmp_path: Path) -> None:
    log = tmp_path / "output.log"
    log.write_bytes(b"epoch 1\n")
    shipper = _shipper(store, run_id, log)
    assert shipper.ship(final=False) is True
    with log.open("ab") as fh:
        fh.write(b"epoch 2\npartial line without newline")
    shipper.ship(final=False)
    shipper.ship(final=False)  # nothing new: no empty chunk
    assert _stored(store, run_id) == "epoch 1\nepoch 2\npartial line without newline"
    assert len(store.read_log_chunks(run_id)) == 2
    assert store.log_extent(run_id) == log.stat().st_size


def test_big_output_goes_in_bounded_chunks(store: Store, run_id: str, tmp_path: Path) -> None:
    log = tmp_path / "output.log"
    body = "".join(f"line {i:06d}\n" for i in range(10_000)).encode()
    log.write_bytes(body)
    shipper = _shipper(store, run_id, log, chunk_bytes=16 * 1024)
    shipper.ship(final=False)
    chunks = store.read_log_chunks(run_id)
    assert len(chunks) == -(-len(body) // (16 * 1024))
    assert all(len(d.encode()) <= 16 * 1024 for _, _, d in chunks)
    assert _stored(store, run_id).encode() == body
    # offsets are the stored stream's byte positions: each chunk starts where the previous ended
    ends = [off + len(d.encode()) for _, off, d in chunks]
    assert [off for _, off, _ in chunks][1:] == ends[:-1]


def test_a_character_split_across_reads_is_kept_whole(store: Store, run_id: str, tmp_path: Path) -> None:
    log = tmp_path / "output.log"
    check = "✓".encode()  # three bytes
    log.write_bytes(b"ok " + check[:2])
    shipper = _shipper(store, run_id, log)
    shipper.ship(final=False)
    assert _stored(store, run_id) == "ok "  # the incomplete character waits
    with log.open("ab") as fh:
        fh.write(check[2:] + b"\n")
    shipper.ship(final=False)
    assert _stored(store, run_id) == "ok ✓\n"


def test_invalid_bytes_and_nul_become_replacement_characters(store: Store, run_id: str, tmp_path: Path) -> None:
    log = tmp_path / "output.log"
    log.write_bytes(b"bin\x00ary \xff\xfe end\n")
    shipper = _shipper(store, run_id, log)
    shipper.finish()
    assert _stored(store, run_id) == "bin\ufffdary \ufffd\ufffd end\n"
    # the stored stream reads back consistently through the reading side
    source = StoreLogSource(store, run_id, "boxA")
    info = source.stat()
    assert info is not None
    assert source.read(0, info[1]).decode() == _stored(store, run_id)


def test_the_cap_stops_copying_with_a_marker(store: Store, run_id: str, tmp_path: Path) -> None:
    log = tmp_path / "output.log"
    log.write_bytes(b"x" * 1000 + b"\n")
    shipper = _shipper(store, run_id, log, max_bytes=100)
    shipper.ship(final=False)
    with log.open("ab") as fh:
        fh.write(b"more after the cap\n")
    shipper.finish()
    text = _stored(store, run_id)
    assert text.startswith("x" * 100 + "\n[runtui: the store keeps the first 100 bytes")
    assert str(log) in text and "boxA" in text
    assert "more after the cap" not in text
    assert shipper.capped


def test_a_failing_store_loses_nothing(store: Store, run_id: str, tmp_path: Path) -> None:
    from runtui.store.models import log_table

    table = log_table
    log = tmp_path / "output.log"
    log.write_bytes(b"first\n")
    errors: list[str] = []
    shipper = LogShipper(store, run_id, log, host="boxA", interval=60.0, on_error=errors.append)
    table.drop(store.engine)  # a real failure of the store: every append fails until the table is back
    try:
        assert shipper.ship(final=False) is False
        assert shipper.ship(final=False) is False
    finally:
        table.create(store.engine)
    assert len(errors) == 1 and "will retry" in errors[0]  # said once, not once per attempt
    assert shipper.file_offset == 0  # nothing was lost: the same bytes go again next time
    assert shipper.ship(final=False) is True
    assert _stored(store, run_id) == "first\n"


def test_finish_copies_the_rest_and_stops_the_thread(store: Store, run_id: str, tmp_path: Path) -> None:
    log = tmp_path / "output.log"
    log.write_bytes(b"")
    shipper = LogShipper(store, run_id, log, host="boxA", interval=0.05).start()
    with log.open("ab") as fh:
        fh.write(b"written just before the end\n")
    shipper.finish()
    assert _stored(store, run_id) == "written just before the end\n"
    assert shipper._thread is not None and not shipper._thread.is_alive()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", 0),
        (b"abc", 3),
        ("é".encode(), 2),
        ("é".encode()[:1], 0),
        (b"ab" + "✓".encode()[:2], 2),
        (b"ab" + "𝄞".encode()[:3], 2),
        (b"ab" + "𝄞".encode(), 6),
        (b"\x80\x80", 2),  # stray continuation bytes: nothing to wait for
    ],
)
def test_complete_utf8_prefix(data: bytes, expected: int) -> None:
    assert complete_utf8_prefix(data) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0", 0), ("1024", 1024), ("512k", 512 * 1024), ("100M", 100 * 1024**2), ("1g", 1024**3), (" 2 MB ", 2 * 1024**2)],
)
def test_bytes_setting_accepts_sizes(raw: str, expected: int) -> None:
    assert bytes_setting(LOG_STORE_MAX_ENV, None, {LOG_STORE_MAX_ENV: raw}, 7) == expected


@pytest.mark.parametrize("raw", ["", "-1", "1.5M", "ten", "10T", "M", "１０", True, 2.5, "99999999999999999999G"])
def test_bytes_setting_refuses_bad_values(raw: object) -> None:
    with pytest.raises(ValidationError, match=LOG_STORE_MAX_ENV):
        bytes_setting(LOG_STORE_MAX_ENV, raw, {}, 7)  # type: ignore[arg-type]


def test_bytes_setting_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LOG_STORE_MAX_ENV, "3")
    assert bytes_setting(LOG_STORE_MAX_ENV, None, {}, 7) == 3
    assert bytes_setting(LOG_STORE_MAX_ENV, None, {LOG_STORE_MAX_ENV: "2"}, 7) == 2
    assert bytes_setting(LOG_STORE_MAX_ENV, 1, {LOG_STORE_MAX_ENV: "2"}, 7) == 1
    monkeypatch.delenv(LOG_STORE_MAX_ENV)
    assert bytes_setting(LOG_STORE_MAX_ENV, None, {}, 7) == 7
