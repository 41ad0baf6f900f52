"""Run ids and user-given names: how they are made and what is accepted."""

from __future__ import annotations

import re
import secrets
import time

from runtui.errors import ValidationError

MAX_NAME = 255
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")
_EXPERIMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")
_SLUG = re.compile(r"[^A-Za-z0-9_.-]+")


def new_run_id(experiment: str) -> str:
    """`<experiment>_<unix seconds>_<8 hex>`: sortable by time, unique without coordination."""
    slug = _SLUG.sub("-", experiment)[:64].strip("-.") or "run"
    return f"{slug}_{int(time.time())}_{secrets.token_hex(4)}"


def check_run_id(run_id: object) -> str:
    """A run id is also a folder name: no separators, no `..`, nothing that escapes the runs folder."""
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id) or ".." in run_id:
        raise ValidationError(
            f"invalid run id {run_id!r}: use letters, digits, '_', '-', '.' (up to 255, not starting with '.' or '-')"
        )
    return run_id


def check_experiment_name(name: object) -> str:
    if not isinstance(name, str):
        raise ValidationError(f"an experiment name must be a string, not {type(name).__name__}")
    if not name:
        raise ValidationError("an experiment name cannot be empty")
    if len(name) > MAX_NAME:
        raise ValidationError(f"an experiment name can have at most {MAX_NAME} characters (got {len(name)})")
    if not _EXPERIMENT.match(name) or ".." in name:
        raise ValidationError(
            f"invalid experiment name {name!r}: use letters, digits, '_', '-' and '.', starting with a letter or digit"
        )
    return name


def is_storable(text: str) -> bool:
    """False for text with unpaired surrogates (e.g. from `os.fsdecode` of bad bytes): no store can hold them."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def has_control_chars(text: str) -> bool:
    return any((ord(c) < 32 and c not in "\t") or 0x7F <= ord(c) < 0xA0 for c in text)


def check_key(key: object, what: str) -> str:
    """Tag, property and metric names: non-empty strings of printable characters, at most 255 long."""
    if not isinstance(key, str):
        raise ValidationError(f"a {what} must be a string, not {type(key).__name__} ({key!r})")
    if not key:
        raise ValidationError(f"a {what} cannot be empty")
    if len(key) > MAX_NAME:
        raise ValidationError(f"a {what} can have at most {MAX_NAME} characters (got {len(key)})")
    if has_control_chars(key):
        raise ValidationError(f"a {what} cannot contain control characters: {key!r}")
    if not is_storable(key):
        raise ValidationError(f"a {what} cannot contain unpaired surrogate characters: {key!r}")
    return key


def check_display_name(name: object) -> str | None:
    if name is None:
        return None
    if not isinstance(name, str):
        raise ValidationError(f"a display name must be a string, not {type(name).__name__}")
    if not name.strip():
        raise ValidationError("a display name cannot be empty")
    if len(name) > 1024:
        raise ValidationError(f"a display name can have at most 1024 characters (got {len(name)})")
    if has_control_chars(name):
        raise ValidationError(f"a display name cannot contain control characters: {name!r}")
    if not is_storable(name):
        raise ValidationError(f"a display name cannot contain unpaired surrogate characters: {name!r}")
    return name
