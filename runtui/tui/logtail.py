"""Following a log file from its end, with memory independent of the file's size.

Opening reads only the last `initial_bytes` (a seek from the end), so a 1 GB log opens as fast as a small one.
Each `poll()` reads what was appended since; when more than `max_read` arrived (a writer faster than the
viewer), the middle is skipped and reported, so the viewer never falls behind by more than one read.
Lines come back decoded (UTF-8, invalid bytes replaced) with carriage-return redraws collapsed; the
unterminated last line (a tqdm bar between redraws) comes back separately as `partial`.

Blocking file I/O: call it from a worker thread, never from the event loop.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from runtui.tui.logtext import collapse_cr

INITIAL_BYTES = 256 * 1024
MAX_READ = 4 * 1024 * 1024
MAX_PARTIAL = 64 * 1024  # an unterminated line longer than this is shown by its end only


@dataclass
class TailChunk:
    """What one read of the file produced."""

    lines: list[str] = field(default_factory=list)
    partial: str = ""  # the current unterminated last line ("" when the file ends in a newline)
    reset: bool = False  # the view must drop what it holds (first read, truncated or replaced file)
    skipped: int = 0  # bytes skipped before `lines` (older output not read)
    offset: int = 0  # file offset where `lines` start (for loading older output)


class LogTail:
    """The reading end of one log file."""

    def __init__(self, path: Path, *, initial_bytes: int = INITIAL_BYTES, max_read: int = MAX_READ) -> None:
        self.path = path
        self.initial_bytes = initial_bytes
        self.max_read = max_read
        self._offset = 0  # bytes consumed so far
        self._pending = b""  # the unterminated last line
        self._ident: tuple[int, int] | None = None  # (device, inode): notices a replaced file
        self._opened = False

    @property
    def offset(self) -> int:
        return self._offset

    def open(self) -> TailChunk:
        """The file's tail. Raises OSError when the file cannot be read."""
        with open(self.path, "rb") as f:
            st = os.fstat(f.fileno())
            self._ident = (st.st_dev, st.st_ino)
            size = st.st_size
            start = max(0, size - self.initial_bytes)
            f.seek(start)
            data = f.read(size - start)
        self._opened = True
        self._offset = start + len(data)
        self._pending = b""
        first = start
        if start > 0:
            # we started reading mid-line: the lines start after the first newline
            cut = data.find(b"\n")
            first = start + cut + 1 if cut >= 0 else self._offset
        chunk = self._split(data, drop_first=start > 0)
        chunk.reset = True
        chunk.skipped = start
        chunk.offset = first
        return chunk

    def poll(self) -> TailChunk | None:
        """What was appended since the last read, or None when nothing was. Raises OSError."""
        if not self._opened:
            return self.open()
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        if (st.st_dev, st.st_ino) != self._ident or st.st_size < self._offset:
            return self.open()  # rotated, replaced or truncated: start over from the new tail
        if st.st_size == self._offset:
            return None
        with open(self.path, "rb") as f:
            start = self._offset
            skipped = 0
            if st.st_size - start > self.max_read:
                skipped = st.st_size - self.max_read - start
                start = st.st_size - self.max_read
                self._pending = b""
            f.seek(start)
            data = f.read(st.st_size - start)
        self._offset = start + len(data)
        chunk = self._split(data, drop_first=skipped > 0)
        chunk.skipped = skipped
        return chunk

    def read_before(self, offset: int, nbytes: int = INITIAL_BYTES) -> tuple[list[str], int]:
        """Complete lines that end at `offset`, reading at most `nbytes` back; returns them and their start."""
        start = max(0, offset - nbytes)
        with open(self.path, "rb") as f:
            f.seek(start)
            data = f.read(offset - start)
        if start > 0:
            cut = data.find(b"\n")
            if cut < 0:
                return [], offset
            start += cut + 1
            data = data[cut + 1 :]
        if data.endswith(b"\n"):
            data = data[:-1]
        if not data:
            return [], start
        return [_decode(line) for line in data.split(b"\n")], start

    def _split(self, data: bytes, *, drop_first: bool) -> TailChunk:
        data = self._pending + data
        parts = data.split(b"\n")
        self._pending = parts.pop()
        if drop_first and parts:
            parts = parts[1:]  # we started reading mid-line
        elif drop_first:
            self._pending = _last_redraw(self._pending)
        if len(self._pending) > MAX_PARTIAL:
            self._pending = _last_redraw(self._pending)[-MAX_PARTIAL:]
        return TailChunk(lines=[_decode(p) for p in parts], partial=_decode(self._pending))


def _last_redraw(data: bytes) -> bytes:
    """The last carriage-return redraw of an unterminated line (keeps memory flat for endless tqdm bars)."""
    body = data.rstrip(b"\r")
    cut = body.rfind(b"\r")
    return data if cut < 0 else data[cut:]


def _decode(raw: bytes) -> str:
    line = raw.decode("utf-8", errors="replace")
    return collapse_cr(line) if "\r" in line else line


PRIMARY_LOG = "output.log"  # what a submitted run's script writes (stdout and stderr)


def find_log_files(run_dir: Path) -> list[Path]:
    """The run's `logs/*.log` files: `output.log` first, then the others, most recently written first."""
    folder = run_dir / "logs"
    try:
        entries = [p for p in folder.iterdir() if p.suffix == ".log" and p.is_file()]
    except OSError:
        return []

    def mtime(p: Path) -> float:
        try:
            return p.stat().st_mtime
        except OSError:
            return 0.0

    return sorted(entries, key=lambda p: (p.name != PRIMARY_LOG, -mtime(p), p.name))
