"""The store's tables, as SQLModel classes.

Only the store layer touches these; everything above it gets frozen records (`records.py`).
Times are UTC epoch seconds (float): cheap to compare and the same on SQLite and PostgreSQL.
"""

from sqlalchemy import BigInteger, Column, Index, Integer, Text
from sqlmodel import Field, SQLModel

# Bump when the tables change; `schema.py` migrates older stores and refuses newer ones.
SCHEMA_VERSION = 1


class StoreMeta(SQLModel, table=True):
    """One row: the schema version and the change feed's store-wide revision."""

    __tablename__ = "store_meta"

    id: int = Field(default=1, primary_key=True)
    schema_version: int
    revision: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))


class ExperimentRow(SQLModel, table=True):
    __tablename__ = "experiment"

    name: str = Field(primary_key=True, max_length=255)
    created_at: float


class RunRow(SQLModel, table=True):
    __tablename__ = "run"
    __table_args__ = (
        Index("ix_run_experiment_created", "experiment", "created_at"),
        Index("ix_run_parent", "parent_id"),
        Index("ix_run_revision", "revision"),
        Index("ix_run_status", "status"),
        Index("ix_run_created_id", "created_at", "id"),  # newest-first listings without a sort
    )

    id: str = Field(primary_key=True, max_length=255)
    experiment: str = Field(max_length=255)
    parent_id: str | None = Field(default=None, max_length=255)
    display_name: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    kind: str = Field(default="interactive", max_length=32)  # interactive | submitted | child
    status: str = Field(max_length=32)
    created_at: float
    started_at: float | None = None
    ended_at: float | None = None
    host: str = Field(default="", max_length=255)
    user: str = Field(default="", max_length=255)
    # the training process (the script's own pid for submitted runs, the SDK process for interactive ones)
    pid: int | None = None
    pid_create_time: float | None = None
    # the process that owns the run and acts on cancel requests (supervisor, or the SDK process)
    owner_pid: int | None = None
    owner_create_time: float | None = None
    script: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    arguments: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    exit_code: int | None = None
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    heartbeat_at: float | None = None
    revision: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))


class RunTagRow(SQLModel, table=True):
    __tablename__ = "run_tag"
    __table_args__ = (Index("ix_run_tag_key_value", "key", "value"),)

    run_id: str = Field(primary_key=True, max_length=255)
    key: str = Field(primary_key=True, max_length=255)
    value: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class RunPropertyRow(SQLModel, table=True):
    __tablename__ = "run_property"
    __table_args__ = (Index("ix_run_property_key_value", "key", "value"),)

    run_id: str = Field(primary_key=True, max_length=255)
    key: str = Field(primary_key=True, max_length=255)
    value: str = Field(sa_column=Column(Text, nullable=False))


class MetricRow(SQLModel, table=True):
    """One logged point. Numbers go to `value`; anything else (strings, lists, rows, tables) to `text` as JSON."""

    __tablename__ = "metric"
    __table_args__ = (Index("ix_metric_run_name_step", "run_id", "name", "step"),)

    # BIGINT on PostgreSQL; plain INTEGER on SQLite so that it stays the rowid alias.
    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    )
    run_id: str = Field(max_length=255)
    name: str = Field(max_length=255)
    step: int = Field(sa_column=Column(BigInteger, nullable=False))
    value: float | None = None
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    kind: str = Field(default="scalar", max_length=16)  # scalar | text | list | row | table | image
    time: float


class MetricSummaryRow(SQLModel, table=True):
    """Per run and metric name: what the tree and the details pane show without reading the series."""

    __tablename__ = "metric_summary"
    __table_args__ = (Index("ix_metric_summary_name_last", "name", "last"),)  # filter `metric:loss<0.1`

    run_id: str = Field(primary_key=True, max_length=255)
    name: str = Field(primary_key=True, max_length=255)
    kind: str = Field(default="scalar", max_length=16)
    last: float | None = None
    last_text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    min: float | None = None
    max: float | None = None
    count: int = 0
    last_step: int = Field(default=-1, sa_column=Column(BigInteger, nullable=False, default=-1))
    first_time: float = 0.0
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class ArtifactRow(SQLModel, table=True):
    __tablename__ = "artifact"

    run_id: str = Field(primary_key=True, max_length=255)
    path: str = Field(primary_key=True, max_length=1024)
    size: int
    created_at: float


class LogChunkRow(SQLModel, table=True):
    """Log output copied into the store, so that a run on another host can be tailed (shared stores)."""

    __tablename__ = "log_chunk"

    run_id: str = Field(primary_key=True, max_length=255)
    seq: int = Field(primary_key=True)
    stream: str = Field(default="output", max_length=32)
    offset: int = 0
    data: str = Field(sa_column=Column(Text, nullable=False))
    time: float


# Our tables only: a training script may define SQLModel tables of its own in the same process.
TABLES = [
    StoreMeta.__table__,  # type: ignore[attr-defined]
    ExperimentRow.__table__,  # type: ignore[attr-defined]
    RunRow.__table__,  # type: ignore[attr-defined]
    RunTagRow.__table__,  # type: ignore[attr-defined]
    RunPropertyRow.__table__,  # type: ignore[attr-defined]
    MetricRow.__table__,  # type: ignore[attr-defined]
    MetricSummaryRow.__table__,  # type: ignore[attr-defined]
    ArtifactRow.__table__,  # type: ignore[attr-defined]
    LogChunkRow.__table__,  # type: ignore[attr-defined]
]
