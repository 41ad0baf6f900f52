"""Where "the run's log" is read from: the local file on the run's own host, else the copy in a shared store.

A supervisor writes its run's output to `RUN_DIR/logs/output.log` on its own host and, on a shared
(non-SQLite) store, also copies it into the store in chunks (`log_shipping.py`). A reader on the same host reads
the file (complete, fastest); a reader on another host reads the store's copy, which may stop at the per-run cap.

Both are presented as one append-only byte stream (`LogSource`): `stat()` says how long it is now (and
whether it was replaced), `read(start, end)` returns bytes. Every log reader (the SDK's `wait_for_completion`,
`runtui logs [-f]`, the TUI's log pane) reads through it, so none of them needs to know where the bytes live.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Hashable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from runtui.execution.spec import LOG_FOLDER, OUTPUT_LOG
from runtui.identity import current_host

if TYPE_CHECKING:
    from runtui.store import RunRecord, Store


class LogSource(Protocol):
    """A run's log as an append-only byte stream."""

    @property
    def label(self) -> str:
        """A short name for titles: the file name, or `host:output.log` for a copy in the store."""
        ...

    def stat(self) -> tuple[Hashable, int] | None:
        """(identity, size in bytes) now; None while there is no log yet. A new identity: replaced, start over."""
        ...

    def read(self, start: int, end: int) -> bytes:
        """Bytes [start, end) (fewer when the log is shorter). Raises OSError (file) or StoreError (store)."""
        ...


class FileLogSource:
    """A log file on this host's disk."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def label(self) -> str:
        return self.path.name

    def stat(self) -> tuple[Hashable, int] | None:
        try:
            st = os.stat(self.path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        return (st.st_dev, st.st_ino), st.st_size

    def read(self, start: int, end: int) -> bytes:
        with open(self.path, "rb") as fh:
            fh.seek(start)
            return fh.read(max(0, end - start))

    def __repr__(self) -> str:
        return f"FileLogSource({str(self.path)!r})"


class StoreLogSource:
    """A run's log as copied into a shared store by its supervisor on another host."""

    def __init__(self, store: Store, run_id: str, host: str = "") -> None:
        self.store = store
        self.run_id = run_id
        self.host = host

    @property
    def label(self) -> str:
        return f"{self.host}:{OUTPUT_LOG}" if self.host else OUTPUT_LOG

    def stat(self) -> tuple[Hashable, int] | None:
        size = self.store.log_extent(self.run_id)
        return None if size is None else (("store", self.run_id), size)

    def read(self, start: int, end: int) -> bytes:
        chunks = self.store.read_log_range(self.run_id, start, end)
        if not chunks:
            return b""
        first = chunks[0][0]
        data = b"".join(text.encode("utf-8") for _, text in chunks)
        return data[start - first : end - first]

    def __repr__(self) -> str:
        return f"StoreLogSource({self.run_id!r}, host={self.host!r})"


def log_file(runs_dir: Path, run_id: str) -> Path:
    """Where the supervisor writes the run's output on its own host."""
    from runtui.config import run_folder

    return run_folder(runs_dir, run_id) / LOG_FOLDER / OUTPUT_LOG


def reads_from_store(store: Store, record: RunRecord) -> bool:
    """True when this host must read the run's log from the store: the run ran on another host and the store is
    shared (nothing is copied into a SQLite store, whose runs all live on one host's disk)."""
    return not store.sqlite and bool(record.host) and record.host != current_host()


def run_log_source(store: Store, runs_dir: Path, record: RunRecord) -> LogSource:
    """The run's output log: the local file on the run's host (or with a SQLite store), else the store's copy."""
    if reads_from_store(store, record):
        return StoreLogSource(store, record.id, record.host)
    return FileLogSource(log_file(runs_dir, record.id))


class LogFollower:
    """Reads what was appended to a log since the last call, as text (UTF-8 decoded across read boundaries)."""

    def __init__(self, source: LogSource, *, read_chunk: int = 1024 * 1024) -> None:
        self.source = source
        self.read_chunk = read_chunk
        self.offset = 0
        self._ident: Hashable = None
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def read_new(self, final: bool = False) -> str:
        parts: list[str] = []
        info = self.source.stat()
        if info is not None:
            ident, size = info
            if ident != self._ident or size < self.offset:  # replaced or truncated: start over
                if self._ident is not None:
                    self.offset = 0
                    self._decoder.reset()
                self._ident = ident
            while self.offset < size:
                data = self.source.read(self.offset, min(size, self.offset + self.read_chunk))
                if not data:
                    break
                self.offset += len(data)
                parts.append(self._decoder.decode(data))
        if final:
            parts.append(self._decoder.decode(b"", final=True))
        return "".join(parts)
