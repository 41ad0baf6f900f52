"""What every benchmark shares: result rows, statistics, formatting, subprocess timing, scratch stores."""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
NOT_AVAILABLE = "not yet available"


@dataclass
class Comparison:
    label: str
    value: float | None
    text: str


@dataclass
class Row:
    """One line of the table. `value` is in `unit`; `met` is None when there is nothing to judge."""

    key: str
    what: str
    value: float | None
    text: str
    target: str
    met: bool | None
    comparisons: list[Comparison] = field(default_factory=list)
    ratio: str = ""
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def unavailable(key: str, what: str, target: str, why: str = NOT_AVAILABLE) -> Row:
    return Row(key=key, what=what, value=None, text=why, target=target, met=None, note=why)


@dataclass
class Context:
    """What the runner hands each benchmark worker (as JSON)."""

    scratch: str  # a private temporary folder for this benchmark
    postgres_url: str | None
    mlflow: bool
    big_store: str | None  # SQLite URL of the shared 100,000-run store (read-only for benchmarks)
    big_home: str | None  # its workspace folder
    mlflow_big: str | None  # MLflow SQLite URL with 10,000 runs
    quick: bool = False

    @classmethod
    def load(cls, path: str) -> Context:
        return cls(**json.loads(Path(path).read_text()))


# ---------------------------------------------------------------- statistics and formatting


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_rate(per_s: float | None, unit: str = "pts/s") -> str:
    if per_s is None:
        return "-"
    return f"{per_s:,.0f} {unit}"


def fmt_ratio(x: float | None, suffix: str = "x") -> str:
    if x is None:
        return "-"
    if x >= 100:
        return f"{x:,.0f}{suffix}"
    return f"{x:.1f}{suffix}" if x >= 10 else f"{x:.2f}{suffix}"


def fmt_mb(n_bytes: float | None) -> str:
    return "-" if n_bytes is None else f"{n_bytes / 2**20:.0f} MB"


# ---------------------------------------------------------------- processes


def bench_env(home: str | os.PathLike[str], extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a child process: the repo importable, a private RUNTUI_HOME, no telemetry."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNTUI_", "MLFLOW_"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env["RUNTUI_HOME"] = str(home)
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env["DO_NOT_TRACK"] = "true"
    env["PYTHONDONTWRITEBYTECODE"] = "0"
    env.update(extra or {})
    return env


def time_subprocess(argv: Sequence[str], env: dict[str, str], cwd: str | None = None, timeout: float = 60.0) -> float:
    """Wall time of one child process from spawn to exit; raises if it fails."""
    t0 = time.perf_counter()
    proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{argv!r} exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
    return elapsed


def python_argv(code: str) -> list[str]:
    return [sys.executable, "-c", code]


# ---------------------------------------------------------------- scratch stores


def sqlite_url(path: str | os.PathLike[str]) -> str:
    return f"sqlite:///{path}"


@contextmanager
def postgres_schema(base_url: str, prefix: str = "bench") -> Iterator[str]:
    """A private schema on the server, as a store URL; dropped afterwards (with everything in it)."""
    from sqlalchemy import create_engine, text

    schema = f"{prefix}_{secrets.token_hex(5)}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base_url else "?"
    url = f"{base_url}{sep}options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        try:
            from runtui.store.engine import dispose_engine

            dispose_engine(url)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()


def sdk_available() -> bool:
    """Whether the lead's SDK (`runtui.Workspace`, `runtui.Experiment`) can be imported yet."""
    try:
        import runtui

        return hasattr(runtui, "Workspace") and hasattr(runtui, "Experiment")
    except Exception:
        return False


def mlflow_available() -> bool:
    try:
        import importlib.util

        return importlib.util.find_spec("mlflow") is not None
    except Exception:
        return False
