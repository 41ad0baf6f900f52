"""Settings for sharing one PostgreSQL between many boxes (a leaf module: no SQLAlchemy, no psycopg).

Read from the environment when an engine or a watcher is made (see docs/architecture.md, "Many boxes"):

- `RUNTUI_PG_POOL`: unset, a pool of 4 (+8 overflow) per process; `null`, a connection per transaction and none
  held idle (supervisors set it for themselves and their scripts); `N`, at most N (the box agent uses 1).
- `RUNTUI_PGBOUNCER=1`: the store is reached through PgBouncer in transaction mode. No server-side prepared
  statements, and no LISTEN (a LISTEN needs a session of its own): watchers poll the store revision instead.
- `RUNTUI_PG_LISTEN=0`: no LISTEN either, without the rest (a proxy that drops notifications).
- `RUNTUI_BOX_AGENT=0`: supervisors talk to the store themselves instead of through the box agent.
- `RUNTUI_METRICS_VIA_AGENT=1` (set by supervisors that use the agent): a script's SDK sends its metric batches
  to the box agent, which writes the points of every run of the box in one transaction (no connection per batch).
- `RUNTUI_PG_BOX_SLOTS` (default 2): with `RUNTUI_PG_POOL=null`, how many such short-lived connections the
  processes of one box may have open at once (lock files shared by the box); the agent's two come on top.
- every connection carries `application_name=runtui:<role>@<host>` (role from `RUNTUI_PG_ROLE`, default `sdk`).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

POOL_ENV = "RUNTUI_PG_POOL"
PGBOUNCER_ENV = "RUNTUI_PGBOUNCER"
LISTEN_ENV = "RUNTUI_PG_LISTEN"
ROLE_ENV = "RUNTUI_PG_ROLE"
AGENT_ENV = "RUNTUI_BOX_AGENT"
SLOTS_ENV = "RUNTUI_PG_BOX_SLOTS"
METRICS_AGENT_ENV = "RUNTUI_METRICS_VIA_AGENT"
DEFAULT_SLOTS = 2

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def behind_pgbouncer() -> bool:
    return os.environ.get(PGBOUNCER_ENV, "").strip().lower() in _TRUE


def listen_enabled() -> bool:
    """False behind PgBouncer (transaction mode has no sessions to LISTEN on) or with RUNTUI_PG_LISTEN=0."""
    return not behind_pgbouncer() and os.environ.get(LISTEN_ENV, "").strip().lower() not in _FALSE


def agent_enabled() -> bool:
    return os.environ.get(AGENT_ENV, "").strip().lower() not in _FALSE


def metrics_via_agent(url: str) -> bool:
    """A submitted script on PostgreSQL whose supervisor uses the box agent: metric batches go through it."""
    return (
        url.startswith("postgresql")
        and agent_enabled()
        and os.environ.get(METRICS_AGENT_ENV, "").strip().lower() in _TRUE
    )


def application_name(role: str | None = None) -> str:
    """`runtui:<role>@<host>`, cut to PostgreSQL's 63 bytes: how pg_stat_activity tells runtui's connections apart."""
    from runtui.identity import current_host

    role = role or os.environ.get(ROLE_ENV) or "sdk"
    return f"runtui:{role}@{current_host()}".encode()[:63].decode("utf-8", errors="ignore")


def box_folder() -> Path:
    """Where a box's agent socket and connection slots live: private to this user (0700)."""
    base = os.environ.get("XDG_RUNTIME_DIR") or "/tmp"
    return Path(base) / f"runtui-{os.getuid()}"


def box_key(url: str, host: str) -> str:
    """One box and store: a short hash (Unix socket paths are limited to ~107 bytes; the URL may hold a password)."""
    return hashlib.sha256(f"{host}\0{url}".encode()).hexdigest()[:24]


def box_slots() -> int:
    raw = os.environ.get(SLOTS_ENV, "").strip()
    try:
        return max(1, int(raw)) if raw else DEFAULT_SLOTS
    except ValueError:
        return DEFAULT_SLOTS
