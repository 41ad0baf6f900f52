"""runtui's store schema (version 2): every table as a typed SQLModel class, public for notebooks.

    from sqlmodel import Session, create_engine, select
    from runtui.models import MetricPoint, MetricSeries, Run

    engine = create_engine("sqlite:///" + str(Path.home() / ".runtui" / "runtui.db"))
    with Session(engine) as session:
        runs = session.exec(select(Run).where(Run.experiment == "mnist")).all()

These classes are the one place the schema is written: runtui's store builds its tables, migrations and
queries on `Model.__table__`, and its hot paths (metric batches, listings, the change feed) use SQLAlchemy Core
statements on those tables rather than the ORM. Read them freely; write through runtui's SDK, which keeps the
change feed, summaries and status rules consistent.

Times are UTC epoch seconds (float). Importing this module loads sqlmodel and pydantic (a few hundred
milliseconds); `import runtui` does not import it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, String, Table, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = [
    "SCHEMA_VERSION",
    "TABLES",
    "Artifact",
    "Experiment",
    "ExperimentTag",
    "LogChunk",
    "MetricPoint",
    "MetricSeries",
    "RegisteredModel",
    "Run",
    "RunProperty",
    "RunTag",
    "StoreMeta",
    "table_of",
]

# Bump when the tables change; the store migrates older stores step by step and refuses newer ones.
SCHEMA_VERSION = 2

# BIGINT on PostgreSQL, INTEGER on SQLite (there an INTEGER PRIMARY KEY is the rowid itself).
_BIG_ID = BigInteger().with_variant(Integer, "sqlite")


def _key(length: int = 255) -> String:
    return String(length)


class StoreMeta(SQLModel, table=True):
    """One row (id 1): the schema version and the change feed's store-wide revision counter."""

    __tablename__ = "store_meta"

    id: int = Field(default=1, sa_column=Column(Integer, primary_key=True, autoincrement=False))
    schema_version: int = Field(sa_column=Column(Integer, nullable=False))
    revision: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))


class Experiment(SQLModel, table=True):
    """An experiment: a named group of runs."""

    __tablename__ = "experiment"

    name: str = Field(sa_column=Column(_key(), primary_key=True))
    created_at: float = Field(sa_column=Column(Float, nullable=False))
    id: str = Field(sa_column=Column(String(64), nullable=False, unique=True))  # uuid4, Azure's experiment id
    archived_at: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    # Stamped by archive/reactivate/tag changes, so viewers see them through the change feed.
    revision: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))


class ExperimentTag(SQLModel, table=True):
    """A tag of an experiment; `value` None is a key-only tag."""

    __tablename__ = "experiment_tag"

    experiment: str = Field(sa_column=Column(_key(), primary_key=True))
    key: str = Field(sa_column=Column(_key(), primary_key=True))
    value: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Run(SQLModel, table=True):
    """A run (interactive, submitted or child) and the process that owns it."""

    __tablename__ = "run"
    __table_args__ = (
        Index("ix_run_experiment_created", "experiment", "created_at"),
        Index("ix_run_parent", "parent_id"),
        Index("ix_run_revision", "revision"),
        Index("ix_run_status", "status"),
        Index("ix_run_created_id", "created_at", "id"),  # newest-first listings without a sort
        Index("ix_run_experiment_number", "experiment", "number"),  # the next run number: one index probe
    )

    id: str = Field(sa_column=Column(_key(), primary_key=True))
    experiment: str = Field(sa_column=Column(_key(), nullable=False))
    parent_id: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    display_name: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    kind: str = Field(default="interactive", sa_column=Column(_key(32), nullable=False, default="interactive"))
    status: str = Field(sa_column=Column(_key(32), nullable=False))
    created_at: float = Field(sa_column=Column(Float, nullable=False))
    started_at: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    ended_at: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    host: str = Field(default="", sa_column=Column(_key(), nullable=False, default=""))
    user: str = Field(default="", sa_column=Column(_key(), nullable=False, default=""))
    # The training process (the script's own pid for submitted runs, the SDK process for interactive ones).
    pid: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    pid_create_time: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    # The process that owns the run and acts on cancel requests (supervisor, or the SDK process).
    owner_pid: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    owner_create_time: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    script: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    arguments: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # JSON list
    exit_code: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    heartbeat_at: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    revision: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    number: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))  # 1-based per experiment
    snapshot_id: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))


class RunTag(SQLModel, table=True):
    """A run's tag (mutable); `value` None is a key-only tag."""

    __tablename__ = "run_tag"
    __table_args__ = (Index("ix_run_tag_key_value", "key", "value"),)

    run_id: str = Field(sa_column=Column(_key(), primary_key=True))
    key: str = Field(sa_column=Column(_key(), primary_key=True))
    value: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class RunProperty(SQLModel, table=True):
    """A run's property (insert-only)."""

    __tablename__ = "run_property"
    __table_args__ = (Index("ix_run_property_key_value", "key", "value"),)

    run_id: str = Field(sa_column=Column(_key(), primary_key=True))
    key: str = Field(sa_column=Column(_key(), primary_key=True))
    value: str = Field(sa_column=Column(Text, nullable=False))


class MetricSeries(SQLModel, table=True):
    """One metric of one run and its summary (last/min/max/count), so listings never scan the points."""

    __tablename__ = "metric_series"
    __table_args__ = (
        UniqueConstraint("run_id", "name", name="uq_metric_series_run_name"),
        Index("ix_metric_series_name_last", "name", "last"),  # filter `metric:loss<0.1`
    )

    id: int | None = Field(default=None, sa_column=Column(_BIG_ID, primary_key=True, autoincrement=True))
    run_id: str = Field(sa_column=Column(_key(), nullable=False))
    name: str = Field(sa_column=Column(_key(), nullable=False))
    kind: str = Field(default="scalar", sa_column=Column(_key(16), nullable=False, default="scalar"))
    last: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    last_text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    min: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    max: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    count: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    last_step: int = Field(default=-1, sa_column=Column(BigInteger, nullable=False, default=-1))
    first_time: float = Field(default=0.0, sa_column=Column(Float, nullable=False, default=0.0))
    last_time: float = Field(default=0.0, sa_column=Column(Float, nullable=False, default=0.0))
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class MetricPoint(SQLModel, table=True):
    """One logged point of a series. Numbers go to `value`; strings, lists, rows and tables to `text` (JSON),
    and so do NaN and infinities on SQLite (which stores a NaN REAL as NULL): `value` NULL, `text` 'nan'.

    `id` is the logging order (on SQLite the rowid itself, so it costs nothing)."""

    __tablename__ = "metric_point"
    __table_args__ = (Index("ix_metric_point_series_step", "series_id", "step"),)

    id: int | None = Field(default=None, sa_column=Column(_BIG_ID, primary_key=True, autoincrement=True))
    series_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    step: int = Field(sa_column=Column(BigInteger, nullable=False))
    value: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    time: float = Field(sa_column=Column(Float, nullable=False))
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Artifact(SQLModel, table=True):
    """A file of a run (`outputs/...`, `logs/...`, uploads), relative to the run's folder."""

    __tablename__ = "artifact"

    run_id: str = Field(sa_column=Column(_key(), primary_key=True))
    path: str = Field(sa_column=Column(_key(1024), primary_key=True))
    size: int = Field(sa_column=Column(Integer, nullable=False))
    created_at: float = Field(sa_column=Column(Float, nullable=False))


class LogChunk(SQLModel, table=True):
    """A chunk of a run's log copied into the store (shared stores: tail a run on another host)."""

    __tablename__ = "log_chunk"

    run_id: str = Field(sa_column=Column(_key(), primary_key=True))
    seq: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    stream: str = Field(default="output", sa_column=Column(_key(32), nullable=False, default="output"))
    offset: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0))
    data: str = Field(sa_column=Column(Text, nullable=False))
    time: float = Field(sa_column=Column(Float, nullable=False))


class RegisteredModel(SQLModel, table=True):
    """A registered model version: files copied under the store's `models/<name>/<version>` folder."""

    __tablename__ = "model"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_model_name_version"),)

    id: str = Field(sa_column=Column(String(300), primary_key=True))  # "<name>:<version>"
    name: str = Field(sa_column=Column(_key(), nullable=False))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    run_id: str | None = Field(default=None, sa_column=Column(String(255), nullable=True, index=True))
    experiment: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    path: str = Field(sa_column=Column(Text, nullable=False))
    source_path: str = Field(sa_column=Column(Text, nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: float = Field(sa_column=Column(Float, nullable=False))
    framework: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    framework_version: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    tags_json: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    properties_json: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    size: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))


def table_of(model: type[SQLModel]) -> Table:
    """The SQLAlchemy Core table of a model class (what runtui's hot paths build their statements on)."""
    found: Table = model.__table__  # type: ignore[attr-defined]
    return found


# runtui's own tables, in dependency order (a training script may define SQLModel tables of its own in the same
# metadata: the store creates and migrates only these).
TABLES = [
    table_of(StoreMeta),
    table_of(Experiment),
    table_of(ExperimentTag),
    table_of(Run),
    table_of(RunTag),
    table_of(RunProperty),
    table_of(MetricSeries),
    table_of(MetricPoint),
    table_of(Artifact),
    table_of(LogChunk),
    table_of(RegisteredModel),
]
