"""Disk trouble: a read-only store folder, a full disk under a training loop, a log folder deleted under a tail.

Real filesystems where the machine allows it: the tests run as root (which ignores permission bits), so a
read-only folder is a tmpfs mounted read-only (EROFS stops root too) and a full disk is a small tmpfs filled
with a ballast file. Where `mount` is not allowed the test is skipped with the reason. On PostgreSQL a full
disk is the server's own `disk_full` error (SQLSTATE 53100), raised by a trigger on the metric table.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_support import (
    METRIC_ROWS,
    ROOT,
    Terminal,
    integrity_ok,
    metrics_match_summaries,
    query,
    read_events_until,
    worker_env,
)

from runtui import Experiment, ScriptRunConfig, Workspace
from runtui.errors import StoreError
from runtui.status import RunStatus
from runtui.store import Store
from runtui.tui.logtail import LogTail

pytestmark = pytest.mark.reliability

WAIT_S = 60.0


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=False)


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A private 16 MB tmpfs (unmounted afterwards), or a skip naming why it cannot be had here."""
    where = tmp_path / "tmpfs"
    where.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; this suite uses real read-only and full filesystems")
    res = _mount("-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", str(where))
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({res.stderr.strip()}); read-only/full-disk tests need one")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _remount_ro(where: Path) -> None:
    res = _mount("-o", "remount,ro", str(where))
    assert res.returncode == 0, res.stderr


def _in_subprocess(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        env=worker_env(),
        cwd=str(ROOT),
        timeout=WAIT_S,
    )


def test_a_new_store_in_a_read_only_folder_is_a_clear_store_error(tmpfs: Path) -> None:
    _remount_ro(tmpfs)
    with pytest.raises(StoreError, match="cannot create the store") as err:
        Workspace(path=tmpfs / "ws").store  # noqa: B018 - opening is the point
    assert "Read-only file system" in str(err.value)
    # The SDK entry point a training script uses says the same, and nothing was written.
    with pytest.raises(StoreError):
        Experiment(Workspace(path=tmpfs), "exp")
    assert list(tmpfs.iterdir()) == []


def test_an_existing_store_on_a_folder_turned_read_only_is_a_clear_store_error(tmpfs: Path) -> None:
    made = _in_subprocess(
        """
        import sys
        from runtui import Experiment, Workspace
        with Experiment(Workspace(path=sys.argv[1]), "exp").start_logging() as run:
            run.log("loss", 1.0)
        """,
        str(tmpfs),
    )
    assert made.returncode == 0, made.stderr
    _remount_ro(tmpfs)
    with pytest.raises(StoreError, match="not writable"):
        Store(f"sqlite:///{tmpfs / 'runtui.db'}")
    cli = subprocess.run(
        [sys.executable, "-m", "runtui", "--home", str(tmpfs), "ls"],
        capture_output=True,
        text=True,
        env=worker_env(),
        cwd=str(ROOT),
        timeout=WAIT_S,
    )
    assert cli.returncode != 0
    assert "not writable" in cli.stderr and "Traceback" not in cli.stderr


def _fill(folder: Path) -> Path:
    """Write a ballast file until the filesystem is full; returns it (delete it to free the space)."""
    ballast = folder / "ballast"
    fd = os.open(ballast, os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        for size in (1 << 20, 1 << 16, 1 << 12, 512, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)
    return ballast


class _Logger:
    """The `full_disk` worker, with stderr in a file so that the test can watch it while the worker runs."""

    def __init__(self, tmp_path: Path, home: Path, url: str) -> None:
        self.go = tmp_path / "go"
        self.err_path = tmp_path / "logger.err"
        self.err = open(self.err_path, "w")  # noqa: SIM115 - closed in finish()
        args = {"home": str(home), "url": url, "go_file": str(self.go), "block": 200}
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests/reliability/reliability_worker.py"), "full_disk", json.dumps(args)],
            stdout=subprocess.PIPE,
            stderr=self.err,
            text=True,
            env=worker_env(),
            cwd=str(ROOT),
        )
        self.run_id: str = read_events_until(self.proc, lambda e: e["event"] == "started", WAIT_S)[0]["run_id"]

    def stderr(self) -> str:
        return self.err_path.read_text()

    def steps(self) -> int:
        return int(read_events_until(self.proc, lambda e: e["event"] == "step", WAIT_S)[-1]["points"])

    def wait_for_error(self) -> int:
        """Read progress until the worker has reported store trouble; returns the points logged by then."""
        deadline = time.monotonic() + WAIT_S
        while "could not write metrics" not in self.stderr():
            assert time.monotonic() < deadline, f"no store error reported; stderr: {self.stderr()[-2000:]}"
            self.steps()
        return self.steps()

    def finish(self) -> dict[str, object]:
        self.go.touch()
        done = read_events_until(self.proc, lambda e: e["event"] == "done", 180)[-1]
        self.proc.wait(WAIT_S)
        self.err.close()
        assert self.proc.returncode == 0, self.stderr()[-3000:]
        return done


def _check_all_points(url: str, run_id: str, points: int) -> None:
    [(count, distinct, max_step, total)] = query(
        url,
        "SELECT COUNT(*), COUNT(DISTINCT step), MAX(step), SUM(value) FROM " + METRIC_ROWS + " WHERE run_id = :r",
        r=run_id,
    )
    assert (count, distinct, max_step, total) == (points, points, points - 1, points * (points - 1) / 2)


@pytest.mark.timeout(300)
def test_a_full_disk_never_stops_training_and_logging_recovers_when_space_is_freed(tmpfs: Path, tmp_path: Path) -> None:
    home = tmpfs / "ws"
    url = f"sqlite:///{home / 'runtui.db'}"
    logger = _Logger(tmp_path, home, url)
    logger.steps()
    ballast = _fill(tmpfs)

    at_error = logger.wait_for_error()
    # Training goes on while the store cannot be written: log() queues, never raises.
    assert logger.steps() > at_error
    assert logger.steps() > at_error
    assert logger.proc.poll() is None

    ballast.unlink()
    done = logger.finish()
    assert done["flushed"] is True
    err = logger.stderr()
    assert "database or disk is full" in err
    assert "metric logging has recovered" in err
    assert "Traceback" not in err
    integrity_ok(url)
    metrics_match_summaries(url)
    _check_all_points(url, logger.run_id, int(done["points"]))  # type: ignore[call-overload]
    assert query(url, "SELECT status FROM run WHERE id = :r", r=logger.run_id) == [("Completed",)]


@pytest.mark.postgres
@pytest.mark.timeout(300)
def test_postgres_disk_full_never_stops_training_and_logging_recovers(tmp_path: Path, pg_schema_url: str) -> None:
    url = pg_schema_url
    Store(url)  # creates the tables
    schema = query(url, "SELECT current_schema()")[0][0]
    logger = _Logger(tmp_path, tmp_path / "ws", url)
    logger.steps()
    _run_ddl(
        url,
        f"""
        CREATE FUNCTION {schema}.no_space() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full';
        END $$;
        CREATE TRIGGER no_space BEFORE INSERT ON {schema}.metric_point
        FOR EACH STATEMENT EXECUTE FUNCTION {schema}.no_space();
        """,
    )
    at_error = logger.wait_for_error()
    assert logger.steps() > at_error
    assert logger.proc.poll() is None
    _run_ddl(url, f"DROP TRIGGER no_space ON {schema}.metric_point")
    done = logger.finish()
    assert done["flushed"] is True
    err = logger.stderr()
    assert "No space left on device" in err and "metric logging has recovered" in err
    metrics_match_summaries(url)
    _check_all_points(url, logger.run_id, int(done["points"]))  # type: ignore[call-overload]


def _run_ddl(url: str, sql: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(sql)
    finally:
        engine.dispose()


def test_a_deleted_log_folder_under_a_tail_and_a_running_script(store_url: str, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "train.py").write_text(
        textwrap.dedent(
            """
            import os, sys, time
            from runtui import Run
            run = Run.get_context()
            for i in range(400):
                print(f"line {i}", flush=True)
                run.log("step", float(i))
                time.sleep(0.01)
                if i == 100:
                    while os.path.exists(sys.argv[1]):
                        time.sleep(0.01)
            """
        )
    )
    hold = tmp_path / "hold"
    hold.touch()
    ws = Workspace(path=tmp_path / "ws", store_url=store_url)
    run = Experiment(ws, "logs").submit(ScriptRunConfig(source_directory=src, arguments=[str(hold)]))
    log = run.folder / "logs" / "output.log"
    tail = LogTail(log)
    deadline = time.monotonic() + WAIT_S
    lines: list[str] = []
    while not any(line == "line 100" for line in lines):
        assert time.monotonic() < deadline, lines[-5:]
        chunk = tail.poll() if log.exists() else None
        if chunk is not None:
            lines += chunk.lines
        time.sleep(0.02)

    shutil.rmtree(run.folder / "logs")
    hold.unlink()
    # The tail sees no file: nothing new, no exception; it goes on answering while the script runs.
    for _ in range(20):
        assert tail.poll() is None
        time.sleep(0.02)
    run.wait_for_completion(timeout=WAIT_S)
    assert run.get_status() == RunStatus.COMPLETED.value
    assert tail.poll() is None
    assert run.get_metrics()["step"] == [float(i) for i in range(400)]


@pytest.mark.timeout(180)
def test_the_tui_keeps_working_when_the_log_folder_it_tails_is_deleted(tmp_path: Path) -> None:
    pytest.importorskip("pyte")
    src = tmp_path / "src"
    src.mkdir()
    (src / "train.py").write_text(
        textwrap.dedent(
            """
            import os, sys, time
            i = 0
            while not os.path.exists(sys.argv[1]):
                print(f"tick {i}", flush=True)
                i += 1
                time.sleep(0.05)
            """
        )
    )
    stop = tmp_path / "stop"
    ws = Workspace(path=tmp_path / "ws")
    run = Experiment(ws, "tail").submit(ScriptRunConfig(source_directory=src, arguments=[str(stop)]))
    term = Terminal([sys.executable, "-m", "runtui", "--home", str(ws.path)], worker_env(TERM="xterm-256color"))
    try:
        term.wait_for(run.id)
        term.press_until("\x1b[B", "tick 20")  # select the run: details and the live log tail
        shutil.rmtree(run.folder / "logs")
        term.pump(2.0)
        # Still alive and still live: a tag set elsewhere shows up, keys still work, the run ends and shows it.
        run.tag("after", "delete")
        term.wait_for("after=delete")
        stop.touch()
        run.wait_for_completion(timeout=WAIT_S)
        term.wait_for("Completed")
        term.press("?", settle=1.0)
        term.wait_for("runtui help")
        term.press("\x1b", settle=0.5)
        assert term.proc.poll() is None
        assert "Traceback" not in term.text() and "Error" not in term.text()
        term.press("q", settle=1.0)
        term.pump(3.0)
        term.proc.wait(timeout=WAIT_S)
        assert term.proc.returncode == 0
    finally:
        term.close()
