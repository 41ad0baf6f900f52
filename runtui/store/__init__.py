"""The store layer: SQLAlchemy Core tables, engine, queries, filter language, change feed.

The names below load SQLAlchemy when first used (not when the package is imported), so that a module of this
package that needs no SQLAlchemy (`runtui.store.listing`, the CLI's fast listing) stays light.
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
        RunRecord,
    )
    from runtui.store.store import NewRun, Store, open_store

_WHERE = {
    "ArtifactRecord": "records",
    "Changes": "records",
    "ExperimentRecord": "records",
    "MetricSeries": "records",
    "MetricSummary": "records",
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
