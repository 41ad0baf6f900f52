"""Snapshots of a submitted run's source folder: one zip in the run folder, restorable later.

Skipped: `.git`, virtual environments (any folder holding `pyvenv.cfg`), `__pycache__`, the runtui workspace
itself when it lives inside the source folder, and whatever `.runtuiignore` (in the source folder) lists.
`.runtuiignore` uses gitignore-like patterns: `#` comments, `!` to re-include, a trailing `/` for folders
only, a `/` at the start or in the middle anchors the pattern at the source folder, `*`, `?`, `[...]` and
`**`. As in git, a file inside an ignored folder cannot be re-included.

Symbolic links to files are stored as the file they point to; links to folders are not followed.
The total size of the files is capped (default 100 MB; `RUNTUI_SNAPSHOT_MAX_MB` or `max_bytes` change it), so
that a forgotten dataset in the source folder fails the submission with a clear message instead of filling
the disk with copies.
"""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from runtui.config import WorkspaceConfig
from runtui.errors import NotFoundError, SubmitError, ValidationError

IGNORE_FILE = ".runtuiignore"
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


def parse_ignore(lines: Iterable[str]) -> list[IgnoreRule]:
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
            raise ValidationError(f"invalid pattern {raw.strip()!r} in {IGNORE_FILE}: {exc}") from exc
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


def load_ignore_rules(source: Path) -> list[IgnoreRule]:
    path = source / IGNORE_FILE
    if not path.is_file():
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SubmitError(f"cannot read {path}: {exc}") from exc
    return parse_ignore(text.splitlines())


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
    source: Path, dest: Path, *, max_bytes: int | None = None, exclude: Sequence[Path] = ()
) -> SnapshotInfo:
    """Zip `source` into `dest` (mode 0600). Raises SubmitError, writing nothing, when the files exceed the cap."""
    cap = max_snapshot_bytes() if max_bytes is None else max_bytes
    if not source.is_dir():
        raise SubmitError(f"source_directory {source} does not exist or is not a folder")
    files = list(iter_snapshot_files(source, exclude))
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
            f"List what the run does not need in {source / IGNORE_FILE} (gitignore syntax), or raise the cap "
            f"with RUNTUI_SNAPSHOT_MAX_MB"
        )
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
