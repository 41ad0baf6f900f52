"""The run tree: experiments → runs → child runs, updated in place from the store's change feed.

Lazy: experiments start collapsed and load one page of runs when expanded (children likewise), so a store
with 100,000 runs starts with 1,000 experiment lines and nothing else. Live updates go to the node keyed
by run id: its label is redrawn, new runs are inserted where they belong, nothing is rebuilt, and the cursor
and expansion state stay put. Labels are built from `Text` objects, never markup strings.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events, work
from textual.binding import Binding, BindingType
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.timer import Timer
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from runtui.status import RunStatus
from runtui.terminal_text import strip_controls
from runtui.tui.data import FeedBatch, Matches, Page, RunInfo, ViewFilter, read_page
from runtui.tui.formatting import (
    STATUS_GLYPH,
    format_duration,
    format_number,
    truncate,
)
from runtui.tui.theme import component_classes, ink_of, status_ink
from runtui.tui.widgets.cell_lines import changed_spans

if TYPE_CHECKING:
    from runtui.store.records import ExperimentCounts, RunRecord
    from runtui.tui.app import RuntuiApp


@dataclass
class ExperimentEntry:
    name: str
    total: int
    live: int
    loaded: bool = False
    loading: bool = False
    filtered: bool = False  # holds filter matches, not a lazy page
    archived: bool = False  # shown only when archived experiments are asked for (`A`)


@dataclass
class RunEntry:
    info: RunInfo
    loaded: bool = False
    loading: bool = False

    @property
    def run(self) -> RunRecord:
        return self.info.run


@dataclass
class MoreEntry:
    """The last line under a parent with more runs than one page: selecting it loads the next page."""

    key: str
    before: tuple[float, str]
    loading: bool = False


@dataclass
class NoteEntry:
    """A line of text: "loading…", "no runs match", "first 2000 shown"."""

    text: str


NodeData = ExperimentEntry | RunEntry | MoreEntry | NoteEntry
Node = TreeNode[NodeData]


NAME_MIN = 8  # cells a run's name keeps before anything else on its line
METRIC_NAME_MAX = 10  # cells of the headline metric's name at most
VALUE_W = 6  # cells the headline value is given at least (four significant digits: 0.4136)
# A run's headline value is repainted at most once a second (bytes on the wire, and CPU: each repaint is a
# compositor pass); a live run's line is repainted by the 1 s tick anyway, which takes a held value along.
VALUE_REPAINT_S = 1.0


def _sort_key(run: RunRecord) -> tuple[float, str]:
    return (run.created_at, run.id)


class RunTree(Tree[NodeData]):
    """The tree of experiments and runs."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open", show=False),
        Binding("right", "expand_node", "Expand", show=False),
        Binding("left", "collapse_node", "Collapse", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = Tree.COMPONENT_CLASSES | component_classes("run-tree", "live")
    """
    | Class | Description |
    | :- | :- |
    | `run-tree--accent`, `--success`, `--error`, `--warning`, `--muted`, `--secondary` | A status glyph, by the
      status's role (`runtui.formatting.STATUS_ROLE`). |
    | `run-tree--live` | An experiment's count of live runs. |
    """

    class PageLoaded(Message):
        """A page of runs arrived from a worker."""

        def __init__(self, page: Page) -> None:
            super().__init__()
            self.page = page

    class Failed(Message):
        """A read for the tree failed; the screen shows the error."""

        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    class Rewind(Message):
        """The tree needs the change feed to replay from `revision` (it may have dropped changes)."""

        def __init__(self, revision: int) -> None:
            super().__init__()
            self.revision = revision

    class SelectionChanged(Message):
        """The highlighted row now holds another run, experiment or line.

        Keyed by what the row shows, not by its line number: a rebuild that puts another run on the same line
        is a change too (Textual's NodeHighlighted says nothing then, which once left the details pane on a
        run the cursor had left). `note` says why the selection moved when the tree moved it.
        """

        def __init__(self, tree: RunTree, key: str | None, note: str | None = None) -> None:
            super().__init__()
            self.tree = tree
            self.key = key
            self.note = note

        @property
        def control(self) -> RunTree:
            return self.tree

    def __init__(self, *, clock: Callable[[], float], id: str | None = None) -> None:
        super().__init__(Text("runs"), id=id)
        self.show_root = False
        self.guide_depth = 2
        self.auto_expand = True
        self.clock = clock
        self.view = ViewFilter()
        self._experiments: dict[str, Node] = {}
        self._runs: dict[str, Node] = {}
        self._announced: str | None = None  # the selection key last posted as SelectionChanged
        self._rebuilding = False
        # Keys ("exp:NAME", "run:ID") of the nodes open in the unfiltered tree: a filter, its clearing or `a`
        # rebuilds the tree, and the reader's expansion comes back with it. None until the first overview.
        self.open_keys: set[str] | None = None
        # A run to put the cursor on once the page holding it arrives (after a rebuild), and where the cursor
        # waits meanwhile: a move by the reader cancels it.
        self._pending: tuple[str, Node] | None = None
        # What the reader had selected before a rebuild moved the cursor to the nearest row, and that row's key:
        # the next rebuild (the filter cleared, `a` again) returns to it unless the reader moved meanwhile.
        self._wanted: tuple[str | None, NodeData | None, str | None] | None = None
        self._reveal_chain: list[str] = []  # runs to open on the way to a pending run (a palette jump)
        self._prefetched: dict[str, Page] = {}  # first pages read with the overview, taken when opened
        self.marked: dict[str, RunRecord] = {}  # runs marked (`x`) for comparing, in marking order
        # What each node's line looked like when last painted (its line number, horizontal scroll, strip): a
        # live update repaints only the cells that differ from it (see `_repaint`).
        self._painted: dict[int, tuple[int, int, Strip]] = {}
        self._values_due: dict[int, Node] = {}  # runs whose headline value waits for its repaint
        self._values_timer: Timer | None = None
        self._values_painted = 0.0

    @property
    def runtui_app(self) -> RuntuiApp:
        return self.app  # type: ignore[return-value]

    # ------------------------------------------------------------------ queries

    @property
    def selected(self) -> NodeData | None:
        node = self.cursor_node
        return None if node is None else node.data

    @property
    def selected_run(self) -> RunRecord | None:
        data = self.selected
        return data.run if isinstance(data, RunEntry) else None

    def run_node(self, run_id: str) -> Node | None:
        return self._runs.get(run_id)

    def experiment_node(self, name: str) -> Node | None:
        return self._experiments.get(name)

    @property
    def run_count(self) -> int:
        """Runs currently held in the tree (loaded), for tests and the status line."""
        return len(self._runs)

    def visible_nodes(self) -> Iterator[Node]:
        top = self.scroll_offset.y
        for line in range(top, top + self.size.height):
            node = self.get_node_at_line(line)
            if node is None:
                return
            yield node

    # ------------------------------------------------------------------ building

    def show_overview(
        self,
        experiments: dict[str, ExperimentCounts],
        expand: list[str],
        archived: set[str] | None = None,
        pages: dict[str, Page] | None = None,
    ) -> None:
        """Lazy mode: one collapsed line per experiment. The first time, `expand` are opened (and loaded);
        afterwards the experiments and runs the reader had open are. `archived` are marked so. `pages` were
        read with the overview: a node opened now shows its page without another read."""
        self._prefetched = dict(pages or {})
        self._rebuild(lambda: self._build_overview(experiments, expand, archived or set()))

    def _build_overview(self, experiments: dict[str, ExperimentCounts], expand: list[str], archived: set[str]) -> None:
        self.view = ViewFilter()
        if self.open_keys is None:
            self.open_keys = {"exp:" + name for name in expand}
        for name in sorted(experiments):
            counts = experiments[name]
            entry = ExperimentEntry(name, counts.total, counts.live, archived=name in archived)
            self._add_experiment(entry, append=True)
        for key in list(self.open_keys):
            kind, _, name = key.partition(":")
            node = self._experiments.get(name) if kind == "exp" else None
            if node is not None:
                node.expand()

    def show_matches(self, view: ViewFilter, matches: Matches) -> None:
        """Filter mode: the matching runs, under their experiments, nested where a parent matches too."""
        self._rebuild(lambda: self._build_matches(view, matches))

    def _build_matches(self, view: ViewFilter, matches: Matches) -> None:
        self.view = view
        by_exp: dict[str, list[RunInfo]] = {}
        for info in matches.runs:
            by_exp.setdefault(info.run.experiment, []).append(info)
        if not by_exp:
            self.root.add_leaf(Text("no runs match"), NoteEntry("no runs match"))
        for name in sorted(by_exp):
            infos = by_exp[name]
            live = sum(1 for i in infos if i.run.status.is_live)
            exp = self._add_experiment(ExperimentEntry(name, len(infos), live, loaded=True, filtered=True), append=True)
            by_id = {i.run.id: i for i in infos}

            def depth(info: RunInfo, by_id: dict[str, RunInfo] = by_id) -> int:
                d, parent_id = 0, info.run.parent_id
                while parent_id in by_id and d < 100:
                    d += 1
                    parent_id = by_id[parent_id].run.parent_id
                return d

            ordered = sorted(infos, key=lambda i: _sort_key(i.run), reverse=True)
            for info in sorted(ordered, key=depth):  # stable: newest first within each parent
                parent_id = info.run.parent_id
                parent = self._runs.get(parent_id) if parent_id in by_id and parent_id else None
                self._add_run(parent or exp, info, filtered=True)
            if len(by_exp) <= 20 or live:
                exp.expand()
        if matches.truncated:
            self.root.add_leaf(
                Text(f"… only the newest {len(matches.runs)} matches are shown; narrow the filter"),
                NoteEntry("truncated"),
            )

    # ------------------------------------------------------------------ selection

    def _rebuild(self, build: Callable[[], None]) -> None:
        """Rebuild the tree with `build`, then put the cursor back on the same run or experiment."""
        keep_data = self.selected
        keep_key = self._selection_key()
        keep_line = self.cursor_line
        if self._wanted is not None and self._wanted[2] == keep_key:
            # The cursor still sits where a rebuild had to put it: go back to what the reader chose.
            keep_key, keep_data = self._wanted[0], self._wanted[1]
        self._wanted = None
        self._rebuilding = True
        try:
            # Clear the cursor first: Textual would otherwise map the old cursor's line number onto whatever
            # node of the new tree lands on that line, silently.
            self.move_cursor(None)
            self.clear()
            self._experiments.clear()
            self._runs.clear()
            self._painted.clear()
            self._pending = None
            build()
            self.get_node_at_line(0)  # lays the new lines out, so nodes know their line
        finally:
            self._rebuilding = False
        self._select_after_rebuild(keep_key, keep_data, keep_line)

    def _selection_key(self) -> str | None:
        node = self.cursor_node
        if node is None:
            return None
        data = node.data
        if isinstance(data, RunEntry):
            return "run:" + data.run.id
        if isinstance(data, ExperimentEntry):
            return "exp:" + data.name
        return f"line:{id(node)}"

    def _node_for(self, key: str | None) -> Node | None:
        if key is None:
            return None
        kind, _, name = key.partition(":")
        if kind == "run":
            return self._runs.get(name)
        if kind == "exp":
            return self._experiments.get(name)
        return None

    def _waiting_node(self, run: RunRecord) -> Node | None:
        """The open node whose page, still loading, may hold `run` (None: the run will not appear)."""
        parent = self._runs.get(run.parent_id) if run.parent_id else None
        node = parent or self._experiments.get(run.experiment)
        if node is None or not node.is_expanded:
            return None
        entry = node.data
        return node if isinstance(entry, (ExperimentEntry, RunEntry)) and not entry.loaded else None

    def _nearest(self, data: NodeData | None, line: int) -> Node | None:
        if isinstance(data, RunEntry):
            for candidate in (self._runs.get(data.run.parent_id or ""), self._experiments.get(data.run.experiment)):
                if candidate is not None:
                    return candidate
        node = self.get_node_at_line(max(0, line))
        if node is None and self.root.children:
            node = self.root.children[-1]
            while node.is_expanded and node.children:
                node = node.children[-1]
        return node

    def _select_after_rebuild(self, key: str | None, data: NodeData | None, line: int) -> None:
        node = self._node_for(key)
        note = None
        if node is None and isinstance(data, RunEntry):
            waiting = self._waiting_node(data.run)
            if waiting is not None:
                self._pending = ("run:" + data.run.id, waiting)
                node = waiting
        if node is None:
            node = self._nearest(data, line)
            if isinstance(data, (RunEntry, ExperimentEntry)):
                note = self._moved_note(data, node)
        self.move_cursor(node)
        if note is not None:
            self._wanted = (key, data, self._selection_key())
        self._announce(note)

    def _moved_note(self, data: RunEntry | ExperimentEntry, node: Node | None) -> str:
        what = f"run {data.run.name}" if isinstance(data, RunEntry) else f"experiment {data.name}"
        if node is None:
            return f"{what} is not in this view"
        return f"{what} is not in this view; selected the nearest row"

    def _resolve_pending(self) -> None:
        """After a page arrived: put the cursor on the run a rebuild could not find yet, or give up and say so."""
        if self._pending is None:
            return
        key, anchor = self._pending
        if self.cursor_node is not anchor:
            self._pending = None  # the reader moved on
            return
        self._open_chain()
        node = self._node_for(key)
        if node is not None:
            self._pending = None
            self._reveal_chain = []
            self.get_node_at_line(0)  # lays out the new lines first: move_cursor goes by the node's line
            self.move_cursor(node)
            return
        run_id = key.partition(":")[2]
        still_loading = any(
            isinstance(n.data, (ExperimentEntry, RunEntry)) and n.is_expanded and not n.data.loaded
            for n in [anchor, *_descendants(anchor)]
        )  # a page still on its way may hold it
        if not still_loading:
            self._pending = None
            self._reveal_chain = []
            self._announce(f"run {run_id} is not in this view")

    def toggle_mark(self, run: RunRecord) -> bool:
        """Mark or unmark `run` for comparing; True when it is marked now."""
        if self.marked.pop(run.id, None) is None:
            self.marked[run.id] = run
        node = self._runs.get(run.id)
        if node is not None:
            node.refresh()
        return run.id in self.marked

    def experiment_nodes(self) -> dict[str, Node]:
        return dict(self._experiments)

    def reveal_experiment(self, name: str) -> None:
        """Put the cursor on experiment `name` (the command palette's jump)."""
        node = self._experiments.get(name)
        if node is None:
            self.notify(f"experiment {name} is not in this view (escape clears the filter)", markup=False)
            return
        self.get_node_at_line(0)
        self.move_cursor(node)

    def reveal_run(self, run: RunRecord, ancestors: list[str]) -> None:
        """Put the cursor on `run`, opening its experiment and its `ancestors` (root first) on the way."""
        node = self._runs.get(run.id)
        if node is None:
            exp = self._experiments.get(run.experiment)
            if exp is None or self.view.active:
                self.notify(f"run {run.name} is not in this view (escape clears the filter)", markup=False)
                return
            self._reveal_chain = list(ancestors)
            if not exp.is_expanded:
                exp.expand()
            self.get_node_at_line(0)
            self.move_cursor(exp)
            self._pending = ("run:" + run.id, exp)
            self._resolve_pending()
            return
        self.get_node_at_line(0)
        self.move_cursor(node)

    def _open_chain(self) -> None:
        for run_id in self._reveal_chain:
            node = self._runs.get(run_id)
            if node is not None and node.allow_expand and not node.is_expanded:
                node.expand()

    def watch_cursor_line(self, previous_line: int, line: int) -> None:
        super().watch_cursor_line(previous_line, line)
        if not getattr(self, "_rebuilding", True):  # Tree.__init__ sets the cursor before ours runs
            self._announce()

    def _announce(self, note: str | None = None) -> None:
        key = self._selection_key()
        if key != self._announced or note is not None:
            self._announced = key
            self.post_message(self.SelectionChanged(self, key, note))

    def _add_experiment(self, entry: ExperimentEntry, *, append: bool = False) -> Node:
        """A line for an experiment, in name order (`append`: the caller adds them already sorted)."""
        if append:
            node = self.root.add(Text(entry.name), entry)
            self._experiments[entry.name] = node
            return node
        names = sorted([*self._experiments, entry.name])
        index = names.index(entry.name)
        before = self._experiments[names[index + 1]] if index + 1 < len(names) else None
        if before is not None:
            node = self.root.add(Text(entry.name), entry, before=before)
        else:
            # after the last experiment, but before any trailing note line
            notes = [n for n in self.root.children if isinstance(n.data, NoteEntry)]
            node = self.root.add(Text(entry.name), entry, before=notes[0] if notes else None)
        self._experiments[entry.name] = node
        return node

    def _add_run(self, parent: Node, info: RunInfo, *, filtered: bool = False, index: int | None = None) -> Node:
        entry = RunEntry(info, loaded=filtered)
        if filtered and isinstance(parent.data, RunEntry) and not parent.allow_expand:
            parent.allow_expand = True  # a matching child under a matching parent
            parent.expand()
        expandable = info.children > 0 and not filtered
        if index is None:
            node = parent.add(Text(info.run.name), entry, allow_expand=expandable)
        else:
            node = parent.add(Text(info.run.name), entry, before=index, allow_expand=expandable)
        self._runs[info.run.id] = node
        if expandable and self.open_keys is not None and "run:" + info.run.id in self.open_keys:
            node.expand()  # the reader had it open before the tree was rebuilt
        return node

    def _drop_notes(self, node: Node) -> None:
        for child in list(node.children):
            if isinstance(child.data, NoteEntry):
                child.remove()

    # ------------------------------------------------------------------ lazy loading

    def _remember(self, node: Node, is_open: bool) -> None:
        data = node.data
        if self.view.active or self.open_keys is None:
            return  # a filtered tree opens what matches; the reader's own layout is the unfiltered one
        if isinstance(data, ExperimentEntry) and self._experiments.get(data.name) is node:
            key = "exp:" + data.name
        elif isinstance(data, RunEntry) and self._runs.get(data.run.id) is node:
            key = "run:" + data.run.id
        else:
            return
        if is_open:
            self.open_keys.add(key)
        else:
            self.open_keys.discard(key)

    def on_tree_node_collapsed(self, event: Tree.NodeCollapsed[NodeData]) -> None:
        self._remember(event.node, False)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[NodeData]) -> None:
        node = event.node
        self._remember(node, True)
        data = node.data
        if isinstance(data, ExperimentEntry) and not data.loaded and not data.loading:
            data.loading = True
            self._placeholder(node)
            self._load_first(f"exp:{data.name}")
        elif isinstance(data, RunEntry) and not data.loaded and not data.loading and node.allow_expand:
            data.loading = True
            self._placeholder(node)
            self._load_first(f"run:{data.run.id}")

    def _load_first(self, key: str) -> None:
        page = self._prefetched.pop(key, None)
        if page is not None:
            self.post_message(self.PageLoaded(page))
        else:
            self._load(key, None)

    def _placeholder(self, node: Node) -> None:
        # Children are read when a node is first opened; until then it shows this line.
        if not node.children:
            node.add_leaf(Text("loading…"), NoteEntry("loading…"))

    def on_tree_node_selected(self, event: Tree.NodeSelected[NodeData]) -> None:
        data = event.node.data
        if isinstance(data, MoreEntry) and not data.loading:
            data.loading = True
            event.node.set_label(Text("loading…"))
            self._load(data.key, data.before)

    def action_expand_node(self) -> None:
        node = self.cursor_node
        if node is not None and node.allow_expand and not node.is_expanded:
            node.expand()

    def action_collapse_node(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand and node.is_expanded:
            node.collapse()
        elif node.parent is not None and node.parent is not self.root:
            self.move_cursor(node.parent)

    @work(thread=True, group="tree-load", exit_on_error=False)
    def _load(self, key: str, before: tuple[float, str] | None) -> None:
        try:
            store = self.runtui_app.store
            page = read_page(store, key, before=before, statuses=self.view.statuses)
        except Exception as exc:  # shown to the user by the screen, never swallowed
            self.post_message(self.Failed(f"loading runs failed: {exc}"))
            return
        self.post_message(self.PageLoaded(page))

    def on_run_tree_page_loaded(self, message: RunTree.PageLoaded) -> None:
        message.stop()
        page = message.page
        kind, _, name = page.key.partition(":")
        parent = self._experiments.get(name) if kind == "exp" else self._runs.get(name)
        if parent is None or parent.data is None:
            return
        entry = parent.data
        if isinstance(entry, (ExperimentEntry, RunEntry)):
            entry.loaded = True
            entry.loading = False
        if not page.append:
            self._drop_notes(parent)
        for child in list(parent.children):
            if isinstance(child.data, MoreEntry):
                child.remove()
        for info in page.runs:
            existing = self._runs.get(info.run.id)
            if existing is not None:
                self._update_node(existing, info)
            else:
                self._add_run(parent, info)
        if page.more and page.runs:
            oldest = page.runs[-1].run
            more = MoreEntry(page.key, _sort_key(oldest))
            parent.add_leaf(Text("… older runs (enter to load)"), more)
        if not parent.children:
            parent.add_leaf(Text("no runs"), NoteEntry("no runs"))
        self._resolve_pending()
        # Changes that landed while this page was read are replayed, so none is lost.
        self.post_message(self.Rewind(page.revision))

    # ------------------------------------------------------------------ live updates

    def apply_feed(self, batch: FeedBatch, generation: int) -> None:
        """Update in place: relabel known runs, insert new ones where they belong, refresh counts."""
        matches = batch.matches if batch.generation == generation else None
        for name in batch.archived:
            self._drop_experiment(name)
        for info in batch.runs:
            node = self._runs.get(info.run.id)
            if node is not None:
                gone = self.view.active and matches is not None and info.run.id not in matches
                if gone and self._remove_run(node):
                    continue
                self._update_node(node, info)
                continue
            if self.view.active:
                if matches is not None and info.run.id in matches:
                    self._insert_match(info)
            else:
                self._insert_lazy(info)
        if not self.view.active:
            for name, counts in batch.experiments.items():
                exp = self._experiments.get(name)
                if exp is None:
                    self._add_experiment(ExperimentEntry(name, counts.total, counts.live))
                    if len(self._experiments) == 1:
                        self.call_after_refresh(self.move_cursor, self._experiments[name])
                elif isinstance(exp.data, ExperimentEntry) and (exp.data.total, exp.data.live) != (
                    counts.total,
                    counts.live,
                ):
                    exp.data.total, exp.data.live = counts.total, counts.live
                    self._repaint(exp)  # only when its counts changed: a repaint costs bytes
        else:
            self._recount_filtered()

    def _update_node(self, node: Node, info: RunInfo) -> None:
        entry = node.data
        if not isinstance(entry, RunEntry):
            return
        if info.run.revision < entry.run.revision:
            return  # an older copy (a page read before a change we already applied)
        had_children = entry.info.children > 0
        before = _label_key(entry.info)
        entry.info = info
        if not self.view.active and info.children > 0 and not had_children and not node.allow_expand:
            node.allow_expand = True
        after = _label_key(info)
        if after == before:
            return  # a heartbeat changes the record but not the line: no repaint
        if after[:-2] == before[:-2] and after[-1] == before[-1]:
            self._repaint_value(node)  # only the headline value moved: at most VALUE_REPAINT_S apart
        else:
            self._repaint(node)  # a status, name or time: at once

    def _insert_lazy(self, info: RunInfo) -> None:
        run = info.run
        if run.parent_id is not None:
            parent = self._runs.get(run.parent_id)
            if parent is None or not isinstance(parent.data, RunEntry):
                return
            pentry = parent.data
            if not pentry.loaded:
                pentry.info.children = max(pentry.info.children, 1)
                parent.allow_expand = True
                parent.refresh()
                return
        else:
            parent = self._experiments.get(run.experiment)
            if parent is None or not isinstance(parent.data, ExperimentEntry) or not parent.data.loaded:
                return  # counts arrive with the batch; the page will hold the run when expanded
        self._insert_sorted(parent, info)

    def _insert_match(self, info: RunInfo) -> None:
        run = info.run
        parent = self._runs.get(run.parent_id) if run.parent_id else None
        if parent is None:
            parent = self._experiments.get(run.experiment)
            if parent is None:
                parent = self._add_experiment(ExperimentEntry(run.experiment, 0, 0, loaded=True, filtered=True))
                parent.expand()
                for note in [n for n in self.root.children if isinstance(n.data, NoteEntry)]:
                    if note.data is not None and note.data.text == "no runs match":  # type: ignore[union-attr]
                        note.remove()
        self._insert_sorted(parent, info, filtered=True)

    def _insert_sorted(self, parent: Node, info: RunInfo, *, filtered: bool = False) -> None:
        key = _sort_key(info.run)
        index = 0
        oldest_loaded: tuple[float, str] | None = None
        for i, child in enumerate(parent.children):
            data = child.data
            if isinstance(data, RunEntry):
                ckey = _sort_key(data.run)
                oldest_loaded = ckey
                if ckey > key:
                    index = i + 1
            elif isinstance(data, MoreEntry) and oldest_loaded is not None and key < oldest_loaded:
                return  # belongs to a page not loaded yet
        self._drop_notes(parent)
        self._add_run(parent, info, filtered=filtered, index=index)

    def _remove_run(self, node: Node) -> bool:
        """Drop a run that no longer matches the filter, unless the cursor is on it (then it stays)."""
        if node is self.cursor_node or any(n is self.cursor_node for n in _descendants(node)):
            return False
        for n in [node, *_descendants(node)]:
            if isinstance(n.data, RunEntry):
                self._runs.pop(n.data.run.id, None)
        node.remove()
        return True

    def _drop_experiment(self, name: str) -> None:
        """An experiment archived elsewhere leaves the view; a cursor inside it moves to the nearest row, and the
        reader is told (the details must never keep showing a run the tree no longer has)."""
        node = self._experiments.pop(name, None)
        if node is None:
            return
        inside = node is self.cursor_node or any(n is self.cursor_node for n in _descendants(node))
        line = node.line
        for n in _descendants(node):
            if isinstance(n.data, RunEntry):
                self._runs.pop(n.data.run.id, None)
        node.remove()
        if inside:
            self.get_node_at_line(0)  # lays out the lines left
            target = self.get_node_at_line(max(0, min(line, self.last_line)))
            if target is not None:
                self.move_cursor(target)
            self._announce(f"experiment {name} was archived; selected the nearest row")

    def _recount_filtered(self) -> None:
        for exp in self._experiments.values():
            entry = exp.data
            if not isinstance(entry, ExperimentEntry):
                continue
            runs = [n.data for n in _descendants(exp) if isinstance(n.data, RunEntry)]
            total, live = len(runs), sum(1 for r in runs if r.run.status.is_live)
            if (total, live) != (entry.total, entry.live):
                entry.total, entry.live = total, live
                self._repaint(exp)

    def tick(self) -> None:
        """Redraw the visible live runs (their durations tick): only the cells that changed go out."""
        for node in list(self.visible_nodes()):
            data = node.data
            if isinstance(data, RunEntry) and data.run.status.is_live:
                self._values_due.pop(node.id, None)  # this paint shows its newest value too
                self._repaint(node)

    def _repaint_value(self, node: Node) -> None:
        """Repaint a run whose headline value changed, at most every VALUE_REPAINT_S: the first change after
        a quiet spell at once, later ones together at the end of the interval (a run logging 100 points a
        second redraws its value once a second, not 100 times; statuses never wait for this)."""
        self._values_due[node.id] = node
        wait = self._values_painted + VALUE_REPAINT_S - time.monotonic()
        if wait <= 0:
            self._paint_values()
        elif self._values_timer is None:
            self._values_timer = self.set_timer(wait, self._paint_values)

    def _paint_values(self) -> None:
        self._values_timer = None
        self._values_painted = time.monotonic()
        due, self._values_due = self._values_due, {}
        for node in due.values():
            if node.tree is self and isinstance(node.data, RunEntry) and self._runs.get(node.data.run.id) is node:
                self._repaint(node)

    def _repaint(self, node: Node) -> None:
        """Repaint `node`'s line after its data changed, sending only the cells that differ from the last paint.

        `TreeNode.refresh()` marks the whole line dirty: ~200 bytes for a live run whose duration or metric
        moved by a digit or two, several times a second. Textual sends a dirty region narrower than the line
        as just those cells.
        """
        node._updates += 1  # what TreeNode.refresh() does to drop the node's cached line, minus the repaint
        line = node.line
        top = self.scroll_offset.y
        if line < 0 or not top <= line < top + self.size.height or not self.is_mounted:
            return  # not on screen: painted afresh when scrolled to
        painted = self._painted.get(node.id)
        y = line - top
        new = self.render_line(y)
        if painted is None or painted[0] != line or painted[1] != self.scroll_offset.x:
            self.refresh(Region(0, y, self.size.width, 1))
            return
        for x1, x2 in changed_spans(painted[2], new):
            self.refresh(Region(x1, y, x2 - x1, 1))

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        line = y + self.scroll_offset.y
        node = self.get_node_at_line(line)
        if node is not None:
            self._painted[node.id] = (line, self.scroll_offset.x, strip)
        return strip

    # ------------------------------------------------------------------ rendering

    def get_label_width(self, node: Node) -> int:
        # Labels are fitted to the widget's width in render_label: no horizontal scrolling, and no
        # render of every line just to measure it on each rebuild.
        return 1

    def render_label(self, node: Node, base_style: Style, style: Style) -> Text:
        data = node.data
        depth = 0
        parent = node.parent
        while parent is not None and parent is not self.root:
            depth += 1
            parent = parent.parent
        width = max(4, self.scrollable_content_region.width - depth * self.guide_depth - 2)
        icon = "  "
        if node.allow_expand:
            icon = self.ICON_NODE_EXPANDED if node.is_expanded else self.ICON_NODE
        prefix = Text(icon, style=base_style + Style(meta={"toggle": True}) if node.allow_expand else base_style)
        if isinstance(data, RunEntry):
            body = self._run_label(data, width)
        elif isinstance(data, ExperimentEntry):
            body = self._experiment_label(data, width)
        elif isinstance(data, (MoreEntry, NoteEntry)):
            body = Text(truncate(node.label.plain if isinstance(node.label, Text) else str(node.label), width))
            body.stylize("italic dim")
        else:  # pragma: no cover
            body = Text("")
        body.stylize_before(style)
        return Text.assemble(prefix, body)

    def _run_label(self, entry: RunEntry, width: int) -> Text:
        """One format for every run: `glyph name … metric value duration @host`, widths in terminal cells.

        The name keeps at least NAME_MIN cells; the headline metric keeps its name (cut, never dropped) beside
        its value; then the duration, then the host, as room allows. Cut names end in `…`; the full name is in
        the tooltip and the details.
        """
        run = entry.run
        status = run.status
        room = width - 2  # glyph and space
        right: list[tuple[str, str]] = []
        head = entry.info.headline
        if head is not None and head[1] is not None:
            value = strip_controls(format_number(head[1]))
            name = strip_controls(head[0])
            # The metric keeps a steady width (short values padded on its left): a new value (0.43 after
            # 0.4136) repaints the metric's cells, not the run name beside it.
            lead = " " * max(0, VALUE_W - cell_len(value))
            spare = room - NAME_MIN - cell_len(value) - 2
            if spare >= 2:
                label = truncate(name, min(METRIC_NAME_MAX, spare)) + " " + value
                if room - cell_len(label) - cell_len(lead) - 1 >= NAME_MIN:
                    label = lead + label
                right.append((label, ""))
                room -= cell_len(label) + 1
        duration = format_duration(run.duration(self.clock()))
        if duration and room - (cell_len(duration) + 1) >= NAME_MIN:
            right.append((duration, "dim"))
            room -= cell_len(duration) + 1
        if run.host and run.host != self.runtui_app.local_host:
            # A run of another box on a shared store says where it runs (this box's runs stay uncluttered).
            at = "@" + truncate(strip_controls(run.host), 12)
            if room - (cell_len(at) + 1) >= NAME_MIN:
                right.append((at, "dim italic"))
                room -= cell_len(at) + 1
        name = truncate(strip_controls(run.name), max(1, room))
        text = Text(no_wrap=True, end="")
        text.append(STATUS_GLYPH[status], style=status_ink(ink_of(self, "run-tree"), status))
        text.append("◆" if run.id in self.marked else " ", style="bold")
        name_style = "bold" if status.is_live else ("dim" if status == RunStatus.CANCELED else "")
        text.append(name, style=name_style or None)
        if right:
            text.append(" " * max(0, room - cell_len(name)))
            for value, value_style in right:
                text.append(" ")
                text.append(value, style=value_style or None)
        return text

    def on_mouse_move(self, event: events.MouseMove) -> None:
        """The full name of the run under the pointer as a tooltip (the tree cuts long names)."""
        node = self.get_node_at_line(event.y + self.scroll_offset.y)
        data = None if node is None else node.data
        if isinstance(data, RunEntry):
            tip = strip_controls(data.run.name)
        elif isinstance(data, ExperimentEntry):
            tip = strip_controls(data.name)
        else:
            tip = None
        if tip != self.tooltip:
            self.tooltip = tip

    def _experiment_label(self, entry: ExperimentEntry, width: int) -> Text:
        counts = f"{entry.total} run{'s' if entry.total != 1 else ''}"
        live = f"{entry.live} live" if entry.live else ""
        right = f"{live} · {counts}" if live else counts
        if width - cell_len(right) - 1 < 8:
            right = live or counts
            if width - cell_len(right) - 1 < 6:
                right = ""
        name_room = width - (cell_len(right) + 1 if right else 0)
        text = Text(no_wrap=True, end="")
        name = strip_controls(entry.name)
        if entry.archived:
            name_room -= 9
            text.append(truncate(name, max(1, name_room)), style="bold dim")
            text.append(" archived", style="dim italic")
        else:
            text.append(truncate(name, name_room), style="bold")
        if right:
            text.append(" " * max(1, width - text.cell_len - cell_len(right)))
            if live:
                text.append(live, style=ink_of(self, "run-tree")("live"))
                if right != live:
                    text.append(f" · {counts}", style="dim")
            else:
                text.append(right, style="dim")
        return text


def _label_key(info: RunInfo) -> tuple[object, ...]:
    """What a run's line shows (its duration ticks separately)."""
    run = info.run
    return (run.status, run.name, run.host, run.started_at, run.ended_at, info.headline, info.children > 0)


def _descendants(node: Node) -> Iterator[Node]:
    for child in node.children:
        yield child
        yield from _descendants(child)
