"""The log pane: a run's log tail, following new output unless the reader scrolled up, with search.

`LogView` is a Line API widget over a bounded list of raw lines: only the lines on screen are turned into
styled text (SGR colours kept, every other control sequence dropped), so a fast writer costs list appends,
not rendering. `LogPanel` adds the title line, the search bar and the tail worker that reads the file
(`LogTail`, from its end) in a thread and hands new lines over as messages, one batch at a time.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.containers import Vertical
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Input, Static
from textual.worker import get_current_worker

if TYPE_CHECKING:
    from runtui.store.records import RunRecord

from runtui.errors import RuntuiError
from runtui.execution.log_source import LogSource, StoreLogSource, reads_from_store
from runtui.terminal_text import strip_controls
from runtui.tui.logtail import LogTail, TailChunk, find_log_files
from runtui.tui.logtext import to_text

MAX_LINES = 20_000  # lines kept in memory per view; older ones drop off the top
BATCH_S = 0.25  # after showing new output, wait this long before showing more
POLL_S = 0.1  # how often the tail looks for new output when nothing watches the log folder
# With a folder watcher the tail sleeps until an event (or the watcher's own 0.5 s stat poll, for filesystems
# without events): waking 10 times a second to stat the log cost a live run's main screen ~0.3 % of a core.
WATCHED_WAIT_S = 1.0
# The watcher's step: a new log line is noticed within ~2 steps. 10 ms (the store watcher's) costs ~0.3 % of a
# core in wake-ups alone, 25 ms ~0.13 %; at 50 ms a printed line reached the screen in 95-101 ms median (21 ms
# before), so 25.
LOG_WATCH_STEP_MS = 25
MATCH_STYLE = Style(reverse=True, bold=True)


class LogView(ScrollView, can_focus=True):
    """Lines of a log, newest at the bottom."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", show=True),
        Binding("n", "next_match", "Next match", show=False),
        Binding("N", "previous_match", "Previous match", show=False),
        Binding("G", "scroll_end", "Follow", show=False),
        Binding("g", "scroll_home", "Top", show=False),
        Binding("o", "other_file", "Other log", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {"log-view--current-match"}
    """The search match `n`/`N` moved to (other matches are shown reversed)."""

    DEFAULT_CSS = """
    LogView {
        background: $surface;
    }
    LogView > .log-view--current-match { color: $text; background: $warning; text-style: bold; }
    """

    class SearchRequested(Message):
        """The reader pressed `/` in the log."""

    class OlderRequested(Message):
        """The reader reached the top of what is held, and the file has older output."""

    class OtherFileRequested(Message):
        """The reader pressed `o`: show the run's next log file."""

    class FollowChanged(Message):
        """`following` flipped: the reader scrolled up, or came back to the end."""

    search_term: reactive[str] = reactive("", always_update=True)
    """The text highlighted and jumped to by `n` / `N` (case-insensitive)."""

    def __init__(self, *, max_lines: int = MAX_LINES, id: str | None = None) -> None:
        super().__init__(id=id)
        self.max_lines = max_lines
        self.lines: list[str] = []
        self.partial = ""
        self.dropped = 0  # lines dropped from the top since the last reset (absolute numbering)
        self.skipped_bytes = 0  # output before the first line that was never read
        self.first_offset = 0  # file offset where lines[0] starts (for loading older output)
        self.loading_older = False
        self._trimmed = False  # lines were dropped from the top: first_offset no longer describes lines[0]
        self._width = 0
        self._cache: LRUCache[tuple[int, str, int], Strip] = LRUCache(1024)
        self._current_match: int | None = None  # absolute line number of the current match
        self._search_re: re.Pattern[str] | None = None
        self._was_following = True
        self._follow_floor = 0  # virtual height while following: the last line plus the room left below it
        self._follow_height = 0  # the view's height when the room was set

    # ------------------------------------------------------------------ content

    def on_mount(self) -> None:
        # Textual's anchor is "follow": the layout keeps an anchored view at the bottom as it grows; a scroll
        # by the reader releases it, and scrolling back to the bottom anchors it again.
        self.anchor()

    @property
    def following(self) -> bool:
        """New output scrolls into view (the reader has not scrolled up)."""
        return self.is_anchored and not self._anchor_released

    def _check_following(self) -> None:
        now = self.following
        if now != self._was_following:
            self._was_following = now
            self.post_message(self.FollowChanged())

    def release_anchor(self) -> None:
        super().release_anchor()
        self._check_following()

    def action_scroll_end(self) -> None:
        self.scroll_end(animate=False)
        self.call_after_refresh(self._check_following)

    @property
    def line_count(self) -> int:
        return len(self.lines) + (1 if self.partial else 0)

    def clear(self) -> None:
        self.lines = []
        self.partial = ""
        self.dropped = 0
        self.skipped_bytes = 0
        self.first_offset = 0
        self.loading_older = False
        self._trimmed = False
        self._width = 0
        self._cache.clear()
        self._current_match = None
        self._follow_floor = 0
        self.virtual_size = Size(0, 0)
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.anchor()
        self.refresh()

    def append_chunk(self, chunk: TailChunk) -> None:
        """Add what the tail read; keep following if we were at the bottom."""
        follow = self.following or chunk.reset
        old_count, old_lines, old_dropped = self.line_count, len(self.lines), self.dropped
        if chunk.reset:
            self.lines = []
            self.dropped = 0
            self._cache.clear()
            self._current_match = None
            self.skipped_bytes = chunk.skipped
            self.first_offset = chunk.offset
            self.loading_older = False
            self._trimmed = False
        lines = chunk.lines
        if chunk.skipped and not chunk.reset:
            lines = [f"… {chunk.skipped:,} bytes of output skipped (the log grew faster than it could be shown) …"]
            lines += chunk.lines
        if len(lines) > self.max_lines:
            self.dropped += len(self.lines) + len(lines) - self.max_lines
            self.lines = lines[-self.max_lines :]
            self._trimmed = True
        else:
            self.lines.extend(lines)
            excess = len(self.lines) - self.max_lines
            if excess > 0:
                del self.lines[:excess]
                self.dropped += excess
                self._trimmed = True
                if not follow:
                    self.scroll_to(y=max(0, self.scroll_y - excess), animate=False, immediate=True)
        self.partial = chunk.partial
        for line in lines[-200:]:
            self._width = max(self._width, min(len(line), 4000))
        self._width = max(self._width, min(len(self.partial), 4000))
        # Lines narrower than the view never change the virtual width (a change means a layout and a repaint).
        self._width = max(self._width, self.size.width - self.styles.scrollbar_size_vertical)
        height = self.scrollable_content_region.height
        if (
            not self.show_horizontal_scrollbar
            and self.styles.overflow_x in ("auto", "scroll")
            and self._width > self.scrollable_content_region.width
        ):
            # A line wider than the view brings the horizontal scrollbar at the next layout: one row less. Without
            # this the room below the last line was one row too tall, the anchor scrolled by one and the log's
            # first line was hidden under a view with rows to spare (seen on a tqdm line at 80x24).
            height -= self.styles.scrollbar_size_horizontal
        if follow and self.following and height > 0:
            if chunk.reset or self.dropped != old_dropped:  # every row moved: repaint them all
                self._follow_floor = old_count = old_lines = 0
            self._follow_append(old_count, old_lines, height)
        else:
            self._follow_floor = 0
            if chunk.reset or self.dropped != old_dropped or old_count == 0:
                self.virtual_size = Size(self._width, self.line_count)
                self.refresh()
            else:
                # The reader scrolled up: the rows on screen did not change. Setting `virtual_size` the usual
                # way repaints the whole view (a layout refresh marks all of it dirty: ~3 kB a line); set it
                # quietly and ask for the layout with only the changed rows dirty (usually none are on screen),
                # the scrollbar redraws itself.
                first = min(old_lines, old_count)
                rows = Region(0, first - int(self.scroll_y), max(self._width, self.size.width), self.line_count - first)
                self.set_reactive(LogView.virtual_size, Size(self._width, self.line_count))
                self.refresh(rows, layout=True)
        if follow and not self.following:
            self.anchor()  # a new file starts followed
        self._check_following()

    def _follow_append(self, old_count: int, old_lines: int, height: int) -> None:
        """Show appended lines while following, repainting as few rows as possible (bytes on the wire).

        Scrolling by one line changes every row on screen, and Textual cannot ask the terminal to scroll, so a
        log that scrolled per line cost a full repaint per line (about 3.5 kB at 80x24). Instead the view
        *jump-scrolls*: new lines fill the empty rows below the last one, each costing one row, and when the
        view is full it jumps so the newest line sits mid-view, leaving half a view of room: one full repaint
        per half-view of output. The room is virtual blank lines below the end (`_follow_floor`), so the
        virtual size, the scrollbar and the anchor do not change between jumps.
        """
        count = self.line_count
        if self._follow_floor and height != self._follow_height:
            # the view grew or shrank since the room was set (a horizontal scrollbar came or went): keep the same
            # top, or the anchor scrolls by the difference
            self._follow_floor += height - self._follow_height
        self._follow_height = height
        floor = max(self._follow_floor, height)
        if count <= floor:
            self._follow_floor = floor
            self.virtual_size = Size(self._width, floor)  # unchanged unless a wider line arrived
            # rows from the old partial line (rewritten or completed) to the new end
            first = min(old_lines, old_count)
            self.refresh_lines(first, max(1, count - first))
            return
        # A repaint of every row (a new file, lines dropped from the top) fills the view to the bottom, as a
        # finished log should look; a jump while following leaves half a view of room.
        room = 0 if old_count == 0 else height // 2
        top = max(0, count - (height - room))
        self._follow_floor = top + height
        self.virtual_size = Size(self._width, self._follow_floor)
        # in the same frame as the size change: left to the anchor (a callback after the next refresh), every
        # jump was sent twice (bench/tui_bytes.py's capture)
        self.scroll_to(y=top, animate=False, immediate=True)
        self.refresh()

    @property
    def has_older(self) -> bool:
        """The file holds output before the first line held (and none of it was dropped from memory)."""
        return self.first_offset > 0 and not self._trimmed and len(self.lines) < self.max_lines

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._check_following()
        if new_value <= 0 < old_value and self.has_older and not self.loading_older:
            self.loading_older = True
            self.post_message(self.OlderRequested())

    def action_scroll_home(self) -> None:
        if self.scroll_y <= 0 and self.has_older and not self.loading_older:
            self.loading_older = True
            self.post_message(self.OlderRequested())
        else:
            self.scroll_home(animate=False)

    def prepend(self, lines: list[str], start: int) -> None:
        """Older lines read from before `first_offset`; the view keeps showing what it showed."""
        self.loading_older = False
        room = self.max_lines - len(self.lines)
        if room <= 0 or not lines:
            self.first_offset = start if lines else self.first_offset
            return
        if len(lines) > room:
            lines = lines[-room:]
            start = -1  # cut: no longer a known offset; stop loading older output
        self.lines[:0] = lines
        self.dropped -= len(lines)  # keeps the absolute numbers (cache keys, search match) of held lines
        self.first_offset = max(0, start) if start >= 0 else 0
        self.skipped_bytes = self.first_offset
        for line in lines[:200]:
            self._width = max(self._width, min(len(line), 4000))
        self.virtual_size = Size(self._width, self.line_count)
        self.scroll_to(y=self.scroll_y + len(lines), animate=False, immediate=True)
        self.refresh()

    def raw_line(self, index: int) -> str | None:
        """The raw text of line `index` (0 = the first line held)."""
        if 0 <= index < len(self.lines):
            return self.lines[index]
        if index == len(self.lines) and self.partial:
            return self.partial
        return None

    def plain_lines(self) -> list[str]:
        """Every held line as plain text (controls removed): what a search looks at."""
        out = [strip_controls(line) for line in self.lines]
        if self.partial:
            out.append(strip_controls(self.partial))
        return out

    # ------------------------------------------------------------------ rendering

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        raw = self.raw_line(index)
        if raw is None:
            return Strip.blank(width, self.rich_style)
        absolute = index + self.dropped
        is_partial = index == len(self.lines)
        key = (absolute if not is_partial else -1, self.search_term, 1 if absolute == self._current_match else 0)
        strip = None if is_partial else self._cache.get(key)
        if strip is None:
            text = to_text(raw)
            if self._search_re is not None:
                style = (
                    self.get_component_rich_style("log-view--current-match")
                    if absolute == self._current_match
                    else MATCH_STYLE
                )
                for m in self._search_re.finditer(text.plain):
                    text.stylize(style, m.start(), m.end())
            segments = list(text.render(self.app.console))
            strip = Strip(segments).simplify()
            if not is_partial:
                self._cache[key] = strip
        # simplify(): the text and the padding after it share a style, so they go out as one run (one SGR
        # sequence less per row on the wire)
        return strip.crop_extend(scroll_x, scroll_x + width, self.rich_style).apply_style(self.rich_style).simplify()

    # ------------------------------------------------------------------ search

    def watch_search_term(self, term: str) -> None:
        self._search_re = re.compile(re.escape(term), re.IGNORECASE) if term else None
        self._current_match = None
        self._cache.clear()
        self.refresh()

    def find(self, forward: bool) -> bool:
        """Move to the next match: `forward=False` goes up (older), like searching back from the tail."""
        if self._search_re is None:
            return False
        plain = self.plain_lines()
        if not plain:
            return False
        if self._current_match is not None:
            start = self._current_match - self.dropped + (1 if forward else -1)
        else:
            top = int(self.scroll_y)
            start = (top + self.scrollable_content_region.height - 1) if not forward else top
            start = min(max(0, start), len(plain) - 1)
        order = range(start, len(plain)) if forward else range(start, -1, -1)
        for i in order:
            if 0 <= i < len(plain) and self._search_re.search(plain[i]):
                self._current_match = i + self.dropped
                self._cache.clear()
                self.scroll_to(y=max(0, i - self.scrollable_content_region.height // 2), animate=False)
                self.refresh()
                return True
        return False

    def action_search(self) -> None:
        self.post_message(self.SearchRequested())

    def action_other_file(self) -> None:
        self.post_message(self.OtherFileRequested())

    def action_next_match(self) -> None:
        if self.search_term and not self.find(forward=False):
            self.notify(f"no older match for {self.search_term!r}", markup=False)

    def action_previous_match(self) -> None:
        if self.search_term and not self.find(forward=True):
            self.notify(f"no newer match for {self.search_term!r}", markup=False)

    def on_resize(self, event: events.Resize) -> None:
        self._cache.clear()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()  # a theme change recolours the cached lines


class LogPanel(Vertical):
    """A run's log: title line, the log view, a search bar; owns the tail worker."""

    ALLOW_MAXIMIZE = True  # `z` on the main screen maximises the log

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "log-header--following",
        "log-header--paused",
        "log-header--ended",
        "log-header--none",
    }
    """The title's state word: following new output, paused by the reader, the run ended, no log."""

    DEFAULT_CSS = """
    LogPanel { height: 1fr; }
    LogPanel > .log-header--following { color: $success; }
    LogPanel > .log-header--paused { color: $warning; text-style: bold; }
    LogPanel > .log-header--ended { color: $text-muted; text-style: bold; }
    LogPanel > .log-header--none { color: $text-muted; }
    LogPanel > #log-title { height: 1; background: $panel; color: $text-muted; }
    LogPanel > #log-search { display: none; height: 3; }
    LogPanel.searching > #log-search { display: block; }
    """

    class Lines(Message):
        """New output from the tail worker."""

        def __init__(self, generation: int, chunk: TailChunk, tail: LogTail, files: int, ack: threading.Event) -> None:
            super().__init__()
            self.tail = tail
            self.path = tail.path
            self.files = files
            self.generation = generation
            self.chunk = chunk
            self.ack = ack

    class Status(Message):
        """The worker's state: no log yet, an error reading it."""

        def __init__(self, generation: int, text: str, error: bool = False) -> None:
            super().__init__()
            self.generation = generation
            self.text = text
            self.error = error

    def __init__(self, *, id: str | None = None, max_lines: int = MAX_LINES) -> None:
        super().__init__(id=id)
        self.view = LogView(max_lines=max_lines, id="log-view")
        self._title = Static(Text("log"), id="log-title")
        self.title_text = ""  # what the title line says now (plain), set only when it changes
        self._title_key = ""
        self.run: RunRecord | None = None  # the run whose log this is: its kind and status make the title
        self._search = Input(
            placeholder="search the log (enter: find, n/N: next/previous, esc: close)", id="log-search"
        )
        self.run_dir: Path | None = None
        self.path: Path | None = None
        self._source: LogSource | None = None  # where `path` is read from (a file, or the store's copy)
        self.file_index = 0  # which of the run's log files (`o` cycles)
        self.file_count = 0
        self._generation = 0
        self._status = "no run selected"

    def compose(self) -> ComposeResult:
        yield self._title
        yield self.view
        yield self._search

    def on_mount(self) -> None:
        self._update_title()

    # ------------------------------------------------------------------ following a run

    def follow(self, run_dir: Path | None, run: RunRecord | None = None) -> None:
        """Tail the log of `run`, whose folder is `run_dir` (None: nothing)."""
        self.run = run
        if run_dir == self.run_dir:
            self._update_title()
            return
        self.run_dir = run_dir
        self.file_index = 0
        self.file_count = 0
        self._restart()

    def pause(self) -> None:
        """Stop tailing while the panel cannot be seen (another screen is on top); `resume` picks it up."""
        self._generation += 1
        self.workers.cancel_group(self, "log-tail")

    def resume(self) -> None:
        if self.run_dir is not None:
            self._restart()

    def _restart(self) -> None:
        run_dir = self.run_dir
        self.path = None
        self._source = None
        self._generation += 1
        self.view.clear()
        if run_dir is None:
            self._status = "no run selected"
            self.workers.cancel_group(self, "log-tail")
        else:
            self._status = "waiting for output…"
            self._tail(run_dir, self._generation, self.file_index)
        self._update_title()

    class Older(Message):
        def __init__(self, generation: int, lines: list[str], start: int) -> None:
            super().__init__()
            self.generation = generation
            self.lines = lines
            self.start = start

    @on(LogView.OlderRequested)
    def _older_requested(self, event: LogView.OlderRequested) -> None:
        event.stop()
        if self.path is not None and self._source is not None:
            self._read_older(self.path, self._source, self.view.first_offset, self._generation)

    @work(thread=True, group="log-older", exit_on_error=False)
    def _read_older(self, path: Path, source: LogSource, offset: int, generation: int) -> None:
        try:
            lines, start = LogTail(path, source=source).read_before(offset)
        except (OSError, RuntuiError) as exc:
            self.post_message(self.Status(generation, f"cannot read {path}: {exc}", error=True))
            return
        self.post_message(self.Older(generation, lines, start))

    def on_log_panel_older(self, message: LogPanel.Older) -> None:
        message.stop()
        if message.generation == self._generation:
            self.view.prepend(message.lines, message.start)
            self._update_title()

    @on(LogView.OtherFileRequested)
    def _other_file(self, event: LogView.OtherFileRequested) -> None:
        event.stop()
        if self.run_dir is None:
            return
        count = self.file_count
        if count < 2:
            self.notify("this run has only one log file" if count else "this run has no log file yet")
            return
        self.file_index = (self.file_index + 1) % count
        self._restart()

    @work(thread=True, exclusive=True, group="log-tail", exit_on_error=False)
    def _tail(self, run_dir: Path, generation: int, file_index: int) -> None:
        worker = get_current_worker()
        tail: LogTail | None = None
        files: list[Path] = []
        stop = threading.Event()
        watcher = None
        waited_for_files = False
        # A run of another host on a shared store: its log is the store's copy, not a file here.
        remote = _store_source(self.app, run_dir)
        try:
            while not worker.is_cancelled:
                if tail is None and remote is not None:
                    if _has_log(remote):
                        tail = LogTail(Path(remote.label), source=remote)
                        files = [tail.path]
                    elif not waited_for_files:
                        waited_for_files = True
                        self.post_message(self.Status(generation, f"no log yet in the store (from {remote.host})"))
                elif tail is None:
                    files = find_log_files(run_dir)
                    if files:
                        tail = LogTail(files[file_index % len(files)])
                    elif not waited_for_files:
                        waited_for_files = True
                        self.post_message(self.Status(generation, f"no log yet in {run_dir / 'logs'}"))
                if tail is not None:
                    try:
                        chunk = tail.poll()
                    except RuntuiError as exc:  # the store is briefly away: say so and try again
                        self.post_message(self.Status(generation, f"reading the log from the store failed: {exc}"))
                        stop.wait(1.0)
                        continue
                    except OSError as exc:
                        self.post_message(self.Status(generation, f"cannot read {tail.path}: {exc}", error=True))
                        return
                    if chunk is not None and (chunk.lines or chunk.reset or chunk.partial or chunk.skipped):
                        ack = threading.Event()
                        self.post_message(self.Lines(generation, chunk, tail, len(files), ack))
                        # one batch in flight: a slow UI makes the next read bigger (and skip), never queue up
                        while not ack.wait(0.2):
                            if worker.is_cancelled:
                                return
                        # Output arriving within this pause is shown in one repaint, not one per write
                        # (print() writes a line and its newline separately): bytes on the wire.
                        stop.wait(BATCH_S)
                        continue
                if watcher is None and remote is not None:
                    watcher = _log_copy_watcher(remote)
                elif watcher is None and (run_dir / "logs").is_dir():
                    watcher = _folder_watcher(run_dir / "logs")
                if watcher is not None:
                    watcher.wait(WATCHED_WAIT_S)
                else:
                    stop.wait(POLL_S * 3)
        finally:
            if watcher is not None:
                watcher.close()

    def set_run(self, run: RunRecord) -> None:
        """The run changed (its status): the title says whether its log can still grow."""
        if self.run is not None and run.id == self.run.id:
            self.run = run
            self._update_title()

    @on(LogView.FollowChanged)
    def _follow_changed(self, event: LogView.FollowChanged) -> None:
        event.stop()
        self._update_title()

    def on_log_panel_lines(self, message: LogPanel.Lines) -> None:
        message.stop()
        message.ack.set()
        if message.generation != self._generation:
            return
        self.path = message.path
        self._source = message.tail.source
        self.file_count = message.files
        self._status = ""
        self.view.append_chunk(message.chunk)
        self._update_title()

    def on_log_panel_status(self, message: LogPanel.Status) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        self._status = message.text
        if message.error:
            self.notify(message.text, severity="error", markup=False)
        self._update_title()

    def _state(self) -> tuple[str, str]:
        """What the log is doing, in words, and the component class that colours it."""
        run = self.run
        ended = run is not None and run.status.is_terminal
        if self.path is not None:
            if ended and run is not None:
                state = f"ended ({run.status.value})"
                return (state + ("  end: bottom" if not self.view.following else ""), "log-header--ended")
            if self.view.following:
                return ("following", "log-header--following")
            return ("paused (end: follow)", "log-header--paused")
        if run is not None and run.kind != "submitted" and self._status.startswith(("no log yet", "waiting")):
            # Only a submitted run's output is captured; a start_logging() or child run writes to its own
            # process's terminal, so "waiting" would never end.
            return (f"no log for {run.kind} runs (only submitted runs capture output)", "log-header--none")
        if ended and run is not None and self._status.startswith("no log yet"):
            return (f"ended ({run.status.value}) without output", "log-header--ended")
        return (self._status, "log-header--none")

    def _update_title(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        state, cls = self._state()
        state_style = self.get_component_rich_style(cls, partial=True) if self.is_mounted else None
        if self.path is not None:
            text.append(" " + strip_controls(self.path.name), style="bold")
            if self.file_count > 1:
                text.append(" (o: other)", style="dim")
            text.append("  ")
            text.append(state, style=state_style or "")
            if self.view.skipped_bytes:
                text.append(f"  tail ({self.view.skipped_bytes:,} bytes before; scroll up for more)", style="dim")
        else:
            text.append(" log  ", style="bold")
            text.append(strip_controls(state), style="dim")
        if self.view.search_term:
            text.append(f"  /{strip_controls(self.view.search_term)}", style="bold")
        # Set only when it changes: an identical update still repaints the line (and costs bytes on the wire).
        key = text.plain + "|" + cls
        if key != self._title_key:
            self._title_key = key
            self.title_text = text.plain
            self._title.update(text, layout=False)

    # ------------------------------------------------------------------ search bar

    @on(LogView.SearchRequested)
    def _open_search(self, event: LogView.SearchRequested) -> None:
        event.stop()
        self.add_class("searching")
        self._search.value = self.view.search_term
        self._search.focus()

    @on(Input.Submitted, "#log-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        term = event.value
        self.view.search_term = term
        self.remove_class("searching")
        self.view.focus()
        if term and not self.view.find(forward=False):
            self.notify(f"no match for {term!r} in the lines shown", severity="warning", markup=False)
        self._update_title()

    def on_key(self, event: events.Key) -> None:
        if event.key == "escape" and self.has_class("searching"):
            event.stop()
            event.prevent_default()
            self.remove_class("searching")
            self.view.focus()


def _folder_watcher(folder: Path):  # type: ignore[no-untyped-def]
    """A watchfiles-backed waiter for the log folder (falls back to polling inside runtui.watch)."""
    try:
        from runtui.watch import FileWatcher

        return FileWatcher(folder, poll_interval=POLL_S * 5, step_ms=LOG_WATCH_STEP_MS).start()
    except Exception:  # no watcher: the tail loop polls on its own
        return None


def _store_source(app: object, run_dir: Path) -> StoreLogSource | None:
    """The store's copy of the log when the run in `run_dir` ran on another host and the store is shared, else
    None (the files in `run_dir` are the log). Called from the tail worker: it reads the store."""
    store = getattr(app, "store", None)
    if store is None:
        return None
    try:
        record = store.get_run(run_dir.name)
    except Exception:  # not a run of this store (or the store is away): the files decide
        return None
    return StoreLogSource(store, record.id, record.host) if reads_from_store(store, record) else None


def _has_log(source: StoreLogSource) -> bool:
    try:
        return source.stat() is not None
    except RuntuiError:
        return False


def _log_copy_watcher(source: StoreLogSource):  # type: ignore[no-untyped-def]
    """Wakes when a chunk of the run's log reaches the store (PostgreSQL), else None (the tail loop polls)."""
    try:
        from runtui.watch import log_copy_watcher

        return log_copy_watcher(source.store.url, source.run_id)
    except Exception:
        return None
