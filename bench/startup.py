"""Start-up costs, each in fresh interpreters: `import runtui` (timed inside the interpreter), what the store's import
adds (SQLAlchemy, and SQLModel once the schema is SQLModel classes), and a whole short-lived script
(start_logging, one log, complete, exit), against MLflow and W&B offline doing the same.

Issue 12's budgets: `import runtui` < 150 ms and no store loaded; the whole script <= 0.45 s. The script reports
its phases (import runtui, Experiment() which opens the store, start_logging, first log, complete), so the rows
say where the main thread waits. Run alone: `python -m bench --only startup --quick --no-mlflow`."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from bench.common import Comparison, Context, Row, bench_env, fmt_ratio, fmt_time, median, python_argv, time_subprocess

UI_MODULES = ("textual", "rich", "watchfiles")

# Timestamps from the script's first line (the interpreter is up): where the main thread waits.
E2E_RUNTUI = """
import time
t0 = time.perf_counter()
import json, sys, runtui
t_import = time.perf_counter()
ws = runtui.Workspace(sys.argv[1])
exp = runtui.Experiment(workspace=ws, name="e2e")  # opens the store: its import happens here
t_exp = time.perf_counter()
run = exp.start_logging()
t_start = time.perf_counter()
run.log("loss", 0.5)
t_log = time.perf_counter()
run.complete()
t_done = time.perf_counter()
print(json.dumps({"import_runtui": t_import - t0, "experiment": t_exp - t_import, "start_logging": t_start - t_exp,
                  "import_to_first_log": t_log - t0, "complete": t_done - t_log}))
"""

E2E_WANDB = """
import os, sys
os.environ.update(WANDB_MODE="offline", WANDB_DIR=sys.argv[1], WANDB_SILENT="true", WANDB_DISABLE_GIT="true")
import wandb
run = wandb.init(project="e2e", mode="offline", dir=sys.argv[1])
run.log({"loss": 0.5})
run.finish()
"""

E2E_MLFLOW = """
import sys, mlflow
mlflow.set_tracking_uri("sqlite:///" + sys.argv[1])
mlflow.set_experiment("e2e")
with mlflow.start_run():
    mlflow.log_metric("loss", 0.5)
"""


def _phased(argv: list[str], env: dict[str, str], cwd: str, reps: int) -> tuple[list[float], list[dict[str, float]]]:
    """Wall times from spawn to exit, and the phases the script reports on stdout (one warm-up run dropped)."""
    walls, phases = [], []
    for i in range(reps + 1):
        t0 = time.perf_counter()
        proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=60)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"{argv!r} exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
        if i:
            walls.append(wall)
            phases.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return walls, phases


def _timed_import(module: str, env: dict[str, str], cwd: str, reps: int) -> list[float]:
    """`import module` timed inside fresh interpreters (after the interpreter's own start-up), one warm-up dropped."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = []
    for _ in range(reps + 1):
        proc = subprocess.run(python_argv(code), env=env, cwd=cwd, capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            raise RuntimeError(f"import {module} failed: {proc.stderr.strip()[-2000:]}")
        out.append(float(proc.stdout.strip().splitlines()[-1]))
    return out[1:]


def _walls(argv: list[str], env: dict[str, str], cwd: str, reps: int, warm: int = 1) -> list[float]:
    times = [time_subprocess(argv, env, cwd) for _ in range(reps + warm)]
    return times[warm:]


def loaded_modules(env: dict[str, str], cwd: str, statement: str = "import runtui") -> list[str]:
    """Which of the UI modules, SQLAlchemy and SQLModel `statement` loads."""
    code = (
        f"import sys, json; {statement}; "
        f"print(json.dumps(sorted(m for m in {(*UI_MODULES, 'sqlalchemy', 'sqlmodel')!r} if m in sys.modules)))"
    )
    out = subprocess.run(python_argv(code), env=env, cwd=cwd, capture_output=True, text=True, check=True).stdout
    loaded: list[str] = json.loads(out)
    return loaded


def bench_startup(ctx: Context) -> list[Row]:
    scratch = Path(ctx.scratch)
    env = bench_env(scratch / "home")
    cwd = str(scratch)
    reps = 5 if ctx.quick else 10
    bare = median(_walls(python_argv("pass"), env, cwd, reps))
    imp = median(_walls(python_argv("import runtui"), env, cwd, reps))
    loaded = loaded_modules(env, cwd)
    ml_imp = None
    if ctx.mlflow:
        ml_imp = median(_timed_import("mlflow", env, cwd, 3))
    # The import's own time, timed inside each fresh interpreter: the difference of two spawn-to-exit medians
    # (kept in the note) is within a few ms of noise and came out negative once.
    cost = median(_timed_import("runtui", env, cwd, reps))
    ui = [m for m in loaded if m in UI_MODULES]
    store_imp = median(_walls(python_argv("import runtui.store.store"), env, cwd, reps))
    store_loaded = loaded_modules(env, cwd, "import runtui.store.store")
    sqlmodel_imp = None
    if "sqlmodel" not in store_loaded:
        try:
            sqlmodel_imp = median(_walls(python_argv("import sqlmodel"), env, cwd, 3)) - bare
        except RuntimeError:
            sqlmodel_imp = None  # not installed
    rows = [
        Row(
            key="import",
            what="import runtui (timed in a fresh interpreter)",
            value=cost,
            text=fmt_time(cost),
            target="<= 150 ms, no UI modules",
            met=cost <= 0.150 and not ui,
            comparisons=[Comparison("import mlflow", ml_imp, fmt_time(ml_imp))] if ml_imp else [],
            ratio=f"MLflow {fmt_ratio(ml_imp / max(cost, 1e-6))} slower" if ml_imp else "",
            note=f"timed inside each fresh interpreter; spawn to exit {fmt_time(imp)} against a bare interpreter's "
            f"{fmt_time(bare)}; loaded by import runtui: {', '.join(loaded) or 'none of'} "
            f"(of {', '.join((*UI_MODULES, 'sqlalchemy', 'sqlmodel'))}); median of {reps}",
            extra={"bare_s": bare, "import_s": imp, "loaded": loaded, "mlflow_import_s": ml_imp},
        )
    ]

    rows.append(
        Row(
            key="store_import",
            what="import the store (runtui.store.store) over a bare interpreter",
            value=store_imp - bare,
            text=fmt_time(store_imp - bare),
            target="off the training thread",
            met=None,
            comparisons=[Comparison("import sqlmodel alone", sqlmodel_imp, fmt_time(sqlmodel_imp))]
            if sqlmodel_imp
            else [],
            note=f"loads {', '.join(store_loaded) or 'none'} (of sqlalchemy, sqlmodel, UI modules); the store is "
            "built on the SQLModel classes' tables, so a training process's first Experiment() pays for sqlmodel, "
            "pydantic and the ORM (the comparison is sqlmodel's import alone)",
            extra={"store_import_s": store_imp, "loaded": store_loaded, "sqlmodel_import_s": sqlmodel_imp},
        )
    )

    script = scratch / "e2e.py"
    script.write_text(E2E_RUNTUI)
    e2e, phases = _phased([sys.executable, str(script), str(scratch / "ws")], env, cwd, reps)
    wall = median(e2e)
    phase = {k: median([p[k] for p in phases]) for k in phases[0]}
    ml_wall = None
    if ctx.mlflow:
        ml_script = scratch / "e2e_mlflow.py"
        ml_script.write_text(E2E_MLFLOW)
        ml_wall = median(_walls([sys.executable, str(ml_script), str(scratch / "mlflow.db")], env, cwd, 3))
    wb_wall = None
    from bench.fair import wandb_available

    if wandb_available():
        wb_script = scratch / "e2e_wandb.py"
        wb_script.write_text(E2E_WANDB)
        wb_dir = scratch / "wandb-e2e"
        wb_dir.mkdir(exist_ok=True)
        try:
            wb_wall = median(_walls([sys.executable, str(wb_script), str(wb_dir)], env, cwd, 3))
        except (RuntimeError, OSError):
            wb_wall = None
    peers = []
    if ml_wall:
        peers.append(Comparison("MLflow start_run, log_metric, end_run", ml_wall, fmt_time(ml_wall)))
    if wb_wall:
        peers.append(Comparison("W&B offline init, log, finish", wb_wall, fmt_time(wb_wall)))
    rows.append(
        Row(
            key="e2e",
            what="fresh interpreter → start_logging, one log, complete, exit",
            value=wall,
            text=fmt_time(wall),
            target="<= 0.45 s wall",
            met=wall <= 0.45,
            comparisons=peers,
            ratio="; ".join(f"{c.label.split()[0]} {fmt_ratio((c.value or 0) / wall)} slower" for c in peers),
            note=f"existing SQLite store; median of {reps} (the bare interpreter is {fmt_time(bare)} of it); "
            f"import runtui {fmt_time(phase['import_runtui'])}, Experiment() (opens the store) "
            f"{fmt_time(phase['experiment'])}, start_logging {fmt_time(phase['start_logging'])}, complete "
            f"{fmt_time(phase['complete'])}",
            extra={"median_s": wall, "times": e2e, "phases": phase, "mlflow_s": ml_wall, "wandb_s": wb_wall},
        )
    )
    rows.append(
        Row(
            key="e2e_first_log",
            what="script start → first run.log() returned (main thread)",
            value=phase["import_to_first_log"],
            text=fmt_time(phase["import_to_first_log"]),
            target="store import no longer than v1's",
            met=None,
            note=f"of it: the store's import and open in Experiment() {fmt_time(phase['experiment'])} "
            f"(v1, before SQLModel: SQLAlchemy Core only), start_logging {fmt_time(phase['start_logging'])} "
            "on the main thread; median of the same runs",
            extra={"phases": phase},
        )
    )
    return rows
