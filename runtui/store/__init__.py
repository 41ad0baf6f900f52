"""The store layer: engine, queries, filter language, change feed, on the SQLModel tables of `runtui.models`.

Importing this package loads SQLAlchemy and sqlmodel; the SDK imports it lazily, on first use.
"""

from runtui.store.records import (
    ArtifactRecord,
    Changes,
    ExperimentRecord,
    MetricSeries,
    MetricSummary,
    MetricWriteResult,
    ModelRecord,
    RunRecord,
)
from runtui.store.store import NewRun, Store, open_store

__all__ = [
    "ArtifactRecord",
    "Changes",
    "ExperimentRecord",
    "MetricSeries",
    "MetricSummary",
    "MetricWriteResult",
    "ModelRecord",
    "NewRun",
    "RunRecord",
    "Store",
    "open_store",
]
