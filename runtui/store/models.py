"""The store's tables, as SQLAlchemy Core tables.

Only the store layer touches these; everything above it gets frozen records (`records.py`).
Times are UTC epoch seconds (float): cheap to compare and the same on SQLite and PostgreSQL.

Core rather than SQLModel classes (see docs/architecture.md): nothing here uses the ORM, and building the
SQLModel classes plus importing sqlmodel/pydantic cost ~0.3 s of CPU in every process that opens the store —
each training script, each CLI call, the TUI's cold start.
"""

from sqlalchemy import BigInteger, Column, Float, Index, Integer, MetaData, String, Table, Text

# Bump when the tables change; `schema.py` migrates older stores and refuses newer ones.
SCHEMA_VERSION = 1

# Our own metadata: a training script may define tables of its own in the same process.
metadata = MetaData()


def _key(name: str, length: int = 255, **kw: object) -> Column[str]:
    return Column(name, String(length), nullable=False, **kw)  # type: ignore[arg-type]


# One row: the schema version and the change feed's store-wide revision.
meta_table = Table(
    "store_meta",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False, default=1),
    Column("schema_version", Integer, nullable=False),
    Column("revision", BigInteger, nullable=False, default=0),
)

experiment_table = Table(
    "experiment",
    metadata,
    _key("name", primary_key=True),
    Column("created_at", Float, nullable=False),
)

run_table = Table(
    "run",
    metadata,
    _key("id", primary_key=True),
    _key("experiment"),
    Column("parent_id", String(255), nullable=True),
    Column("display_name", Text, nullable=True),
    _key("kind", 32, default="interactive"),  # interactive | submitted | child
    _key("status", 32),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float, nullable=True),
    Column("ended_at", Float, nullable=True),
    _key("host", default=""),
    _key("user", default=""),
    # the training process (the script's own pid for submitted runs, the SDK process for interactive ones)
    Column("pid", Integer, nullable=True),
    Column("pid_create_time", Float, nullable=True),
    # the process that owns the run and acts on cancel requests (supervisor, or the SDK process)
    Column("owner_pid", Integer, nullable=True),
    Column("owner_create_time", Float, nullable=True),
    Column("script", Text, nullable=True),
    Column("arguments", Text, nullable=True),
    Column("exit_code", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("heartbeat_at", Float, nullable=True),
    Column("revision", BigInteger, nullable=False, default=0),
    Index("ix_run_experiment_created", "experiment", "created_at"),
    Index("ix_run_parent", "parent_id"),
    Index("ix_run_revision", "revision"),
    Index("ix_run_status", "status"),
    Index("ix_run_created_id", "created_at", "id"),  # newest-first listings without a sort
)

tag_table = Table(
    "run_tag",
    metadata,
    _key("run_id", primary_key=True),
    _key("key", primary_key=True),
    Column("value", Text, nullable=True),  # None: a key-only tag
    Index("ix_run_tag_key_value", "key", "value"),
)

property_table = Table(
    "run_property",
    metadata,
    _key("run_id", primary_key=True),
    _key("key", primary_key=True),
    Column("value", Text, nullable=False),
    Index("ix_run_property_key_value", "key", "value"),
)

# One logged point. Numbers go to `value`; anything else (strings, lists, rows, tables) to `text` as JSON.
metric_table = Table(
    "metric",
    metadata,
    # BIGINT on PostgreSQL; plain INTEGER on SQLite so that it stays the rowid alias.
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    _key("run_id"),
    _key("name"),
    Column("step", BigInteger, nullable=False),
    Column("value", Float, nullable=True),
    Column("text", Text, nullable=True),
    _key("kind", 16, default="scalar"),  # scalar | text | list | row | table | image
    Column("time", Float, nullable=False),
    Index("ix_metric_run_name_step", "run_id", "name", "step"),
)

# Per run and metric name: what the tree and the details pane show without reading the series.
summary_table = Table(
    "metric_summary",
    metadata,
    _key("run_id", primary_key=True),
    _key("name", primary_key=True),
    _key("kind", 16, default="scalar"),
    Column("last", Float, nullable=True),
    Column("last_text", Text, nullable=True),
    Column("min", Float, nullable=True),
    Column("max", Float, nullable=True),
    Column("count", Integer, nullable=False, default=0),
    Column("last_step", BigInteger, nullable=False, default=-1),
    Column("first_time", Float, nullable=False, default=0.0),
    Column("description", Text, nullable=False, default=""),
    Index("ix_metric_summary_name_last", "name", "last"),  # filter `metric:loss<0.1`
)

artifact_table = Table(
    "artifact",
    metadata,
    _key("run_id", primary_key=True),
    _key("path", 1024, primary_key=True),
    Column("size", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
)

# Log output copied into the store, so that a run on another host can be tailed (shared stores).
log_table = Table(
    "log_chunk",
    metadata,
    _key("run_id", primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    _key("stream", 32, default="output"),
    Column("offset", Integer, nullable=False, default=0),
    Column("data", Text, nullable=False),
    Column("time", Float, nullable=False),
)

TABLES = list(metadata.sorted_tables)
