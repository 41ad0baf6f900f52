"""What every framework integration shares: the framework check, which run to log to, and values to properties."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from runtui.errors import PropertyOverwriteError

if TYPE_CHECKING:
    from types import ModuleType

    from runtui.core.run import Run

MAX_PROPERTY = 4096  # runtui.core.run.MAX_VALUE: longer values are cut, with a mark


class MissingFrameworkError(ImportError):
    """The framework an integration is built on is not installed."""


def require(module: str, extra: str, what: str, hint: str = "") -> ModuleType:
    """Import `module`, or raise one ImportError that says which extra to install."""
    try:
        return importlib.import_module(module)
    except (ImportError, ValueError) as exc:  # Keras raises ValueError for a backend it does not know
        try:
            installed = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError, AttributeError):
            installed = False
        if installed:
            # Installed but broken (e.g. Keras without its backend): say what failed, not "not installed".
            raise MissingFrameworkError(f"{what}: importing '{module}' failed: {exc}{hint}") from exc
        raise MissingFrameworkError(
            f"{what} needs the '{module}' package, which is not installed: pip install 'runtui[{extra}]'"
        ) from exc


def resolve_run(
    run: Run | None,
    experiment_name: str | None,
    display_name: str | None,
    workspace: Any = None,
) -> tuple[Run, bool]:
    """The run to log to and whether this integration started it (and so must end it).

    An explicit `run` wins; inside a submitted run it is `Run.get_context()` (the supervisor ends it); otherwise a
    new interactive run in `experiment_name` of `workspace` (default: the default workspace).
    """
    if run is not None:
        return run, False
    if os.environ.get("RUNTUI_RUN_ID"):
        from runtui.core.run import Run

        return Run.get_context(allow_offline=False), False
    from runtui.core.experiment import Experiment
    from runtui.core.workspace import Workspace

    ws = workspace if workspace is not None else Workspace()
    exp = Experiment(ws, experiment_name or "default")
    return exp.start_logging(display_name=display_name), True


def flatten(params: Mapping[str, Any], prefix: str = "", sep: str = "/") -> Iterator[tuple[str, Any]]:
    """Nested dicts as `a/b/c` keys (how Lightning's own loggers show nested hyper-parameters)."""
    for key, value in params.items():
        name = f"{prefix}{sep}{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            yield from flatten(value, name, sep)
        else:
            yield name, value


def property_value(value: Any) -> str:
    """Any hyper-parameter as the text a property keeps: numbers and strings as they print, the rest as JSON (or
    repr when JSON cannot hold it), cut to the property limit."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, (bool, int, float)) or value is None:
        text = str(value)
    elif hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 0) == 0:
        text = str(value.item())  # numpy / torch scalars
    else:
        try:
            text = json.dumps(value, default=str, sort_keys=True)
        except (TypeError, ValueError):
            text = repr(value)
    text = text.replace("\0", "\\0")
    return text if len(text) <= MAX_PROPERTY else text[: MAX_PROPERTY - 1] + "…"


def add_properties(run: Any, params: Mapping[str, Any], what: str) -> dict[str, str]:
    """Add flattened `params` as properties. Properties are immutable: a key already set to another value keeps its
    first value and is reported once on stderr (training goes on). Returns what was added."""
    props = {k[:255]: property_value(v) for k, v in flatten(params) if k}
    try:
        run.add_properties(props)
        return props
    except PropertyOverwriteError:
        pass
    # One key differs: keep the run's values, add the keys that are new, name the ones that were refused.
    current = run.get_properties()
    new = {k: v for k, v in props.items() if k not in current}
    refused = sorted(k for k, v in props.items() if k in current and current[k] != v)
    if new:
        run.add_properties(new)
    if refused:
        print(
            f"runtui: {what}: properties are immutable; kept the first value of {', '.join(refused[:5])}"
            + (f" and {len(refused) - 5} more" if len(refused) > 5 else ""),
            file=sys.stderr,
        )
    return new


def number(value: Any) -> float | None:
    """A logged metric as a float (tensors and numpy scalars included); None for what is not a single number."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    item = getattr(value, "item", None)
    if callable(item):
        try:
            numel = value.numel() if hasattr(value, "numel") else getattr(value, "size", 1)
            if numel == 1:
                out = item()
                return float(out) if isinstance(out, (int, float)) else None
        except (TypeError, ValueError, RuntimeError):
            return None
    return None


def end_run(run: Any, owned: bool, error: BaseException | str | None = None) -> None:
    """End a run an integration started: Completed, or Failed with `error`. A run it did not start (a submitted
    run, or one passed in) is only flushed: its owner ends it."""
    if run is None:
        return
    run.flush()
    if not owned:
        return
    if error is None:
        run.complete()
    else:
        run.fail(error)
