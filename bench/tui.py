"""TUI benchmarks (placeholder until written against runtui.tui)."""

from __future__ import annotations

from bench.common import Context, Row, unavailable

TUI_ROWS = [
    ("tui_cold_start", "TUI cold start → first full paint, 100,000 runs", "<= 1.0 s"),
    (
        "tui_status_latency",
        "TUI: status change by another process → visible in the tree",
        "<= 150 ms median, <= 300 ms p95",
    ),
    ("tui_refresh_cost", "TUI refresh cost, 1k vs 100k runs", "grows with changes, not store size"),
    ("tui_rss", "TUI memory with 100,000 runs", "<= 250 MB RSS"),
    ("tui_log_open", "log pane: open a 1 GB log, show its tail", "<= 100 ms; memory independent of size"),
    ("tui_log_follow", "log pane: follow a log growing at 20 MB/s", "<= 0.5 s behind; UI responsive"),
    ("tui_metrics", "metrics view: 20 metrics × 50,000 steps, first chart", "<= 300 ms"),
]


def bench_tui(ctx: Context) -> list[Row]:
    return [unavailable(key, what, target) for key, what, target in TUI_ROWS]
