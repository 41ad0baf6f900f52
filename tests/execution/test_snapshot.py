"""Snapshots: what they hold, what they skip, the size cap, restoring."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from runtui import config
from runtui.errors import NotFoundError, SubmitError, ValidationError
from runtui.execution.snapshot import is_ignored, make_snapshot, parse_ignore, restore_snapshot


def _tree(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def _names(zip_path: Path) -> set[str]:
    with zipfile.ZipFile(zip_path) as zf:
        return set(zf.namelist())


def test_snapshot_skips_git_venvs_pycache_and_ignored(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _tree(
        src,
        {
            "train.py": "print(1)",
            "pkg/model.py": "x = 1",
            "pkg/__pycache__/model.cpython-311.pyc": b"\0",
            ".git/HEAD": "ref: refs/heads/main",
            ".venv/pyvenv.cfg": "home = /usr",
            ".venv/lib/site.py": "",
            "env2/pyvenv.cfg": "",  # a venv by its marker, whatever its name
            "env2/bin/python": "",
            "data/big.bin": b"0" * 100,
            "data/keep.txt": "keep",
            "logs/run.log": "",
            "notes.tmp": "",
            "sub/notes.tmp": "",
            "sub/important.tmp": "",
            ".runtuiignore": "# comment\n\n/data/*\n!/data/keep.txt\n*.tmp\n!sub/important.tmp\nlogs/\n",
        },
    )
    info = make_snapshot(src, tmp_path / "snap.zip")
    assert _names(tmp_path / "snap.zip") == {
        "train.py",
        "pkg/model.py",
        "data/keep.txt",
        "sub/important.tmp",
        ".runtuiignore",
    }
    assert info.files == 5
    assert (os.stat(tmp_path / "snap.zip").st_mode & 0o777) == 0o600
    with zipfile.ZipFile(tmp_path / "snap.zip") as zf:
        assert zf.read("train.py") == b"print(1)"


def test_snapshot_never_holds_the_workspace_inside_the_source(tmp_path: Path) -> None:
    src = tmp_path / "project"
    _tree(src, {"train.py": "", ".runtui/runtui.db": "db", ".runtui/runs/old/snapshot.zip": "zip"})
    make_snapshot(src, tmp_path / "snap.zip", exclude=[src / ".runtui"])
    assert _names(tmp_path / "snap.zip") == {"train.py"}


def test_snapshot_over_the_cap_is_refused_with_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "src"
    _tree(src, {"train.py": "", "dataset/part1.bin": b"0" * 3000, "dataset/part2.bin": b"0" * 3000})
    dest = tmp_path / "snap.zip"
    with pytest.raises(SubmitError) as err:
        make_snapshot(src, dest, max_bytes=5000)
    message = str(err.value)
    assert "over the" in message and "dataset (5.9 KB)" in message and ".runtuiignore" in message
    assert not dest.exists() and not (tmp_path / "snap.zip.partial").exists()
    # The cap from the environment; ignoring the folder brings it under.
    monkeypatch.setenv("RUNTUI_SNAPSHOT_MAX_MB", "0.001")
    with pytest.raises(SubmitError):
        make_snapshot(src, dest)
    (src / ".runtuiignore").write_text("dataset/\n")
    assert make_snapshot(src, dest).files == 2
    monkeypatch.setenv("RUNTUI_SNAPSHOT_MAX_MB", "lots")
    with pytest.raises(ValidationError, match="RUNTUI_SNAPSHOT_MAX_MB"):
        make_snapshot(src, dest)


def test_snapshot_of_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(SubmitError, match="does not exist"):
        make_snapshot(tmp_path / "nope", tmp_path / "snap.zip")


def test_links(tmp_path: Path) -> None:
    src = tmp_path / "src"
    outside = tmp_path / "outside"
    _tree(outside, {"data.txt": "outside data", "deep/file.txt": ""})
    _tree(src, {"train.py": ""})
    (src / "linked.txt").symlink_to(outside / "data.txt")
    (src / "linked_dir").symlink_to(outside / "deep")
    (src / "broken").symlink_to(tmp_path / "missing")
    make_snapshot(src, tmp_path / "snap.zip")
    assert _names(tmp_path / "snap.zip") == {"train.py", "linked.txt"}


@pytest.mark.parametrize(
    ("pattern", "path", "is_dir", "ignored"),
    [
        ("*.log", "a.log", False, True),
        ("*.log", "deep/down/a.log", False, True),
        ("/*.log", "deep/a.log", False, False),
        ("/*.log", "a.log", False, True),
        ("cache/", "cache", True, True),
        ("cache/", "cache", False, False),
        ("docs/*.md", "docs/a.md", False, True),
        ("docs/*.md", "docs/sub/a.md", False, False),
        ("docs/**/*.md", "docs/sub/x/a.md", False, True),
        ("docs/**/*.md", "docs/a.md", False, True),
        ("**/tmp", "a/b/tmp", True, True),
        ("out/**", "out/a/b", False, True),
        ("file?.txt", "file1.txt", False, True),
        ("file?.txt", "file10.txt", False, False),
        ("[ab].py", "a.py", False, True),
        ("[!ab].py", "a.py", False, False),
        ("[!ab].py", "c.py", False, True),
        ("\\#hash", "#hash", False, True),
        ("trailing   ", "trailing", False, True),
    ],
)
def test_ignore_patterns(pattern: str, path: str, is_dir: bool, ignored: bool) -> None:
    assert is_ignored(parse_ignore([pattern]), path, is_dir) is ignored


def test_last_matching_rule_wins() -> None:
    rules = parse_ignore(["*.txt", "!keep.txt", "keep.txt"])
    assert is_ignored(rules, "keep.txt", False)
    rules = parse_ignore(["*.txt", "!keep.txt"])
    assert not is_ignored(rules, "keep.txt", False)


def test_restore_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = config.resolve(path=tmp_path / "ws")
    run_id = "exp_1_abcdef01"
    run_dir = ws.run_dir(run_id)
    run_dir.mkdir(parents=True)
    src = tmp_path / "src"
    _tree(src, {"train.py": "print('hi')"})
    make_snapshot(src, run_dir / "snapshot.zip")

    monkeypatch.chdir(tmp_path)
    path = restore_snapshot(ws, run_id)
    assert path == str(tmp_path / f"{run_id}_snapshot.zip")
    assert _names(Path(path)) == {"train.py"}
    out = tmp_path / "out"
    out.mkdir()
    assert restore_snapshot(ws, run_id, out) == str(out / f"{run_id}_snapshot.zip")
    assert restore_snapshot(ws, run_id, out / "mine.zip") == str(out / "mine.zip")
    with pytest.raises(ValidationError, match="does not exist"):
        restore_snapshot(ws, run_id, tmp_path / "no" / "such" / "x.zip")
    with pytest.raises(NotFoundError, match="has no snapshot"):
        restore_snapshot(ws, "exp_2_abcdef02")
    with pytest.raises(ValidationError, match="invalid run id"):
        restore_snapshot(ws, "../etc")


def test_amlignore_wins_over_gitignore_and_runtuiignore_comes_last(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _tree(
        src,
        {
            "train.py": "",
            "a.csv": "",
            "b.log": "",
            "outputs/old.pkl": "",
            "logs/old.txt": "",
            "sub/outputs/kept.txt": "",  # only the top-level outputs/ belongs to runs
            ".gitignore": "*.log\n",
        },
    )
    make_snapshot(src, tmp_path / "1.zip")
    assert _names(tmp_path / "1.zip") == {"train.py", "a.csv", ".gitignore", "sub/outputs/kept.txt"}
    (src / ".amlignore").write_text("*.csv\n")  # read instead of .gitignore, as in Azure ML
    make_snapshot(src, tmp_path / "2.zip")
    assert _names(tmp_path / "2.zip") == {"train.py", "b.log", ".gitignore", ".amlignore", "sub/outputs/kept.txt"}
    (src / ".runtuiignore").write_text("!outputs/\ntrain.py\n")  # read after either: its rules win
    make_snapshot(src, tmp_path / "3.zip")
    assert _names(tmp_path / "3.zip") == {
        "b.log",
        "outputs/old.pkl",
        ".gitignore",
        ".amlignore",
        ".runtuiignore",
        "sub/outputs/kept.txt",
    }
    (src / ".amlignore").write_text("[z-a]\n")
    with pytest.raises(ValidationError, match=r"invalid pattern '\[z-a\]' in \.amlignore"):
        make_snapshot(src, tmp_path / "4.zip")


def test_working_copy_keeps_modes_and_refuses_unsafe_names(tmp_path: Path) -> None:
    from runtui.execution.snapshot import extract_working_copy

    src = tmp_path / "src"
    _tree(src, {"run.sh": "#!/bin/sh\n", "pkg/mod.py": "x = 1\n"})
    (src / "run.sh").chmod(0o750)
    make_snapshot(src, tmp_path / "s.zip")
    extract_working_copy(tmp_path / "s.zip", tmp_path / "w")
    assert (tmp_path / "w" / "pkg" / "mod.py").read_text() == "x = 1\n"
    assert os.stat(tmp_path / "w" / "run.sh").st_mode & 0o777 == 0o750
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as zf:
        zf.writestr("../escape.txt", "x")
    with pytest.raises(SubmitError, match=r"unsafe name '\.\./escape\.txt'"):
        extract_working_copy(tmp_path / "evil.zip", tmp_path / "w2")
    assert not (tmp_path / "escape.txt").exists()
