"""Start-up costs, each in fresh interpreters: `import runtui` over a bare interpreter, what the store's import
adds (SQLAlchemy, and SQLModel once the schema is SQLModel classes), and a whole short-lived script
(start_logging, one log, complete, exit), against MLflow and W&B offline doing the same.

Issue 12's budgets: `import runtui` < 150 ms and no store loaded; the whole script <= 0.45 s. The store import
row says where the rest of the script's time goes (the SDK imports the store on a background thread)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.common import Comparison, Context, Row, bench_env, fmt_ratio, fmt_time, median, python_argv, time_subprocess

UI_MODULES = ("textual", "rich", "watchfiles")

E2E_RUNTUI = """
import sys, runtui
ws = runtui.Workspace(sys.argv[1])
run = runtui.Experiment(workspace=ws, name="e2e").start_logging()
run.log("loss", 0.5)
run.complete()
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
        ml_imp = median(_walls(python_argv("import mlflow"), env, cwd, 3))
    cost = imp - bare
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
            what="import runtui (over a bare interpreter)",
            value=cost,
            text=fmt_time(cost),
            target="<= 150 ms, no UI modules",
            met=cost <= 0.150 and not ui,
            comparisons=[Comparison("import mlflow", ml_imp - bare, fmt_time(ml_imp - bare))] if ml_imp else [],
            ratio=f"MLflow {fmt_ratio((ml_imp - bare) / max(cost, 1e-6))} slower" if ml_imp else "",
            note=f"bare interpreter {fmt_time(bare)}; loaded by import runtui: {', '.join(loaded) or 'none of'} "
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
            note=f"loads {', '.join(store_loaded) or 'none'} (of sqlalchemy, sqlmodel, UI modules); the SDK imports "
            "it on a background thread at start_logging(); "
            + (
                ""
                if sqlmodel_imp is None
                else "sqlmodel is not imported by the store yet: the comparison is what SQLModel classes would add"
            ),
            extra={"store_import_s": store_imp, "loaded": store_loaded, "sqlmodel_import_s": sqlmodel_imp},
        )
    )

    script = scratch / "e2e.py"
    script.write_text(E2E_RUNTUI)
    e2e = _walls([sys.executable, str(script), str(scratch / "ws")], env, cwd, reps)
    wall = median(e2e)
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
            note=f"existing SQLite store; median of {reps} (the bare interpreter is {fmt_time(bare)} of it)",
            extra={"median_s": wall, "times": e2e, "mlflow_s": ml_wall, "wandb_s": wb_wall},
        )
    )
    return rows
