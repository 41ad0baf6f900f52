"""Copying a run's log file into a shared store, so that other hosts can tail it (`log_source.StoreLogSource`).

The supervisor of a run on a non-SQLite store starts a `LogShipper` on the run's `logs/output.log`. A thread
looks at the file every `interval` seconds (1 s) and appends what is new to the store (`Store.append_log`) in chunks
of at most `chunk_bytes`, so a chatty script costs a few transactions a second, not one per line. Before the
supervisor sets the run's final status it calls `finish()`, which copies the rest: a reader on another host that
sees the final status and reads once more has the whole log (up to the cap).

Bounded: at most `max_bytes` of a run's log go to the store (default 100 MB, `RUNTUI_LOG_STORE_MAX_BYTES`, 0 for
none); then one marker line says where the rest is, and copying stops. The local file is never truncated.

Text, not bytes: the store keeps text, so output is decoded as UTF-8 (invalid bytes become U+FFFD, a multi-byte
character split across reads is kept whole) and NUL characters (which PostgreSQL text cannot hold) become U+FFFD.
The stored stream's byte offsets are those of this text, not of the file.

If the store is briefly unreachable, nothing is lost: the file offset only advances after a chunk is stored, so
the next round sends it again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runtui.store import Store

# Once a second: on PostgreSQL every chunk goes through the box's one agent connection, shared by all its runs.
DEFAULT_INTERVAL_S = 1.0
DEFAULT_CHUNK_BYTES = 256 * 1024
DEFAULT_MAX_BYTES = 100 * 1024 * 1024
FINISH_DEADLINE_S = 30.0  # finish() gives up on an unreachable store after this long: the final status matters more


def complete_utf8_prefix(data: bytes) -> int:
    """Length of the longest prefix of `data` that does not end inside a UTF-8 multi-byte character."""
    n = len(data)
    for back in range(1, min(4, n) + 1):
        byte = data[n - back]
        if byte < 0x80:
            return n  # ASCII: complete (continuation bytes after it would be invalid anyway)
        if byte >= 0xC0:  # the lead byte of the last character
            need = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4 if byte < 0xF8 else 1
            return n if back >= need else n - back
    return n  # only continuation bytes: invalid, the decoder replaces them; nothing to wait for


def cap_marker(max_bytes: int, path: Path, host: str) -> str:
    return (
        f"\n[runtui: the store keeps the first {max_bytes:,} bytes of this log (RUNTUI_LOG_STORE_MAX_BYTES); "
        f"the rest is only in {path} on host {host}]\n"
    )


class LogShipper:
    """Copies `path` (a growing log file) into `store` as run `run_id`'s log; see the module docstring."""

    def __init__(
        self,
        store: Store,
        run_id: str,
        path: Path,
        *,
        host: str,
        max_bytes: int = DEFAULT_MAX_BYTES,
        interval: float = DEFAULT_INTERVAL_S,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.path = path
        self.host = host
        self.max_bytes = max_bytes
        self.interval = interval
        self.chunk_bytes = chunk_bytes
        self.on_error = on_error
        self.file_offset = 0  # bytes of the file copied so far
        self.stored = 0  # bytes of text in the store so far (the stored stream's length)
        self.capped = False
        self.chunks = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_error: str | None = None

    def start(self) -> LogShipper:
        self._thread = threading.Thread(target=self._run, name="log-shipper", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.ship(final=False)

    def finish(self, deadline_s: float = FINISH_DEADLINE_S) -> None:
        """Stop the thread and copy everything left (the script has exited: its output is complete)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        give_up = time.monotonic() + deadline_s
        while not self.ship(final=True) and time.monotonic() < give_up:
            time.sleep(0.5)

    def ship(self, *, final: bool) -> bool:
        """Copy what is new; True when everything readable was stored (False: the store failed, retry later)."""
        with self._lock:
            try:
                while not self.capped:
                    data = self._read(self.chunk_bytes)
                    if not data:
                        return True
                    cut = len(data) if final and len(data) < self.chunk_bytes else complete_utf8_prefix(data)
                    if cut == 0:
                        return True  # only the start of a character so far
                    self._append(data[:cut])
                    if len(data) < self.chunk_bytes:
                        return True
                return True
            except Exception as exc:
                message = f"copying the log to the store failed (will retry): {exc}"
                if self.on_error is not None and message != self._last_error:
                    self.on_error(message)
                self._last_error = message
                return False

    def _read(self, limit: int) -> bytes:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.file_offset)
                return fh.read(limit)
        except FileNotFoundError:
            return b""

    def _append(self, raw: bytes) -> None:
        text = raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
        encoded = len(text.encode("utf-8"))
        room = self.max_bytes - self.stored
        if encoded > room:
            # Keep what fits (cut at a character boundary), then the marker; nothing more is copied.
            head = text.encode("utf-8")[: max(room, 0)].decode("utf-8", errors="ignore")
            text = head + cap_marker(self.max_bytes, self.path, self.host)
            encoded = len(text.encode("utf-8"))
            self.store.append_log(self.run_id, text, self.stored)
            self.capped = True
        else:
            self.store.append_log(self.run_id, text, self.stored)
        self.stored += encoded
        self.file_offset += len(raw)
        self.chunks += 1
        self._last_error = None
