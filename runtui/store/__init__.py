"""The store layer: engine, queries, filter language, change feed, on the SQLModel tables of `runtui.models`.

Importing a name below loads SQLAlchemy and sqlmodel when first used (not when the package is imported), so
that a module of this package that needs neither (`runtui.store.listing`, the CLI's fast listing) stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_WHERE = {
    "ArtifactRecord": "records",
    "Changes": "records",
    "ExperimentRecord": "records",
    "MetricSeries": "records",
    "MetricSummary": "records",
    "MetricWriteResult": "records",
    "ModelRecord": "records",
    "RunRecord": "records",
    "NewRun": "store",
    "Store": "store",
    "open_store": "store",
}

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


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"runtui.store.{module}"), name)
    globals()[name] = value
    return value
