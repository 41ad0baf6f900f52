"""Who and where we are: host name, user, and a process's identity (pid + create time; pids are reused)."""

from __future__ import annotations

import functools
import getpass
import os
import socket
from dataclasses import dataclass


def current_host() -> str:
    """The host name runs are stamped with. `RUNTUI_HOST` overrides it (two "hosts" on one box in tests)."""
    return os.environ.get("RUNTUI_HOST") or socket.gethostname()


@functools.cache
def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


# Create times come from the same kernel counter each time; the tolerance only absorbs float round trips
# through the store. It must stay under one clock tick (1/100 s on Linux): two processes started one tick
# apart have create times exactly 0.01 s apart, and a tolerance of 0.01 took that (0.00999...) for a match.
CREATE_TIME_TOLERANCE_S = 0.005


def process_create_time(pid: int) -> float | None:
    """The kernel's start time of `pid`, or None if there is no such process."""
    import psutil

    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return None


@dataclass(frozen=True, slots=True)
class ProcessIdentity:
    """One process, for good: its pid and the kernel's start time of that pid (pids are reused)."""

    pid: int
    create_time: float

    def matches(self, create_time: float | None) -> bool:
        return create_time is not None and abs(create_time - self.create_time) < CREATE_TIME_TOLERANCE_S

    def is_alive(self) -> bool:
        """True while this very process exists and has not exited (a zombie counts as gone)."""
        import psutil

        try:
            proc = psutil.Process(self.pid)
            return self.matches(proc.create_time()) and proc.status() != psutil.STATUS_ZOMBIE
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            return False
        except psutil.AccessDenied:
            # Another user's process: it exists; we cannot read its status, so trust the create time check.
            return True


def identity_of(pid: int) -> ProcessIdentity | None:
    """The identity of a live pid, or None when there is no such process."""
    created = process_create_time(pid)
    return None if created is None else ProcessIdentity(pid, created)


@functools.cache
def _identity_for(pid: int) -> ProcessIdentity:
    ident = identity_of(pid)
    assert ident is not None  # we are alive
    return ident


def self_identity() -> ProcessIdentity:
    """This process's identity; recomputed after a fork because the pid changes."""
    return _identity_for(os.getpid())
