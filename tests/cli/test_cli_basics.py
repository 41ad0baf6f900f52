"""The command itself: help on every command, version, usage errors as one line with exit code 2, what it imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import ROOT, assert_one_line_error, env, runtui

from runtui._version import __version__
from runtui.cli import COMMANDS

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help(command: str) -> None:
    result = runtui(command, "--help")
    assert result.code == 0, result.err
    assert result.out.startswith(f"usage: runtui {command}")
    assert "--home DIR" in result.out  # the workspace options are accepted after the command too
    assert result.err == ""


def test_top_level_help_lists_every_command() -> None:
    result = runtui("--help")
    assert result.code == 0
    for command in COMMANDS:
        assert f"    {command} " in result.out
    assert "exit codes: 0 success, 1 the operation failed, 2 usage error" in result.out


def test_version(tmp_path: Path) -> None:
    assert runtui("version").out == f"runtui {__version__}\n"
    assert runtui("--version").out == f"runtui {__version__}\n"
    assert not (tmp_path / "home").exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["ls", "--limit", "0"], "expected a number of at least 1"),
        (["ls", "--bogus"], "unrecognized arguments: --bogus"),
        (["show"], "the following arguments are required: RUN"),
        (["cancel", "--timeout", "-3", "x"], "expected a positive number of seconds"),
        (["cancel", "--timeout", "soon", "x"], "expected a number of seconds"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(home: Path, args: list[str], fragment: str) -> None:
    result = runtui(*args, home=home)
    assert_one_line_error(result, 2, fragment)
    assert "see 'runtui" in result.err
    assert not home.exists()  # a usage error never gets as far as the workspace


def test_ui_without_a_terminal_is_a_clear_error(home: Path) -> None:
    result = runtui(home=home)
    assert_one_line_error(result, 1, "the monitor needs a terminal")
    result = runtui("ui", home=home)
    assert_one_line_error(result, 1, "the monitor needs a terminal")


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"],
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return set(out.splitlines())


def test_import_runtui_does_not_import_the_cli() -> None:
    loaded = _modules_after("import runtui")
    assert not {m for m in loaded if m.startswith("runtui.cli")}


def test_parsing_and_version_stay_light() -> None:
    loaded = _modules_after("from runtui.cli import main\ntry:\n    main(['version'])\nexcept SystemExit:\n    pass")
    tops = {m.split(".")[0] for m in loaded}
    assert not tops & {"sqlalchemy", "sqlmodel", "textual", "rich", "watchfiles", "psutil"}


def test_logs_does_not_import_textual(home: Path) -> None:
    from cli_helpers import make_runs

    [run_id] = make_runs(home, [{"experiment": "light"}])
    code = f"from runtui.cli import main\nmain(['--home', {str(home)!r}, 'show', {run_id!r}])\n"
    code += "from runtui.cli.commands.logs import sanitizer\nsanitizer(True)('x')"
    tops = {m.split(".")[0] for m in _modules_after(code)}
    assert "sqlalchemy" in tops
    assert "textual" not in tops
