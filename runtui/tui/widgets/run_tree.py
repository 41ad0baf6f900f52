"""The run tree: experiments → runs → child runs, updated in place from the store's change feed.

Lazy: experiments start collapsed and load one page of runs when expanded (children likewise), so a store
with 100,000 runs starts with 1,000 experiment lines and nothing else. Live updates go to the node keyed
by run id: its label is redrawn, new runs are inserted where they belong, nothing is rebuilt, and the cursor
and expansion state stay put. Labels are built from `Text` objects, never markup strings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual import work
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from runtui.status import RunStatus
from runtui.terminal_text import strip_controls
from runtui.tui.data import FeedBatch, Matches, Page, RunInfo, ViewFilter, read_page
from runtui.tui.formatting import (
    STATUS_GLYPH,
    format_duration,
    format_number,
    ink,
    status_style,
    truncate,
)

if TYPE_CHECKING:
    from runtui.store.overview import ExperimentCounts
    from runtui.store.records import RunRecord
    from runtui.tui.app import RuntuiApp


@dataclass
class ExperimentEntry:
    name: str
    total: int
    live: int
    loaded: bool = False
    loading: bool = False
    filtered: bool = False  # holds filter matches, not a lazy page


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


def _sort_key(run: RunRecord) -> tuple[float, str]:
    return (run.created_at, run.id)


class RunTree(Tree[NodeData]):
    """The tree of experiments and runs."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open", show=False),
        Binding("right", "expand_node", "Expand", show=False),
        Binding("left", "collapse_node", "Collapse", show=False),
    ]

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

    def __init__(self, *, clock: Callable[[], float], id: str | None = None) -> None:
        super().__init__(Text("runs"), id=id)
        self.show_root = False
        self.guide_depth = 2
        self.auto_expand = True
        self.clock = clock
        self.view = ViewFilter()
        self._experiments: dict[str, Node] = {}
        self._runs: dict[str, Node] = {}

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

    def show_overview(self, experiments: dict[str, ExperimentCounts], expand: list[str]) -> None:
        """Lazy mode: one collapsed line per experiment; `expand` are opened (and loaded) right away."""
        keep = self._selection_key()
        self._reset()
        self.view = ViewFilter()
        for name in sorted(experiments):
            counts = experiments[name]
            self._add_experiment(ExperimentEntry(name, counts.total, counts.live), append=True)
        for name in expand:
            node = self._experiments.get(name)
            if node is not None:
                node.expand()
        self._restore_selection(keep)

    def show_matches(self, view: ViewFilter, matches: Matches) -> None:
        """Filter mode: the matching runs, under their experiments, nested where a parent matches too."""
        keep = self._selection_key()
        self._reset()
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
        self._restore_selection(keep)

    def _reset(self) -> None:
        self.clear()
        self._experiments.clear()
        self._runs.clear()

    def _selection_key(self) -> str | None:
        data = self.selected
        if isinstance(data, RunEntry):
            return "run:" + data.run.id
        if isinstance(data, ExperimentEntry):
            return "exp:" + data.name
        return None

    def _restore_selection(self, key: str | None) -> None:
        node: Node | None = None
        if key is not None:
            kind, _, name = key.partition(":")
            node = self._runs.get(name) if kind == "run" else self._experiments.get(name)
        if node is None and self.root.children:
            node = self.root.children[0]
        if node is not None:
            target = node

            def restore() -> None:
                # Only if nobody moved the cursor meanwhile (it still points at a node of the old tree).
                current = self.cursor_node
                if current is None or self._tree_nodes.get(current.id) is not current:
                    self.move_cursor(target)

            self.call_after_refresh(restore)

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
        return node

    def _drop_notes(self, node: Node) -> None:
        for child in list(node.children):
            if isinstance(child.data, NoteEntry):
                child.remove()

    # ------------------------------------------------------------------ lazy loading

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[NodeData]) -> None:
        node = event.node
        data = node.data
        if isinstance(data, ExperimentEntry) and not data.loaded and not data.loading:
            data.loading = True
            self._placeholder(node)
            self._load(f"exp:{data.name}", None)
        elif isinstance(data, RunEntry) and not data.loaded and not data.loading and node.allow_expand:
            data.loading = True
            self._placeholder(node)
            self._load(f"run:{data.run.id}", None)

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
        # Changes that landed while this page was read are replayed, so none is lost.
        self.post_message(self.Rewind(page.revision))

    # ------------------------------------------------------------------ live updates

    def apply_feed(self, batch: FeedBatch, generation: int) -> None:
        """Update in place: relabel known runs, insert new ones where they belong, refresh counts."""
        matches = batch.matches if batch.generation == generation else None
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
                elif isinstance(exp.data, ExperimentEntry):
                    exp.data.total, exp.data.live = counts.total, counts.live
                    exp.refresh()
        else:
            self._recount_filtered()

    def _update_node(self, node: Node, info: RunInfo) -> None:
        entry = node.data
        if not isinstance(entry, RunEntry):
            return
        if info.run.revision < entry.run.revision:
            return  # an older copy (a page read before a change we already applied)
        had_children = entry.info.children > 0
        entry.info = info
        if not self.view.active and info.children > 0 and not had_children and not node.allow_expand:
            node.allow_expand = True
        node.refresh()

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

    def _recount_filtered(self) -> None:
        for exp in self._experiments.values():
            entry = exp.data
            if not isinstance(entry, ExperimentEntry):
                continue
            runs = [n.data for n in _descendants(exp) if isinstance(n.data, RunEntry)]
            total, live = len(runs), sum(1 for r in runs if r.run.status.is_live)
            if (total, live) != (entry.total, entry.live):
                entry.total, entry.live = total, live
                exp.refresh()

    def tick(self) -> None:
        """Redraw the visible live runs (their durations tick)."""
        for node in self.visible_nodes():
            data = node.data
            if isinstance(data, RunEntry) and data.run.status.is_live:
                node.refresh()

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
        run = entry.run
        status = run.status
        glyph = STATUS_GLYPH[status]
        duration = format_duration(run.duration(self.clock()))
        metric = ""
        head = entry.info.headline
        if head is not None and head[1] is not None:
            metric = strip_controls(format_number(head[1]))
        room = width - 2
        right: list[tuple[str, str]] = []
        if duration and room - (len(duration) + 1) >= 8:
            right.append((duration, "dim"))
            room -= len(duration) + 1
        if metric and head is not None:
            labelled = f"{truncate(strip_controls(head[0]), 10)} {strip_controls(metric)}"
            if room - (len(labelled) + 1) >= 10:
                right.append((labelled, ""))
                room -= len(labelled) + 1
            elif room - (len(metric) + 1) >= 8:
                right.append((metric, ""))
                room -= len(metric) + 1
        if run.host and run.host != self.runtui_app.local_host:
            # A run of another box on a shared store says where it runs (this box's runs stay uncluttered).
            at = "@" + truncate(strip_controls(run.host), 12)
            if room - (len(at) + 1) >= 8:
                right.append((at, "dim italic"))
                room -= len(at) + 1
        name = truncate(strip_controls(run.name), room)
        text = Text(no_wrap=True, end="")
        text.append(glyph, style=status_style(status, self.app.no_color) or None)
        text.append(" ")
        name_style = "bold" if status.is_live else ("dim" if status == RunStatus.CANCELED else "")
        text.append(name, style=name_style or None)
        if right:
            text.append(" " * max(0, room - text.cell_len + 2))
            for value, value_style in reversed(right):
                text.append(" ")
                text.append(value, style=value_style or None)
        return text

    def _experiment_label(self, entry: ExperimentEntry, width: int) -> Text:
        counts = f"{entry.total} run{'s' if entry.total != 1 else ''}"
        live = f"{entry.live} live" if entry.live else ""
        right = f"{live} · {counts}" if live else counts
        if width - len(right) - 1 < 8:
            right = live or counts
            if width - len(right) - 1 < 6:
                right = ""
        name_room = width - (len(right) + 1 if right else 0)
        text = Text(no_wrap=True, end="")
        text.append(truncate(strip_controls(entry.name), name_room), style="bold")
        if right:
            text.append(" " * max(1, width - text.cell_len - len(right)))
            if live:
                text.append(live, style=ink("cyan", self.app.no_color) or None)
                if right != live:
                    text.append(f" · {counts}", style="dim")
            else:
                text.append(right, style="dim")
        return text


def _descendants(node: Node) -> Iterator[Node]:
    for child in node.children:
        yield child
        yield from _descendants(child)
