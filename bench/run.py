"""`python -m bench`: run every benchmark, each in its own interpreter, print the table, write JSON.

    python -m bench [--quick] [--only NAME,...] [--no-mlflow] [--postgres URL] [--update-docs]

PostgreSQL rows use `--postgres URL`, else $RUNTUI_BENCH_POSTGRES_URL, else $RUNTUI_TEST_POSTGRES_URL;
each benchmark works in a private schema that it drops afterwards. Everything else lives in a temporary
folder (never the user's ~/.runtui), removed at the end unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.common import REPO, Context, Row, bench_env, mlflow_available
from bench.worker import BENCHMARKS

RESULTS = REPO / "bench" / "results" / "latest.json"
DOCS = REPO / "docs" / "performance.md"
START, END = "<!-- bench:table:start -->", "<!-- bench:table:end -->"
NEEDS_TREE_STORE = {"query", "tui"}
TIMEOUT_S = 600  # per benchmark: the peers (MLflow, W&B) are slow to import and to write


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gb() -> float | None:
    try:
        import psutil

        return round(psutil.virtual_memory().total / 2**30, 1)
    except Exception:
        return None


def _postgres_version(url: str | None) -> str | None:
    if not url:
        return None
    try:
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.connect() as conn:
            version = str(conn.execute(text("SHOW server_version")).scalar_one())
        engine.dispose()
        return version
    except Exception as exc:
        return f"unreachable ({type(exc).__name__})"


def machine(postgres_url: str | None) -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gb": _memory_gb(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": _postgres_version(postgres_url),
        "sqlalchemy": _version("SQLAlchemy"),
        "psycopg": _version("psycopg"),
        "textual": _version("textual"),
        "mlflow": _version("mlflow"),
        "wandb": _version("wandb"),
        "sqlmodel": _version("sqlmodel"),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def run_worker(name: str, ctx: Context, root: Path, timeout: float = TIMEOUT_S) -> tuple[list[dict[str, Any]], float]:
    """Run one benchmark in a fresh interpreter; a failure becomes a row that says so."""
    scratch = root / name
    scratch.mkdir(parents=True, exist_ok=True)
    ctx_file = root / f"{name}.ctx.json"
    out_file = root / f"{name}.out.json"
    ctx_file.write_text(json.dumps(asdict(Context(**{**asdict(ctx), "scratch": str(scratch)}))))
    env = bench_env(scratch / "home")
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "bench.worker", name, str(ctx_file), str(out_file)],
            env=env,
            cwd=scratch,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        failed = proc.returncode != 0
        detail = proc.stderr.strip().splitlines()[-1] if failed and proc.stderr.strip() else f"exit {proc.returncode}"
    except subprocess.TimeoutExpired:
        failed, detail = True, f"timed out after {timeout:.0f} s"
    elapsed = time.perf_counter() - t0
    if failed:
        if "proc" in locals():
            (root / f"{name}.stderr.txt").write_text(proc.stderr)
        error = Row(
            key=name, what=f"{name} (benchmark failed)", value=None, text="error", target="", met=None, note=detail
        )
        return [error.to_json()], elapsed
    rows: list[dict[str, Any]] = json.loads(out_file.read_text())
    return rows, elapsed


def build_tree_store(root: Path, quick: bool) -> tuple[str, dict[str, Any]]:
    home = root / "tree"
    experiments = 100 if quick else 1_000
    code = (
        "import json, sys; from pathlib import Path; from bench import fixtures; "
        f"print(json.dumps(fixtures.build_tree_store(Path(sys.argv[1]), experiments={experiments})))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(home)],
        env=bench_env(home),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=True,
    )
    return str(home), json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- the table


def _met(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "NO")


def _comparisons(row: dict[str, Any]) -> str:
    return "; ".join(f"{c['label']}: {c['text']}" for c in row["comparisons"])


def text_table(rows: list[dict[str, Any]]) -> str:
    cols = ("what", "runtui", "comparison", "ratio", "target", "met")
    widths = (44, 26, 52, 30, 30, 3)
    lines = []

    def emit(cells: tuple[str, ...]) -> None:
        wrapped = [textwrap.wrap(c, w) or [""] for c, w in zip(cells, widths, strict=True)]
        for i in range(max(len(w) for w in wrapped)):
            lines.append(
                "  ".join((w[i] if i < len(w) else "").ljust(width) for w, width in zip(wrapped, widths, strict=True))
            )

    emit(cols)
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        emit((r["what"], r["text"], _comparisons(r), r["ratio"], r["target"], _met(r["met"])))
    return "\n".join(lines)


def markdown_table(rows: list[dict[str, Any]]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    out = ["| what | runtui | comparison | ratio | target | met |", "|---|---|---|---|---|---|"]
    for r in rows:
        out.append(
            "| "
            + " | ".join(
                cell(x) for x in (r["what"], r["text"], _comparisons(r), r["ratio"], r["target"], _met(r["met"]))
            )
            + " |"
        )
    return "\n".join(out)


def machine_line(m: dict[str, Any]) -> str:
    pg = f", PostgreSQL {m['postgresql']}" if m.get("postgresql") else ""
    ml = f", MLflow {m['mlflow']}" if m.get("mlflow") else ""
    ml += f", W&B {m['wandb']}" if m.get("wandb") else ""
    return (
        f"{m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB RAM, {m['os']}; Python {m['python']}, "
        f"SQLite {m['sqlite']}{pg}, SQLAlchemy {m['sqlalchemy']}{ml}; "
        f"load average {m['load_average_at_start']} at start"
        + (f", {m['load_average_at_end']} at end" if m.get("load_average_at_end") else "")
    )


def update_docs(report: dict[str, Any]) -> None:
    text = DOCS.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"{DOCS} has no {START} ... {END} section to replace")
    body = (
        f"Measured {report['finished']} with `python -m bench` in {report['total_s']:.0f} s on: "
        f"{machine_line(report['machine'])}.\n\n{markdown_table(report['rows'])}\n"
    )
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    DOCS.write_text(f"{head}{START}\n{body}{END}{tail}")


# ---------------------------------------------------------------- main


SIZES = """\
sizes (full / --quick):
  sqlite_write                  durable points into one run: 300,000 x 3 / 100,000 x 2 (+ raw sqlite3, peers)
  postgres_write                durable points into PostgreSQL: 200,000 / 100,000
  run_lifecycle, fair_logging   runs created, logged and completed through the SDK: 200 / 50 repetitions, side
                                by side with MLflow (log_metric synchronous=False) and W&B offline if installed
  startup                       fresh interpreters: import runtui, the store's import, start_logging -> log ->
                                complete -> exit with its main-thread phases; median of 10 / 5
  query                         get_runs vs MLflow search_runs on 100,000 / 20,000 runs; `runtui ls --all
                                --json` over the tree store: 1,000 / 100 experiments x 100 runs
  tui                           TUI first paint on the same tree store
  cancel                        bench/cancel_latency.py: 20 rounds

standalone (not in this suite; each prints its sizes with --help):
  python -m bench.connections [--quick]        many boxes on one PostgreSQL: 1/50/200 runs on one box, 10 boxes
                                               sharing 200 runs, cross-host cancel p95, a cut of every connection
                                               (estimated ~11 GiB, 15-20 min) / --quick: 1,10 and 4 x 20
                                               runs (< 1 min)
  python bench/sqlite_fairness.py              16 writers x 15 s, busy handler vs fair queue (worst wait,
                                               throughput); small: --writers 8 --seconds 4
  python bench/cancel_loss.py                  20 cancels of a script logging every 2 ms; small: --tries 3
  python -m bench.notify_latency               50 status changes, LISTEN vs poll; small: --rounds 10
  python bench/mlflow_import.py                1,000,000 MLflow points imported; small: --points 100000
  python -m bench.cancel_latency               20 cancels of a 5-process tree; small: --runs 3
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__.split("\n\n")[0],
        epilog=SIZES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run, not figures to quote)")
    parser.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(BENCHMARKS)}")
    parser.add_argument("--no-mlflow", action="store_true", help="skip the MLflow comparisons")
    parser.add_argument("--postgres", default=None, help="PostgreSQL URL for the PostgreSQL rows")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"JSON results (default {RESULTS.relative_to(REPO)})")
    parser.add_argument("--update-docs", action="store_true", help="rewrite the table in docs/performance.md")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (to look at the stores)")
    ns = parser.parse_args(argv)

    names = [n for n in ns.only.split(",") if n] or list(BENCHMARKS)
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(sorted(unknown))}")
    pg = ns.postgres or os.environ.get("RUNTUI_BENCH_POSTGRES_URL") or os.environ.get("RUNTUI_TEST_POSTGRES_URL")
    use_mlflow = not ns.no_mlflow and mlflow_available()
    info = machine(pg)
    print(f"runtui benchmarks on {machine_line(info)}", flush=True)
    busy = info["load_average_at_start"][0]
    if info["cores"] and busy > 0.5 * info["cores"]:
        print(
            f"warning: the machine is busy (load {busy} on {info['cores']} cores): wall times will be slower than "
            "on a quiet machine; the load averages are recorded with the results",
            flush=True,
        )
    if not use_mlflow:
        print("MLflow comparisons skipped" + ("" if ns.no_mlflow else " (pip install -e '.[bench]' to add them)"))

    started = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="runtui-bench-"))
    rows: list[dict[str, Any]] = []
    timings: dict[str, float] = {}
    try:
        ctx = Context(
            scratch="",
            postgres_url=pg,
            mlflow=use_mlflow,
            big_store=None,
            big_home=None,
            mlflow_big=None,
            quick=ns.quick,
        )
        if NEEDS_TREE_STORE & set(names):
            t0 = time.perf_counter()
            home, built = build_tree_store(root, ns.quick)
            timings["build tree store"] = time.perf_counter() - t0
            ctx.big_home, ctx.big_store = home, built["url"]
            print(
                f"built the tree store: {built['runs']:,} runs in {built['experiments']:,} experiments "
                f"({built['build_s']:.1f} s)",
                flush=True,
            )
        for name in names:
            got, elapsed = run_worker(name, ctx, root)
            timings[name] = elapsed
            rows.extend(got)
            print(f"  {name}: {elapsed:.1f} s", flush=True)
    finally:
        if ns.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    info["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    total = time.perf_counter() - started
    report = {
        "finished": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "total_s": total,
        "quick": ns.quick,
        "machine": info,
        "seconds_per_benchmark": timings,
        "rows": rows,
    }
    print()
    print(text_table(rows))
    print(
        f"\n{len(rows)} rows in {total:.0f} s; {sum(r['met'] is True for r in rows)} targets met, "
        f"{sum(r['met'] is False for r in rows)} missed, {sum(r['met'] is None for r in rows)} not judged"
    )
    ns.out.parent.mkdir(parents=True, exist_ok=True)
    ns.out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {ns.out}")
    if ns.update_docs:
        update_docs(report)
        print(f"updated {DOCS}")
    return 0
