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
    id: str = ""
    archived_at: float | None = None
    tags: dict[str, str | None] = field(default_factory=dict)
    revision: int = 0

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


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
    description: str | None = None
    number: int | None = None
    snapshot_id: str | None = None

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
    experiments: list[ExperimentRecord] = field(default_factory=list)  # archived, re-activated, tagged, new


@dataclass(frozen=True, slots=True)
class ModelRecord:
    """A registered model version."""

    id: str  # "<name>:<version>"
    name: str
    version: int
    run_id: str | None
    experiment: str | None
    path: str  # store-relative folder holding the registered files, e.g. models/<name>/<version>
    source_path: str  # what the user gave (a run path like outputs/model.pkl, or a local path)
    description: str | None
    created_at: float
    framework: str | None
    framework_version: str | None
    tags: dict[str, str | None]
    properties: dict[str, str]
    size: int


@dataclass(frozen=True, slots=True)
class MetricWriteResult:
    """What one metric batch did: points written, and points refused per run because the run had finished."""

    written: int
    refused: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ExperimentCounts:
    """How many runs an experiment holds, and how many of them are live (not finished)."""

    name: str
    total: int
    live: int
    created_at: float


@dataclass(frozen=True, slots=True)
class RunPage:
    """One page of runs under an experiment or a parent run, newest first."""

    runs: list[RunRecord]
    more: bool  # True when older runs remain after this page


# The run table's columns in the order `run_record` reads them (the store's Core selects and the plain sqlite3
# reads of `runtui.store.peek` both select these).
RUN_FIELDS = (
    "id",
    "experiment",
    "parent_id",
    "display_name",
    "kind",
    "status",
    "created_at",
    "started_at",
    "ended_at",
    "host",
    "user",
    "pid",
    "pid_create_time",
    "owner_pid",
    "owner_create_time",
    "script",
    "arguments",
    "exit_code",
    "error",
    "heartbeat_at",
    "revision",
    "description",
    "number",
    "snapshot_id",
)


def run_record(row: Any) -> RunRecord:
    """A RunRecord from a row of `RUN_FIELDS`."""
    return RunRecord(
        id=row[0],
        experiment=row[1],
        parent_id=row[2],
        display_name=row[3],
        kind=row[4],
        status=RunStatus(row[5]),
        created_at=row[6],
        started_at=row[7],
        ended_at=row[8],
        host=row[9],
        user=row[10],
        pid=row[11],
        pid_create_time=row[12],
        owner_pid=row[13],
        owner_create_time=row[14],
        script=row[15],
        arguments=decode_arguments(row[16]),
        exit_code=row[17],
        error=row[18],
        heartbeat_at=row[19],
        revision=row[20],
        description=row[21],
        number=row[22],
        snapshot_id=row[23],
    )


def decode_special_float(text: str | None) -> float | None:
    """NaN and infinities, stored as text on SQLite (which turns a NaN REAL into NULL)."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def decode_arguments(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ()
    try:
        value = json.loads(raw)
    except ValueError:
        return (raw,)
    return tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)
