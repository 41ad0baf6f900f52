"""Who and where we are: host name, user, and a process's identity (pid + create time; pids are reused)."""

from __future__ import annotations

import functools
import getpass
import os
import socket


def current_host() -> str:
    """The host name runs are stamped with. `RUNTUI_HOST` overrides it (two "hosts" on one box in tests)."""
    return os.environ.get("RUNTUI_HOST") or socket.gethostname()


@functools.cache
def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def process_create_time(pid: int) -> float | None:
    """The kernel's start time of `pid`, or None if there is no such process."""
    import psutil

    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return None


@functools.cache
def _self_identity(pid: int) -> tuple[int, float | None]:
    return pid, process_create_time(pid)


def self_identity() -> tuple[int, float | None]:
    """This process's (pid, create time); recomputed after a fork because the pid changes."""
    return _self_identity(os.getpid())


def same_process(pid: int | None, create_time: float | None) -> bool:
    """True when `pid` is alive and is the very process that had `create_time` (not a reuse of its pid)."""
    if pid is None or create_time is None:
        return False
    now = process_create_time(pid)
    return now is not None and abs(now - create_time) < 0.01
