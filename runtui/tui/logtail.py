"""Following a log file from its end, with memory independent of the file's size.

Opening reads only the last `initial_bytes` (a seek from the end), so a 1 GB log opens as fast as a small one.
Each `poll()` reads what was appended since; when more than `max_read` arrived (a writer faster than the
viewer), the middle is skipped and reported, so the viewer never falls behind by more than one read.
Lines come back decoded (UTF-8, invalid bytes replaced) with carriage-return redraws collapsed; the
unterminated last line (a tqdm bar between redraws) comes back separately as `partial`.

It reads through a `LogSource` (`runtui.execution.log_source`): the file by default, or the copy of another
host's run log in a shared store; the bytes and offsets mean the same either way.

Blocking I/O (file or store): call it from a worker thread, never from the event loop.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path

from runtui.execution.log_source import FileLogSource, LogSource
from runtui.terminal_text import collapse_cr

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

    def __init__(
        self,
        path: Path,
        *,
        initial_bytes: int = INITIAL_BYTES,
        max_read: int = MAX_READ,
        source: LogSource | None = None,
    ) -> None:
        """Tail `path`; or, given `source`, that log (e.g. another host's run, read from the store), shown as `path`."""
        self.path = path
        self.source: LogSource = source if source is not None else FileLogSource(path)
        self.initial_bytes = initial_bytes
        self.max_read = max_read
        self._offset = 0  # bytes consumed so far
        self._pending = b""  # the unterminated last line
        self._ident: Hashable | None = None  # (device, inode) of a file: notices a replaced file
        self._opened = False

    @property
    def offset(self) -> int:
        return self._offset

    def open(self) -> TailChunk:
        """The file's tail. Raises OSError when the file cannot be read."""
        info = self.source.stat()
        if info is None:
            raise FileNotFoundError(f"no such log: {self.path}")
        self._ident, size = info
        start = max(0, size - self.initial_bytes)
        data = self.source.read(start, size)
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
        info = self.source.stat()
        if info is None:
            return None
        ident, size = info
        if ident != self._ident or size < self._offset:
            return self.open()  # rotated, replaced or truncated: start over from the new tail
        if size == self._offset:
            return None
        start = self._offset
        skipped = 0
        if size - start > self.max_read:
            skipped = size - self.max_read - start
            start = size - self.max_read
            self._pending = b""
        data = self.source.read(start, size)
        self._offset = start + len(data)
        chunk = self._split(data, drop_first=skipped > 0)
        chunk.skipped = skipped
        return chunk

    def read_before(self, offset: int, nbytes: int = INITIAL_BYTES) -> tuple[list[str], int]:
        """Complete lines that end at `offset`, reading at most `nbytes` back; returns them and their start."""
        start = max(0, offset - nbytes)
        data = self.source.read(start, offset)
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
