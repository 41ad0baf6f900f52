"""Store safety: private files (store 0600, folders 0700, whatever the umask) and a warning for a SQLite store
on a network filesystem that points to PostgreSQL.

No NFS or SMB server exists here, so the detector is fed mounts tables (the one thing mocked); a real tmpfs
mount checks the negative case on the real /proc/mounts.
"""

from __future__ import annotations

import os
import stat
import subprocess
import textwrap
import time
import warnings
from pathlib import Path

import pytest

from runtui import Experiment, ScriptRunConfig, Workspace
from runtui.status import RunStatus
from runtui.store import Store
from runtui.store.filesystem import NetworkFilesystemWarning, filesystem_type, network_filesystem, warn_if_network

pytestmark = pytest.mark.reliability


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.lstat().st_mode)


def test_store_and_run_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual default: would make new files world-readable
    try:
        home = tmp_path / "ws"
        ws = Workspace(path=home)
        with Experiment(ws, "private").start_logging() as run:
            run.log("loss", 1.0)
            run.upload_file("outputs/model.bin", __file__)
            run.upload_file("deep/er/file.txt", __file__)
        src = tmp_path / "src"
        src.mkdir()
        (src / "train.py").write_text("print('hello')\n")
        submitted = Experiment(ws, "private").submit(ScriptRunConfig(source_directory=src))
        submitted.wait_for_completion(timeout=60)
        assert submitted.get_status() == RunStatus.COMPLETED.value
    finally:
        os.umask(old)

    checked = 0
    for p in [home, *home.rglob("*")]:
        if p.is_symlink():
            continue
        want = 0o700 if p.is_dir() else 0o600
        assert _mode(p) & 0o077 == 0, f"{p} is {oct(_mode(p))}: readable by others"
        if p.is_dir() or p.name.startswith("runtui.db"):
            assert _mode(p) == want, f"{p} is {oct(_mode(p))}, expected {oct(want)}"
        checked += 1
    assert (home / "runtui.db").exists() and (home / "runtui.db-wal").exists()
    assert _mode(run.folder) == 0o700 and _mode(submitted.folder) == 0o700
    assert checked >= 10


MOUNTS = textwrap.dedent(
    r"""
    /dev/vda / ext4 rw,relatime 0 0
    proc /proc proc rw 0 0
    fileserver:/export/home /home nfs4 rw,vers=4.2 0 0
    //nas/share /mnt/nas cifs rw,vers=3.0 0 0
    //nas/share\040two /mnt/nas\040two smb3 rw 0 0
    tmpfs /home/alice/local tmpfs rw 0 0
    user@box:/data /mnt/sshfs fuse.sshfs rw 0 0
    /dev/vdb /mnt/nfsish ext4 rw 0 0
    """
)


@pytest.mark.parametrize(
    ("path", "network"),
    [
        ("/home/bob/.runtui/runtui.db", "nfs4"),
        ("/home", "nfs4"),
        ("/home/alice/local/runtui.db", None),  # a local mount inside the NFS one
        ("/mnt/nas/x/runtui.db", "cifs"),
        ("/mnt/nas two/runtui.db", "smb3"),  # an escaped space in the table
        ("/mnt/sshfs/runtui.db", "fuse.sshfs"),
        ("/mnt/nfsish/runtui.db", None),  # a name that only starts like a network mount
        ("/var/lib/runtui.db", None),
    ],
)
def test_network_filesystems_are_detected_from_the_mounts_table(path: str, network: str | None) -> None:
    assert network_filesystem(path, MOUNTS) == network
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert warn_if_network(path, MOUNTS) is (network is not None)
    if network is not None:
        [w] = caught
        assert issubclass(w.category, NetworkFilesystemWarning)
        assert network in str(w.message) and "PostgreSQL" in str(w.message)
    else:
        assert caught == []


def test_opening_a_store_on_a_network_filesystem_warns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from runtui.store import filesystem

    monkeypatch.setattr(filesystem, "read_mounts", lambda: f"server:/x {tmp_path} nfs rw 0 0\n")
    with pytest.warns(NetworkFilesystemWarning, match="postgresql"):
        Store(f"sqlite:///{tmp_path / 'shared' / 'runtui.db'}")


def test_a_local_store_does_not_warn_on_the_real_mounts_table(tmp_path: Path) -> None:
    where = tmp_path / "mnt"
    where.mkdir()
    mounted = (
        os.geteuid() == 0
        and subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)], check=False).returncode == 0
    )
    try:
        if mounted:
            assert filesystem_type(where / "runtui.db") == "tmpfs"
        assert filesystem_type(tmp_path / "x" / "runtui.db") is not None
        with warnings.catch_warnings():
            warnings.simplefilter("error", NetworkFilesystemWarning)
            Store(f"sqlite:///{where / 'runtui.db'}")
    finally:
        if mounted:
            time.sleep(0.05)
            subprocess.run(["umount", "-l", str(where)], check=False)


def test_regression_uploading_a_file_already_in_place_keeps_it(tmp_path: Path) -> None:
    with Experiment(Workspace(path=tmp_path / "ws"), "private").start_logging() as run:
        target = run.folder / "outputs" / "model.bin"
        run.upload_file("outputs/model.bin", __file__)
        size = target.stat().st_size
        run.upload_file("outputs/model.bin", target)  # the same file: recorded, not truncated
        assert target.stat().st_size == size > 0
        assert run.get_file_names() == ["outputs/model.bin"]
