"""Plain frozen records the store hands out: never live ORM rows, never sessions."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from runtui.status import RunStatus


@dataclass(frozen=True, slots=True)
class ExperimentRecord:
    name: str
    created_at: float


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: str
    experiment: str
    parent_id: str | None
    display_name: str | None
    kind: str
    status: RunStatus
    created_at: float
    started_at: float | None
    ended_at: float | None
    host: str
    user: str
    pid: int | None
    pid_create_time: float | None
    owner_pid: int | None
    owner_create_time: float | None
    script: str | None
    arguments: tuple[str, ...]
    exit_code: int | None
    error: str | None
    heartbeat_at: float | None
    revision: int

    @property
    def name(self) -> str:
        """What a person calls the run: its display name, or its id."""
        return self.display_name or self.id

    def duration(self, now: float) -> float | None:
        """Seconds from start to end (or to `now` for a live run)."""
        start = self.started_at or self.created_at
        end = self.ended_at if self.ended_at is not None else (now if self.status.is_live else None)
        return None if end is None else max(0.0, end - start)


@dataclass(frozen=True, slots=True)
class MetricSummary:
    run_id: str
    name: str
    kind: str
    last: float | str | None
    min: float | None
    max: float | None
    count: int
    last_step: int
    description: str = ""


@dataclass(frozen=True, slots=True)
class MetricPoint:
    step: int
    value: Any
    time: float


@dataclass(frozen=True, slots=True)
class MetricSeries:
    run_id: str
    name: str
    kind: str
    steps: list[int] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)
    times: list[float] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ArtifactRecord:
    run_id: str
    path: str
    size: int
    created_at: float


@dataclass(frozen=True, slots=True)
class Changes:
    """The answer to "what changed since revision R": the new revision and the runs stamped after R."""

    revision: int
    runs: list[RunRecord]


def decode_arguments(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ()
    try:
        value = json.loads(raw)
    except ValueError:
        return (raw,)
    return tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)
