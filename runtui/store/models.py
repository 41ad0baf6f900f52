"""The store's tables as SQLAlchemy Core `Table` objects: those of the SQLModel classes in `runtui.models`.

The schema is written once, in `runtui/models.py`. The store uses `runtui/store/tables.py`, generated from it
(`python -m runtui.store.codegen`; a test proves the two agree), so that opening the store does not import
sqlmodel, pydantic and sqlalchemy.orm (~0.3 s of a training process's start; see docs/performance.md).
"""

from sqlalchemy import MetaData

from runtui.store import tables as _t
from runtui.store.tables import SCHEMA_VERSION, TABLES

meta_table = _t.store_meta_table
experiment_table = _t.experiment_table
experiment_tag_table = _t.experiment_tag_table
run_table = _t.run_table
tag_table = _t.run_tag_table
property_table = _t.run_property_table
series_table = _t.metric_series_table
point_table = _t.metric_point_table
artifact_table = _t.artifact_table
log_table = _t.log_chunk_table
model_table = _t.model_table

# The metric summaries of v1 live on in the series table (same columns, plus id and last_time).
summary_table = series_table

# The metadata the tables belong to (the store creates and migrates only TABLES).
metadata: MetaData = _t.metadata

__all__ = [
    "SCHEMA_VERSION",
    "TABLES",
    "artifact_table",
    "experiment_table",
    "experiment_tag_table",
    "log_table",
    "meta_table",
    "metadata",
    "model_table",
    "point_table",
    "property_table",
    "run_table",
    "series_table",
    "summary_table",
    "tag_table",
]
