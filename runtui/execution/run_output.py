"""A submitted run's output as the SDK shows it: waiting for the end while streaming the log, and log contents."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from runtui.config import WorkspaceConfig
from runtui.errors import ActivityFailedException, RuntuiError
from runtui.execution.spec import LOG_FOLDER, OUTPUT_LOG, SUPERVISOR_LOG
from runtui.status import RunStatus

if TYPE_CHECKING:
    from runtui.execution.log_source import LogSource
    from runtui.store import RunRecord, Store

# Log files up to this size are returned whole by details_with_logs; bigger ones as their last TAIL_BYTES.
TAIL_BYTES = 64 * 1024
# Even with file and store events, look again at least this often (events can be missed on network filesystems).
SAFETY_POLL_S = 1.0
READ_CHUNK = 1024 * 1024


class WaitTimeoutError(RuntuiError, TimeoutError):
    """`wait_for_completion(timeout=...)` ran out of time; the run goes on."""


def wait_for_completion(
    store: Store,
    ws: WorkspaceConfig,
    run_id: str,
    show_output: bool = False,
    raise_on_error: bool = True,
    timeout: float | None = None,
    out: TextIO | None = None,
) -> RunRecord:
    """Block until the run is Completed/Failed/Canceled; returns its final record.

    `show_output`: copy the run's `logs/output.log` to `out` (stdout) as it grows, until the run has ended
    and the log is drained (the supervisor sets the final status only after the script's output is written, and
    copied into the store). A run of another host on a shared store is followed through the store's copy.
    `raise_on_error`: a Failed run raises ActivityFailedException (a RunFailedError) with its error text; a
    Canceled run returns, as in Azure ML.
    `timeout` (seconds): raises WaitTimeoutError when the run is still going by then.
    """
    from runtui.execution.log_source import FileLogSource, LogFollower, StoreLogSource, run_log_source
    from runtui.watch import CombinedWatcher, Watcher, folder_watcher, log_copy_watcher, store_watcher

    stream = sys.stdout if out is None else out
    deadline = None if timeout is None else time.monotonic() + timeout
    rec = store.get_run(run_id)
    # The run's log: its file on this host, or (a run of another host on a shared store) the store's copy.
    source = run_log_source(store, ws.runs_dir, rec) if show_output else None
    follower = LogFollower(source, read_chunk=READ_CHUNK) if source is not None else None
    # One store watcher; for the store's copy of a log, one that also wakes on the run's new log chunks.
    chunks = log_copy_watcher(ws.store_url, run_id) if isinstance(source, StoreLogSource) else None
    watchers: list[Watcher] = [chunks if chunks is not None else store_watcher(ws.store_url)]
    if isinstance(source, FileLogSource) and source.path.parent.is_dir():
        watchers.append(folder_watcher(source.path.parent))
    with CombinedWatcher(watchers) as watcher:
        sub = watcher.subscribe()
        while True:
            rec = store.get_run(run_id)
            done = rec.status.is_terminal
            if follower is not None:
                text = follower.read_new(final=done)
                if text:
                    stream.write(text)
                    stream.flush()
            if done:
                break
            wait = SAFETY_POLL_S
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WaitTimeoutError(
                        f"run {run_id} is still {rec.status.value} after {timeout:g} s; it goes on running"
                    )
                wait = min(wait, remaining)
            sub.wait(wait)
    if raise_on_error and rec.status == RunStatus.FAILED:
        detail = f": {rec.error}" if rec.error else ""
        raise ActivityFailedException(f"run {run_id} ended {rec.status.value}{detail}")
    return rec


def read_tail(path: Path, limit: int = TAIL_BYTES) -> str:
    """The file's text; for a file over `limit` bytes, a note saying so and its last `limit` bytes."""
    from runtui.execution.log_source import FileLogSource

    return tail_text(FileLogSource(path), limit)


def tail_text(source: LogSource, limit: int = TAIL_BYTES) -> str:
    """The log's text; for a log over `limit` bytes, a note saying so and its last `limit` bytes."""
    info = source.stat()
    if info is None:
        raise FileNotFoundError(f"no log {source.label}")
    size = info[1]
    if size <= limit:
        return source.read(0, size).decode("utf-8", errors="replace")
    data = source.read(size - limit, size)
    # Start at a line boundary when there is one in the tail.
    cut = data.find(b"\n")
    if 0 <= cut < len(data) - 1:
        data = data[cut + 1 :]
    skipped = size - len(data)
    return f"[... {skipped} bytes omitted; {size} bytes in all, the last {len(data)} follow ...]\n" + data.decode(
        "utf-8", errors="replace"
    )


def details_with_logs(
    ws: WorkspaceConfig, run_id: str, limit: int = TAIL_BYTES, store: Store | None = None
) -> dict[str, str]:
    """`logs/<name>` -> content for each file in the run's logs folder (the last `limit` bytes of a big one),
    plus `supervisor.log` when the supervisor wrote anything (it explains a run that failed to start).

    Given the `store`, a run of another host on a shared store gives `logs/output.log` from the store's copy
    (its other files are on its host)."""
    if store is not None:
        from runtui.execution.log_source import StoreLogSource, reads_from_store

        rec = store.get_run(run_id)
        if reads_from_store(store, rec):
            source = StoreLogSource(store, run_id, rec.host)
            return {} if source.stat() is None else {f"{LOG_FOLDER}/{OUTPUT_LOG}": tail_text(source, limit)}
    run_dir = ws.run_dir(run_id)
    out: dict[str, str] = {}
    log_dir = run_dir / LOG_FOLDER
    if log_dir.is_dir():
        for p in sorted(log_dir.iterdir()):
            if p.is_file():
                try:
                    out[f"{LOG_FOLDER}/{p.name}"] = read_tail(p, limit)
                except OSError as exc:
                    out[f"{LOG_FOLDER}/{p.name}"] = f"[cannot read {p}: {exc.strerror or exc}]"
    sup = run_dir / SUPERVISOR_LOG
    try:
        if sup.stat().st_size > 0:
            out[SUPERVISOR_LOG] = read_tail(sup, limit)
    except OSError:
        pass
    return out
