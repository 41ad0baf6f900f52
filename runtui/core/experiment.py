"""Experiment: a named group of runs. Starting, submitting and querying runs happens here."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from runtui.ids import check_display_name, check_experiment_name, check_key
from runtui.status import RunStatus, parse_status

if TYPE_CHECKING:
    from runtui.core.run import Run
    from runtui.core.script_run_config import ScriptRunConfig
    from runtui.core.workspace import Workspace


class Experiment:
    def __init__(self, workspace: Workspace, name: str) -> None:
        self.workspace = workspace
        self.name = check_experiment_name(name)
        self.workspace.store.ensure_experiment(self.name)

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

    @staticmethod
    def list(workspace: Workspace) -> list[Experiment]:
        return list(workspace.experiments.values())

    def start_logging(self, display_name: str | None = None, **_ignored: Any) -> Run:
        """Start an interactive run owned by this process, in status Running. Use it as a context manager."""
        from runtui.core.run import Run

        return Run._start_owned(self, [(None, check_display_name(display_name), {})])[0]

    def submit(
        self,
        config: ScriptRunConfig,
        tags: Mapping[str, str | None] | None = None,
        display_name: str | None = None,
    ) -> Run:
        """Start `config.script` as a supervised run; returns at once (the run is Queued/Starting/Running)."""
        from runtui.core.run import Run, normalize_tags
        from runtui.core.script_run_config import ScriptRunConfig
        from runtui.errors import ValidationError
        from runtui.execution.launch import submit_run

        if not isinstance(config, ScriptRunConfig):
            raise ValidationError(f"submit() takes a ScriptRunConfig, not {type(config).__name__}")
        rec = submit_run(
            self.workspace.store,
            self.workspace.config,
            experiment=self.name,
            source_directory=config.source_path,
            script=config.script,
            arguments=list(config.arguments),
            environment_variables=dict(config.environment_variables or {}),
            python=config.python,
            tags=normalize_tags(tags or {}),
            display_name=check_display_name(display_name),
        )
        return Run._from_record(self, rec)

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

        `tags`: a dict (a None value matches the key alone) or one key string; `properties`: a dict;
        `type`: "interactive" or "submitted"; `filter`: the filter language (see README).
        """
        from runtui.core.run import Run

        tag_filter = _normalize_tag_query(tags)
        prop_filter = {check_key(k, "property key"): str(v) for k, v in (properties or {}).items()}
        statuses = [parse_status(status)] if status is not None else None
        where = None
        if filter is not None:
            from runtui.store.filters import compile_filter

            where = compile_filter(filter)
        for rec in self.workspace.store.query_runs(
            experiment=self.name,
            top_level_only=not include_children,
            tags=tag_filter,
            properties=prop_filter,
            statuses=statuses,
            kind=type,
            where=where,
        ):
            yield Run._from_record(self, rec)


def _normalize_tag_query(tags: Mapping[str, str | None] | str | None) -> dict[str, str | None]:
    if tags is None:
        return {}
    if isinstance(tags, str):
        return {check_key(tags, "tag key"): None}
    return {check_key(k, "tag key"): (None if v is None else str(v)) for k, v in tags.items()}
