"""Runs one benchmark in its own interpreter (so imports, engines and memory of one never colour another).

python -m bench.worker NAME CONTEXT_JSON OUT_JSON
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path

from bench.common import Context, Row

# name -> "module:function"; each function takes a Context and returns rows of the table
BENCHMARKS: dict[str, str] = {
    "sqlite_write": "bench.write_path:bench_sqlite_write",
    "postgres_write": "bench.write_path:bench_postgres_write",
    "run_lifecycle": "bench.runs_api:bench_run_lifecycle",
    "fair_logging": "bench.fair:bench_fair_logging",
    "startup": "bench.startup:bench_startup",
    "query": "bench.runs_api:bench_query",
    "tui": "bench.tui:bench_tui",
    "cancel": "bench.cancel:bench_cancel",
}


def resolve(name: str) -> Callable[[Context], list[Row]]:
    module, func = BENCHMARKS[name].split(":")
    fn: Callable[[Context], list[Row]] = getattr(importlib.import_module(module), func)
    return fn


def main(argv: list[str]) -> int:
    name, ctx_path, out_path = argv
    rows = resolve(name)(Context.load(ctx_path))
    Path(out_path).write_text(json.dumps([r.to_json() for r in rows], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
