"""The change-feed follower (runtui/tui/feed.py) against a real SQLite store, without Textual: changes
arrive, rewinds replay, the throttle reads the first change at once and gathers the next ones, a paused
follower reads nothing and catches up on resume, and the watcher is closed when following stops."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from runtui.status import RunStatus
from runtui.store import NewRun, Store
from runtui.tui.data import FeedBatch, ViewFilter, read_feed
from runtui.tui.feed import FeedFollower
from runtui.watch import store_watcher

S = RunStatus
pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def until(predicate: Callable[[], object], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def follower(store: Store, batches: list[FeedBatch], **kwargs: object) -> FeedFollower[FeedBatch]:
    feed = FeedFollower[FeedBatch](
        lambda since: read_feed(store, since, ViewFilter(), 0),
        batches.append,
        watch=lambda: store_watcher(store.url),
        **kwargs,  # type: ignore[arg-type]
    )
    feed.rewind(store.current_revision())
    return feed


def seen(batches: list[FeedBatch], run_id: str) -> bool:
    return any(info.run.id == run_id for batch in batches for info in batch.runs)


def last_loss(batches: list[FeedBatch], run_id: str) -> object:
    for batch in reversed(batches):
        for info in batch.runs:
            if info.run.id == run_id and info.headline is not None:
                return info.headline[1]
    return None


async def test_changes_arrive_and_a_rewind_replays_them(ws_store: Store) -> None:
    batches: list[FeedBatch] = []
    feed = follower(ws_store, batches, min_interval=0.05)
    start = ws_store.current_revision()
    task = asyncio.create_task(feed.follow())
    try:
        ws_store.create_runs([NewRun(id="a", experiment="e", status=S.RUNNING)])
        await until(lambda: seen(batches, "a"), "run a")
        assert feed.revision is not None and feed.revision > start
        batches.clear()
        feed.rewind(start)  # a page read at `start` arrived: what changed since must be shown again
        await until(lambda: seen(batches, "a"), "run a replayed")
    finally:
        task.cancel()


async def test_the_first_change_is_read_at_once_and_the_next_ones_gathered(ws_store: Store) -> None:
    """Throttle with a trailing edge: after a quiet spell a change shows at once (not after the interval);
    changes right after a read wait for the interval's end and arrive in one read."""
    ws_store.create_runs([NewRun(id="r", experiment="e", status=S.RUNNING)])
    batches: list[FeedBatch] = []
    feed = follower(ws_store, batches, min_interval=1.5)
    task = asyncio.create_task(feed.follow())
    try:
        await until(lambda: feed.reads >= 1, "the first read")
        await asyncio.sleep(1.6)  # a quiet spell longer than the interval
        written = time.monotonic()
        ws_store.write_metrics([("r", "loss", 0, 0.5, None, "scalar", 1.0)])
        await until(lambda: last_loss(batches, "r") == 0.5, "the first value")
        assert time.monotonic() - written < 1.2  # leading edge: not held for the 1.5 s interval
        reads = feed.reads
        ws_store.write_metrics([("r", "loss", 1, 0.4, None, "scalar", 2.0)])
        ws_store.write_metrics([("r", "loss", 2, 0.3, None, "scalar", 3.0)])
        await until(lambda: last_loss(batches, "r") == 0.3, "the last value", timeout=10.0)
        assert feed.reads == reads + 1  # both in one read, at the interval's end (trailing edge)
    finally:
        task.cancel()


async def test_a_paused_follower_reads_nothing_then_catches_up(ws_store: Store) -> None:
    ws_store.create_runs([NewRun(id="r", experiment="e", status=S.RUNNING)])
    batches: list[FeedBatch] = []
    feed = follower(ws_store, batches, min_interval=0.05, poll_s=0.2)
    task = asyncio.create_task(feed.follow())
    try:
        await until(lambda: feed.reads >= 1, "the first read")
        feed.pause()
        await asyncio.sleep(0.3)  # a read already under way ends
        reads = feed.reads
        ws_store.write_metrics([("r", "loss", 0, 0.25, None, "scalar", 1.0)])
        await asyncio.sleep(1.0)  # five poll periods: a read now would be the bug
        assert feed.reads == reads and last_loss(batches, "r") is None
        feed.resume()
        await until(lambda: last_loss(batches, "r") == 0.25, "caught up")
    finally:
        task.cancel()


async def test_the_watcher_is_closed_when_following_stops(ws_store: Store) -> None:
    watchers: list[object] = []

    def watch() -> object:
        watcher = store_watcher(ws_store.url)
        watchers.append(watcher)
        return watcher

    feed = FeedFollower[FeedBatch](
        lambda since: read_feed(ws_store, since, ViewFilter(), 0), lambda b: None, watch=watch
    )
    task = asyncio.create_task(feed.follow())
    await until(lambda: watchers, "the watcher")
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert watchers[0].closed  # type: ignore[attr-defined]
