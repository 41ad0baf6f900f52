"""Reading a log from its end: bounded memory, growth, partial lines, truncation, bursts, bad bytes."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest

from runtui.tui.logtail import LogTail, find_log_files


def write(path: Path, data: bytes, mode: str = "ab") -> None:
    with open(path, mode) as f:
        f.write(data)


def test_open_reads_only_the_tail_of_a_huge_file(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    with open(path, "wb") as f:
        f.write(b"first line that must not be read\n")
        f.truncate(1024**3)  # a 1 GiB (sparse) file
        f.seek(0, os.SEEK_END)
        f.write(b"".join(b"line %d\n" % i for i in range(100)))
    tail = LogTail(path, initial_bytes=64 * 1024)
    tracemalloc.start()
    try:
        chunk = tail.open()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024 * 1024  # memory independent of the file size
    assert chunk.reset
    assert chunk.skipped > 1024**3 - 64 * 1024 - 1
    assert chunk.lines[-1] == "line 99"
    assert "first line that must not be read" not in chunk.lines
    assert tail.offset == path.stat().st_size


def test_first_partial_line_is_dropped_when_starting_mid_file(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    write(path, b"aaaaaaaaaa\nbbbb\ncccc\n")
    chunk = LogTail(path, initial_bytes=12).open()
    assert chunk.lines == ["bbbb", "cccc"]


def test_poll_returns_appended_lines_and_the_partial_last_line(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    write(path, b"one\n")
    tail = LogTail(path)
    assert tail.open().lines == ["one"]
    assert tail.poll() is None
    write(path, b"two\nthr")
    chunk = tail.poll()
    assert chunk is not None and chunk.lines == ["two"] and chunk.partial == "thr"
    write(path, b"ee\n")
    chunk = tail.poll()
    assert chunk is not None and chunk.lines == ["three"] and chunk.partial == ""


def test_progress_bar_redraws_collapse_across_reads(tmp_path: Path) -> None:
    path = tmp_path / "tqdm.log"
    write(path, b"start\n\r  0%|          |")
    tail = LogTail(path)
    chunk = tail.open()
    assert chunk.lines == ["start"] and chunk.partial == "  0%|          |"
    write(path, b"\r 50%|#####     |")
    chunk = tail.poll()
    assert chunk is not None and chunk.lines == [] and chunk.partial == " 50%|#####     |"
    write(path, b"\r100%|##########|\ndone\n")
    chunk = tail.poll()
    assert chunk is not None and chunk.lines == ["100%|##########|", "done"] and chunk.partial == ""


def test_endless_progress_line_keeps_memory_flat(tmp_path: Path) -> None:
    path = tmp_path / "bar.log"
    write(path, b"")
    tail = LogTail(path)
    tail.open()
    for i in range(2000):
        write(path, b"\r step %06d " % i + b"x" * 100)
        tail.poll()
    chunk = tail.poll()
    assert chunk is None
    assert len(tail._pending) < 70 * 1024
    write(path, b"\n")
    chunk = tail.poll()
    assert chunk is not None and chunk.lines[0].startswith(" step 001999")


def test_truncated_or_replaced_file_starts_over(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    write(path, b"old 1\nold 2\n")
    tail = LogTail(path)
    tail.open()
    write(path, b"new\n", mode="wb")  # truncated to something shorter
    chunk = tail.poll()
    assert chunk is not None and chunk.reset and chunk.lines == ["new"]
    replacement = tmp_path / "y.log"
    write(replacement, b"rotated in\n")
    os.replace(replacement, path)
    chunk = tail.poll()
    assert chunk is not None and chunk.reset and chunk.lines == ["rotated in"]


def test_a_burst_larger_than_max_read_is_skipped_not_queued(tmp_path: Path) -> None:
    path = tmp_path / "fast.log"
    write(path, b"")
    tail = LogTail(path, max_read=1000)
    tail.open()
    write(path, b"".join(b"burst %05d\n" % i for i in range(1000)))  # ~12 KB
    chunk = tail.poll()
    assert chunk is not None
    assert chunk.skipped > 10_000
    assert chunk.lines[-1] == "burst 00999"
    assert sum(len(line) + 1 for line in chunk.lines) <= 1000


def test_invalid_utf8_is_replaced_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "bin.log"
    write(path, b"ok \xff\xfe bytes\n\x00\x01 nul\n")
    chunk = LogTail(path).open()
    assert chunk.lines[0] == "ok \ufffd\ufffd bytes"


def test_read_before_gives_older_complete_lines(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    write(path, b"".join(b"line %d\n" % i for i in range(100)))
    tail = LogTail(path, initial_bytes=50)
    chunk = tail.open()
    first_shown = int(chunk.lines[0].split()[1])
    lines, start = tail.read_before(chunk.offset, 60)
    assert lines[-1] == f"line {first_shown - 1}"
    assert all(line.startswith("line ") for line in lines)
    assert start < chunk.offset
    assert tail.read_before(0) == ([], 0)


def test_missing_file_raises_on_open_and_is_quiet_on_poll(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    with pytest.raises(FileNotFoundError):
        LogTail(path).open()
    write(path, b"a\n")
    tail = LogTail(path)
    tail.open()
    path.unlink()
    assert tail.poll() is None


def test_find_log_files_prefers_output_log(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "supervisor.log").write_text("s")
    (logs / "output.log").write_text("o")
    (logs / "notes.txt").write_text("n")
    assert [p.name for p in find_log_files(tmp_path)] == ["output.log", "supervisor.log"]
    assert find_log_files(tmp_path / "nope") == []
