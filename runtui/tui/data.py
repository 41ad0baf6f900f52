"""What the TUI reads from the store, shaped for its views. Blocking: called from worker threads only.

Each function is a few short reads through `runtui.store` and returns plain data (frozen records and small
dataclasses) that the widgets render on the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from runtui.status import TERMINAL, RunStatus
from runtui.tui.formatting import is_system_metric

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement

    from runtui.store import Store
    from runtui.store.peek import Peek
    from runtui.store.records import ExperimentCounts, MetricSummary, RunRecord

LIVE_STATUSES: tuple[RunStatus, ...] = tuple(s for s in RunStatus if s not in TERMINAL)
PAGE_SIZE = 500  # runs per experiment (or parent) loaded at once; "more" loads the next page
FIRST_PAINT_PAGES = 20  # pages read for the first paint at most (more open nodes load after it)
MATCH_LIMIT = 2000  # runs shown at most for a filter
SPARK_POINTS = 48
SPARK_METRICS = 12

Headline = tuple[str, "float | str | None"]


def headline(summaries: Sequence[MetricSummary]) -> Headline | None:
    """The run's headline metric: the first metric it logged (not `sys/*`), with its last value."""
    for s in summaries:
        if not is_system_metric(s.name) and s.kind in ("scalar", "text"):
            return (s.name, s.last)
    return None


@dataclass(frozen=True)
class ViewFilter:
    """What the tree shows: everything (lazily), or the runs matching a filter and/or only live runs."""

    text: str = ""
    where: ColumnElement[bool] | None = None
    live_only: bool = False
    archived: bool = False
    """Archived experiments (and their runs) are shown too (`A`); hidden by default, as in `runtui ls`."""

    @property
    def active(self) -> bool:
        return self.where is not None or self.live_only

    @property
    def statuses(self) -> tuple[RunStatus, ...] | None:
        return LIVE_STATUSES if self.live_only else None


@dataclass
class RunInfo:
    """A run as the tree needs it."""

    run: RunRecord
    headline: Headline | None = None
    children: int = 0


@dataclass
class Overview:
    """The tree's starting point: per-experiment counts, read at `revision`."""

    revision: int
    experiments: dict[str, ExperimentCounts]
    archived: set[str] = field(default_factory=set)  # which of `experiments` are archived (shown on request)
    pages: dict[str, Page] = field(default_factory=dict)  # first pages read with the overview (the first paint)


@dataclass
class Page:
    """One page of runs under an experiment or a run (lazy mode)."""

    key: str  # "exp:<name>" or "run:<id>"
    runs: list[RunInfo]
    more: bool
    revision: int
    append: bool = False


@dataclass
class Matches:
    """Every run matching a filter (up to MATCH_LIMIT), read at `revision`."""

    revision: int
    runs: list[RunInfo]
    truncated: bool
    generation: int


@dataclass
class FeedBatch:
    """What changed between two revisions, with what the tree needs to show it."""

    since: int
    revision: int
    runs: list[RunInfo] = field(default_factory=list)
    experiments: dict[str, ExperimentCounts] = field(default_factory=dict)
    matches: set[str] | None = None  # with a filter: which of `runs` match it
    generation: int = 0  # the filter generation `matches` was computed for
    archived: set[str] = field(default_factory=set)  # experiments archived meanwhile, to drop from a view without them


@dataclass
class RunDetails:
    record: RunRecord
    tags: dict[str, str | None]
    properties: dict[str, str]
    summaries: list[MetricSummary]
    sparks: dict[str, list[float | None]]
    children: int
    models: list[str] = field(default_factory=list)  # registered from this run: "name:version", newest first
    files: list[str] = field(default_factory=list)  # the run's files (outputs/..., logs/...), the first FILES_HEAD
    file_count: int = 0


FILES_HEAD = 3  # files named in the details (the count says how many there are)


def archived_experiments(store: Store, names: Sequence[str] | None = None) -> set[str]:
    """Names of the archived experiments (all, or of `names`): hidden from the tree unless asked, as `runtui ls`
    does."""
    from runtui.store.overview import archived_names

    return archived_names(store, names)


def _infos(store: Store, runs: Sequence[RunRecord]) -> list[RunInfo]:
    from runtui.store.overview import child_counts

    if not runs:
        return []
    ids = [r.id for r in runs]
    summaries = store.get_summaries(ids)
    kids = child_counts(store, ids)
    return [RunInfo(r, headline(summaries.get(r.id, [])), kids.get(r.id, 0)) for r in runs]


def read_overview(store: Store, view: ViewFilter | None = None) -> Overview:
    from runtui.store.overview import experiment_counts

    # The revision first: anything committed after it is replayed by the change feed (never missed).
    revision = store.current_revision()
    counts = experiment_counts(store)
    archived = archived_experiments(store)
    if view is None or not view.archived:
        counts = {name: c for name, c in counts.items() if name not in archived}
    return Overview(revision, counts, archived & set(counts))


def peek_first_paint(peek: Peek, open_keys: Sequence[str] | None, auto_expand: int) -> Overview:
    """The first paint's overview through plain sqlite3 reads (no store layer), with the first page of each
    experiment or run the tree will open: `open_keys` (the last session's), or else the `auto_expand`
    experiments with the most live runs (one experiment alone is opened). Same answers as `read_overview` and
    `read_page` (see `runtui.store.peek`)."""
    revision = peek.revision()
    counts = peek.experiment_counts()
    hidden = peek.archived()
    counts = {name: c for name, c in counts.items() if name not in hidden}
    overview = Overview(revision, counts, set())
    keys = list(open_keys) if open_keys is not None else first_open_keys(counts, auto_expand)
    for key in keys[:FIRST_PAINT_PAGES]:
        kind, _, name = key.partition(":")
        if kind == "exp" and name in counts:
            page = peek.run_page(experiment=name, limit=PAGE_SIZE)
        elif kind == "run":
            page = peek.run_page(parent_id=name, limit=PAGE_SIZE)
        else:
            continue
        ids = [r.id for r in page.runs]
        heads, kids = peek.headlines(ids), peek.child_counts(ids)
        infos = [RunInfo(r, heads.get(r.id), kids.get(r.id, 0)) for r in page.runs]
        overview.pages[key] = Page(key, infos, page.more, revision)
    return overview


def first_open_keys(experiments: dict[str, ExperimentCounts], auto_expand: int) -> list[str]:
    """What the tree opens in a session with no saved state: the experiments with the most live runs, or the
    only experiment."""
    if len(experiments) == 1:
        return ["exp:" + name for name in experiments]
    live = sorted((c for c in experiments.values() if c.live), key=lambda c: -c.live)
    return ["exp:" + c.name for c in live[:auto_expand]]


def read_page(
    store: Store,
    key: str,
    *,
    before: tuple[float, str] | None = None,
    statuses: Sequence[RunStatus] | None = None,
) -> Page:
    from runtui.store.overview import run_page

    revision = store.current_revision()
    kind, _, name = key.partition(":")
    if kind == "exp":
        page = run_page(store, experiment=name, before=before, limit=PAGE_SIZE, statuses=statuses)
    else:
        page = run_page(store, parent_id=name, before=before, limit=PAGE_SIZE, statuses=statuses)
    return Page(key, _infos(store, page.runs), page.more, revision, append=before is not None)


def read_matches(store: Store, view: ViewFilter, generation: int) -> Matches:
    from runtui.store.overview import matching_runs

    revision = store.current_revision()
    runs = matching_runs(store, view.where, statuses=view.statuses, limit=MATCH_LIMIT + 1)
    if not view.archived:
        hidden = archived_experiments(store)
        runs = [r for r in runs if r.experiment not in hidden]
    truncated = len(runs) > MATCH_LIMIT
    return Matches(revision, _infos(store, runs[:MATCH_LIMIT]), truncated, generation)


def read_feed(store: Store, since: int, view: ViewFilter, generation: int) -> FeedBatch | None:
    """Runs changed after `since` (None when nothing did). Cost grows with the change, not the store."""
    from runtui.store.overview import experiment_counts, matching_runs

    changes = store.changes_since(since)
    if changes.revision == since:
        return None
    batch = FeedBatch(since, changes.revision, generation=generation)
    if not view.archived:  # e.g. `runtui experiment archive X` in another terminal: X leaves the tree at once
        batch.archived = {e.name for e in changes.experiments if e.archived_at is not None}
    if not changes.runs:
        # an experiment created, or a write that touched no run: refresh the experiment list cheaply
        batch.experiments = experiment_counts(store) if not view.active else {}
        if batch.experiments and not view.archived:
            hidden = archived_experiments(store)
            batch.experiments = {n: c for n, c in batch.experiments.items() if n not in hidden}
        return batch
    batch.runs = _infos(store, changes.runs)
    if view.active:
        ids = [r.id for r in changes.runs]
        batch.matches = {r.id for r in matching_runs(store, view.where, statuses=view.statuses, run_ids=ids)}
    else:
        # the changed runs' experiments, and any re-activated meanwhile (runs of others logging in the same
        # batch must not keep it out of the tree)
        names = {r.experiment for r in changes.runs} | {e.name for e in changes.experiments if e.archived_at is None}
        batch.experiments = experiment_counts(store, sorted(names))
    if batch.experiments and not view.archived:
        hidden = archived_experiments(store, list(batch.experiments))  # a change there does not bring it back
        batch.experiments = {n: c for n, c in batch.experiments.items() if n not in hidden}
    return batch


def read_details(store: Store, run_id: str) -> RunDetails:
    from runtui.store.overview import child_counts, sampled_series

    record = store.get_run(run_id)
    tags = store.get_tags([run_id])[run_id]
    properties = store.get_properties([run_id])[run_id]
    summaries = store.get_summaries([run_id])[run_id]
    sparks: dict[str, list[float | None]] = {}
    for s in [s for s in summaries if s.kind == "scalar" and s.count > 1][:SPARK_METRICS]:
        sparks[s.name] = list(sampled_series(store, run_id, s.name, SPARK_POINTS).values)
    children = child_counts(store, [run_id]).get(run_id, 0)
    models = [m.id for m in store.list_models(run_id=run_id)]
    files = [a.path for a in store.list_artifacts(run_id)]
    return RunDetails(record, tags, properties, summaries, sparks, children, models, files[:FILES_HEAD], len(files))


def find_runs(store: Store, text: str, limit: int = 20) -> list[tuple[RunRecord, list[str]]]:
    """Runs whose name, id or experiment contains `text`, or that carry a tag `text`, newest first, each with
    its ancestors' ids (root first) so the tree can open the way to it. For the command palette's jump."""
    from runtui.errors import RuntuiError
    from runtui.store.filters import compile_filter
    from runtui.store.overview import matching_runs

    words = text.strip()
    if not words:
        return []
    found: dict[str, RunRecord] = {}
    for expr in (words, f"tag:{words}"):
        try:
            where = compile_filter(expr)
        except RuntuiError:
            continue  # not a valid filter in this form (e.g. a tag key with spaces): the other form may be
        for run in matching_runs(store, where, limit=limit):
            found.setdefault(run.id, run)
    out: list[tuple[RunRecord, list[str]]] = []
    for run in list(found.values())[:limit]:
        chain: list[str] = []
        parent = run.parent_id
        while parent is not None and len(chain) < 100:
            chain.insert(0, parent)
            parent = store.get_run(parent).parent_id
        out.append((run, chain))
    return out
