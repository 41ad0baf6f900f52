"""Turning what a user logs into what the store keeps: (value, text, kind). Runs on the training thread."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from runtui.errors import ValidationError
from runtui.ids import is_storable

MAX_TEXT = 1_000_000  # characters of a logged string or JSON document


def _json_safe(value: Any, what: str) -> Any:
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        # JSON has no NaN/inf; keep them as the strings Python prints, read back as floats by get_metrics.
        return value if math.isfinite(value) else repr(value)
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        return _json_safe(value.item(), what)
    raise ValidationError(f"{what} holds a {type(value).__name__}, which cannot be stored; log numbers or strings")


def scalar(name: str, value: Any) -> tuple[float | None, str | None, str]:
    """A single logged value: numbers as floats (NaN kept as text), strings as text."""
    if isinstance(value, bool):
        return float(value), None, "scalar"
    if isinstance(value, (int, float)):
        try:
            f = float(value)
        except OverflowError:  # an int beyond the float range (10**400)
            raise ValidationError(f"metric {name!r}: the int is too large to log as a number (over 1.8e308)") from None
        return (None, "nan", "scalar") if f != f else (f, None, "scalar")
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


def as_list(name: str, values: Any) -> str:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise ValidationError(f"log_list({name!r}): expected a list of numbers or strings, got {type(values).__name__}")
    return _dump(name, [_json_safe(v, f"log_list({name!r})") for v in values])


def as_row(name: str, columns: Mapping[str, Any]) -> str:
    return _dump(name, {str(k): _json_safe(v, f"log_row({name!r}) column {k!r}") for k, v in columns.items()})


def as_table(name: str, table: Any) -> str:
    if not isinstance(table, Mapping):
        raise ValidationError(f"log_table({name!r}): expected a dict of column name -> list of values")
    out: dict[str, list[Any]] = {}
    for col, values in table.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise ValidationError(f"log_table({name!r}): column {col!r} must be a list")
        out[str(col)] = [_json_safe(v, f"log_table({name!r}) column {col!r}") for v in values]
    return _dump(name, out)


def check_text(name: str, text: str, what: str) -> str:
    """Text that goes to the store through the background writer must be storable everywhere (PostgreSQL refuses
    NUL; no UTF-8 store holds unpaired surrogates): a point that cannot be written would block the writer."""
    if "\0" in text:
        raise ValidationError(f"metric {name!r}: {what} cannot contain NUL characters")
    if not is_storable(text):
        raise ValidationError(f"metric {name!r}: {what} cannot contain unpaired surrogate characters")
    return text


def _dump(name: str, data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False)
    if len(text) > MAX_TEXT:
        raise ValidationError(f"metric {name!r}: the logged value is over {MAX_TEXT} characters as JSON")
    return check_text(name, text, "a logged value")


def decode(kind: str, value: Any) -> Any:
    """Undo the NaN/inf-as-string trick for list, row and table values read back from the store."""

    def fix(v: Any) -> Any:
        if isinstance(v, str) and v in ("nan", "inf", "-inf"):
            return float(v)
        return v

    if kind == "list" and isinstance(value, list):
        return [fix(v) for v in value]
    if kind == "row" and isinstance(value, dict):
        return {k: fix(v) for k, v in value.items()}
    if kind == "table" and isinstance(value, dict):
        return {k: [fix(v) for v in vs] if isinstance(vs, list) else vs for k, vs in value.items()}
    return value
