"""`runtui submit` and `runtui logs`: real supervised scripts, their output made safe, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_helpers import ROOT, WAIT_S, assert_one_line_error, env, make_runs, open_store, runtui, wait_for, write_script

from runtui.status import RunStatus

pytestmark = pytest.mark.timeout(240)

HOSTILE = r"""
import sys
from runtui import Run
run = Run.get_context()
run.log("loss", 0.25)
print("plain line")
print("\x1b[31mred\x1b[0m text")
print("title \x1b]0;pwned\x07 and \x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\ done")
print("clear \x1b[2J\x1b[H screen and \x1b[5A up \x1b[?1049h alt \x1b[>4;2m keys \x9b31m c1")
sys.stderr.write("progress 10%\rprogress 50%\rprogress 100%\n")
sys.stderr.write("unterminated tail")
"""


def test_submit_wait_streams_output_and_completes(home: Path, tmp_path: Path) -> None:
    src = tmp_path / "proj"
    write_script(src, "train.py", 'import sys\nprint("hello from", sys.argv[1:])\n')
    result = runtui(
        "submit", "--tag", "team=vision", "--tag", "best", "--name", "first try", "--wait",
        src / "train.py", "--lr", "0.1", "--", "x",
        home=home,
    )  # fmt: skip
    assert result.code == 0, result.err
    run_id, *output = result.out.splitlines()
    assert run_id.startswith("proj_")  # the experiment defaults to the source folder's name
    assert output == ["hello from ['--lr', '0.1', '--', 'x']"]  # everything after SCRIPT belongs to the script
    store = open_store(home)
    rec = store.get_run(run_id)
    assert rec.status == RunStatus.COMPLETED
    assert rec.display_name == "first try"
    assert rec.experiment == "proj"
    assert rec.kind == "submitted"
    assert store.get_tags([run_id])[run_id] == {"team": "vision", "best": None}


def test_submit_wait_failing_script_exits_1(home: Path, tmp_path: Path) -> None:
    write_script(tmp_path, "boom.py", 'raise SystemExit("bad data")\n')
    result = runtui("submit", "-e", "exp", "--wait", tmp_path / "boom.py", home=home)
    assert result.code == 1
    run_id = result.out.splitlines()[0]
    assert "bad data" in result.out  # the script's stderr is in its log, streamed
    assert result.err_lines[-1] == f"runtui: error: run {run_id} ended Failed (exit code 1)"
    assert open_store(home).get_run(run_id).status == RunStatus.FAILED


def test_submit_without_wait_returns_at_once(home: Path, tmp_path: Path) -> None:
    write_script(tmp_path / "src", "slow.py", "import time\ntime.sleep(60)\n")
    result = runtui("submit", "-e", "slow", tmp_path / "src" / "slow.py", home=home)
    assert result.code == 0, result.err
    run_id = result.out.strip()
    store = open_store(home)
    assert store.get_run(run_id).status.is_live
    cancel = runtui("cancel", run_id, home=home)
    assert cancel.code == 0, cancel.err
    assert cancel.out == f"Canceled  {run_id}\n"
    assert store.get_run(run_id).status == RunStatus.CANCELED


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["missing.py"], 1, "script 'missing.py' not found"),
        (["."], 1, "script '.' is not a file"),
        (["--source-dir", "nowhere", "train.py"], 1, "source folder 'nowhere' not found"),
        (["--source-dir", "sub", "train.py"], 1, "is not inside the source folder"),
        (["--experiment", "bad name", "train.py"], 2, "invalid experiment name 'bad name'"),
        (["--name", "  ", "train.py"], 2, "a display name cannot be empty"),
        (["--tag", "=x", "train.py"], 2, "malformed tag '=x'"),
        (["data.txt"], 1, "neither a Python file (.py) nor executable"),
    ],
)
def test_submit_bad_input_leaves_no_trace(
    home: Path, tmp_path: Path, args: list[str], code: int, fragment: str
) -> None:
    src = tmp_path / "src"
    write_script(src, "train.py", "print(1)\n")
    (src / "data.txt").write_text("not a script")
    (src / "sub").mkdir()
    make_runs(home, [{"experiment": "before"}])
    store = open_store(home)
    before = (store.current_revision(), store.count_runs(), [e.name for e in store.list_experiments()])
    folders = sorted(p.name for p in (home / "runs").iterdir())  # the interactive run's (it holds its snapshot)
    result = runtui("submit", *args, home=home, cwd=src)
    assert_one_line_error(result, code, fragment)
    assert (store.current_revision(), store.count_runs(), [e.name for e in store.list_experiments()]) == before
    assert sorted(p.name for p in (home / "runs").iterdir()) == folders


def _hostile_run(home: Path, tmp_path: Path) -> str:
    write_script(tmp_path / "h", "hostile.py", HOSTILE)
    result = runtui("submit", "-e", "hostile", "--wait", tmp_path / "h" / "hostile.py", home=home)
    assert result.code == 0, result.err
    return result.out.splitlines()[0]


def test_logs_are_plain_and_safe_in_a_pipe(home: Path, tmp_path: Path) -> None:
    run_id = _hostile_run(home, tmp_path)
    result = runtui("logs", run_id, home=home)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == "plain line"
    assert lines[1] == "red text"
    assert lines[2] == "title  and link done"
    assert lines[3] == "clear  screen and  up  alt  keys  c1"
    assert lines[4] == "progress 100%"  # carriage-return redraws collapse to the last state
    assert lines[5] == "unterminated tail"
    assert not any(ch in result.out for ch in "\x1b\x07\x9b\r")


def test_logs_keep_only_colours_on_a_terminal(home: Path, tmp_path: Path) -> None:
    """Run `logs` under a pseudo-terminal: SGR colours survive, every other control sequence is gone."""
    import os
    import pty

    run_id = _hostile_run(home, tmp_path)
    main, sub = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "runtui", "--home", str(home), "logs", run_id],
        stdin=sub,
        stdout=sub,
        stderr=sub,
        env=env({"TERM": "xterm"}),
        cwd=ROOT,
        close_fds=True,
    )
    os.close(sub)
    data = b""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        data += chunk
    proc.wait(timeout=WAIT_S)
    os.close(main)
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n")
    assert proc.returncode == 0, text
    assert "\x1b[31mred\x1b[0m text" in text
    for bad in ("\x1b]", "\x07", "\x1b[2J", "\x1b[H", "\x1b[5A", "\x1b[?1049h", "\x1b[>4;2m", "\x9b"):
        assert bad not in text, (bad, text)
    assert "progress 100%" in text and "progress 10%" not in text


def test_logs_follow_until_the_run_ends(home: Path, tmp_path: Path) -> None:
    write_script(
        tmp_path / "f",
        "ticker.py",
        "import time\nfor i in range(6):\n    print('tick', i, flush=True)\n    time.sleep(0.5)\n",
    )
    run_id = runtui("submit", "-e", "ticker", tmp_path / "f" / "ticker.py", home=home).out.strip()
    result = runtui("logs", "-f", run_id[:-4], home=home)
    assert result.code == 0, result.err
    assert result.out.splitlines() == [f"tick {i}" for i in range(6)]
    assert open_store(home).get_run(run_id).status == RunStatus.COMPLETED


def test_logs_bad_input(home: Path) -> None:
    [interactive] = make_runs(home, [{"experiment": "nolog"}])
    assert_one_line_error(runtui("logs", interactive, home=home), 1, "has no output log: only submitted runs")
    assert_one_line_error(runtui("logs", "nope", home=home), 1, "no run with id or id prefix 'nope'")
    result = runtui("logs", "--file", "../../etc/passwd", interactive, home=home)
    assert_one_line_error(result, 2, "--file takes a file name in the run's logs folder")


def test_logs_other_file_and_missing_file(home: Path, tmp_path: Path) -> None:
    write_script(tmp_path / "s", "ok.py", "print('fine')\n")
    run_id = runtui("submit", "-e", "files", "--wait", tmp_path / "s" / "ok.py", home=home).out.splitlines()[0]
    result = runtui("logs", "--file", "nothing.log", run_id, home=home)
    assert_one_line_error(result, 1, "has no log file 'nothing.log'", "output.log")
    details = json.loads(runtui("show", "--json", run_id, home=home).out)
    assert "logs/output.log" in details["logFiles"]
    supervisor = runtui("logs", "--file", "supervisor.log", run_id, home=home)
    assert supervisor.code == 0, supervisor.err
    assert "supervisor[" in supervisor.out  # the supervisor's own log, next to logs/


def test_submit_wait_is_bounded_by_cancel(home: Path, tmp_path: Path) -> None:
    """`submit --wait` on a run canceled from elsewhere ends with exit code 1 and says so."""
    write_script(tmp_path / "w", "forever.py", "import time\nprint('start', flush=True)\ntime.sleep(120)\n")
    script = str(tmp_path / "w" / "forever.py")
    proc = subprocess.Popen(
        [sys.executable, "-m", "runtui", "--home", str(home), "submit", "-e", "w", "--wait", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        run_id = proc.stdout.readline().strip()
        wait_for(lambda: open_store(home).get_run(run_id).status == RunStatus.RUNNING, "the script to start")
        assert runtui("cancel", run_id, home=home).code == 0
        out, err = proc.communicate(timeout=WAIT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1
    assert "start" in out
    assert err.strip().endswith(f"run {run_id} ended Canceled")
