"""A run's `./outputs` and `./logs` become its files when it ends, as Azure ML uploads them.

Submitted runs: the script runs in a working copy inside the run folder (`RUN_DIR/working`), so its files are
*moved* (renamed, no bytes copied) to `RUN_DIR/outputs/...` and `RUN_DIR/logs/...`; the working copy is then
removed. Interactive runs (`start_logging`): `./outputs` (or `outputs=`) and `./logs` in the user's folder stay
where they are, so their files are *cloned* (a reflink, where the filesystem has them: btrfs, XFS, ...) or else
copied. Hard links are not used there on purpose: the next run in the same folder typically rewrites
`outputs/model.pkl` in place, which would silently change the earlier run's file through the shared inode.

Copies are capped (default 10 GiB per run; `RUNTUI_OUTPUTS_MAX_MB` changes it): files past the cap are left
out, each named in one message (the run's log for a submitted run, stderr for an interactive one) saying where
the file still is. Moves and clones cost no space and are not counted. Every collected file is recorded as an
artifact (`outputs/<path>`, `logs/<path>`), so `get_file_names()`, `download_file(s)`, the TUI and the CLI see it.
"""

from __future__ import annotations

import atexit
import errno
import os
import shutil
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from runtui.errors import ValidationError

if TYPE_CHECKING:
    from runtui.store import Store

OUTPUTS_FOLDER = "outputs"
LOGS_FOLDER = "logs"
OUTPUTS_MAX_ENV = "RUNTUI_OUTPUTS_MAX_MB"
DEFAULT_MAX_COPY_BYTES = 10 * 1024**3
RESERVED_LOGS = frozenset({"output.log"})  # the supervisor's capture of stdout/stderr: never replaced
_FICLONE = 0x40049409  # Linux ioctl: make dest share src's extents (copy-on-write)


def max_copy_bytes() -> int:
    raw = os.environ.get(OUTPUTS_MAX_ENV)
    if not raw:
        return DEFAULT_MAX_COPY_BYTES
    try:
        mb = float(raw)
    except ValueError as exc:
        raise ValidationError(f"{OUTPUTS_MAX_ENV} must be a number of megabytes, not {raw!r}") from exc
    if not mb >= 0 or mb == float("inf"):
        raise ValidationError(f"{OUTPUTS_MAX_ENV} must be a finite number of megabytes >= 0, not {raw!r}")
    return int(mb * 1024 * 1024)


def _human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


@dataclass
class Collected:
    """What one collection did: files recorded, how they travelled, and what was left out (with why)."""

    files: int = 0
    bytes: int = 0
    moved: int = 0
    cloned: int = 0
    copied_bytes: int = 0
    skipped: list[str] = field(default_factory=list)  # one message each
    artifacts: list[tuple[str, int]] = field(default_factory=list)  # (name, size) to record, once, at the end


def _clone(src: Path, dest: Path) -> bool:
    """A copy-on-write clone of src as dest (replacing it); False where the filesystem cannot."""
    if not hasattr(os, "O_CLOEXEC") or sys.platform != "linux":
        return False
    import fcntl

    tmp = dest.with_name(f".{dest.name}.runtui-partial")
    try:
        with open(src, "rb") as fin:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                fcntl.ioctl(fd, _FICLONE, fin.fileno())
            finally:
                os.close(fd)
        os.replace(tmp, dest)
        return True
    except OSError:
        tmp.unlink(missing_ok=True)
        return False


def _copy(src: Path, dest: Path) -> None:
    tmp = dest.with_name(f".{dest.name}.runtui-partial")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with open(src, "rb") as fin, os.fdopen(fd, "wb") as fout:
            shutil.copyfileobj(fin, fout, 1024 * 1024)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _files_under(folder: Path) -> list[tuple[Path, str]]:
    """(path, '/'-separated relative name) of the regular files under `folder`, sorted; folder links not
    followed, links to files followed (their content is what the run produced)."""
    out = []
    for root, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not os.path.islink(os.path.join(root, d)))
        for name in sorted(filenames):
            full = Path(root, name)
            if name.endswith(".runtui-partial") or not full.is_file():
                continue
            out.append((full, full.relative_to(folder).as_posix()))
    return out


def collect_folder(
    run_dir: Path,
    source: Path,
    prefix: str,
    *,
    move: bool,
    budget: list[int],
    result: Collected,
) -> None:
    """Bring every file under `source` into `run_dir/prefix/...`, to be recorded as the artifact `prefix/...`.

    `move`: the files belong to the run (its working copy): rename them. Otherwise clone, else copy, within
    `budget[0]` bytes (decremented as copies are made). The artifacts are recorded by `record`, in one go."""
    if not source.is_dir():
        return
    dest_root = run_dir / prefix
    for full, rel in _files_under(source):
        name = f"{prefix}/{rel}"
        if prefix == LOGS_FOLDER and rel in RESERVED_LOGS:
            result.skipped.append(f"{name} was not collected: the name is the run's own log (still at {full})")
            continue
        dest = dest_root / rel
        try:
            size = full.stat().st_size
            _private_dirs(dest.parent)
            if move and not full.is_symlink():
                try:
                    os.replace(full, dest)
                    result.moved += 1
                except OSError as exc:
                    if exc.errno != errno.EXDEV:
                        raise
                    move_failed = True
                else:
                    move_failed = False
            else:
                move_failed = True
            if move_failed:
                if _clone(full, dest):
                    result.cloned += 1
                elif size > budget[0]:
                    result.skipped.append(
                        f"{name} ({_human(size)}) was not collected: the run's copied outputs would exceed the "
                        f"{_human(budget[0] + result.copied_bytes)} cap ({OUTPUTS_MAX_ENV}); the file is still at "
                        f"{full}"
                    )
                    continue
                else:
                    _copy(full, dest)
                    budget[0] -= size
                    result.copied_bytes += size
            result.artifacts.append((name, size))
            result.files += 1
            result.bytes += size
        except OSError as exc:
            result.skipped.append(f"{name} was not collected: {exc.strerror or exc} (still at {full})")


def record(store: Store, run_id: str, result: Collected) -> None:
    """Record the collected files as the run's artifacts: one transaction for all where the store can."""
    if not result.artifacts:
        # Nothing to record: no call at all. Through the box agent even an empty call waits for its turn on the
        # box's one connection, on the path of every run's end (a cancel's too).
        return
    add_many = getattr(store, "add_artifacts", None)
    if add_many is not None:
        add_many(run_id, result.artifacts)
    else:
        for name, size in result.artifacts:
            store.add_artifact(run_id, name, size)


def _private_dirs(folder: Path) -> None:
    """`mkdir -p` with mode 0700 for every folder made (run folders hold private data; an interactive run's
    folder may not exist yet)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for d in reversed(missing):
        d.mkdir(mode=0o700, exist_ok=True)


def collect_working_copy(store: Store, run_id: str, run_dir: Path, working: Path) -> Collected:
    """At the end of a submitted run: move `working/outputs` and `working/logs` into the run, then remove the
    working copy (kept when a file could not be collected, so that nothing is lost)."""
    result = Collected()
    budget = [max_copy_bytes()]
    for prefix in (OUTPUTS_FOLDER, LOGS_FOLDER):
        collect_folder(run_dir, working / prefix, prefix, move=True, budget=budget, result=result)
    record(store, run_id, result)
    if result.skipped:
        result.skipped.append(f"the run's working copy is kept at {working}")
    else:
        shutil.rmtree(working, ignore_errors=True)
    return result


# ---------------------------------------------------------------------- interactive runs (start_logging)


@dataclass
class _Tracked:
    store: Store
    run_dir: Path
    folders: list[tuple[Path, str]]


_lock = threading.Lock()
_tracked: dict[str, _Tracked] = {}
_atexit_installed = False


def track(store: Store, run_id: str, run_dir: Path, outputs: Path | None, logs: Path | None) -> None:
    """Remember the folders an interactive run collects when it ends (`finish`, or at interpreter exit)."""
    global _atexit_installed
    folders = [(p.resolve(), prefix) for p, prefix in ((outputs, OUTPUTS_FOLDER), (logs, LOGS_FOLDER)) if p]
    with _lock:
        _tracked[run_id] = _Tracked(store, run_dir, folders)
        if not _atexit_installed:
            # Registered after the owner agent's hooks, so it runs before them: files first, then the status.
            atexit.register(finish_all)
            _atexit_installed = True


def is_tracked(run_id: str) -> bool:
    return run_id in _tracked


def finish(run_id: str, report: Callable[[str], None] | None = None) -> Collected | None:
    """Collect an interactive run's tracked folders, once; None when it tracks none (or was done already)."""
    with _lock:
        tracked = _tracked.pop(run_id, None)
    if tracked is None:
        return None
    result = Collected()
    budget = [max_copy_bytes()]
    for folder, prefix in tracked.folders:
        collect_folder(tracked.run_dir, folder, prefix, move=False, budget=budget, result=result)
    record(tracked.store, run_id, result)
    say = report or (lambda line: print(f"runtui: run {run_id}: {line}", file=sys.stderr))
    for line in result.skipped:
        say(line)
    return result


def finish_all() -> None:
    for run_id in list(_tracked):
        try:
            finish(run_id)
        except Exception as exc:  # at exit: say it, and let the other runs be collected
            print(f"runtui: could not collect the outputs of run {run_id}: {exc}", file=sys.stderr)
