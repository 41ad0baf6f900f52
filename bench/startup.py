"""Start-up costs, each in fresh interpreters: `import runtui` over a bare interpreter, and a whole
short-lived script (start_logging, one log, complete, exit), against MLflow doing the same."""

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


def loaded_modules(env: dict[str, str], cwd: str) -> list[str]:
    """Which of the UI modules and SQLAlchemy `import runtui` loads."""
    code = (
        "import sys, json, runtui; "
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

    script = scratch / "e2e.py"
    script.write_text(E2E_RUNTUI)
    e2e = _walls([sys.executable, str(script), str(scratch / "ws")], env, cwd, reps)
    wall = median(e2e)
    ml_wall = None
    if ctx.mlflow:
        ml_script = scratch / "e2e_mlflow.py"
        ml_script.write_text(E2E_MLFLOW)
        ml_wall = median(_walls([sys.executable, str(ml_script), str(scratch / "mlflow.db")], env, cwd, 3))
    rows.append(
        Row(
            key="e2e",
            what="fresh interpreter → start_logging, one log, complete, exit",
            value=wall,
            text=fmt_time(wall),
            target="<= 0.7 s wall",
            met=wall <= 0.7,
            comparisons=[Comparison("MLflow start_run, log_metric, end_run", ml_wall, fmt_time(ml_wall))]
            if ml_wall
            else [],
            ratio=f"MLflow {fmt_ratio(ml_wall / wall)} slower" if ml_wall else "",
            note=f"existing SQLite store; median of {reps} (the bare interpreter is {fmt_time(bare)} of it)",
            extra={"median_s": wall, "times": e2e, "mlflow_s": ml_wall},
        )
    )
    return rows
