"""The store's tables as SQLAlchemy Core `Table` objects, taken from the SQLModel classes in `runtui.models`.

The schema is written once, in `runtui/models.py`; the store's statements (hot paths included) are Core
statements on these tables.
"""

from sqlalchemy import MetaData

from runtui import models as _m
from runtui.models import SCHEMA_VERSION, TABLES, table_of

meta_table = table_of(_m.StoreMeta)
experiment_table = table_of(_m.Experiment)
experiment_tag_table = table_of(_m.ExperimentTag)
run_table = table_of(_m.Run)
tag_table = table_of(_m.RunTag)
property_table = table_of(_m.RunProperty)
series_table = table_of(_m.MetricSeries)
point_table = table_of(_m.MetricPoint)
artifact_table = table_of(_m.Artifact)
log_table = table_of(_m.LogChunk)
model_table = table_of(_m.RegisteredModel)

# The metric summaries of v1 live on in the series table (same columns, plus id and last_time).
summary_table = series_table

# The metadata the tables belong to (SQLModel's shared one: create only TABLES, never create_all of it all).
metadata: MetaData = meta_table.metadata

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
