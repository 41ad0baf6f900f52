"""What a supervisor needs to run one submitted script, written by `submit_run` as `supervisor.json`.

A file (mode 0600, in the run's 0700 folder) rather than command-line arguments: arguments are visible to
every user in `ps`, and `environment_variables` may hold secrets. The supervisor's own environment (inherited
from the submitting process) is the base of the script's environment; only additions are stored here.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from runtui.errors import SubmitError, ValidationError

SPEC_FILE = "supervisor.json"
LOG_FOLDER = "logs"
OUTPUT_LOG = "output.log"
SUPERVISOR_LOG = "supervisor.log"

# Per-submit settings: the keyword of submit_run, else the variable in `environment_variables`, else in the
# submitting process's environment, else the default.
GRACE_ENV = "RUNTUI_CANCEL_GRACE"
SAMPLE_ENV = "RUNTUI_SAMPLE_INTERVAL"
LOG_STORE_MAX_ENV = "RUNTUI_LOG_STORE_MAX_BYTES"
DEFAULT_GRACE_S = 10.0
DEFAULT_SAMPLE_S = 5.0
DEFAULT_HEARTBEAT_S = 5.0
DEFAULT_LOG_STORE_MAX_BYTES = 100 * 1024 * 1024  # per run, copied into a shared store (see log_shipping.py)


@dataclass(frozen=True)
class SupervisorSpec:
    run_id: str
    store_url: str
    home: str
    runs_dir: str
    command: list[str]
    cwd: str
    env: dict[str, str] = field(default_factory=dict)
    grace: float = DEFAULT_GRACE_S
    sample_interval: float = DEFAULT_SAMPLE_S
    heartbeat_interval: float = DEFAULT_HEARTBEAT_S
    log_store_max_bytes: int = DEFAULT_LOG_STORE_MAX_BYTES
    # ScriptRunConfig(max_run_duration_seconds=): the supervisor cancels the run when it has run longer.
    max_run_duration_seconds: float | None = None

    @property
    def run_dir(self) -> Path:
        return Path(self.runs_dir) / self.run_id

    @property
    def log_file(self) -> Path:
        return self.run_dir / LOG_FOLDER / OUTPUT_LOG

    def write(self, path: Path) -> None:
        fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(asdict(self), fh)

    @classmethod
    def read(cls, path: Path) -> SupervisorSpec:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**data)
        except (OSError, ValueError, TypeError) as exc:
            raise SubmitError(f"cannot read the supervisor spec {path}: {exc}") from exc


def seconds_setting(
    name: str, explicit: float | None, script_env: dict[str, str], default: float, *, minimum: float = 0.0
) -> float:
    """A duration setting by precedence (see above); a bad value is a ValidationError naming where it came from."""
    if explicit is not None:
        raw: object = explicit
        where = "argument"
    elif name in script_env:
        raw, where = script_env[name], f"environment_variables[{name!r}]"
    elif name in os.environ:
        raw, where = os.environ[name], f"${name}"
    else:
        return default
    if isinstance(raw, bool):
        raise ValidationError(f"{name} ({where}) must be a number of seconds, not {raw!r}")
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{name} ({where}) must be a number of seconds, not {raw!r}") from exc
    if not value >= minimum or value == float("inf"):
        raise ValidationError(f"{name} ({where}) must be a finite number >= {minimum:g}, not {raw!r}")
    return value


_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2, "g": 1024**3, "gb": 1024**3}


def bytes_setting(name: str, explicit: int | str | None, script_env: dict[str, str], default: int) -> int:
    """A size setting by the same precedence as `seconds_setting`: a whole number of bytes, optionally with a
    unit (`512k`, `100M`, `1G`, powers of 1024); 0 means none. A bad value is a ValidationError naming its source."""
    if explicit is not None:
        raw: object = explicit
        where = "argument"
    elif name in script_env:
        raw, where = script_env[name], f"environment_variables[{name!r}]"
    elif name in os.environ:
        raw, where = os.environ[name], f"${name}"
    else:
        return default
    problem = f"{name} ({where}) must be a whole number of bytes >= 0, optionally with k/M/G, not {raw!r}"
    if isinstance(raw, bool):
        raise ValidationError(problem)
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str):
        text = raw.strip().lower()
        digits = text.rstrip("kmgb").rstrip()
        unit = _SIZE_UNITS.get(text[len(digits) :].strip())
        if unit is None or not digits.isdigit() or not digits.isascii():
            raise ValidationError(problem)
        value = int(digits) * unit
    else:
        raise ValidationError(problem)
    if value < 0 or value > 2**62:
        raise ValidationError(problem)
    return value
