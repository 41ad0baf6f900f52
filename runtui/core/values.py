"""Every check and normalisation of what a user hands the SDK: metric values, tags, properties, queries, file names.

The one module `run`, `experiment`, `workspace`, `model` and `script_run_config` all import (it imports none of
them), so the core classes do not import each other for a helper. Runs on the training thread: keep it cheap.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from runtui.errors import ValidationError
from runtui.ids import check_key, is_storable

MAX_TEXT = 1_000_000  # characters of a logged string or JSON document
MAX_VALUE = 4096  # characters of a tag or property value
MAX_STEP = 2**63 - 1  # steps are BIGINT in the store
# Kinds of JSON documents the Azure-style log_* calls store; the TUI's metrics view shows them.
DOCUMENT_KINDS = ("confusion_matrix", "accuracy_table", "residuals", "predictions")
# Kinds whose points are rows of one table (log_row adds one, log_table several).
ROW_KINDS = ("row", "table")

log = logging.getLogger("runtui")


# ---------------------------------------------------------------------------------------------- metric values


def _json_safe(value: Any, what: str, depth: int = 0) -> Any:
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        # JSON has no NaN/inf; keep them as the strings Python prints, read back as floats by get_metrics.
        return value if math.isfinite(value) else repr(value)
    if depth < 8:
        if isinstance(value, Mapping):
            return {str(k): _json_safe(v, what, depth + 1) for k, v in value.items()}
        if hasattr(value, "tolist") and callable(value.tolist) and bool(getattr(value, "ndim", False)):  # numpy arrays
            return _json_safe(value.tolist(), what, depth)
        if isinstance(value, (list, tuple, range)):
            return [_json_safe(v, what, depth + 1) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars, without importing them
        try:
            return _json_safe(value.item(), what, depth)
        except (TypeError, ValueError):
            pass
    raise ValidationError(f"{what} holds a {type(value).__name__}, which cannot be stored; log numbers or strings")


def scalar(name: str, value: Any) -> tuple[float | None, str | None, str]:
    """A single logged value as (value, text, kind). Numbers are floats; an int or bool also keeps its exact
    Python literal as text ("7", "True") so get_metrics gives back the int or bool Azure gives back. None and
    NaN/inf are text only. Strings are kind "text"."""
    if isinstance(value, bool):
        return float(value), repr(value), "scalar"
    if isinstance(value, int):
        try:
            f = float(value)
        except OverflowError:  # an int beyond the float range (10**400)
            raise ValidationError(f"metric {name!r}: the int is too large to log as a number (over 1.8e308)") from None
        return f, str(value), "scalar"
    if isinstance(value, float):
        return (value, None, "scalar") if math.isfinite(value) else (None, repr(value), "scalar")
    if value is None:
        return None, "None", "scalar"  # Azure stores a null metric value
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise ValidationError(f"metric {name!r}: a logged string can have at most {MAX_TEXT} characters")
        return None, check_text(name, value, "a logged string"), "text"
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars, without importing them
        try:
            return scalar(name, value.item())
        except (TypeError, ValueError):
            pass
    raise ValidationError(
        f"metric {name!r}: cannot log a value of type {type(value).__name__}; log a number or a string "
        "(use log_list, log_row or log_table for collections)"
    )


def _iterable(values: Any, where: str) -> list[Any]:
    """Any iterable (list, tuple, range, generator, numpy array, pandas Series) as a list; not a string or dict."""
    problem = f"{where} must be a list of values (any iterable), not {type(values).__name__}"
    if isinstance(values, (str, bytes, Mapping)):
        raise ValidationError(problem)
    if hasattr(values, "tolist") and callable(values.tolist):
        values = values.tolist()
    try:
        return list(values)
    except TypeError:
        raise ValidationError(problem) from None


def as_list(name: str, values: Any) -> str:
    return _dump(
        name, [_json_safe(v, f"log_list({name!r})") for v in _iterable(values, f"log_list({name!r}): the value")]
    )


def as_row(name: str, columns: Mapping[str, Any]) -> str:
    return _dump(name, {str(k): _json_safe(v, f"log_row({name!r}) column {k!r}") for k, v in columns.items()})


def as_table(name: str, table: Any) -> str:
    """A dict of column -> values, every column the same length (Azure stores a table as rows)."""
    if not isinstance(table, Mapping):
        raise ValidationError(f"log_table({name!r}): expected a dict of column name -> list of values")
    out: dict[str, list[Any]] = {}
    for col, values in table.items():
        out[str(col)] = [
            _json_safe(v, f"log_table({name!r}) column {col!r}")
            for v in _iterable(values, f"log_table({name!r}): column {col!r}")
        ]
    lengths = {len(v) for v in out.values()}
    if len(lengths) > 1:
        raise ValidationError(f"log_table({name!r}): every column must have the same number of values")
    return _dump(name, out)


def as_document(name: str, value: Any, kind: str) -> str:
    """A log_confusion_matrix/log_accuracy_table/log_residuals/log_predictions value: a dict or its JSON text."""
    call = f"log_{kind}({name!r})"
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise ValidationError(f"{call}: the value is not valid JSON ({exc})") from None
    if not isinstance(value, Mapping):
        raise ValidationError(f"{call}: expected a dict (or its JSON text), got {type(value).__name__}")
    return _dump(name, _json_safe(value, call))


def check_text(name: str, text: str, what: str) -> str:
    """Text that goes to the store through the background writer must be storable everywhere (PostgreSQL refuses
    NUL; no UTF-8 store holds unpaired surrogates): a point that cannot be written would block the writer."""
    if "\0" in text:
        raise ValidationError(f"metric {name!r}: {what} cannot contain NUL characters")
    if not is_storable(text):
        raise ValidationError(f"metric {name!r}: {what} cannot contain unpaired surrogate characters")
    return text


def check_step(name: str, step: Any) -> int | None:
    if step is not None and (type(step) is not int or not 0 <= step <= MAX_STEP):
        raise ValidationError(f"metric {name!r}: step must be a non-negative int below 2**63, not {step!r}")
    return step


def dump(name: str, data: Any) -> str:
    return _dump(name, data)


def _dump(name: str, data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False)
    if len(text) > MAX_TEXT:
        raise ValidationError(f"metric {name!r}: the logged value is over {MAX_TEXT} characters as JSON")
    return check_text(name, text, "a logged value")


def _fix(v: Any) -> Any:
    if isinstance(v, str) and v in ("nan", "inf", "-inf"):
        return float(v)
    return v


def decode(kind: str, value: Any) -> Any:
    """Undo the NaN/inf-as-string trick for list, row and table values read back from the store."""
    if kind == "list" and isinstance(value, list):
        return [_fix(v) for v in value]
    if kind == "row" and isinstance(value, dict):
        return {k: _fix(v) for k, v in value.items()}
    if kind == "table" and isinstance(value, dict):
        return {k: [_fix(v) for v in vs] if isinstance(vs, list) else vs for k, vs in value.items()}
    return value


def _one_or_list(values: list[Any]) -> Any:
    return values[0] if len(values) == 1 else values


def metric_value(kind: str, values: list[Any]) -> Any:
    """The value Azure's get_metrics gives for one metric, from its points in order.

    Azure keeps every metric as a sequence of cells: log() adds one, log_list() one per element, log_row() one
    row, log_table() one row per table row. One cell comes back bare, several as a list; rows as
    {column: value} (one row) or {column: [values]} (several)."""
    decoded = [decode(kind, v) for v in values]
    if kind == "list":
        return _one_or_list([x for v in decoded if isinstance(v, list) for x in v])
    if kind in ROW_KINDS:
        rows: list[dict[str, Any]] = []
        for v in decoded:
            if kind == "row" and isinstance(v, dict):
                rows.append(v)
            elif isinstance(v, dict):  # a table: columns of equal length -> rows
                cols = list(v)
                n = max((len(c) for c in v.values() if isinstance(c, list)), default=0)
                rows += [
                    {c: (v[c][i] if isinstance(v[c], list) and i < len(v[c]) else None) for c in cols} for i in range(n)
                ]
        columns: dict[str, list[Any]] = {}
        for row in rows:
            for col in row:
                columns.setdefault(col, [])
        for row in rows:
            for col in columns:
                columns[col].append(row.get(col))
        return {c: _one_or_list(vs) for c, vs in columns.items()}
    if kind in DOCUMENT_KINDS or kind == "image":
        return decoded[-1] if decoded else None
    return _one_or_list(decoded)


# ---------------------------------------------------------------------------------------------- tags, properties


def check_value(value: Any, what: str) -> str:
    """A tag or property value: strings as they are; anything else becomes str(value), as Azure converts it
    (Azure logs a warning for each converted value; so do we, on the `runtui` logger)."""
    if not isinstance(value, str):
        if not isinstance(value, (bool, int, float)):
            log.warning("Converting non-string %s to string: %r", what, value)
        value = str(value)
    if len(value) > MAX_VALUE:
        raise ValidationError(f"a {what} can have at most {MAX_VALUE} characters (got {len(value)})")
    if "\0" in value:
        raise ValidationError(f"a {what} cannot contain NUL characters")
    if not is_storable(value):
        raise ValidationError(f"a {what} cannot contain unpaired surrogate characters")
    return value


def normalize_tags(tags: Any) -> dict[str, str | None]:
    if not isinstance(tags, Mapping):
        raise ValidationError(f"tags must be a dict of key -> value, not {type(tags).__name__}")
    return {check_key(k, "tag key"): (None if v is None else check_value(v, "tag value")) for k, v in tags.items()}


def normalize_properties(properties: Any) -> dict[str, str]:
    if not isinstance(properties, Mapping):
        raise ValidationError(f"properties must be a dict of key -> value, not {type(properties).__name__}")
    return {check_key(k, "property key"): check_value(v, "property value") for k, v in properties.items()}


def tag_query(tags: Any) -> dict[str, str | None]:
    """A tag filter: a dict (a None value matches the key alone), one key string, or a list of keys."""
    if tags is None:
        return {}
    if isinstance(tags, str):
        return {check_key(tags, "tag key"): None}
    if isinstance(tags, Mapping):
        return {check_key(k, "tag key"): (None if v is None else str(v)) for k, v in tags.items()}
    if isinstance(tags, (list, tuple, set)):
        return {check_key(k, "tag key"): None for k in tags}
    raise ValidationError(f"tags must be a dict, a key or a list of keys, not {type(tags).__name__}")


def property_query(properties: Any) -> dict[str, str]:
    if properties is None:
        return {}
    if not isinstance(properties, Mapping):
        raise ValidationError(f"properties must be a dict of key -> value, not {type(properties).__name__}")
    return {check_key(k, "property key"): str(v) for k, v in properties.items()}


def key_list(keys: Any, what: str) -> list[str]:
    """One key or an iterable of keys (Azure's remove_tags takes a list)."""
    if isinstance(keys, str):
        return [check_key(keys, what)]
    if isinstance(keys, Mapping) or not isinstance(keys, Iterable):
        raise ValidationError(f"expected a {what} or a list of them, not {type(keys).__name__}")
    return [check_key(k, what) for k in keys]


# ---------------------------------------------------------------------------------------------- files and times


def artifact_name(name: object) -> str:
    """A file name inside the run folder: relative, no `..`, no NUL; it can never point outside the run."""
    if not isinstance(name, str) or not name or "\0" in name or not is_storable(name):
        raise ValidationError(f"invalid file name {name!r}")
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or name.startswith("~"):
        raise ValidationError(f"file name {name!r} must be a relative path inside the run (no '..', not absolute)")
    clean = str(p)
    if clean in (".", "", "snapshot.zip", "snapshot.id") or clean.split("/", 1)[0] == "working":
        raise ValidationError(f"file name {name!r} is reserved or empty")
    return clean


def iso(t: float | None) -> str | None:
    if t is None:
        return None
    return _dt.datetime.fromtimestamp(t, tz=_dt.timezone.utc).isoformat().replace("+00:00", "Z")


def positive_int(value: Any, what: str, *, allow_none: bool = True) -> int | None:
    if value is None and allow_none:
        return None
    if type(value) is not int or value < 1:
        raise ValidationError(f"{what} must be a positive int, not {value!r}")
    return value


def path_arg(value: Any, what: str) -> Path:
    """A file or folder path given by the caller (str or os.PathLike, not empty), as a Path with ~ expanded."""
    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)) or not os.fspath(value):
        raise ValidationError(f"{what} must be a file or folder path, not {value!r}")
    return Path(value).expanduser()


def flag(value: Any, what: str) -> bool:
    """A True/False switch: numbers and strings are refused (a string 'False' is truthy)."""
    if not isinstance(value, bool):
        raise ValidationError(f"{what} must be True or False, not {value!r}")
    return value
