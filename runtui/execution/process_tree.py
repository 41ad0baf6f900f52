"""Process trees: who belongs to a run, how to signal them safely, and how to take them down.

Three ideas keep this honest:

- A process is identified by **pid + create time**. Pids are reused, so a pid alone may name a stranger by the
  time we signal it. Every signal goes through `signal_process`, which checks the create time and then signals
  through a pidfd (the pidfd pins the very process that was checked, so there is no window for reuse).
- The supervisor is a **child subreaper** (`prctl(PR_SET_CHILD_SUBREAPER)`): a grandchild whose parent exits,
  or that double-forks or calls `setsid`, is re-parented to the supervisor instead of init. So "the tree" is
  simply every descendant of the supervisor, and nothing the script starts can slip out of it.
- The subreaper **reaps its zombies itself** (`Reaper`), at once, instead of leaving them for init (which
  reaps only every ~1.5 s on this machine kind). That is what makes "the tree is gone" observable in ms.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import psutil

from runtui.errors import PermissionDeniedError

# Process identity lives in the leaf module `runtui.identity` (the SDK needs it without psutil at import time);
# re-exported here because everything that signals processes thinks of it as part of the tree.
from runtui.identity import ProcessIdentity as ProcessIdentity
from runtui.identity import identity_of as identity_of
from runtui.identity import self_identity as self_identity

PR_SET_CHILD_SUBREAPER = 36


def set_child_subreaper() -> bool:
    """Make this process the reaper of its orphaned descendants (Linux >= 3.4). False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def signal_process(ident: ProcessIdentity, sig: int) -> bool:
    """Send `sig` to exactly the process `ident` names. False when it is gone or its pid now names another process.

    Raises PermissionDeniedError when the process belongs to someone we may not signal.
    """
    pidfd: int | None = None
    try:
        if hasattr(os, "pidfd_open"):
            try:
                # Opened before the check: from here on the fd refers to this process even if the pid is reused.
                pidfd = os.pidfd_open(ident.pid)
            except ProcessLookupError:
                return False
            except OSError as exc:
                if exc.errno not in (errno.ENOSYS, errno.EINVAL):
                    raise
                pidfd = None
        try:
            current = psutil.Process(ident.pid).create_time()
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            return False
        except psutil.AccessDenied:
            current = None
        if current is not None and not ident.matches(current):
            return False  # the pid was reused: never signal a stranger
        if current is None:
            # We could not read the create time, so we cannot prove identity: refuse.
            raise PermissionDeniedError(f"cannot verify process {ident.pid} (permission denied); not signalled")
        if pidfd is not None:
            signal.pidfd_send_signal(pidfd, sig)
        else:
            os.kill(ident.pid, sig)
        return True
    except ProcessLookupError:
        return False
    except PermissionError as exc:
        raise PermissionDeniedError(
            f"not allowed to send {signal_name(sig)} to process {ident.pid} (it belongs to another user)"
        ) from exc
    finally:
        if pidfd is not None:
            os.close(pidfd)


def signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def describe_exit(status: int) -> tuple[int, str | None]:
    """A `waitpid` status as (exit code, signal name or None). Death by signal N gives exit code -N."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        return -sig, signal_name(sig)
    return os.waitstatus_to_exitcode(status), None


class Reaper:
    """Collects the exit status of every child of this process (our descendants, when we are a subreaper).

    `subprocess.Popen.wait` must not be used for children started here: the reaper takes their status first.
    Statuses of the pids in `watched` are kept for `status_of`; the rest are just reaped.
    """

    def __init__(self) -> None:
        self.watched: set[int] = set()
        self.statuses: dict[int, int] = {}

    def watch(self, pid: int) -> None:
        self.watched.add(pid)

    def reap(self) -> int:
        """Reap every child that has exited; returns how many were reaped."""
        count = 0
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return count
            if pid == 0:
                return count
            count += 1
            if pid in self.watched:
                self.statuses[pid] = status

    def status_of(self, pid: int) -> int | None:
        return self.statuses.get(pid)


def _child_pids(pid: int) -> list[int] | None:
    """Children of `pid` from /proc/PID/task/TID/children (every thread's: a child belongs to the thread that
    forked it, an adopted orphan to any thread). None when the kernel does not offer these files."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return []
    except OSError:
        return None
    out: list[int] = []
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as fh:
                out.extend(int(x) for x in fh.read().split())
        except FileNotFoundError:
            if not os.path.exists(f"/proc/{pid}/task/{tid}"):
                continue  # the thread just ended
            return None  # no such file at all: CONFIG_PROC_CHILDREN is off
        except (OSError, ValueError):
            continue
    return out


def _descendant_processes(root_pid: int) -> list[psutil.Process]:
    """Walk down from `root_pid`. Reading the tree's own /proc entries costs time in proportion to the tree;
    psutil's `children(recursive=True)` reads every process of the machine (several ms on a busy box)."""
    found: list[psutil.Process] = []
    frontier = [root_pid]
    seen = {root_pid}
    while frontier:
        pid = frontier.pop(0)
        kids = _child_pids(pid)
        if kids is None:
            return psutil.Process(root_pid).children(recursive=True)
        for kid in kids:
            if kid in seen:
                continue
            seen.add(kid)
            try:
                found.append(psutil.Process(kid))
            except psutil.NoSuchProcess:
                continue
            frontier.append(kid)
    return found


def descendants(root_pid: int) -> list[psutil.Process]:
    """Every live (non-zombie) descendant of `root_pid`, children before grandchildren."""
    try:
        procs = _descendant_processes(root_pid)
    except psutil.NoSuchProcess:
        return []
    out = []
    for p in procs:
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return out


@dataclass
class TerminationReport:
    """What `terminate_tree` did."""

    terminated: set[ProcessIdentity] = field(default_factory=set)  # got SIGTERM
    killed: set[ProcessIdentity] = field(default_factory=set)  # still there after the grace period: SIGKILL
    denied: list[str] = field(default_factory=list)  # processes we were not allowed to signal
    survivors: list[ProcessIdentity] = field(default_factory=list)  # still alive when we gave up (should be empty)
    seconds: float = 0.0


class ProcessTree:
    """The processes below `container` (normally this supervisor, a subreaper), remembered by identity.

    `seen` keeps every identity ever observed in the tree, so after the tree is gone we can still tell
    whether some pid (say, the owner of a child run) belonged to it.
    """

    def __init__(self, container_pid: int | None = None, *, root: ProcessIdentity | None = None) -> None:
        """The descendants of `container_pid` (default: this process); or, with `root`, that process (if its
        identity still matches) and its descendants: for a tree whose supervisor is gone."""
        self.container_pid = os.getpid() if container_pid is None else container_pid
        self.root = root
        self.seen: set[ProcessIdentity] = set()

    def members(self) -> list[psutil.Process]:
        if self.root is not None:
            if not self.root.is_alive():
                return []
            try:
                top = psutil.Process(self.root.pid)
            except psutil.NoSuchProcess:
                return []
            procs = [top, *descendants(self.root.pid)]
        else:
            procs = descendants(self.container_pid)
        for p in procs:
            try:
                self.seen.add(ProcessIdentity(p.pid, p.create_time()))
            except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
                continue
        return procs

    def identities(self) -> list[ProcessIdentity]:
        out = []
        for p in self.members():
            try:
                ident = ProcessIdentity(p.pid, p.create_time())
            except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
                continue
            if self.root is not None and ident.pid == self.root.pid and not self.root.matches(ident.create_time):
                continue
            out.append(ident)
        return out

    def contains(self, pid: int | None, create_time: float | None) -> bool:
        """Was (pid, create_time) ever seen in this tree?"""
        if pid is None or create_time is None:
            return False
        return any(ident.pid == pid and ident.matches(create_time) for ident in self.seen)

    def remember(self, ident: ProcessIdentity) -> None:
        self.seen.add(ident)

    def terminate(
        self,
        grace: float,
        *,
        wait: Callable[[float], None] | None = None,
        reaper: Reaper | None = None,
        kill_timeout: float = 10.0,
    ) -> TerminationReport:
        """SIGTERM every process of the tree, wait up to `grace` seconds, SIGKILL what is left, reap.

        Processes that appear during the grace period (a dying script may still spawn) get SIGTERM too.
        `wait(seconds)` sleeps until something may have changed (the supervisor wakes on SIGCHLD); by
        default it sleeps briefly. Returns once no process of the tree is left, or after `kill_timeout`
        more seconds of SIGKILL (then `survivors` names them: a process stuck in the kernel cannot be killed).
        """
        report = TerminationReport()
        start = time.monotonic()
        pause = wait or (lambda s: time.sleep(min(s, 0.005)))

        def sweep(sig: int, done: set[ProcessIdentity]) -> list[ProcessIdentity]:
            if reaper is not None:
                reaper.reap()
            live = self.identities()
            for ident in live:
                if ident in done:
                    continue
                done.add(ident)
                try:
                    signal_process(ident, sig)
                except PermissionDeniedError as exc:
                    report.denied.append(str(exc))
            return live

        deadline = start + max(0.0, grace)
        while True:
            live = sweep(signal.SIGTERM, report.terminated)
            if not live:
                self._finish_reaping(reaper, pause)
                report.seconds = time.monotonic() - start
                return report
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            pause(min(remaining, 0.05))

        kill_deadline = time.monotonic() + kill_timeout
        while True:
            live = sweep(signal.SIGKILL, report.killed)
            if not live:
                break
            if time.monotonic() >= kill_deadline:
                report.survivors = live
                break
            pause(0.05)
        self._finish_reaping(reaper, pause)
        report.seconds = time.monotonic() - start
        return report

    def _finish_reaping(self, reaper: Reaper | None, pause: Callable[[float], None], limit: float = 2.0) -> None:
        """Reap the zombies left behind: a dead process's own dead children reach us only after it is reaped."""
        if reaper is None or self.root is not None or self.container_pid != os.getpid():
            return
        deadline = time.monotonic() + limit
        while True:
            reaper.reap()
            # Our own /proc children files (zombies included): psutil's children() reads every process of the
            # machine, tens of milliseconds on a box of 400 processes, on the cancel's path.
            kids = _child_pids(self.container_pid)
            try:
                if not (kids if kids is not None else psutil.Process(self.container_pid).children()):
                    return
            except psutil.NoSuchProcess:
                return
            if time.monotonic() >= deadline:
                return
            pause(0.01)


def alive(identities: Iterable[ProcessIdentity]) -> list[ProcessIdentity]:
    """The identities among `identities` whose process still runs."""
    return [ident for ident in identities if ident.is_alive()]
