"""The store layer: SQLAlchemy Core tables, engine, queries, filter language, change feed.

Importing this package loads SQLAlchemy; the SDK imports it lazily, on first use.
"""

from runtui.store.records import (
    ArtifactRecord,
    Changes,
    ExperimentRecord,
    MetricSeries,
    MetricSummary,
    RunRecord,
)
from runtui.store.store import NewRun, Store, open_store

__all__ = [
    "ArtifactRecord",
    "Changes",
    "ExperimentRecord",
    "MetricSeries",
    "MetricSummary",
    "NewRun",
    "RunRecord",
    "Store",
    "open_store",
]
