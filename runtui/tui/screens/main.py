"""The main screen: run tree on the left, details and log tail on the right, filter bar, footer.

It runs the change-feed follower (runtui/tui/feed.py, Textual-free: revisions, rewinds, throttle, watcher) in
one async worker and applies each batch to the tree and details; it owns the actions on runs (confirmed in
dialogs, run in worker threads through the SDK, each outcome notified) and the one handler for workers that
fail unexpectedly.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.command import Provider
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static
from textual.worker import Worker, WorkerState

from runtui.errors import FilterSyntaxError, RuntuiError
from runtui.status import RunStatus
from runtui.terminal_text import strip_controls
from runtui.tui import actions, keymap
from runtui.tui.data import (
    FeedBatch,
    Matches,
    Overview,
    ViewFilter,
    first_open_keys,
    peek_first_paint,
    read_feed,
    read_matches,
    read_overview,
)
from runtui.tui.feed import FeedFollower
from runtui.tui.palette import RuntuiCommands
from runtui.tui.screens.dialogs import ConfirmDialog, PromptDialog
from runtui.tui.widgets.details import DetailsPane
from runtui.tui.widgets.log_view import LogPanel
from runtui.tui.widgets.run_tree import ExperimentEntry, MoreEntry, NoteEntry, RunEntry, RunTree
from runtui.tui.widgets.status_line import StatusLine

if TYPE_CHECKING:
    from runtui.store.records import RunRecord
    from runtui.tui.app import RuntuiApp

# A run logging every 100 ms re-reads its details (metric table, sparklines: ~9 queries and a rebuild of the
# pane's parts) at most every 2 s: at 1 s this was a fifth of the TUI's CPU for one live run on the main screen.
# The tree's line carries the headline value at 1 s.
DETAILS_MIN_INTERVAL_S = 2.0
SELECT_DEBOUNCE_S = 0.08  # holding an arrow key does not start a read per line passed
COMPARE_MAX = 6  # runs on one chart (one theme colour each)
AUTO_EXPAND = 3  # experiments with live runs opened at start
SWEEP_S = 10.0  # how often live runs whose owner stopped heart-beating are marked NotResponding (and back)

EMPTY_TEXT = """\
No runs yet in this store.

Start one:
  runtui demo               a demo workload: a sweep, a failing run, a long run
  runtui submit train.py    run a script under runtui (it survives logout)

or from Python:
  import runtui
  ws = runtui.Workspace()
  exp = runtui.Experiment(ws, "my-experiment")
  with exp.start_logging() as run:
      run.log("loss", 0.5)

Runs appear here as soon as they start; q quits, ? shows every key."""


class MainScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(a.keys, a.action, a.footer_label, show=a.footer) for a in keymap.main_actions()
    ]
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {RuntuiCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (72, "-normal"), (150, "-wide")]  # noqa: RUF012

    class Loaded(Message):
        """The tree's starting data (overview or filter matches) arrived."""

        def __init__(self, result: Overview | Matches, view: ViewFilter) -> None:
            super().__init__()
            self.result = result
            self.view = view

    class Problem(Message):
        """A read failed: shown in the status line and as a notification."""

        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    def __init__(self) -> None:
        super().__init__()
        app = self.runtui_app
        self.run_tree = RunTree(clock=app.clock, id="tree")
        self.details = DetailsPane(clock=app.clock, id="details")
        self.log_panel = LogPanel(id="log")
        self.status_line = StatusLine(id="status-line")
        self.empty = Static(Text(""), id="empty")
        self.filter_input = Input(
            placeholder="filter: words, status:running, tag:k=v, prop:k=v, metric:loss<0.1, and/or/not",
            id="filter-input",
        )
        self.filter_error = Static("", id="filter-error")
        self.view = ViewFilter()
        self.generation = 0  # bumps with every change of the view (filter, live-only)
        self.loaded = False  # the tree shows its first data (tests wait for this)
        self.feed = FeedFollower[FeedBatch](
            self._read_feed,
            self._apply_batch,
            current=lambda batch: batch.generation == self.generation,
            watch=self._open_watcher,
            on_error=self._report_feed_problem,
            on_ok=self._feed_recovered,
            on_no_watcher=lambda exc: self.notify(
                f"live updates by polling only: {exc}", severity="warning", markup=False
            ),
        )
        self._select_timer: Timer | None = None
        self._details_timer: Timer | None = None
        self._details_last = 0.0
        self._problem: str | None = None
        self._experiment_total = 0
        # False while another screen (log, metrics, help, a dialog) is on top: this screen then does no UI
        # work at all, since each of its repaints would repaint the screen on top too (bytes on the wire).
        self._visible = True
        self._worker_errors: set[str] = set()  # shown once each (a failing loop must not flood the screen)
        self._tick_timer: Timer | None = None

    @property
    def runtui_app(self) -> RuntuiApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield self.status_line
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield self.run_tree
                yield self.empty
            with Vertical(id="right"):
                yield self.details
                yield self.log_panel
        with Vertical(id="filter-bar"):
            yield self.filter_input
            yield self.filter_error
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.empty.display = False
        self.run_tree.focus()
        self._start()
        self._tick_timer = self.set_interval(1.0, self._tick)
        if self.runtui_app.live:
            self.set_interval(SWEEP_S, self._sweep_lost_runs)

    @property
    def feed_reads(self) -> int:
        """Change-feed reads so far (tests and benchmarks look at it)."""
        return self.feed.reads

    def on_screen_suspend(self) -> None:
        self._visible = False
        self.feed.pause()
        if self._tick_timer is not None:
            self._tick_timer.pause()
        self.log_panel.pause()

    def on_screen_resume(self) -> None:
        if self._visible:
            return  # the first resume, at mount
        self._visible = True
        self.feed.resume()
        if self._tick_timer is not None:
            self._tick_timer.resume()
        self.log_panel.resume()
        self.details.reload()
        self._tick()

    # ------------------------------------------------------------------ loading

    @work(thread=True, exclusive=True, group="tree-reload", exit_on_error=False)
    def _start(self) -> None:
        first = self._peek_first_paint()
        if first is not None:
            # The store layer (SQLAlchemy, SQLModel: about half a second) loads after this first paint.
            self.post_message(self.Loaded(first, ViewFilter()))
            return
        try:
            self.runtui_app.open_store()
            overview = read_overview(self.runtui_app.store, self.view)
        except Exception as exc:
            self.post_message(self.Problem(f"cannot open the store: {exc}"))
            return
        self.post_message(self.Loaded(overview, ViewFilter()))

    def _peek_first_paint(self) -> Overview | None:
        """The first paint read with plain sqlite3 (a SQLite store at the known schema), or None."""
        from runtui.store.peek import open_peek

        peek = open_peek(self.runtui_app.config.store_url)
        if peek is None:
            return None
        try:
            saved = self.runtui_app.saved.open_keys
            return peek_first_paint(peek, sorted(saved) if saved is not None else None, AUTO_EXPAND)
        except Exception:  # e.g. a store being migrated right now: the store layer knows what to do
            return None
        finally:
            peek.close()

    @work(thread=True, exclusive=True, group="store-open", exit_on_error=False)
    def _open_store_after_paint(self) -> None:
        try:
            self.runtui_app.open_store()
        except Exception as exc:
            self.post_message(self.Problem(f"cannot open the store: {exc}"))

    @work(thread=True, exclusive=True, group="tree-reload", exit_on_error=False)
    def _reload(self, view: ViewFilter, generation: int) -> None:
        try:
            store = self.runtui_app.store
            result: Overview | Matches = (
                read_matches(store, view, generation) if view.active else read_overview(store, view)
            )
        except Exception as exc:
            self.post_message(self.Problem(f"reading runs failed: {exc}"))
            return
        self.post_message(self.Loaded(result, view))

    def on_main_screen_loaded(self, message: MainScreen.Loaded) -> None:
        if message.view != self.view:
            return  # a newer view was asked for meanwhile
        result = message.result
        first = not self.loaded
        saved = self.runtui_app.saved
        if first and saved.open_keys is not None and self.run_tree.open_keys is None:
            self.run_tree.open_keys = set(saved.open_keys)  # what was open when the last session ended
        if isinstance(result, Overview):
            self._experiment_total = len(result.experiments)
            expand = [key.removeprefix("exp:") for key in first_open_keys(result.experiments, AUTO_EXPAND)]
            self.run_tree.show_overview(result.experiments, expand, result.archived, result.pages)
            self._set_empty(not result.experiments)
        else:
            self.run_tree.show_matches(message.view, result)
            self._set_empty(False)
        self.loaded = True
        if first and not self.runtui_app.store_opened:
            self.call_after_refresh(self._open_store_after_paint)
        self._rewind(result.revision)
        self._update_status()
        if first and self.runtui_app.live:
            # After the first paint too: the feed's first read opens the store layer (about half a second).
            self.call_after_refresh(self._follow_store)
        if first and (saved.filter or saved.live_only):
            self._restore_view(saved.filter, saved.live_only)

    def _restore_view(self, text: str, live_only: bool) -> None:
        from runtui.store.filters import compile_filter

        try:
            where = compile_filter(text) if text else None
        except RuntuiError as exc:
            self.notify(f"the last session's filter no longer parses ({exc}); showing every run", markup=False)
            return
        self._set_view(ViewFilter(text if where is not None else "", where, live_only, self.view.archived))

    def on_unmount(self) -> None:
        self.runtui_app.remember_state(self.view.text, self.view.live_only, self.run_tree.open_keys)

    def on_main_screen_problem(self, message: MainScreen.Problem) -> None:
        self._problem = message.error
        self.notify(message.error, severity="error", markup=False, timeout=8)
        if not self.loaded:
            self.empty.update(Text(message.error))
            self.empty.add_class("-error")
            self._set_empty(True)
        self._update_status()

    def _set_empty(self, empty: bool) -> None:
        if empty and self._problem is None:
            self.empty.update(Text(EMPTY_TEXT))
        self.empty.display = empty
        self.run_tree.display = not empty
        if empty:
            self.details.show_text(Text(""))

    # ------------------------------------------------------------------ worker errors

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place an unexpected worker failure is shown: notified and logged, once per distinct error.

        Every worker here runs with exit_on_error=False (a bug in a read must not end the app); expected
        failures (a store that cannot be read, an action refused) are reported by the worker itself.
        """
        if event.state != WorkerState.ERROR:
            return
        worker = event.worker
        message = f"{worker.name or worker.group or 'background work'} failed: {worker.error!r}"
        self.app.log.error(message)
        if message not in self._worker_errors:
            self._worker_errors.add(message)
            self.notify(message, severity="error", markup=False, timeout=8)

    # ------------------------------------------------------------------ change feed

    def _rewind(self, revision: int) -> None:
        """Make the next feed read start at `revision` (or earlier)."""
        self.feed.rewind(revision)

    def kick(self) -> None:
        """Read the feed now (after our own write, so its outcome shows at once)."""
        self.feed.kick()

    @work(exclusive=True, group="feed", exit_on_error=False)
    async def _follow_store(self) -> None:
        await self.feed.follow()  # runtui/tui/feed.py: revisions, rewinds, throttle, watcher

    def _open_watcher(self) -> Any:
        from runtui.watch import store_watcher

        return store_watcher(self.runtui_app.config.store_url)

    def _read_feed(self, since: int) -> FeedBatch | None:
        """In a thread: what changed since `since`, for the view shown now."""
        return read_feed(self.runtui_app.store, since, self.view, self.generation)

    def _apply_batch(self, batch: FeedBatch) -> None:
        try:
            self._apply(batch)
        except Exception as exc:  # a bug must not silently stop live updates: show it, keep going
            self.notify(f"live update failed: {exc!r}", severity="error", markup=False)

    def _report_feed_problem(self, exc: BaseException) -> None:
        message = f"live updates paused: {exc}"
        if self._problem != message:
            self._problem = message
            self.notify(message, severity="error", markup=False)
            self._update_status()

    def _feed_recovered(self) -> None:
        if self._problem is not None and self._problem.startswith("live updates"):
            self._problem = None
            self._update_status()

    def _apply(self, batch: FeedBatch) -> None:
        had_experiments = bool(self.run_tree.root.children)
        self.run_tree.apply_feed(batch, self.generation)
        if not self.view.active:
            self._experiment_total = len(self.run_tree._experiments)
        if not had_experiments and self.run_tree.root.children:
            self._set_empty(False)
        selected = self.run_tree.selected
        shown = self.details.run_id
        changed = next((info.run for info in batch.runs if info.run.id == shown), None)
        if changed is not None:
            self.log_panel.set_run(changed)
            self._reload_details_throttled()
        elif isinstance(selected, ExperimentEntry) and selected.name in batch.experiments:
            self.details.show_experiment(selected)
        self._update_status()

    def _reload_details_throttled(self) -> None:
        now = time.monotonic()
        wait = self._details_last + DETAILS_MIN_INTERVAL_S - now
        if wait <= 0:
            self._details_last = now
            self.details.reload()
        elif self._details_timer is None:

            def fire() -> None:
                self._details_timer = None
                self._details_last = time.monotonic()
                if self._visible:
                    self.details.reload()

            self._details_timer = self.set_timer(wait, fire)

    @work(thread=True, exclusive=True, group="sweep", exit_on_error=False)
    def _sweep_lost_runs(self) -> None:
        """Liveness across hosts: someone has to notice that a run's owner stopped heart-beating. What changes
        comes back through the change feed like any other write."""

        from runtui.execution.liveness import sweep_lost_runs

        with contextlib.suppress(Exception):  # best effort: a store problem is already shown by the change feed
            sweep_lost_runs(self.runtui_app.store)

    def _tick(self) -> None:
        self.run_tree.tick()
        self.details.tick()

    # ------------------------------------------------------------------ selection

    @on(RunTree.SelectionChanged, "#tree")
    def _highlighted(self, event: RunTree.SelectionChanged) -> None:
        if event.note:
            self.notify(event.note, markup=False, timeout=4)
        if self._select_timer is not None:
            self._select_timer.stop()
        self._select_timer = self.set_timer(SELECT_DEBOUNCE_S, self._show_selection)

    def _sync_selection(self) -> None:
        """Show the highlighted row now if a debounced change is pending (an action must never act on one run
        while the details show another)."""
        if self._select_timer is not None:
            self._select_timer.stop()
            self._show_selection()

    def _show_selection(self) -> None:
        self._select_timer = None
        data = self.run_tree.selected
        if isinstance(data, RunEntry):
            self._details_last = time.monotonic()
            self.details.show_run(data.run.id, data.run)
            self.log_panel.follow(self.runtui_app.config.run_dir(data.run.id), data.run)
        elif isinstance(data, ExperimentEntry):
            self.details.show_experiment(data)
            self.log_panel.follow(None)
        elif isinstance(data, (MoreEntry, NoteEntry)):
            self.details.show_text(Text(""))
            self.log_panel.follow(None)

    @on(RunTree.Failed)
    def _tree_failed(self, event: RunTree.Failed) -> None:
        self.notify(event.error, severity="error", markup=False)

    @on(RunTree.Rewind)
    def _tree_rewind(self, event: RunTree.Rewind) -> None:
        self._rewind(event.revision)

    # ------------------------------------------------------------------ status line

    def _update_status(self) -> None:
        """Hand the status line what it says; it repaints itself when that changed (reactive attributes)."""
        line = self.status_line
        line.problem = self._problem
        line.loaded = self.loaded
        if self.view.active:
            shown = self.run_tree.run_count
            line.summary = f"{shown} run{'s' if shown != 1 else ''} shown"
        else:
            n = self._experiment_total
            line.summary = f"{n} experiment{'s' if n != 1 else ''}"
        if self.view.archived:
            line.summary += " (archived shown)"
        line.filter_text = self.view.text
        line.live_only = self.view.live_only

    # ------------------------------------------------------------------ filter

    def action_open_filter(self) -> None:
        self.add_class("filtering")
        self.filter_input.value = self.view.text
        self.filter_error.update("")
        self.filter_input.focus()

    @on(Input.Submitted, "#filter-input")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.apply_filter(event.value)

    @on(Input.Changed, "#filter-input")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_error.update("")

    def apply_filter(self, text: str) -> bool:
        """Apply `text` as the filter; on a syntax error show it (with its position) and keep the old one."""
        from runtui.store.filters import compile_filter

        try:
            where = compile_filter(text)
        except FilterSyntaxError as exc:
            self._show_filter_error(text, exc)
            return False
        except RuntuiError as exc:
            self.filter_error.update(Text(str(exc)))
            self.notify(str(exc), severity="error", markup=False)
            return False
        self.remove_class("filtering")
        self.run_tree.focus()
        self._set_view(
            ViewFilter(text.strip() if where is not None else "", where, self.view.live_only, self.view.archived)
        )
        shown = f"filter: {text.strip()}" if where is not None else "filter cleared"
        self.notify(shown, markup=False, timeout=2)
        return True

    def _show_filter_error(self, text: str, exc: FilterSyntaxError) -> None:
        # The input box has a border and padding: the caret lines up under the offending character.
        caret = Text(" " * (exc.position + 3) + "^", style="bold")  # coloured by #filter-error in app.tcss
        message = Text(f"position {exc.position + 1}: {exc.reason}; the previous filter stays")
        self.filter_error.update(Text.assemble(caret, "\n", message))
        self.notify(f"invalid filter: {exc.reason} (at position {exc.position + 1})", severity="error", markup=False)

    def action_clear_filter(self) -> None:
        if self.has_class("filtering"):
            self.remove_class("filtering")
            self.run_tree.focus()
            return
        if self.view.where is not None:
            self._set_view(ViewFilter("", None, self.view.live_only, self.view.archived))
            self.notify("filter cleared", timeout=2)
        elif self.view.live_only:
            self.notify("no filter to clear (a shows finished runs again)", timeout=2)
        else:
            self.notify("no filter to clear", timeout=2)

    def on_key(self, event: Any) -> None:
        # escape inside the filter box closes it (the box consumes other keys)
        if getattr(event, "key", "") == "escape" and self.has_class("filtering"):
            event.stop()
            event.prevent_default()
            self.remove_class("filtering")
            self.run_tree.focus()

    def action_toggle_finished(self) -> None:
        live_only = not self.view.live_only
        self._set_view(ViewFilter(self.view.text, self.view.where, live_only, self.view.archived))
        self.notify("showing live runs only" if live_only else "showing all runs (finished too)", timeout=2)

    def action_toggle_archived(self) -> None:
        archived = not self.view.archived
        self._set_view(ViewFilter(self.view.text, self.view.where, self.view.live_only, archived))
        self.notify("showing archived experiments too" if archived else "archived experiments hidden", timeout=2)

    def action_delete_experiment(self) -> None:
        """Delete the highlighted experiment after a confirmation that names it and its runs; refused while
        one of its runs is live (the store is asked again when it is confirmed)."""
        self._sync_selection()
        data = self.run_tree.selected
        if not isinstance(data, ExperimentEntry):
            self.notify("delete: highlight an experiment (D deletes a whole experiment)", markup=False)
            return
        if data.filtered:
            self.notify("delete: clear the filter first (the tree shows only the matching runs)", markup=False)
            return
        if data.live:
            live = f"{data.live} live run{'s' if data.live != 1 else ''}"
            self.notify(f"delete: {data.name} has {live}; cancel them first (c)", markup=False)
            return
        name, total = data.name, data.total
        body = Text()
        body.append("Delete experiment ")
        body.append(strip_controls(name), style="bold")
        body.append(f" and its {total} run{'s' if total != 1 else ''}?\n")
        body.append("Their metrics, logs and files go too. This cannot be undone.", style="bold")

        def done(confirmed: bool | None) -> None:
            if confirmed:
                self._delete_experiment(name)
            else:
                self.notify("delete: not confirmed, nothing done", timeout=2)

        self.app.push_screen(ConfirmDialog("Delete experiment", body, yes="Delete"), done)

    @work(thread=True, group="actions", exit_on_error=False)
    def _delete_experiment(self, name: str) -> None:
        try:
            message = actions.delete_experiment(self.runtui_app.config, name)
        except Exception as exc:  # refused (a live run), or the store said no: shown, never swallowed
            self.app.notify(f"delete failed: {exc}", severity="error", markup=False, timeout=8)
            return
        self.app.notify(message, markup=False)
        self.app.call_from_thread(self._set_view, self.view)  # the feed adds and updates; a deletion needs a reload

    def _set_view(self, view: ViewFilter) -> None:
        self.view = view
        self.generation += 1
        self._update_status()
        self._reload(view, self.generation)

    # ------------------------------------------------------------------ actions on runs

    def _target(self, verb: str) -> RunRecord | None:
        self._sync_selection()
        data = self.run_tree.selected
        if isinstance(data, RunEntry):
            return data.run
        if isinstance(data, ExperimentEntry):
            self.notify(f"{verb}: {data.name} is an experiment; move to one of its runs", markup=False)
        else:
            self.notify(f"{verb}: select a run first", markup=False)
        return None

    def action_cancel_run(self) -> None:
        run = self._target("cancel")
        if run is None:
            return
        reason = actions.why_not_cancel(run.status)
        if reason is not None:
            self.notify(f"cancel: {run.name}: {reason}", markup=False)
            return
        body = Text()
        body.append("Cancel ")
        body.append(strip_controls(run.name), style="bold")
        body.append(f" ({run.status.value})?\n")
        body.append("Its owner stops it (SIGTERM, then SIGKILL); unfinished child runs are canceled too.", style="dim")
        run_id = run.id

        def done(confirmed: bool | None) -> None:
            if confirmed:
                self._act(actions.cancel, self.runtui_app.config, run_id, self._notify_plain)
            else:
                self.notify("cancel: not confirmed, nothing done", timeout=2)

        self.app.push_screen(ConfirmDialog("Cancel run", body, yes="Cancel run"), done)

    def action_fail_run(self) -> None:
        run = self._target("fail")
        if run is None:
            return
        reason = actions.why_not_fail(run.status)
        if reason is not None:
            self.notify(f"fail: {run.name}: {reason}", markup=False)
            return
        body = Text()
        body.append("Mark ")
        body.append(strip_controls(run.name), style="bold")
        body.append(f" ({run.status.value}) as Failed?\n")
        if run.status == RunStatus.COMPLETED:
            body.append("It completed; marking it Failed overrules that. ", style="bold")
        if run.status.is_live:
            body.append("This records the failure; it does not stop the process (use c for that).", style="dim")
        body.append("\nReason (optional):")
        run_id = run.id

        def done(value: str | None) -> None:
            if value is None:
                self.notify("fail: not confirmed, nothing done", timeout=2)
            else:
                self._act(actions.fail, self.runtui_app.config, run_id, value)

        self.app.push_screen(
            PromptDialog("Fail run", body, placeholder="why it failed (optional)", confirm="mark Failed"), done
        )

    def action_tag_run(self) -> None:
        run = self._target("tag")
        if run is None:
            return
        body = Text()
        body.append("Tag ")
        body.append(strip_controls(run.name), style="bold")
        body.append(": key=value, or just key")

        def validate(value: str) -> str | None:
            try:
                actions.parse_tag(value)
            except RuntuiError as exc:
                return str(exc)
            return None

        run_id = run.id

        def done(value: str | None) -> None:
            if value is None:
                self.notify("tag: nothing done", timeout=2)
                return
            key, tag_value = actions.parse_tag(value)
            self._act(actions.tag, self.runtui_app.config, run_id, key, tag_value)

        self.app.push_screen(
            PromptDialog("Tag run", body, placeholder="key=value", validate=validate, confirm="tag"), done
        )

    def action_untag_run(self) -> None:
        run = self._target("remove tag")
        if run is None:
            return
        details = self.details.details
        tags = details.tags if details is not None and details.record.id == run.id else None
        if tags is not None and not tags:
            self.notify(f"remove tag: {run.name} has no tags", markup=False)
            return
        body = Text()
        body.append("Remove a tag from ")
        body.append(strip_controls(run.name), style="bold")
        if tags:
            body.append("\ntags: ", style="dim")
            body.append(strip_controls("  ".join(k if v is None else f"{k}={v}" for k, v in sorted(tags.items()))))
        only = next(iter(tags)) if tags and len(tags) == 1 else ""

        def validate(value: str) -> str | None:
            return None if value.strip() else "type the key of the tag to remove"

        run_id = run.id

        def done(value: str | None) -> None:
            if value is None:
                self.notify("remove tag: nothing done", timeout=2)
            else:
                self._act(actions.remove_tag, self.runtui_app.config, run_id, value)

        self.app.push_screen(
            PromptDialog("Remove tag", body, placeholder="key", value=only, validate=validate, confirm="remove"),
            done,
        )

    def _notify_plain(self, message: str) -> None:
        """A notice from an action still under way (a worker thread): run text is never markup."""
        self.app.notify(message, markup=False)

    @work(thread=True, group="actions", exit_on_error=False)
    def _act(self, fn: Callable[..., str], *args: Any) -> None:
        try:
            message = fn(*args)
        except Exception as exc:  # every failure is shown: permission denied, invalid transition, ...
            self.app.notify(f"{_verb(fn)} failed: {exc}", severity="error", markup=False, timeout=8)
        else:
            self.app.notify(message, markup=False)
        finally:
            self.app.call_from_thread(self.kick)

    # ------------------------------------------------------------------ views

    def action_show_log(self) -> None:
        from runtui.tui.screens.log import LogScreen

        run = self._target("log")
        if run is not None:
            self.app.push_screen(LogScreen(run, self.runtui_app.config.run_dir(run.id)))

    def action_show_metrics(self) -> None:
        from runtui.tui.screens.metrics import MetricsScreen

        run = self._target("metrics")
        if run is not None:
            self.app.push_screen(MetricsScreen(run))

    def action_mark_run(self) -> None:
        run = self._target("mark")
        if run is not None:
            marked = self.run_tree.toggle_mark(run)
            n = len(self.run_tree.marked)
            what = "marked" if marked else "unmarked"
            self.notify(f"{what} {run.name}; {n} marked (C compares them)", markup=False, timeout=2)

    def action_compare(self) -> None:
        """Compare the marked runs; with none marked, the highlighted run's children (a sweep)."""
        marked = list(self.run_tree.marked.values())
        if len(marked) >= 2:
            self._open_compare(marked, f"{len(marked)} marked runs")
            return
        run = self._target("compare")
        if run is not None:
            self._compare_children(run)

    @work(thread=True, exclusive=True, group="compare-read", exit_on_error=False)
    def _compare_children(self, parent: RunRecord) -> None:
        from runtui.store.overview import run_page

        try:
            children = run_page(self.runtui_app.store, parent_id=parent.id, limit=COMPARE_MAX).runs
        except Exception as exc:
            self.app.call_from_thread(self.notify, f"compare: cannot read runs: {exc}", severity="error", markup=False)
            return
        if not children:
            self.app.call_from_thread(
                self.notify, "compare: mark runs with x (or highlight a sweep's parent run)", markup=False
            )
            return
        self.app.call_from_thread(self._open_compare, list(children), f"children of {parent.name}")

    def _open_compare(self, runs: list[RunRecord], why: str) -> None:
        from runtui.tui.screens.compare import CompareScreen

        if len(runs) > COMPARE_MAX:
            self.notify(f"compare: the first {COMPARE_MAX} of {len(runs)} runs", markup=False)
        self.app.push_screen(CompareScreen(runs[:COMPARE_MAX], why))

    def action_copy_id(self) -> None:
        run = self._target("copy id")
        if run is not None:
            # OSC 52: the terminal (local, or at the far end of SSH and tmux) puts it on the clipboard
            self.app.copy_to_clipboard(run.id)
            self.notify(f"copied {run.id}", markup=False, timeout=2)

    def action_zoom(self) -> None:
        """Cycle: the log maximised, the details maximised, back to the normal layout."""
        # Focus moves into the maximised pane (Textual restores the layout when focus leaves it).
        if self.maximized is None:
            self.log_panel.view.focus()
            self.maximize(self.log_panel, container=False)
        elif self.maximized is self.log_panel:
            self.details.focus()
            self.maximize(self.details, container=False)
        else:
            self.minimize()
            self.run_tree.focus()

    def reveal_run(self, run: RunRecord, ancestors: list[str]) -> None:
        self.run_tree.reveal_run(run, ancestors)

    def action_help(self) -> None:
        from runtui.tui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen())


def _verb(fn: Callable[..., str]) -> str:
    return getattr(fn, "__name__", "action").replace("_", " ")
