"""Experiment: a named group of runs. Starting, submitting and querying runs happens here."""

from __future__ import annotations

import builtins
import os
import shutil
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runtui.core import values as _values
from runtui.errors import NotFoundError, NotSupportedLocallyError, RuntuiError, ValidationError
from runtui.ids import check_experiment_name
from runtui.status import RunStatus, parse_status

if TYPE_CHECKING:
    from runtui.core.run import Run
    from runtui.core.workspace import Workspace
    from runtui.store.records import ExperimentRecord

# Azure's ViewType values for Experiment.list
ACTIVE_ONLY = "ActiveOnly"
ARCHIVED_ONLY = "ArchivedOnly"
ALL = "All"


class ViewType:
    """Azure's ViewType: which experiments Experiment.list shows."""

    ActiveOnly = ACTIVE_ONLY
    ArchivedOnly = ARCHIVED_ONLY
    All = ALL


class Experiment:
    def __init__(self, workspace: Workspace, name: str, _skip_name_validation: bool = False, **kwargs: Any) -> None:
        # Azure's private keywords (_id, _archived_time, _create_in_cloud, ...) have no local meaning.
        self.workspace = workspace
        self.name = check_experiment_name(name)
        self.workspace.store.ensure_experiment(self.name)

    @classmethod
    def _existing(cls, workspace: Workspace, name: str) -> Experiment:
        """An Experiment for a name read from the store (no upsert, no re-validation)."""
        exp = cls.__new__(cls)
        exp.workspace = workspace
        exp.name = name
        return exp

    def __repr__(self) -> str:
        return f"Experiment(name={self.name!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Experiment)
            and other.name == self.name
            and other.workspace.config == self.workspace.config
        )

    def __hash__(self) -> int:
        return hash(self.name)

    # ------------------------------------------------------------------ identity, archive, tags

    def _record(self) -> ExperimentRecord:
        rec = self.workspace.store.get_experiment(self.name)
        if rec is None:
            raise NotFoundError(f"experiment {self.name!r} does not exist (it was deleted)")
        return rec

    @property
    def workspace_object(self) -> Workspace:
        return self.workspace

    @property
    def id(self) -> str:
        """The experiment's id (a uuid, as Azure's)."""
        return self._record().id

    @property
    def archived_time(self) -> str | None:
        """When the experiment was archived (ISO 8601 UTC), or None while it is active."""
        return _values.iso(self._record().archived_at)

    @property
    def tags(self) -> dict[str, str | None]:
        return dict(self._record().tags)

    def archive(self) -> None:
        """Hide the experiment from Experiment.list (and `runtui ls`/the TUI) without deleting anything."""
        self.workspace.store.archive_experiment(self.name)

    def reactivate(self, new_name: str | None = None) -> None:
        """Make an archived experiment active again. Renaming (`new_name`) is not supported locally."""
        if new_name is not None and new_name != self.name:
            raise ValidationError("reactivate(new_name=...): experiments cannot be renamed in runtui")
        self.workspace.store.reactivate_experiment(self.name)

    def refresh(self) -> None:
        """Azure reloads the experiment from the cloud; every property here reads the store, so: a check."""
        self._record()

    def tag(self, key: str, value: Any = None) -> None:
        self.workspace.store.set_experiment_tags(self.name, _values.normalize_tags({key: value}))

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        self.workspace.store.set_experiment_tags(self.name, _values.normalize_tags(tags))

    def remove_tags(self, tags: str | Iterable[str]) -> builtins.list[str]:
        return self.workspace.store.remove_experiment_tags(self.name, _values.key_list(tags, "tag key"))

    # ------------------------------------------------------------------ listing, deleting

    @staticmethod
    def list(
        workspace: Workspace,
        experiment_name: str | None = None,
        view_type: str = ACTIVE_ONLY,
        tags: Any = None,
    ) -> builtins.list[Experiment]:
        """Experiments of the workspace: active ones (view_type 'ActiveOnly'), 'ArchivedOnly' or 'All';
        `experiment_name` keeps that one; `tags` a key, list of keys or dict (as get_runs)."""
        view = getattr(view_type, "value", view_type)  # Azure's ViewType enum or its string
        if view not in (ACTIVE_ONLY, ARCHIVED_ONLY, ALL):
            raise ValidationError(f"view_type must be 'ActiveOnly', 'ArchivedOnly' or 'All', not {view_type!r}")
        if experiment_name is not None:
            check_experiment_name(experiment_name)
        tag_q = _values.tag_query(tags)
        out = []
        for rec in workspace.store.list_experiments(include_archived=view != ACTIVE_ONLY):
            archived = rec.archived_at is not None
            if (view == ARCHIVED_ONLY and not archived) or (
                experiment_name is not None and rec.name != experiment_name
            ):
                continue
            if not all(k in rec.tags and (v is None or rec.tags[k] == v) for k, v in tag_q.items()):
                continue
            out.append(Experiment._existing(workspace, rec.name))
        return out

    @staticmethod
    def delete(workspace: Workspace, experiment_id: str) -> None:
        """Delete the experiment with this id (or name), its runs and the runs' folders. Cannot be undone.
        Refused (ExperimentBusyError) while one of its runs is live: cancel or wait for it first."""
        if not isinstance(experiment_id, str) or not experiment_id:
            raise ValidationError(f"Experiment.delete needs an experiment id, not {experiment_id!r}")
        recs = workspace.store.list_experiments(include_archived=True)
        match = [r for r in recs if r.id == experiment_id] or [r for r in recs if r.name == experiment_id]
        if not match:
            raise NotFoundError(f"no experiment with id {experiment_id!r}")
        delete_experiment(workspace, match[0].name)

    @staticmethod
    def from_directory(path: str | os.PathLike[str], auth: Any = None) -> Experiment:
        """The experiment of a project folder: Azure's `.azureml/project.json` or `aml_config/project.json`
        (its Experiment key; by default the experiment is named after the folder), in the workspace found from
        that folder (an Azure or runtui config file in it or a parent), else the one runtui discovers."""
        import json

        from runtui.core.workspace import Workspace

        folder = _values.path_arg(path, "Experiment.from_directory: path")
        if not folder.is_dir():
            raise NotFoundError(f"Experiment.from_directory: no folder at {folder}")
        name = folder.resolve().name
        for candidate in (folder / ".azureml" / "project.json", folder / "aml_config" / "project.json"):
            if candidate.is_file():
                try:
                    data = json.loads(candidate.read_text(encoding="utf-8"))
                except ValueError as exc:
                    raise ValidationError(f"{candidate} is not valid JSON: {exc}") from None
                if not isinstance(data, dict):
                    raise ValidationError(f"{candidate} must hold a JSON object")
                name = str(data.get("Experiment") or data.get("experiment_name") or name)
                break
        try:
            ws = Workspace.from_config(folder)
        except NotFoundError:  # no config file in or above the folder: the workspace runtui discovers
            ws = Workspace()
        return Experiment(ws, name)

    @classmethod
    def get_docs_url(cls) -> str:
        raise NotSupportedLocallyError("Experiment.get_docs_url")

    def get_portal_url(self) -> str:
        raise NotSupportedLocallyError("Experiment.get_portal_url", "use `runtui` (the TUI) or `runtui ls`")

    # ------------------------------------------------------------------ runs

    def start_logging(self, *args: Any, **kwargs: Any) -> Run:
        """Start an interactive run owned by this process, in status Running. Use it as a context manager.

        Azure's parameters: `name`/`display_name`, `run_id`, `outputs` (folder collected when the run ends,
        default ./outputs), `snapshot_directory` (default '.', None for no snapshot); see `core.context`."""
        from runtui.core.context import start_logging

        return start_logging(self, *args, **kwargs)

    def submit(self, config: Any, tags: Mapping[str, Any] | None = None, **kwargs: Any) -> Run:
        """Start `config` (a ScriptRunConfig, or Azure's RunConfiguration with a script) as a supervised run;
        returns at once (the run is Queued/Starting/Running). Keywords: display_name=, and the runtui settings
        of submit_run (grace_period=, sample_interval=, log_store_max_bytes=)."""
        from runtui.core.run import Run
        from runtui.core.script_run_config import submit_config

        return Run._from_record(self, submit_config(self, config, tags=tags, **kwargs))

    def get_runs(
        self,
        type: str | None = None,
        tags: Mapping[str, str | None] | str | None = None,
        properties: Mapping[str, str] | None = None,
        include_children: bool = False,
        status: str | RunStatus | None = None,
        filter: str | None = None,
    ) -> Iterator[Run]:
        """Runs of this experiment, newest first (a generator).

        `tags`: a dict (a None value matches the key alone), one key string or a list of keys; `properties`: a
        dict; `type`: Azure's 'azureml.scriptrun' or runtui's 'interactive'/'submitted'/'child';
        `filter`: the filter language (see README).
        """
        from runtui.core.run import AZURE_TYPES, Run

        tag_filter = _values.tag_query(tags)
        prop_filter = _values.property_query(properties)
        statuses = [parse_status(status)] if status is not None else None
        where = None
        if filter is not None:
            from runtui.store.filters import compile_filter

            where = compile_filter(filter)
        kind = None
        if type is not None and not isinstance(type, str):
            raise ValidationError(f"get_runs: type must be a run type name such as 'azureml.scriptrun', not {type!r}")
        if type is not None:  # Azure's type name -> runtui's kind; an unknown type matches nothing, as in Azure
            kind = next((k for k, azure in AZURE_TYPES.items() if azure is not None and type == azure), type)
        for rec in self.workspace.store.query_runs(
            experiment=self.name,
            top_level_only=not include_children,
            tags=tag_filter,
            properties=prop_filter,
            statuses=statuses,
            kind=kind,
            where=where,
        ):
            yield Run._from_record(self, rec)


# ---------------------------------------------------------------------------------------------- deleting


class ExperimentBusyError(RuntuiError):
    """An experiment that cannot be deleted now: one of its runs is live (its process would write into rows
    and folders that are gone)."""


@dataclass(frozen=True)
class ExperimentSummary:
    """What deleting an experiment would remove: its record, how many runs (children included), the live ones."""

    record: ExperimentRecord
    runs: int
    live: builtins.list[str]


def experiment_summary(workspace: Workspace, name: str) -> ExperimentSummary:
    """The experiment `name` with its run count and live runs (a run whose owner vanished is finalized first,
    so a crashed script does not block the delete forever)."""
    from runtui.execution.liveness import finalize_vanished

    check_experiment_name(name)
    rec = workspace.store.get_experiment(name)
    if rec is None:
        raise NotFoundError(f"no experiment named {name!r}")
    from runtui.status import LIVE
    from runtui.store.overview import experiment_counts

    finalize_vanished(workspace.store)
    counts = experiment_counts(workspace.store, [name]).get(name)
    live = [r.id for r in workspace.store.query_runs(experiment=name, statuses=builtins.list(LIVE))]
    return ExperimentSummary(rec, counts.total if counts else 0, live)


def delete_experiment(workspace: Workspace, name: str) -> int:
    """Delete the experiment `name`, its runs (children included) and their folders; returns how many runs went.
    Refuses while a run of it is live."""
    summary = experiment_summary(workspace, name)
    if summary.live:
        shown = ", ".join(summary.live[:3]) + (" ..." if len(summary.live) > 3 else "")
        raise ExperimentBusyError(
            f"experiment {name!r} has {len(summary.live)} live run(s) ({shown}); cancel them or wait until they end"
        )
    run_ids = workspace.store.delete_experiment(name)
    for run_id in run_ids:  # rows first: a folder without rows is invisible, rows without a folder would not be
        shutil.rmtree(workspace.config.run_dir(run_id), ignore_errors=True)
    return len(run_ids)
