"""Submitting a script as a run: checks, the run's folder and snapshot, and a detached supervisor.

The supervisor is started in its own session (`start_new_session=True`) with stdin from /dev/null and then
forks once more, so it is nobody's child, has no controlling terminal and survives the SSH session that
submitted it. Settings per submit (see `spec.py`): `RUNTUI_CANCEL_GRACE` (seconds between SIGTERM and SIGKILL
on cancel, default 10), `RUNTUI_SAMPLE_INTERVAL` (seconds between system metric samples, default 5) and
`RUNTUI_LOG_STORE_MAX_BYTES` (how much of the log a shared store keeps per run, default 100M, 0 for none),
taken from the keyword arguments, else `environment_variables`, else the submitting process's environment.

This module also holds the functions the SDK's `Run` calls for submitted runs (re-exported from where they live).
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import runtui
from runtui.config import WorkspaceConfig
from runtui.errors import SubmitError, ValidationError
from runtui.execution.liveness import finalize_lost, owner_alive, sweep_lost_runs
from runtui.execution.run_output import details_with_logs, wait_for_completion
from runtui.execution.snapshot import (
    SNAPSHOT_FILE,
    WORKING_FOLDER,
    extract_working_copy,
    make_snapshot,
    new_snapshot_id,
    record_snapshot_id,
    restore_snapshot,
)
from runtui.execution.spec import (
    DEFAULT_GRACE_S,
    DEFAULT_HEARTBEAT_S,
    DEFAULT_LOG_STORE_MAX_BYTES,
    DEFAULT_SAMPLE_S,
    GRACE_ENV,
    LOG_FOLDER,
    LOG_STORE_MAX_ENV,
    SAMPLE_ENV,
    SPEC_FILE,
    SUPERVISOR_LOG,
    SupervisorSpec,
    bytes_setting,
    seconds_setting,
)
from runtui.identity import current_host, current_user
from runtui.ids import check_experiment_name, new_run_id
from runtui.status import RunStatus

if TYPE_CHECKING:
    from runtui.store import RunRecord, Store

__all__ = [
    "details_with_logs",
    "finalize_lost",
    "owner_alive",
    "restore_snapshot",
    "submit_run",
    "sweep_lost_runs",
    "wait_for_completion",
]

START_TIMEOUT_S = 30.0


def _check_strings(values: object, what: str) -> list[str]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise ValidationError(f"{what} must be a list of strings, not {type(values).__name__} ({values!r:.80})")
    out = []
    for i, v in enumerate(values):
        if not isinstance(v, str):
            raise ValidationError(f"{what}[{i}] is a {type(v).__name__} ({v!r:.80}); {what} must be strings")
        if "\0" in v:
            raise ValidationError(f"{what}[{i}] contains a NUL character")
        out.append(v)
    return out


def _check_env(env: Mapping[str, str]) -> dict[str, str]:
    if not isinstance(env, Mapping):
        raise ValidationError(f"environment_variables must be a dict of str -> str, not {type(env).__name__}")
    for k, v in env.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise ValidationError(f"environment variable {k!r}: names and values must be strings")
        if not k or "=" in k or "\0" in k or "\0" in v:
            raise ValidationError(f"invalid environment variable name or value: {k!r}")
    return dict(env)


def _check_duration(value: object) -> float | None:
    """Azure's max_run_duration_seconds: None, or a positive number of seconds."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise ValidationError(f"max_run_duration_seconds must be a positive number of seconds, not {value!r}")
    return float(value)


def _resolve_python(python: str | None) -> str:
    if python is None:
        return sys.executable
    if not isinstance(python, str) or not python:
        raise ValidationError(f"python must be the path or name of an interpreter, not {python!r}")
    found = shutil.which(python)
    if found is None:
        raise SubmitError(f"python interpreter {python!r} not found (not an executable file, nor on PATH)")
    return found


def build_command(
    source: Path, script: str, arguments: Sequence[str], python: str | None, run_in: Path | None = None
) -> list[str]:
    """The command line of the script, checked: it exists, and is either a .py file or executable.

    `run_in`: the working copy the script will run in (an executable script is named by its path there; its
    existence there is checked too: an ignore file may have left it out of the snapshot)."""
    if not isinstance(script, str) or not script:
        raise ValidationError(f"script must be a file name relative to source_directory, not {script!r}")
    path = (source / script).resolve()
    if not path.is_relative_to(source):
        raise SubmitError(f"script {script!r} is outside source_directory {source}; give a path inside it")
    if not path.exists():
        raise SubmitError(f"script {script!r} not found in source_directory {source}")
    if not path.is_file():
        raise SubmitError(f"script {script!r} in {source} is not a file")
    rel = str(path.relative_to(source))
    if run_in is not None and not (run_in / rel).is_file():
        raise SubmitError(
            f"script {script!r} is left out of the snapshot of {source} by an ignore file "
            f"(.amlignore/.gitignore/.runtuiignore); the run could not find it"
        )
    if path.suffix == ".py":
        return [_resolve_python(python), rel, *arguments]
    if os.access(path, os.X_OK):
        return [str((run_in or source) / rel), *arguments]
    raise SubmitError(
        f"script {script!r} is neither a Python file (.py) nor executable; make it executable (chmod +x) "
        f"or give a .py script"
    )


def _runtui_pythonpath(env: Mapping[str, str]) -> dict[str, str]:
    """PYTHONPATH additions so that the supervisor (and the script) can import this very runtui.

    Nothing when runtui is installed in site-packages: adding one environment's site-packages to another
    interpreter's path would mix packages. In a source checkout, the checkout's root is appended.
    """
    root = str(Path(runtui.__file__).resolve().parent.parent)
    installed = {str(Path(p).resolve()) for p in [*site.getsitepackages(), site.getusersitepackages()]}
    if root in installed:
        return {}
    current = env.get("PYTHONPATH", "")
    parts = [p for p in current.split(os.pathsep) if p]
    if root in parts:
        return {}
    return {"PYTHONPATH": os.pathsep.join([*parts, root])}


def _mkdir_private(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def submit_run(
    store: Store,
    ws: WorkspaceConfig,
    *,
    experiment: str,
    source_directory: Path,
    script: str | None,
    arguments: Sequence[str],
    environment_variables: Mapping[str, str],
    python: str | None,
    tags: Mapping[str, str | None],
    display_name: str | None,
    parent_id: str | None = None,
    grace_period: float | None = None,
    sample_interval: float | None = None,
    log_store_max_bytes: int | str | None = None,
    command: Sequence[str] | None = None,
    max_run_duration_seconds: float | None = None,
) -> RunRecord:
    """Create a Queued run for `script`, snapshot its folder, start its supervisor; returns the run at once."""
    from runtui.store import NewRun

    check_experiment_name(experiment)
    source = Path(source_directory).expanduser()
    if not source.exists():
        raise SubmitError(f"source_directory {source} does not exist")
    if not source.is_dir():
        raise SubmitError(f"source_directory {source} is not a folder")
    source = source.resolve()
    args = _check_strings(list(arguments) if isinstance(arguments, tuple) else arguments, "arguments")
    env = _check_env(environment_variables)
    # Azure's ScriptRunConfig(command=[...]) (core/script_run_config.py): the command instead of script + arguments.
    user_command: list[str] | None = None
    if command is not None:
        args = _check_strings(list(command), "command")
        user_command = [
            _resolve_python(python) if c in ("python", "python3") and i == 0 else c for i, c in enumerate(args)
        ]
    grace = seconds_setting(GRACE_ENV, grace_period, env, DEFAULT_GRACE_S)
    sample = seconds_setting(SAMPLE_ENV, sample_interval, env, DEFAULT_SAMPLE_S, minimum=0.1)
    log_cap = bytes_setting(LOG_STORE_MAX_ENV, log_store_max_bytes, env, DEFAULT_LOG_STORE_MAX_BYTES)
    max_duration = _check_duration(max_run_duration_seconds)
    if parent_id is not None:
        store.get_run(parent_id)  # NotFoundError names it

    run_id = new_run_id(experiment)
    run_dir = ws.run_dir(run_id)
    working = run_dir / WORKING_FOLDER
    _mkdir_private(ws.runs_dir)
    run_dir.mkdir(mode=0o700)
    try:
        _mkdir_private(run_dir / LOG_FOLDER)
        _mkdir_private(run_dir / "outputs")
        # The workspace may live inside the source folder (a project-local .runtui): never snapshot it.
        make_snapshot(source, run_dir / SNAPSHOT_FILE, exclude=[ws.home, ws.runs_dir])
        # The script runs in its own copy of the snapshot: concurrent runs of one folder cannot overwrite each
        # other's files, and what a run writes never reaches the user's folder (nor the next snapshot).
        extract_working_copy(run_dir / SNAPSHOT_FILE, working)
        # the script is checked in the working copy: an ignore file may have left it out of the snapshot
        argv = (
            user_command
            if user_command is not None
            else build_command(source, script or "", args, python, run_in=working)
        )
        (working / "outputs").mkdir(mode=0o700, exist_ok=True)  # as Azure ML: ./outputs exists when it starts
    except BaseException:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise

    snapshot_id = new_snapshot_id()
    [rec] = store.create_runs(
        [
            NewRun(
                id=run_id,
                experiment=experiment,
                status=RunStatus.QUEUED,
                parent_id=parent_id,
                display_name=display_name,
                kind="submitted",
                host=current_host(),
                user=current_user(),
                script=script,
                arguments=tuple(args),
                tags=tuple(tags.items()),
            )
        ]
    )
    record_snapshot_id(store, ws, run_id, snapshot_id)
    spec = SupervisorSpec(
        run_id=run_id,
        store_url=ws.store_url,
        home=str(ws.home),
        runs_dir=str(ws.runs_dir),
        command=argv,
        cwd=str(working),
        env=env,
        grace=grace,
        sample_interval=sample,
        heartbeat_interval=DEFAULT_HEARTBEAT_S,
        log_store_max_bytes=log_cap,
        max_run_duration_seconds=max_duration,
    )
    spec_path = run_dir / SPEC_FILE
    spec.write(spec_path)
    try:
        start_supervisor(spec_path)
    except SubmitError as exc:
        store.set_status(run_id, RunStatus.FAILED, error=str(exc), only_from=frozenset({RunStatus.QUEUED}))
        raise
    return rec


def start_supervisor(spec_path: Path) -> None:
    """Start `python -m runtui.execution.supervisor --spec PATH`, detached (own session, then a second fork).

    Returns once the supervisor has read its spec and detached; raises SubmitError if it could not.
    """
    run_dir = spec_path.parent
    env = dict(os.environ)
    env.update(_runtui_pythonpath(env))
    log_path = run_dir / SUPERVISOR_LOG
    fd = os.open(log_path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "runtui.execution.supervisor", "--spec", str(spec_path)],
            stdin=subprocess.DEVNULL,
            stdout=fd,
            stderr=fd,
            cwd=run_dir,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
    except OSError as exc:
        raise SubmitError(f"cannot start the supervisor: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    try:
        code = proc.wait(timeout=START_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        proc.kill()
        proc.wait()
        raise SubmitError(f"the supervisor did not start within {START_TIMEOUT_S:g} s (see {log_path})") from exc
    if code != 0:
        try:
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
        except OSError:
            tail = ""
        raise SubmitError(f"the supervisor failed to start (exit code {code}): {tail.strip() or 'no output'}")
