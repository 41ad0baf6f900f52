"""Which filesystem a store file lives on, and a warning when it is a network filesystem.

SQLite relies on POSIX advisory locks and, in WAL mode, on shared memory between the processes that use the
file. On NFS, SMB/CIFS and similar filesystems those locks are emulated, lossy or absent, and WAL's shared
memory does not work across machines: several writers can corrupt the database. runtui still opens such a
store (a single writer on one box is usually fine), but says so once and points to the PostgreSQL store.

Linux only (from /proc/mounts); elsewhere nothing is detected and nothing is said.
"""

from __future__ import annotations

import os
import warnings

MOUNTS = "/proc/mounts"
# Filesystem types (as /proc/mounts names them) whose locking SQLite cannot trust.
NETWORK_TYPES = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "ncpfs",
        "afs",
        "coda",
        "9p",
        "ceph",
        "glusterfs",
        "lustre",
        "gpfs",
        "beegfs",
        "fuse.sshfs",
        "fuse.glusterfs",
        "fuse.cephfs",
        "fuse.s3fs",
        "fuse.rclone",
        "fuse.gcsfuse",
        "fuse.davfs2",
    }
)


class NetworkFilesystemWarning(UserWarning):
    """The SQLite store is on a network filesystem."""


def _unescape(field: str) -> str:
    """/proc/mounts writes space, tab, newline and backslash in paths as octal escapes (\\040 ...)."""
    if "\\" not in field:
        return field
    out = []
    i = 0
    while i < len(field):
        chunk = field[i + 1 : i + 4]
        if field[i] == "\\" and len(chunk) == 3 and all(c in "01234567" for c in chunk):
            out.append(chr(int(chunk, 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_mounts(text: str) -> list[tuple[str, str]]:
    """(mount point, filesystem type) of each line of a /proc/mounts table."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            out.append((_unescape(parts[1]), parts[2]))
    return out


def read_mounts() -> str | None:
    try:
        with open(MOUNTS, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return None


def filesystem_type(path: str | os.PathLike[str], mounts: str | None = None) -> str | None:
    """The type of the filesystem holding `path` (which need not exist yet), or None when unknown.

    The last mount whose mount point contains the path wins (later mounts hide earlier ones).
    """
    table = read_mounts() if mounts is None else mounts
    if table is None:
        return None
    target = os.path.realpath(os.path.abspath(path))
    best: tuple[int, str] | None = None
    for point, fstype in parse_mounts(table):
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) >= best[0]):
            best = (len(point), fstype)
    return None if best is None else best[1]


def network_filesystem(path: str | os.PathLike[str], mounts: str | None = None) -> str | None:
    """The filesystem type when `path` is on a network filesystem, else None."""
    fstype = filesystem_type(path, mounts)
    return fstype if fstype in NETWORK_TYPES else None


def warn_if_network(path: str | os.PathLike[str], mounts: str | None = None) -> bool:
    """Warn (NetworkFilesystemWarning) when the SQLite store at `path` is on a network filesystem."""
    fstype = network_filesystem(path, mounts)
    if fstype is None:
        return False
    warnings.warn(
        NetworkFilesystemWarning(
            f"the runtui store {path} is on a network filesystem ({fstype}); SQLite's file locking is not "
            "reliable there and several writers can corrupt it. Keep the store on a local disk (RUNTUI_HOME), "
            "or share runs between machines with a PostgreSQL store (--store postgresql+psycopg://USER@HOST/DB)"
        ),
        stacklevel=2,
    )
    return True
