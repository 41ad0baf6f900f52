"""Copying an MLflow tracking store into a runtui store (`runtui import mlflow`).

What becomes what:
- an MLflow experiment -> a runtui experiment named after it (characters runtui does not allow in a name become
  '-'; a name taken by another MLflow experiment gets its id appended);
- a run -> run `mlflow_<run id>` (so that importing again finds it): display name = run name, status mapped
  (FINISHED Completed, FAILED Failed, KILLED Canceled, RUNNING Running, SCHEDULED Queued), start and end times kept,
  `mlflow.parentRunId` -> parent/child;
- params -> properties (immutable, as in MLflow), plus `mlflow.run_id`, `mlflow.experiment_id`,
  `mlflow.experiment_name`; tags -> tags, the `mlflow.*` system tags included (`mlflow.note.content` is also
  the run's description); experiment tags -> experiment tags;
- every metric point -> a point with its step and timestamp (NaN kept as NaN);
- the run's artifacts, when they are on this machine -> run files under `outputs/` (copied).

Idempotent and resumable: a run already imported gets only what is new (points by comparing per-series counts,
then the points themselves; tags and params by key; files by path and size; the final status once MLflow has one).
Points are written through the store's bulk path in large transactions; a run's final status is set only after
its points are in, so an interrupted import leaves runs that the next import completes, and nothing is lost.
Deleted MLflow experiments and runs are skipped.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtui.errors import RuntuiError, ValidationError
from runtui.integrations.mlflow_source import MlflowExperiment, MlflowRun, MlflowStoreError, Source
from runtui.status import RunStatus

if TYPE_CHECKING:
    from runtui.core.workspace import Workspace
    from runtui.progress import Progress
    from runtui.store.store import PendingPoint, Store

STATUS = {
    "FINISHED": RunStatus.COMPLETED,
    "FAILED": RunStatus.FAILED,
    "KILLED": RunStatus.CANCELED,
    "RUNNING": RunStatus.RUNNING,
    "SCHEDULED": RunStatus.QUEUED,
}
RUN_PREFIX = "mlflow_"
POINT_BATCH = 100_000  # points per write transaction: large enough that the per-transaction cost vanishes
RUN_BATCH = 200  # runs created per transaction
_NAME_BAD = re.compile(r"[^A-Za-z0-9_.-]+")
_LIVE = frozenset(s for s in RunStatus if s.is_live)


@dataclass
class ImportReport:
    """What one import did (or, with dry_run, would do)."""

    source: str
    dry_run: bool = False
    experiments_new: int = 0
    runs_new: int = 0
    runs_updated: int = 0
    runs_unchanged: int = 0
    points: int = 0
    properties: int = 0
    tags: int = 0
    files: int = 0
    file_bytes: int = 0
    remote_artifacts: int = 0  # runs whose artifacts are not on this machine (s3://, mlflow-artifacts:, ...)
    seconds: float = 0.0
    point_seconds: float = 0.0
    renamed: dict[str, str] = field(default_factory=dict)  # MLflow experiment name -> runtui name, when they differ
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def points_per_s(self) -> float:
        return self.points / self.point_seconds if self.point_seconds > 0 else 0.0


def experiment_names(experiments: Sequence[MlflowExperiment]) -> dict[str, str]:
    """MLflow experiment id -> runtui experiment name, stable across imports (ordered by MLflow id)."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for exp in sorted(experiments, key=lambda e: (len(e.id), e.id)):
        base = _NAME_BAD.sub("-", exp.name).strip("-.")[:200] or f"mlflow-{exp.id}"
        if not base[0].isalnum():
            base = f"mlflow-{base}"
        name = base if base not in taken else f"{base}-{exp.id}"
        taken.add(name)
        out[exp.id] = name
    return out


def runtui_run_id(mlflow_run_id: str) -> str:
    return RUN_PREFIX + (_NAME_BAD.sub("-", mlflow_run_id)[:200] or "run")


def _clean(text: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL; MLflow's SQLite store can."""
    return None if text is None else text.replace("\0", "\\0")


@dataclass
class _Plan:
    """One MLflow run and what the import does to its runtui copy."""

    run: MlflowRun
    rid: str
    experiment: str
    parent: str | None
    params: dict[str, str]
    tags: dict[str, str | None]
    counts: dict[str, int]  # MLflow points per key
    have: dict[str, int] = field(default_factory=dict)  # runtui points per name
    exists: bool = False
    status: RunStatus | None = None  # the runtui copy's status, when it exists
    new_props: dict[str, str] = field(default_factory=dict)
    new_tags: dict[str, str | None] = field(default_factory=dict)

    @property
    def target_status(self) -> RunStatus:
        return STATUS.get(self.run.status.upper(), RunStatus.COMPLETED)

    def missing_points(self) -> int:
        return sum(max(0, n - self.have.get(k, 0)) for k, n in self.counts.items())


class _PointSink:
    """Buffers points across runs and writes them in large transactions; status changes wait for their points."""

    def __init__(self, store: Store, report: ImportReport, progress: Progress | None) -> None:
        self.store = store
        self.report = report
        self.progress = progress
        self.points: list[PendingPoint] = []
        self.statuses: list[Any] = []

    def add(self, point: PendingPoint) -> None:
        self.points.append(point)
        if len(self.points) >= POINT_BATCH:
            self.flush()

    def extend(self, points: list[PendingPoint]) -> None:
        self.points.extend(points)
        if len(self.points) >= POINT_BATCH:
            self.flush()

    def finish_run(self, change: Any) -> None:
        self.statuses.append(change)
        if len(self.statuses) >= RUN_BATCH:
            self.flush()

    def flush(self) -> None:
        if self.points:
            t0 = time.perf_counter()
            result = self.store.write_metric_batch(self.points)
            self.report.point_seconds += time.perf_counter() - t0
            self.report.points += result.written
            for rid, n in result.refused.items():
                self.report.warnings.append(f"run {rid}: {n} points refused: the run has finished in runtui")
            if self.progress is not None:
                self.progress.advance(len(self.points))
            self.points = []
        if self.statuses:
            self.store.set_statuses(self.statuses)
            self.statuses = []


def import_mlflow(
    source: Source,
    workspace: Workspace,
    *,
    experiments: Sequence[str] | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    on_plan: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import `source` into `workspace` (see the module docstring); returns what was done.

    `experiments` limits the import to those MLflow experiments (by MLflow name or id, or the runtui name they
    get). `on_plan(runs, points)` is told the size of the work before any write.
    """
    started = time.perf_counter()
    store = workspace.store
    report = ImportReport(source.description, dry_run=dry_run)
    all_exps = source.experiments()
    names = experiment_names(all_exps)
    chosen = _choose(all_exps, names, experiments)
    for exp in chosen:
        if names[exp.id] != exp.name:
            report.renamed[exp.name] = names[exp.id]
    exp_ids = {e.id for e in chosen}
    exp_by_id = {e.id: e for e in chosen}
    runs = [r for r in source.runs() if r.experiment_id in exp_ids]
    plans = _plan(source, store, runs, names, exp_by_id, report)

    present = {e.name for e in store.list_experiments()}
    new_exps = sorted({names[e.id] for e in chosen} - present)
    report.experiments_new = len(new_exps)
    total_points = sum(p.missing_points() for p in plans)
    if on_plan is not None:
        on_plan(len(plans), total_points)
    if progress is not None:
        progress.set_total(total_points)

    if dry_run:
        for p in plans:
            _count_run(p, report)
            report.points += p.missing_points()
            _copy_artifacts(source, workspace, p, report, dry_run=True)
        report.seconds = time.perf_counter() - started
        return report

    for name in new_exps:
        store.ensure_experiment(name)
    current = {e.name: e for e in store.list_experiments(include_archived=True)}
    for exp in chosen:
        tags = {_clean(k) or "": _clean(v) for k, v in exp.tags.items()}
        have = current[names[exp.id]].tags
        changed = {k: v for k, v in tags.items() if k not in have or have[k] != v}
        if changed:
            store.set_experiment_tags(names[exp.id], changed)
    _create_runs(store, [p for p in plans if not p.exists])
    sink = _PointSink(store, report, progress)
    for p in plans:
        try:
            _count_run(p, report)
            if p.exists:
                _update_run(store, p, report)
            _write_points(source, store, p, sink, report)
            _copy_artifacts(source, workspace, p, report, dry_run=False)
            _finish(p, sink)
        except MlflowStoreError as exc:
            # A damaged run in the source: report it, keep what is in, go on with the others.
            sink.flush()
            report.errors.append(f"run {p.run.id}: {exc}")
    sink.flush()
    report.seconds = time.perf_counter() - started
    return report


def _choose(
    exps: list[MlflowExperiment], names: dict[str, str], wanted: Sequence[str] | None
) -> list[MlflowExperiment]:
    if not wanted:
        return exps
    out = []
    for w in wanted:
        match = [e for e in exps if w in (e.name, e.id, names[e.id])]
        if not match:
            known = ", ".join(sorted(repr(e.name) for e in exps)) or "none"
            raise ValidationError(f"no MLflow experiment {w!r} in the store; it has: {known}")
        out += [e for e in match if e not in out]
    return out


def _plan(
    source: Source,
    store: Store,
    runs: list[MlflowRun],
    names: dict[str, str],
    exps: dict[str, MlflowExperiment],
    report: ImportReport,
) -> list[_Plan]:
    ids = [r.id for r in runs]
    params = source.params(ids)
    tags = source.tags(ids)
    counts = source.metric_counts(ids)
    rid_of = {r.id: runtui_run_id(r.id) for r in runs}
    plans: dict[str, _Plan] = {}
    for r in runs:
        parent_ml = tags[r.id].get("mlflow.parentRunId")
        parent = rid_of.get(parent_ml) if parent_ml else None
        if parent_ml and parent is None:
            report.warnings.append(f"run {r.id}: its parent {parent_ml} is not imported; imported as a top-level run")
        exp = exps[r.experiment_id]
        props = {
            **{_clean(k) or "": _clean(v) or "" for k, v in params[r.id].items()},
            "mlflow.run_id": r.id,
            "mlflow.experiment_id": exp.id,
            "mlflow.experiment_name": _clean(exp.name) or "",
        }
        plans[r.id] = _Plan(
            run=r,
            rid=rid_of[r.id],
            experiment=names[r.experiment_id],
            parent=parent,
            params=props,
            tags={_clean(k) or "": _clean(v) for k, v in tags[r.id].items()},
            counts=counts.get(r.id, {}),
        )
    # What is already in runtui
    rids = [p.rid for p in plans.values()]
    existing = {rec.id: rec for rec in store.get_runs_by_id(rids)}
    if existing:
        have_props = store.get_properties(list(existing))
        have_tags = store.get_tags(list(existing))
        summaries = store.get_summaries(list(existing))
        for p in plans.values():
            rec = existing.get(p.rid)
            if rec is None:
                continue
            if rec.experiment != p.experiment:
                raise RuntuiError(
                    f"run {p.rid} is already in experiment {rec.experiment!r}, not {p.experiment!r}; "
                    "was the MLflow experiment renamed? Import it under its old name with --experiment"
                )
            p.exists = True
            p.status = rec.status
            p.have = {s.name: s.count for s in summaries.get(p.rid, [])}
            mine = have_props.get(p.rid, {})
            p.new_props = {k: v for k, v in p.params.items() if k not in mine}
            for k, v in p.params.items():
                if k in mine and mine[k] != v:
                    report.warnings.append(f"run {p.run.id}: property {k!r} differs from MLflow's; kept runtui's")
            theirs = have_tags.get(p.rid, {})
            p.new_tags = {k: v for k, v in p.tags.items() if k not in theirs or theirs[k] != v}
    return _parents_first(list(plans.values()))


def _parents_first(plans: list[_Plan]) -> list[_Plan]:
    by_rid = {p.rid: p for p in plans}

    def depth(p: _Plan) -> int:
        d, seen, cur = 0, {p.rid}, p
        while cur.parent is not None and cur.parent in by_rid and cur.parent not in seen:
            seen.add(cur.parent)
            cur = by_rid[cur.parent]
            d += 1
        return d

    return sorted(plans, key=depth)  # stable: start-time order within a depth


def _count_run(p: _Plan, report: ImportReport) -> None:
    if not p.exists:
        report.runs_new += 1
        report.properties += len(p.params)
        report.tags += len(p.tags)
    elif p.new_props or p.new_tags or p.missing_points() or _needs_status(p):
        report.runs_updated += 1
        report.properties += len(p.new_props)
        report.tags += len(p.new_tags)
    else:
        report.runs_unchanged += 1


def _needs_status(p: _Plan) -> bool:
    target = p.target_status
    return p.status is not None and p.status.is_live and target.is_terminal


def _create_runs(store: Store, plans: list[_Plan]) -> None:
    from runtui.store.store import NewRun

    for i in range(0, len(plans), RUN_BATCH):
        batch = plans[i : i + RUN_BATCH]
        new = []
        for p in batch:
            r = p.run
            start = r.start_ms / 1000.0 if r.start_ms is not None else None
            # Terminal runs start as Running: their points go in first, the final status (and end time) last.
            status = RunStatus.QUEUED if p.target_status == RunStatus.QUEUED else RunStatus.RUNNING
            new.append(
                NewRun(
                    id=p.rid,
                    experiment=p.experiment,
                    status=status,
                    parent_id=p.parent,
                    display_name=_clean(r.name) or None,
                    description=p.tags.get("mlflow.note.content") or None,
                    kind="child" if p.parent else "interactive",
                    user=_clean(r.user) or "",
                    tags=tuple(p.tags.items()),
                    properties=tuple(p.params.items()),
                    created_at=start,
                    started_at=start if status == RunStatus.RUNNING else None,
                )
            )
            p.status = status
        store.create_runs(new)
        for p in batch:
            if p.target_status.is_live:
                # Nobody heart-beats an imported run: no heartbeat means the liveness sweep leaves it as MLflow had it.
                store.update_run(p.rid, heartbeat_at=None)


def _update_run(store: Store, p: _Plan, report: ImportReport) -> None:
    if p.new_tags:
        store.set_tags(p.rid, p.new_tags)
    if p.new_props:
        store.add_properties(p.rid, p.new_props)


def _write_points(source: Source, store: Store, p: _Plan, sink: _PointSink, report: ImportReport) -> None:
    from runtui.core import values as _values

    full = [k for k, n in p.counts.items() if n and p.have.get(k, 0) == 0]
    partial = [k for k, n in p.counts.items() if 0 < p.have.get(k, 0) < n]
    for k, n in p.counts.items():
        if p.have.get(k, 0) > n:
            report.warnings.append(f"run {p.run.id}: metric {k!r} has more points in runtui than in MLflow; left alone")
    if p.status is not None and p.status.is_terminal and (full or partial):
        report.warnings.append(f"run {p.run.id}: new points in MLflow for a run already finished in runtui; skipped")
        return
    rid = p.rid
    add = sink.add
    inf = float("inf")
    if full:
        for chunk in source.point_chunks(p.run.id, full if len(full) < len(p.counts) else None):
            # The common case in one comprehension (a per-point function call costs as much as the write).
            fast: list[PendingPoint] = [
                (rid, key, step, value, None, "scalar", ts / 1000.0)
                for key, step, value, ts, nan in chunk
                if not nan and -inf < value < inf
            ]
            if len(fast) < len(chunk):  # NaN / inf in it: the chunk again, in order, kept as the SDK keeps them
                fast = []
                for key, step, value, ts, nan in chunk:
                    if nan:
                        fast.append((rid, key, step, None, "nan", "scalar", ts / 1000.0))
                    else:
                        v, text, kind = _values.scalar(key, value)
                        fast.append((rid, key, step, v, text, kind, ts / 1000.0))
            sink.extend(fast)
    if partial:
        sink.flush()  # the comparison reads what is in the store
        have: dict[str, Counter[tuple[int, int, float | None]]] = {}
        for s in store.get_series(rid, partial):
            have[s.name] = Counter(
                (step, round(t * 1000), None if v is None or v != v else v)
                for step, v, t in zip(s.steps, s.values, s.times, strict=True)
            )
        for key, step, value, ts, nan in source.points(p.run.id, partial):
            mark = (step, ts, None if nan else value)
            seen = have.setdefault(key, Counter())
            if seen[mark] > 0:
                seen[mark] -= 1
                continue
            if nan:
                add((rid, key, step, None, "nan", "scalar", ts / 1000.0))
            else:
                v, text, kind = _values.scalar(key, value)
                add((rid, key, step, v, text, kind, ts / 1000.0))


def _copy_artifacts(source: Source, workspace: Workspace, p: _Plan, report: ImportReport, *, dry_run: bool) -> None:
    root = source.resolve_artifacts(p.run)
    if root is None:
        if p.run.artifact_uri:
            report.remote_artifacts += 1
        return
    if not root.is_dir():
        return
    files = sorted(f for f in root.rglob("*") if f.is_file())
    if not files:
        return
    have = {a.path: a.size for a in workspace.store.list_artifacts(p.rid)} if p.exists or not dry_run else {}
    run = None
    for f in files:
        name = "outputs/" + f.relative_to(root).as_posix()
        size = f.stat().st_size
        if have.get(name) == size:
            continue
        report.files += 1
        report.file_bytes += size
        if dry_run:
            continue
        if run is None:
            from runtui.core.run import Run

            run = Run.get(workspace, p.rid)
        try:
            run.upload_file(name, f)
        except OSError as exc:
            raise MlflowStoreError(f"copying artifact {f}: {exc}") from None


def _finish(p: _Plan, sink: _PointSink) -> None:
    from runtui.store.store import StatusChange

    target = p.target_status
    if not target.is_terminal or p.status is None or p.status.is_terminal:
        return
    ended = p.run.end_ms / 1000.0 if p.run.end_ms is not None else None
    fields = {"ended_at": ended} if ended is not None else {}
    error = "failed in MLflow" if target == RunStatus.FAILED else None
    sink.finish_run(StatusChange(p.rid, target, only_from=_LIVE, error=error, fields=fields))
    p.status = target


def default_uri(cwd: Path | None = None) -> str:
    """Where MLflow itself would look: $MLFLOW_TRACKING_URI, else ./mlflow.db, else ./mlruns."""
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if env:
        return env
    here = cwd or Path.cwd()
    if (here / "mlflow.db").is_file():
        return f"sqlite:///{here / 'mlflow.db'}"
    if (here / "mlruns").is_dir():
        return str(here / "mlruns")
    raise ValidationError(
        "no MLflow store found here (no $MLFLOW_TRACKING_URI, ./mlflow.db or ./mlruns); name one with --from"
    )
