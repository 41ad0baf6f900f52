"""Snapshots of a submitted run's source folder: one zip in the run folder, restorable later.

Skipped: `.git`, virtual environments (any folder holding `pyvenv.cfg`), `__pycache__`, the runtui workspace
itself when it lives inside the source folder, the top-level `outputs/` and `logs/` folders (they belong to
runs: collected into each run's files, they must not travel into the next run's snapshot; `!outputs/` in an
ignore file takes them back), and what the ignore files list. As in Azure ML, `.amlignore` is read when it
exists, else `.gitignore`; `.runtuiignore` is read after either (its rules win). All use gitignore patterns:
`#` comments, `!` to re-include, a trailing `/` for folders only, a `/` at the start or in the middle anchors
the pattern at the source folder, `*`, `?`, `[...]` and `**`.
As in git, a file inside an ignored folder cannot be re-included.

Symbolic links to files are stored as the file they point to; links to folders are not followed.
The total size of the files is capped (default 100 MB; `RUNTUI_SNAPSHOT_MAX_MB` or `max_bytes` change it), so
that a forgotten dataset in the source folder fails the submission with a clear message instead of filling
the disk with copies.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import uuid
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from runtui.config import WorkspaceConfig
from runtui.errors import NotFoundError, SubmitError, ValidationError

if TYPE_CHECKING:
    from runtui.store import Store

IGNORE_FILE = ".runtuiignore"
AZURE_IGNORE_FILE = ".amlignore"
GIT_IGNORE_FILE = ".gitignore"
# Rules every snapshot starts with; later rules (the ignore files) can negate them.
DEFAULT_RULES = ("/outputs/", "/logs/")
SNAPSHOT_FILE = "snapshot.zip"
DEFAULT_MAX_BYTES = 100 * 1024 * 1024
ALWAYS_SKIPPED_DIRS = frozenset({".git", "__pycache__"})
VENV_MARKER = "pyvenv.cfg"


@dataclass(frozen=True, slots=True)
class IgnoreRule:
    regex: re.Pattern[str]
    negated: bool
    dirs_only: bool
    text: str


def _glob_to_regex(pattern: str, anchored: bool) -> str:
    """A gitignore glob (without `!` and trailing `/`) as a regex over '/'-separated relative paths."""
    out: list[str] = []
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")  # zero or more folders
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == n:
            out.append("/.*")  # everything inside
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = pattern.find("]", i + 2 if pattern[i + 1 : i + 2] in ("!", "]") else i + 1)
            if end == -1:
                out.append(re.escape(c))
                i += 1
            else:
                body = pattern[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end + 1
        elif c == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(c))
            i += 1
    body = "".join(out)
    return ("^" if anchored else "^(?:.*/)?") + body + "$"


def parse_ignore(lines: Iterable[str], source_name: str = IGNORE_FILE) -> list[IgnoreRule]:
    rules: list[IgnoreRule] = []
    for raw in lines:
        line = raw.rstrip("\n").rstrip("\r")
        # Trailing spaces are ignored unless escaped, as in git.
        while line.endswith(" ") and not line.endswith("\\ "):
            line = line[:-1]
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        if negated or line.startswith(("\\!", "\\#")):  # `\!` and `\#` escape a literal first character
            line = line[1:]
        dirs_only = line.endswith("/")
        line = line.rstrip("/")
        if not line:
            continue
        anchored = "/" in line
        line = line.lstrip("/")
        try:
            regex = re.compile(_glob_to_regex(line, anchored))
        except re.error as exc:
            raise ValidationError(f"invalid pattern {raw.strip()!r} in {source_name}: {exc}") from exc
        rules.append(IgnoreRule(regex, negated, dirs_only, raw.strip()))
    return rules


def is_ignored(rules: Sequence[IgnoreRule], relpath: str, is_dir: bool) -> bool:
    """The last rule that matches decides (as in git)."""
    ignored = False
    for rule in rules:
        if rule.dirs_only and not is_dir:
            continue
        if rule.regex.match(relpath):
            ignored = not rule.negated
    return ignored


def ignore_files(source: Path) -> list[Path]:
    """The ignore files a snapshot of `source` reads, in order: `.amlignore` else `.gitignore`, then
    `.runtuiignore`."""
    found = []
    for name in (AZURE_IGNORE_FILE, GIT_IGNORE_FILE):
        if (source / name).is_file():
            found.append(source / name)
            break
    if (source / IGNORE_FILE).is_file():
        found.append(source / IGNORE_FILE)
    return found


def load_ignore_rules(source: Path) -> list[IgnoreRule]:
    rules = parse_ignore(DEFAULT_RULES, "the default rules")
    for path in ignore_files(source):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SubmitError(f"cannot read {path}: {exc}") from exc
        rules += parse_ignore(text.splitlines(), path.name)
    return rules


def iter_snapshot_files(source: Path, exclude: Sequence[Path] = ()) -> Iterator[tuple[Path, str, int]]:
    """(absolute path, archive name, size) of every file a snapshot of `source` holds."""
    rules = load_ignore_rules(source)
    excluded = {os.path.realpath(p) for p in exclude}
    for folder, dirnames, filenames in os.walk(source):
        rel_folder = os.path.relpath(folder, source)
        rel_folder = "" if rel_folder == "." else rel_folder.replace(os.sep, "/")
        keep = []
        for d in sorted(dirnames):
            full = os.path.join(folder, d)
            rel = f"{rel_folder}/{d}" if rel_folder else d
            if d in ALWAYS_SKIPPED_DIRS or os.path.islink(full):
                continue
            if os.path.isfile(os.path.join(full, VENV_MARKER)) or os.path.realpath(full) in excluded:
                continue
            if is_ignored(rules, rel, True):
                continue
            keep.append(d)
        dirnames[:] = keep
        for f in sorted(filenames):
            full = os.path.join(folder, f)
            rel = f"{rel_folder}/{f}" if rel_folder else f
            if f == ".git" or is_ignored(rules, rel, False) or os.path.realpath(full) in excluded:
                continue
            try:
                st = os.stat(full)  # follows a link to a file; a broken link raises and is skipped
            except OSError:
                continue
            if not os.path.isfile(full):
                continue  # sockets, fifos, devices
            yield Path(full), rel, st.st_size


def max_snapshot_bytes() -> int:
    env = os.environ.get("RUNTUI_SNAPSHOT_MAX_MB")
    if not env:
        return DEFAULT_MAX_BYTES
    try:
        mb = float(env)
    except ValueError as exc:
        raise ValidationError(f"RUNTUI_SNAPSHOT_MAX_MB must be a number of megabytes, not {env!r}") from exc
    if mb <= 0:
        raise ValidationError(f"RUNTUI_SNAPSHOT_MAX_MB must be positive, not {env!r}")
    return int(mb * 1024 * 1024)


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    path: Path
    files: int
    bytes: int  # uncompressed


def _human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def make_snapshot(
    source: Path,
    dest: Path,
    *,
    max_bytes: int | None = None,
    exclude: Sequence[Path] = (),
    max_files: int | None = None,
) -> SnapshotInfo:
    """Zip `source` (a folder, or one file) into `dest` (mode 0600). Raises SubmitError, writing nothing, when
    the files exceed the size cap or, when given, `max_files` (checked while walking, so a huge folder such as
    a home directory is not walked to the end)."""
    cap = max_snapshot_bytes() if max_bytes is None else max_bytes
    files: list[tuple[Path, str, int]] = []
    if source.is_file():
        files.append((source, source.name, source.stat().st_size))
    elif not source.is_dir():
        raise SubmitError(f"source_directory {source} does not exist or is not a folder")
    else:
        for entry in iter_snapshot_files(source, exclude):
            files.append(entry)
            if max_files is not None and len(files) > max_files:
                raise SubmitError(
                    f"the snapshot of {source} would hold more than {max_files} files; list what the run does not "
                    f"need in {source / AZURE_IGNORE_FILE} or {source / IGNORE_FILE} (gitignore syntax)"
                )
    total = sum(size for _, _, size in files)
    if total > cap:
        biggest: dict[str, int] = {}
        for _, rel, size in files:
            top = rel.split("/", 1)[0]
            biggest[top] = biggest.get(top, 0) + size
        top3 = sorted(biggest.items(), key=lambda kv: -kv[1])[:3]
        shown = ", ".join(f"{name} ({_human(size)})" for name, size in top3)
        raise SubmitError(
            f"the snapshot of {source} would hold {_human(total)}, over the {_human(cap)} cap; largest: {shown}. "
            f"List what the run does not need in {source / AZURE_IGNORE_FILE} or {source / IGNORE_FILE} "
            f"(gitignore syntax), or raise the cap "
            f"with RUNTUI_SNAPSHOT_MAX_MB"
        )
    dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".partial")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for full, rel, _ in files:
                try:
                    zf.write(full, rel)
                except OSError as exc:
                    raise SubmitError(f"cannot read {full} for the snapshot: {exc.strerror or exc}") from exc
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return SnapshotInfo(dest, len(files), total)


def restore_snapshot(ws: WorkspaceConfig, run_id: str, path: str | os.PathLike[str] | None = None) -> str:
    """Copy the run's snapshot zip out and return where it went.

    `path` None: `./<run_id>_snapshot.zip` in the current folder. An existing folder: that name inside it.
    Anything else: the file to write (its folder must exist).
    """
    src = ws.run_dir(run_id) / SNAPSHOT_FILE
    if not src.is_file():
        raise NotFoundError(f"run {run_id} has no snapshot (only submitted runs have one; looked for {src})")
    name = f"{run_id}_snapshot.zip"
    if path is None:
        dest = Path.cwd() / name
    else:
        dest = Path(path).expanduser()
        if dest.is_dir():
            dest = dest / name
        elif not dest.parent.is_dir():
            raise ValidationError(f"cannot write the snapshot to {dest}: folder {dest.parent} does not exist")
    shutil.copyfile(src, dest)
    return str(dest)


# ---------------------------------------------------------------------- working copies and snapshot ids

SNAPSHOT_ID_FILE = "snapshot.id"  # next to snapshot.zip: the snapshot's id (also in the store on schema v2)
WORKING_FOLDER = "working"  # inside the run folder: where a submitted script runs


def new_snapshot_id() -> str:
    return str(uuid.uuid4())


def extract_working_copy(snapshot: Path, dest: Path) -> None:
    """Unpack a snapshot into `dest` (created, 0700), the folder a submitted script runs in.

    Permission bits stored in the zip are restored (an executable script stays executable); names are checked
    so that nothing lands outside `dest`.
    """
    dest.mkdir(mode=0o700)
    root = dest.resolve()
    with zipfile.ZipFile(snapshot) as zf:
        for info in zf.infolist():
            target = (root / info.filename).resolve()
            if not target.is_relative_to(root) or target == root:
                raise SubmitError(f"snapshot {snapshot} holds an unsafe name {info.filename!r}")
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as fin, open(target, "wb") as fout:
                shutil.copyfileobj(fin, fout, 1024 * 1024)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(target, mode | 0o600)  # the run's own copy stays writable by the run


def snapshot_path(ws: WorkspaceConfig, run_id: str) -> Path:
    return ws.run_dir(run_id) / SNAPSHOT_FILE


def get_snapshot_id(store: Store, ws: WorkspaceConfig, run_id: str) -> str | None:
    """The run's snapshot id: the store's column (schema v2), else the id file next to the snapshot."""
    rec = store.get_run(run_id)
    sid = getattr(rec, "snapshot_id", None)
    if sid:
        return str(sid)
    try:
        return (ws.run_dir(run_id) / SNAPSHOT_ID_FILE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def record_snapshot_id(store: Store, ws: WorkspaceConfig, run_id: str, snapshot_id: str) -> None:
    """The id in the run folder and, on a schema v2 store, in the run's `snapshot_id` column. (Azure also shows it
    as the run property `ContentSnapshotId`; runtui keeps properties for the user's own keys.)"""
    path = ws.run_dir(run_id) / SNAPSHOT_ID_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(snapshot_id + "\n")
    with contextlib.suppress(ValueError):  # a schema v1 store has no snapshot_id column; the file carries it
        store.update_run(run_id, snapshot_id=snapshot_id)


def take_snapshot(
    store: Store,
    ws: WorkspaceConfig,
    run_id: str,
    path: str | os.PathLike[str],
    *,
    max_files: int | None = None,
) -> str:
    """Snapshot a file or folder for a run that has none yet (Azure's `run.take_snapshot`); returns its id."""
    if not isinstance(path, (str, os.PathLike)):
        raise ValidationError(f"take_snapshot takes the path of a file or folder, not {type(path).__name__}")
    existing = get_snapshot_id(store, ws, run_id)
    if existing is not None:
        raise ValidationError(f"run {run_id} already has a snapshot ({existing}); a run has one snapshot")
    source = Path(path).expanduser()
    if not source.exists():
        raise NotFoundError(f"take_snapshot: {source} does not exist")
    snapshot_id = new_snapshot_id()
    make_snapshot(source.resolve(), snapshot_path(ws, run_id), exclude=[ws.home, ws.runs_dir], max_files=max_files)
    record_snapshot_id(store, ws, run_id, snapshot_id)
    return snapshot_id
