"""Cancel latency, measured by `bench/cancel_latency.py` (the supervisor's benchmark): CancelRequested
written → the run's SIGTERM-respecting 5-process tree gone."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from bench.common import Context, Row, fmt_time, unavailable

WHAT = "cancel → SIGTERM-respecting process tree gone"
TARGET = "<= 500 ms median"


def bench_cancel(ctx: Context) -> list[Row]:
    if importlib.util.find_spec("bench.cancel_latency") is None:
        return [unavailable("cancel", WHAT, TARGET)]
    from bench import cancel_latency

    rounds = 5 if ctx.quick else 10
    result = cancel_latency.measure(runs=rounds, folder=Path(ctx.scratch))
    gone = result["gone"]
    canceled = result["canceled"]
    sup = result.get("supervisor")
    note = f"{rounds} rounds; status Canceled visible after {fmt_time(canceled['median_s'])} median"
    if sup:
        note += f"; supervisor's own SIGTERM → reaped {fmt_time(sup['median_s'])} median"
    return [
        Row(
            key="cancel",
            what=WHAT,
            value=gone["median_s"],
            text=f"{fmt_time(gone['median_s'])} median, {fmt_time(gone['p90_s'])} p90",
            target=TARGET,
            met=gone["median_s"] <= 0.5,
            note=note + " (from CancelRequested written; a keypress adds the TUI's confirm and one store write)",
            extra={k: v for k, v in result.items() if not k.startswith("samples")},
        )
    ]
