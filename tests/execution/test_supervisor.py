"""Submitted runs end to end at the execution layer: real supervisors, real scripts, real signals."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from exec_helpers import exists, read_identities, submit, wait_status, wait_terminal, wait_until, write_script

from runtui.config import WorkspaceConfig
from runtui.errors import RunFailedError
from runtui.execution.launch import details_with_logs, wait_for_completion
from runtui.execution.process_tree import ProcessIdentity, signal_process
from runtui.execution.spec import OUTPUT_LOG, SupervisorSpec
from runtui.status import RunStatus
from runtui.store import NewRun, Store

pytestmark = pytest.mark.timeout(180)

S = RunStatus

# A script with a tree below it: a plain child, a child in a new session (setsid), a child with a grandchild,
# and a double-forked daemon (its parent exits at once, it calls setsid). It writes all pids, then sleeps.
TREE_SCRIPT = """
import os, subprocess, sys, time
SLEEP = [sys.executable, "-c", "import time; time.sleep(600)"]
a = subprocess.Popen(SLEEP)
b = subprocess.Popen(SLEEP, start_new_session=True)
c = subprocess.Popen(
    [sys.executable, "-c",
     "import subprocess, sys, time\\n"
     "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\\n"
     "print(p.pid, flush=True)\\n"
     "time.sleep(600)"],
    stdout=subprocess.PIPE, text=True)
grandchild = int(c.stdout.readline())
r, w = os.pipe()
first = os.fork()
if first == 0:
    os.setsid()
    if os.fork() == 0:
        os.close(r)
        os.write(w, str(os.getpid()).encode())
        os.close(w)
        time.sleep(600)
    os._exit(0)
os.close(w)
os.waitpid(first, 0)
daemon = int(os.read(r, 64))
pids = [os.getpid(), a.pid, b.pid, c.pid, grandchild, daemon]
with open(sys.argv[1] + ".tmp", "w") as fh:
    fh.write("\\n".join(map(str, pids)))
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
print("tree up", flush=True)
time.sleep(600)
"""


def test_cancel_takes_down_the_whole_tree(store: Store, ws: WorkspaceConfig, src: Path, tmp_path: Path) -> None:
    script = write_script(src, TREE_SCRIPT)
    pids_file = tmp_path / "pids"
    rec = submit(store, ws, src, script, str(pids_file))
    idents = read_identities(pids_file, 6)
    wait_status(store, rec.id, S.RUNNING)
    daemon = idents[-1]
    assert daemon.is_alive()

    store.set_status(rec.id, S.CANCEL_REQUESTED)
    final = wait_terminal(store, rec.id)

    assert final.status == S.CANCELED
    assert final.error is None  # every process went on SIGTERM
    # The supervisor sets Canceled only once the tree is gone and reaped: not even a zombie is left.
    assert [i for i in idents if exists(i)] == []
    assert "tree up" in (ws.run_dir(rec.id) / "logs" / OUTPUT_LOG).read_text()
    assert "subreaper" not in (ws.run_dir(rec.id) / "supervisor.log").read_text()  # it did become one


IGNORING_SCRIPT = """
import os, signal, subprocess, sys, time
# SIG_IGN is inherited across exec, so the child ignores SIGTERM from its first instruction.
signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
def ignore(signum, frame):
    print("got SIGTERM, ignoring it", flush=True)
signal.signal(signal.SIGTERM, ignore)
with open(sys.argv[1] + ".tmp", "w") as fh:
    fh.write(f"{os.getpid()}\\n{child.pid}")
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    time.sleep(0.05)
"""


def test_a_script_ignoring_sigterm_is_killed_after_the_grace_period(
    store: Store, ws: WorkspaceConfig, src: Path, tmp_path: Path
) -> None:
    script = write_script(src, IGNORING_SCRIPT)
    pids_file = tmp_path / "pids"
    rec = submit(store, ws, src, script, str(pids_file), grace_period=1.0)
    idents = read_identities(pids_file, 2)
    wait_status(store, rec.id, S.RUNNING)

    store.set_status(rec.id, S.CANCEL_REQUESTED)
    final = wait_terminal(store, rec.id)

    assert final.status == S.CANCELED
    assert final.exit_code == -signal.SIGKILL  # SIGTERM first (ignored, see the log), then SIGKILL
    assert final.error is not None and "2 processes ignored SIGTERM" in final.error and "killed" in final.error
    assert "got SIGTERM, ignoring it" in (ws.run_dir(rec.id) / "logs" / OUTPUT_LOG).read_text()
    assert [i for i in idents if exists(i)] == []


@pytest.mark.parametrize(
    ("body", "status", "exit_code", "error_has"),
    [
        ("print('all good')", S.COMPLETED, 0, None),
        ("import sys\nprint('bad', file=sys.stderr)\nsys.exit(1)", S.FAILED, 1, "script exited with code 1"),
        ("raise ValueError('boom in training')", S.FAILED, 1, "ValueError: boom in training"),
        ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", S.FAILED, -9, "killed by signal SIGKILL"),
        ("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)", S.FAILED, -11, "killed by signal SIGSEGV"),
    ],
    ids=["exit0", "exit1", "traceback", "sigkill", "sigsegv"],
)
def test_exit_status_decides_the_final_status(
    store: Store,
    ws: WorkspaceConfig,
    src: Path,
    body: str,
    status: RunStatus,
    exit_code: int,
    error_has: str | None,
) -> None:
    rec = submit(store, ws, src, write_script(src, body))
    final = wait_terminal(store, rec.id)
    assert final.status == status, final.error
    assert final.exit_code == exit_code
    if error_has is None:
        assert final.error is None
    else:
        assert final.error is not None and error_has in final.error
    assert final.kind == "submitted" and final.pid is not None and final.owner_pid not in (None, final.pid)


def test_traceback_tail_is_the_error_and_the_log_has_both_streams(store: Store, ws: WorkspaceConfig, src: Path) -> None:
    body = """
    import sys
    print("epoch 1")
    def inner():
        raise RuntimeError("loss is nan")
    inner()
    """
    rec = submit(store, ws, src, write_script(src, body))
    final = wait_terminal(store, rec.id)
    assert final.error is not None
    assert final.error.startswith("script exited with code 1\nTraceback (most recent call last):")
    assert "RuntimeError: loss is nan" in final.error
    log = details_with_logs(ws, rec.id)["logs/output.log"]
    assert log.index("epoch 1") < log.index("Traceback")


def test_environment_cwd_and_arguments_of_the_script(store: Store, ws: WorkspaceConfig, src: Path) -> None:
    body = """
    import json, os, sys
    keys = ["RUNTUI_RUN_ID", "RUNTUI_STORE_URL", "RUNTUI_HOME", "RUNTUI_RUNS_DIR", "PYTHONUNBUFFERED", "MY_VAR"]
    print(json.dumps({"env": {k: os.environ.get(k) for k in keys}, "cwd": os.getcwd(), "argv": sys.argv[1:],
                      "stdin": sys.stdin.read()}))
    """
    rec = submit(
        store, ws, src, write_script(src, body), "--lr", "0.1", "two words", environment_variables={"MY_VAR": "x"}
    )
    assert wait_terminal(store, rec.id).status == S.COMPLETED
    import json

    out = json.loads(details_with_logs(ws, rec.id)["logs/output.log"])
    assert out["env"] == {
        "RUNTUI_RUN_ID": rec.id,
        "RUNTUI_STORE_URL": ws.store_url,
        "RUNTUI_HOME": str(ws.home),
        "RUNTUI_RUNS_DIR": str(ws.runs_dir),
        "PYTHONUNBUFFERED": "1",
        "MY_VAR": "x",
    }
    assert out["cwd"] == str(ws.run_dir(rec.id) / "working")  # the run's own copy of the snapshot, not src
    assert out["argv"] == ["--lr", "0.1", "two words"]
    assert out["stdin"] == ""  # /dev/null, never the submitter's terminal
    rec = store.get_run(rec.id)
    assert rec.script == "train.py" and rec.arguments == ("--lr", "0.1", "two words")


def test_an_executable_that_is_not_python_runs_directly(store: Store, ws: WorkspaceConfig, src: Path) -> None:
    path = src / "run.sh"
    path.write_text('#!/bin/sh\necho "shell says $1"\nexit 3\n')
    path.chmod(0o755)
    rec = submit(store, ws, src, "run.sh", "hi")
    final = wait_terminal(store, rec.id)
    assert final.status == S.FAILED and final.exit_code == 3
    assert "shell says hi" in details_with_logs(ws, rec.id)["logs/output.log"]


def test_wait_for_completion_streams_the_output(store: Store, ws: WorkspaceConfig, src: Path) -> None:
    body = """
    import time
    for i in range(5):
        print(f"line {i}")
        time.sleep(0.1)
    """
    rec = submit(store, ws, src, write_script(src, body))
    out = io.StringIO()
    final = wait_for_completion(store, ws, rec.id, show_output=True, timeout=60, out=out)
    assert final.status == S.COMPLETED
    assert out.getvalue() == "".join(f"line {i}\n" for i in range(5))


def test_wait_for_completion_to_stdout_and_raise_on_error(
    store: Store, ws: WorkspaceConfig, src: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = submit(store, ws, src, write_script(src, "print('about to fail')\nraise SystemExit(2)"))
    with pytest.raises(RunFailedError, match="ended Failed: script exited with code 2"):
        wait_for_completion(store, ws, rec.id, show_output=True, timeout=60)
    assert "about to fail" in capsys.readouterr().out
    final = wait_for_completion(store, ws, rec.id, raise_on_error=False, timeout=60)
    assert final.status == S.FAILED


def test_system_metrics_are_sampled(store: Store, ws: WorkspaceConfig, src: Path) -> None:
    body = """
    import subprocess, sys, time
    kid = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    t = time.time()
    while time.time() - t < 2.0:
        sum(range(10000))
    kid.kill()
    """
    rec = submit(store, ws, src, write_script(src, body), sample_interval=0.2)
    assert wait_terminal(store, rec.id).status == S.COMPLETED
    summaries = {m.name: m for m in store.get_summaries([rec.id])[rec.id]}
    assert {"sys/cpu_percent", "sys/rss_mb", "sys/threads", "sys/procs"} <= set(summaries)
    assert "sys/gpu_util" not in summaries  # no NVML here: no GPU metrics, and no error
    assert summaries["sys/procs"].max == 2  # the script and its child
    assert summaries["sys/rss_mb"].max is not None and summaries["sys/rss_mb"].max > 1
    assert summaries["sys/cpu_percent"].max is not None and summaries["sys/cpu_percent"].max > 0


def test_leftover_processes_are_stopped_when_the_script_exits(
    store: Store, ws: WorkspaceConfig, src: Path, tmp_path: Path
) -> None:
    body = """
    import os, subprocess, sys
    import psutil
    kid = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
    with open(sys.argv[1] + ".tmp", "w") as fh:
        fh.write(f"{kid.pid} {psutil.Process(kid.pid).create_time()!r}")
    os.replace(sys.argv[1] + ".tmp", sys.argv[1])
    """
    pids_file = tmp_path / "pids"
    rec = submit(store, ws, src, write_script(src, body), str(pids_file))
    final = wait_terminal(store, rec.id)
    assert final.status == S.COMPLETED
    pid, ctime = pids_file.read_text().split()
    kid = ProcessIdentity(int(pid), float(ctime))
    # The kid outlived the script; the supervisor stopped (and reaped) it before finalizing the run.
    assert not exists(kid)
    assert "left 1 processes running" in (ws.run_dir(rec.id) / "supervisor.log").read_text()


def test_supervisor_killed_leaves_a_run_that_is_swept_and_finalized(
    store: Store, ws: WorkspaceConfig, src: Path
) -> None:
    from runtui.execution.liveness import LOST_ERROR, finalize_lost, owner_alive, sweep_lost_runs

    rec = submit(store, ws, src, write_script(src, "import time\nprint('up', flush=True)\ntime.sleep(600)"))
    rec = wait_status(store, rec.id, S.RUNNING)
    assert rec.owner_pid is not None and rec.owner_create_time is not None
    assert owner_alive(rec) is True
    assert sweep_lost_runs(store) == []

    supervisor = ProcessIdentity(rec.owner_pid, rec.owner_create_time)
    script = ProcessIdentity(rec.pid, rec.pid_create_time)  # type: ignore[arg-type]
    assert signal_process(supervisor, signal.SIGKILL)
    wait_until(lambda: not supervisor.is_alive(), what="the supervisor to die")

    assert owner_alive(store.get_run(rec.id)) is False
    [swept] = sweep_lost_runs(store)
    assert swept.id == rec.id and swept.status == S.NOT_RESPONDING
    assert sweep_lost_runs(store) == []  # already marked

    assert script.is_alive()  # the orphaned script goes on until the run is finalized
    final, changed = finalize_lost(store, rec.id, grace=2.0)
    assert changed and final.status == S.FAILED
    assert final.error is not None and final.error.startswith(LOST_ERROR)
    assert "stopped" in final.error
    wait_until(lambda: not script.is_alive(), what="the orphaned script to stop")
    assert finalize_lost(store, rec.id) == (store.get_run(rec.id), False)  # a finished run: nothing to do


def test_supervisor_sigterm_stops_the_tree_and_cancels(
    store: Store, ws: WorkspaceConfig, src: Path, tmp_path: Path
) -> None:
    pids_file = tmp_path / "pids"
    rec = submit(store, ws, src, write_script(src, TREE_SCRIPT), str(pids_file))
    idents = read_identities(pids_file, 6)
    rec = wait_status(store, rec.id, S.RUNNING)
    assert signal_process(ProcessIdentity(rec.owner_pid, rec.owner_create_time), signal.SIGTERM)  # type: ignore[arg-type]
    final = wait_terminal(store, rec.id)
    assert final.status == S.CANCELED
    assert final.error is not None and "supervisor received SIGTERM" in final.error
    assert [i for i in idents if exists(i)] == []


def test_cancel_requested_before_the_supervisor_starts_never_runs_the_script(
    store: Store, ws: WorkspaceConfig, src: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    write_script(src, f"open({str(marker)!r}, 'w').close()")
    run_id = "exec_1_deadbeef"
    store.create_runs([NewRun(id=run_id, experiment="exec", status=S.QUEUED, kind="submitted")])
    store.set_status(run_id, S.CANCEL_REQUESTED)
    run_dir = ws.run_dir(run_id)
    (run_dir / "logs").mkdir(parents=True)
    spec = SupervisorSpec(
        run_id=run_id,
        store_url=ws.store_url,
        home=str(ws.home),
        runs_dir=str(ws.runs_dir),
        command=[sys.executable, "train.py"],
        cwd=str(src),
    )
    spec.write(run_dir / "supervisor.json")
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": root}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "runtui.execution.supervisor",
            "--spec",
            str(run_dir / "supervisor.json"),
            "--foreground",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert store.get_run(run_id).status == S.CANCELED
    assert not marker.exists()


def test_supervisor_refuses_an_unreadable_spec(tmp_path: Path) -> None:
    root = str(Path(__file__).resolve().parents[2])
    done = subprocess.run(
        [sys.executable, "-m", "runtui.execution.supervisor", "--spec", str(tmp_path / "missing.json")],
        env={**os.environ, "PYTHONPATH": root},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "cannot read the supervisor spec" in done.stderr


def test_details_with_logs_gives_the_tail_of_a_big_log(store: Store, ws: WorkspaceConfig, src: Path) -> None:
    body = """
    for i in range(20000):
        print(f"line {i:06d} " + "x" * 40)
    """
    rec = submit(store, ws, src, write_script(src, body))
    assert wait_terminal(store, rec.id).status == S.COMPLETED
    logs = details_with_logs(ws, rec.id)
    text = logs["logs/output.log"]
    assert text.startswith("[... ") and "bytes omitted" in text
    assert text.rstrip().endswith("line 019999 " + "x" * 40)
    assert "line 000000" not in text
    assert len(text) < 70_000


def test_the_run_survives_the_hang_up_of_the_session_that_submitted_it(
    store: Store, ws: WorkspaceConfig, src: Path
) -> None:
    """Like an SSH logout: the submitting process's session gets SIGHUP and its process group dies."""
    write_script(src, "import time\ntime.sleep(1.5)\nprint('still here', flush=True)")
    root = str(Path(__file__).resolve().parents[2])
    submitter = f"""
import sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from runtui import config
from runtui.store import open_store
from runtui.execution.launch import submit_run
ws = config.resolve(path={str(ws.home)!r}, store_url={ws.store_url!r})
rec = submit_run(open_store(ws.store_url), ws, experiment="hup", source_directory=Path({str(src)!r}),
                 script="train.py", arguments=[], environment_variables={{}}, python=None, tags={{}},
                 display_name=None)
print(rec.id, flush=True)
time.sleep(600)
"""
    proc = subprocess.Popen(
        [sys.executable, "-c", submitter],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # A terminal's session: SIGHUP has its default action, also when the tests run under `nohup ... &`.
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_DFL),
    )
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    os.killpg(proc.pid, signal.SIGHUP)  # the terminal hangs up on the session's process group
    assert proc.wait(timeout=30) == -signal.SIGHUP
    final = wait_terminal(store, run_id)
    assert final.status == S.COMPLETED, final.error
    assert "still here" in details_with_logs(ws, run_id)["logs/output.log"]


def test_a_store_error_at_the_scripts_end_never_replaces_its_outcome(pg_schema_url: str, tmp_path: Path) -> None:
    """The store refuses the supervisor's writes (a real PostgreSQL permission error) just as the script exits
    with 0. Before: the supervisor gave up at once and the run never got its real end ("supervisor error:
    StoreError..." when that write got through). Now: the final write is retried, and once the store takes
    writes again the run is Completed with exit code 0."""
    import secrets

    import psycopg
    from sqlalchemy.engine import make_url

    from runtui import config
    from runtui.store import open_store

    admin_url = make_url(pg_schema_url)
    schema = admin_url.query["options"].split("=", 1)[1]
    role = "rt_" + secrets.token_hex(5)
    dsn = admin_url.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    open_store(pg_schema_url)  # the tables, made by the admin
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
        admin.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
        admin.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA {schema} TO {role}")
        admin.execute(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA {schema} TO {role}")
    role_url = admin_url.set(username=role).render_as_string(hide_password=False)
    ws = config.resolve(path=tmp_path / "ws", store_url=role_url)
    store = open_store(role_url)
    src = tmp_path / "src"
    src.mkdir()
    go = tmp_path / "go"
    script = write_script(
        src,
        f"""
        import os, time
        while not os.path.exists({str(go)!r}):
            time.sleep(0.01)
        """,
    )
    try:
        rec = submit(store, ws, src, script)
        wait_status(store, rec.id, RunStatus.RUNNING)
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f"REVOKE UPDATE ON {schema}.run FROM {role}")
            go.touch()
            log = ws.run_dir(rec.id) / "supervisor.log"
            wait_until(
                lambda: log.exists() and "recording the script's end failed" in log.read_text(),
                what="the supervisor to hit the store error",
            )
            admin.execute(f"GRANT UPDATE ON {schema}.run TO {role}")
        end = wait_terminal(store, rec.id)
        assert end.status == RunStatus.COMPLETED, end.error
        assert end.exit_code == 0 and end.error is None
    finally:
        from process_cleanup import kill_leftover_processes

        from runtui.store.engine import dispose_engine

        kill_leftover_processes(open_store(pg_schema_url))
        dispose_engine(role_url)
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE {role}")
