"""Hostile text from runs, shown by the TUI and the CLI on a real terminal: literally, and never able to change
the terminal (no title, clipboard, hyperlink, screen clear or cursor move from a run's data).

The TUI and the CLI run in a pseudo-terminal; what they write is fed to a VT emulator (pyte) to read the
screen and the window title back, and the raw bytes are checked for any escape sequence that came from a run.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from reliability_support import ROOT, Terminal, worker_env

from runtui import Experiment, ScriptRunConfig, Workspace

pytest.importorskip("pyte")

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(180)]

NAME = "[bold red]BOOM[/] [link=http://evil.example]x[/link]"
TAGS = {
    "esc": "\x1b]0;pwned-title\x07\x1b[2Jvalue",
    "[b]key[/b]": "[i]v[/i]",
}
PROPS = {"osc52": "\x1b]52;c;ZXZpbA==\x07clip"}
ERROR = "\x1b]0;failed-title\x07 \x1b[31mred error\nsecond line"
LOG_LINES = [
    "\x1b]0;log-title\x07hello",
    "\x1b[2J\x1b[Hcleared",
    "\x1b[31mred\x1b[0m",
    "\x9b31mc1",
    "\x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\",
    "[bold]markup[/]",
    "\x1b]52;c;ZXZpbA==\x07clip",
    "\x1bPdcs-payload\x1b\\after-dcs",
    "\x1b[6n\x1b[c\x1b[21tqueries",  # a line that asks the terminal to answer (it would type into the app)
]
# The payloads of the sequences above: the TUI drops them (the CLI shows them escaped, as text: `\x1b]0;...`).
PAYLOADS = ["pwned-title", "log-title", "failed-title", "ZXZpbA==", "dcs-payload"]
# What may never reach the terminal from a run's data: the sequences themselves.
FORBIDDEN = [
    "\x1b]0;",
    "\x1b]2;",
    "\x1b]8;",
    "\x1b]52;",
    "\x1bP",
    "\x1b[2J",
    "\x1b[H",
    "\x1b[6n",
    "\x1b[21t",
    "\x9b",
]


@pytest.fixture(scope="module")
def hostile_ws(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A workspace with one interactive run full of hostile text and one submitted run with a hostile log."""
    home = tmp_path_factory.mktemp("display") / "ws"
    ws = Workspace(path=home)
    exp = Experiment(ws, "hostile")
    run = exp.start_logging(display_name=NAME)
    run.set_tags(TAGS)
    run.add_properties(PROPS)
    run.log("[red]loss[/]", 0.5)
    run.log("note", "\x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\ and \x9b31m")
    run.fail(ERROR)
    src = home.parent / "src"
    src.mkdir()
    (src / "train.py").write_text(
        textwrap.dedent(f"""
        import sys
        for line in {LOG_LINES!r}:
            print(line)
        """)
    )
    sub = exp.submit(ScriptRunConfig(source_directory=src), display_name="[u]submitted[/u]")
    sub.wait_for_completion(timeout=60)
    return home, run.id, sub.id


def _cli(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "runtui", "--home", str(home), *args]


def assert_nothing_reached_the_terminal(raw: bytes | bytearray, *, payloads: bool = False) -> None:
    text = bytes(raw).decode("utf-8", errors="replace")
    leaked = [f for f in FORBIDDEN + (PAYLOADS if payloads else []) if f in text]
    assert not leaked, f"escape sequences from run data reached the terminal: {leaked}"


def test_the_tui_shows_hostile_runs_literally_and_the_terminal_is_untouched(
    hostile_ws: tuple[Path, str, str],
) -> None:
    home = hostile_ws[0]
    term = Terminal(_cli(home), worker_env(TERM="xterm-256color"))
    screens = []
    try:
        term.wait_for("hostile")
        term.wait_for("[u]submitted[/u]")  # the experiment opens with its runs listed
        term.press_until("\x1b[B", "[bold]markup[/]")  # down: the submitted run, its details and its log
        screens.append(term.text())
        term.press_until("\x1b[B", "[b]key[/b]")  # down: the interactive run with hostile names, tags and error
        screens.append(term.text())
        term.press("q", settle=1.0)
        term.pump(2.0)
    finally:
        term.close()
    log_screen, run_screen = screens
    for line in ("hello", "cleared", "red", "c1", "link", "[bold]markup[/]", "clip", "after-dcs", "queries"):
        assert re.search(rf"(^|[\s▕]){re.escape(line)}\s*$", log_screen, re.M), f"log line {line!r} not shown"
    # names are cut by cell width with … in the tree (the full name is in its tooltip): a prefix proves literal
    for literal in (NAME[:24], "[b]key[/b]=[i]v[/i]", "[red]loss[/]", "red error", "second line"):
        assert literal in run_screen, f"{literal!r} not shown literally:\n{run_screen}"
    assert "pwned" not in term.screen.title and "title" not in term.screen.title
    assert_nothing_reached_the_terminal(term.raw, payloads=True)


@pytest.mark.parametrize("no_color", [False, True])
def test_the_cli_on_a_terminal_prints_hostile_runs_literally(hostile_ws: tuple[Path, str, str], no_color: bool) -> None:
    home, run_id, sub_id = hostile_ws
    env = worker_env(TERM="xterm-256color")
    if no_color:
        env["NO_COLOR"] = "1"
    for args in (["ls"], ["show", run_id], ["logs", sub_id]):
        term = Terminal(_cli(home, *args), env)
        try:
            term.pump(0.5)
            while term.proc.poll() is None:
                term.pump(0.2)
            term.pump(0.2)
        finally:
            term.close()
        assert term.proc.returncode == 0, bytes(term.raw).decode(errors="replace")
        assert_nothing_reached_the_terminal(term.raw)
        sequences = set(re.findall(rb"\x1b\[[0-9;:]*[A-Za-z]|\x1b[^\[]", bytes(term.raw)))
        allowed = set() if no_color else {s for s in sequences if re.fullmatch(rb"\x1b\[[0-9;]*m", s)}
        assert sequences == allowed, f"runtui {args[0]} wrote {sequences - allowed}"
        assert term.screen.title == ""
        shown = term.text()
        if args[0] == "ls":
            assert "[u]submitted[/u]" in shown and "[bold red]BOOM[/]" in shown
        elif args[0] == "show":
            assert NAME in shown and "[b]key[/b]=[i]v[/i]" in shown and "[red]loss[/]" in shown
            assert r"esc=\x1b]0;pwned-title\x07\x1b[2Jvalue" in shown  # control characters shown as escapes
        else:
            assert [line for line in shown.splitlines() if line] == [
                "hello",
                "cleared",
                "red",
                "c1",
                "link",
                "[bold]markup[/]",
                "clip",
                "after-dcs",
                "queries",
            ]


def test_the_cli_into_a_pipe_writes_no_control_characters(hostile_ws: tuple[Path, str, str]) -> None:
    home, run_id, sub_id = hostile_ws
    for args in (["ls"], ["show", run_id], ["logs", sub_id], ["show", sub_id]):
        out = subprocess.run(_cli(home, *args), capture_output=True, env=worker_env(), cwd=str(ROOT), timeout=60)
        assert out.returncode == 0, out.stderr
        text = out.stdout.decode("utf-8")
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", text), f"runtui {args[0]} wrote control characters"
