"""`runtui logs RUN [-f]`: print a run's output log, and with `-f` keep printing until the run ends.

The log of a run that ran on another host, on a shared store, is read from the store's copy
(`runtui.execution.log_source`); on the run's own host, from its file.

Log content is hostile by default: escape sequences that retitle the terminal, move the cursor or clear the
screen are dropped, as are all other control characters. On a terminal, SGR colours are kept (unless NO_COLOR);
into a pipe or file, the text is plain. Carriage-return progress bars collapse to their last state per line;
while following on a terminal, the line being redrawn is shown live on the last line.

`logs -f` exits with the run's outcome (0 Completed, 1 Failed, 3 Canceled), so a script can tell them apart.
While it waits for output it watches its own stdout: when the reader goes away (`| head` done, the terminal or
SSH session closed) it exits at once instead of on its next write, which may be minutes away.
"""

from __future__ import annotations

import argparse
import select
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from runtui.cli import printing as out
from runtui.cli.session import get_run, workspace
from runtui.errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    from runtui.core.run import Run
    from runtui.execution.log_source import LogSource
    from runtui.store.store import Store

READ_CHUNK = 1024 * 1024
POLL_S = 0.2
STATUS_POLL_S = 0.5
CANCELED_EXIT = 3  # `logs -f` of a Canceled run (1: Failed; 0: Completed)


def outcome_code(status: str) -> int:
    """The exit code of `logs -f` for the run's final status."""
    from runtui.status import RunStatus

    if status == RunStatus.COMPLETED.value:
        return 0
    return CANCELED_EXIT if status == RunStatus.CANCELED.value else 1


def wait_or_hangup(stream: TextIO, seconds: float) -> None:
    """Sleep up to `seconds`, but raise BrokenPipeError as soon as `stream`'s reader is gone: poll() reports
    POLLERR on a pipe whose read end closed and POLLHUP on a hung-up terminal or socket, without writing."""
    try:
        fd = stream.fileno()
    except (AttributeError, ValueError, OSError):
        time.sleep(seconds)
        return
    poller = select.poll()
    poller.register(fd, 0)  # no events asked for: only error, hang-up and invalid are reported
    for _, events in poller.poll(seconds * 1000):
        if events & (select.POLLERR | select.POLLHUP | select.POLLNVAL):
            raise BrokenPipeError(f"the reader of {getattr(stream, 'name', 'stdout')} is gone")


def sanitizer(color: bool) -> Callable[[str], str]:
    """A function making one raw log line (no newline) safe to print: the same grammar of "what is dangerous"
    as the TUI's (`runtui.terminal_text`); colours kept only for a colour terminal."""
    from runtui.terminal_text import keep_sgr, plain

    return keep_sgr if color else plain


def log_path(r: Run, name: str | None) -> Path:
    """The run's log file: `logs/output.log` (the script's stdout and stderr) unless `name` says otherwise."""
    from runtui.execution.spec import LOG_FOLDER, OUTPUT_LOG, SUPERVISOR_LOG

    folder = r.folder
    if name is None:
        return folder / LOG_FOLDER / OUTPUT_LOG
    base = name.removeprefix(f"{LOG_FOLDER}/")
    if not base or "/" in base or "\\" in base or base in (".", ".."):
        raise ValidationError(f"--file takes a file name in the run's logs folder, not {name!r}")
    if base == SUPERVISOR_LOG and not (folder / LOG_FOLDER / base).exists():
        return folder / SUPERVISOR_LOG  # the supervisor's own log sits next to logs/
    return folder / LOG_FOLDER / base


def _store_copy(store: Store, r: Run, args: argparse.Namespace) -> LogSource | None:
    """The store's copy of the output log of a run that ran on another host (a shared store), else None."""
    from runtui.execution.log_source import StoreLogSource, reads_from_store

    rec = r.record
    if rec.kind != "submitted" or not reads_from_store(store, rec):
        return None  # only submitted runs have an output log (and the message below says so)
    if args.file is not None:
        raise NotFoundError(
            f"run {r.id} ran on host {rec.host!r}: only its output log is copied into the store; "
            f"its other log files are on that host"
        )
    source = StoreLogSource(store, rec.id, rec.host)
    if source.stat() is None and not (args.follow and rec.status.is_live):
        raise NotFoundError(
            f"run {r.id} ran on host {rec.host!r} and the store holds no copy of its log (its supervisor copies it "
            f"only to a shared store, up to RUNTUI_LOG_STORE_MAX_BYTES); its log is on that host"
        )
    return source


def _available(r: Run) -> str:
    from runtui.execution.spec import LOG_FOLDER

    try:
        names = sorted(p.name for p in (r.folder / LOG_FOLDER).iterdir() if p.is_file())
    except OSError:
        names = []
    return ", ".join(names) or "none"


class LogPrinter:
    """Reads a log (a file, or another host's run log in the store) from where it left off and prints the complete
    lines, sanitized."""

    def __init__(self, path: Path | LogSource, stream: TextIO, *, color: bool, live_partial: bool) -> None:
        from runtui.execution.log_source import FileLogSource

        self.source: LogSource = FileLogSource(path) if isinstance(path, Path) else path
        self.stream = stream
        self.clean = sanitizer(color)
        self.plain = sanitizer(False)
        self.live_partial = live_partial
        self.offset = 0
        self.pending = b""
        self.partial_shown = False
        self.width = out.terminal_width(stream) or 100

    def pump(self) -> bool:
        """Print what was appended since the last call; True when anything was read."""
        info = self.source.stat()
        if info is None:
            return False
        size = info[1]
        if size < self.offset:  # truncated or replaced: start over
            self.offset = 0
            self.pending = b""
        if size == self.offset:
            return False
        while self.offset < size:
            data = self.source.read(self.offset, min(size, self.offset + READ_CHUNK))
            if not data:
                break
            self.offset += len(data)
            self._feed(data)
        self._show_partial()
        self.stream.flush()
        return True

    def _feed(self, data: bytes) -> None:
        parts = (self.pending + data).split(b"\n")
        self.pending = parts.pop()
        if not parts:
            return
        clean = self.clean
        text = "\n".join(clean(p.decode("utf-8", errors="replace")) for p in parts) + "\n"
        if self.partial_shown:
            text = "\r\x1b[K" + text
            self.partial_shown = False
        self.stream.write(text)

    def _show_partial(self) -> None:
        if not self.live_partial or not self.pending:
            return
        # The live line is plain text, so clipping it to the terminal's width cannot cut an escape sequence.
        line = self.plain(self._last_redraw(self.pending).decode("utf-8", errors="replace"))
        self.stream.write("\r\x1b[K" + line[: self.width - 1])
        self.partial_shown = True

    @staticmethod
    def _last_redraw(data: bytes) -> bytes:
        body = data.rstrip(b"\r")
        cut = body.rfind(b"\r")
        return body if cut < 0 else body[cut + 1 :]

    def finish(self) -> None:
        """Print the unterminated last line, if any, as a line of its own."""
        if self.pending:
            if self.partial_shown:
                self.stream.write("\r\x1b[K")
            self.stream.write(self.clean(self.pending.decode("utf-8", errors="replace")) + "\n")
            self.pending = b""
            self.partial_shown = False
        self.stream.flush()


def follow(r: Run, path: Path | LogSource, stream: TextIO, *, color: bool, live_partial: bool) -> str:
    """Print the log as it grows until the run has ended and the log is drained; returns the final status.

    The supervisor writes the final status only after the script's output is in the file, so one more read
    after seeing a final status gets everything.
    """
    printer = LogPrinter(path, stream, color=color, live_partial=live_partial)
    next_status = 0.0
    while True:
        now = time.monotonic()
        if now >= next_status:
            status = r.record.status
            next_status = now + STATUS_POLL_S
            if status.is_terminal:
                printer.pump()
                printer.finish()
                return status.value
        if not printer.pump():
            wait_or_hangup(stream, POLL_S)


def run(args: argparse.Namespace) -> int:
    ws = workspace(args)
    r = get_run(ws, args.run)
    stream = sys.stdout
    color = out.use_color(stream)
    source = _store_copy(ws.store, r, args)
    if source is not None:  # a run of another host on a shared store: its log is the store's copy
        if args.follow:
            status = follow(r, source, stream, color=color, live_partial=stream.isatty())
            if sys.stderr.isatty():
                out.note(f"run {r.id} ended {status}")
            return outcome_code(status)
        printer = LogPrinter(source, stream, color=color, live_partial=False)
        printer.pump()
        printer.finish()
        return 0
    path = log_path(r, args.file)
    if not path.is_file():
        rec = r.record
        if args.follow and rec.kind == "submitted" and not r.folder.is_dir():
            # Its supervisor writes the log into the run folder of the workspace it was submitted from; that is
            # not this one (another --home on this host sharing the store): following here would wait forever.
            raise NotFoundError(
                f"cannot follow run {r.id}: it has no folder in this workspace ({r.folder.parent}); it was "
                f"submitted from another workspace on host {rec.host!r}: use that workspace's --home"
            )
        if args.follow and rec.kind == "submitted" and rec.status.is_live and args.file is None:
            out.note(f"run {r.id} is {rec.status.value}: waiting for its output to start")
        elif rec.kind != "submitted" and args.file is None:
            raise NotFoundError(
                f"run {r.id} has no output log: only submitted runs (runtui submit, exp.submit) capture output"
            )
        elif not r.folder.is_dir():
            raise NotFoundError(
                f"run {r.id} has no folder here ({r.folder}); it ran on host {rec.host!r}, whose disk holds its logs"
            )
        else:
            raise NotFoundError(f"run {r.id} has no log file {path.name!r}; its logs folder holds: {_available(r)}")
    if args.follow:
        status = follow(r, path, stream, color=color, live_partial=stream.isatty())
        if sys.stderr.isatty():
            out.note(f"run {r.id} ended {status}")
        return outcome_code(status)
    printer = LogPrinter(path, stream, color=color, live_partial=False)
    printer.pump()
    printer.finish()
    return 0
