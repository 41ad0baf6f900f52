"""The change-feed follower: what the main screen reads from the store's change feed, and when.

Textual-free (asyncio only), so it is tested against a real store without an app. It holds the revision the
next read starts from, takes rewinds (a page or a filter result read at an older revision: what changed since
must be replayed, even when the rewind arrives while a read is under way), waits for the store watcher (or
polls when there is none), throttles (the first change after a quiet spell is read at once, later ones at the
end of `min_interval`: a run logging 100 points a second costs four reads a second), holds still while its
screen is hidden (changes meanwhile are read in one go on return), and closes the watcher when it stops.

The screen runs `follow()` in one exclusive async worker; reads run in a thread; `apply` runs on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

FALLBACK_POLL_S = 2.0  # re-read the feed at least this often, even if no file event arrived
MIN_INTERVAL_S = 0.25  # at most four reads a second; the tree repaints metric values at most once a second
# (run_tree.VALUE_REPAINT_S) and a status change at once (its latency target is 150 ms median)
RETRY_S = 1.0  # after a failed read


class Batch(Protocol):
    """What a read returns: the changes between `since` and `revision`."""

    since: int
    revision: int


B = TypeVar("B", bound=Batch)


class FeedFollower(Generic[B]):
    """Reads changes with `read(since)` (blocking, run in a thread; None when nothing changed) and hands each
    batch to `apply` on the event loop.

    `current(batch)` says whether a batch still fits the view it was read for (a filter changed meanwhile: the
    changes are replayed for the new view). `watch()` opens the store watcher (blocking; None or an error:
    polling only). `on_error(exc)` hears of a failed read (it is retried), `on_ok()` of the next good one.
    """

    def __init__(
        self,
        read: Callable[[int], B | None],
        apply: Callable[[B], None],
        *,
        current: Callable[[B], bool] = lambda batch: True,
        watch: Callable[[], Any] | None = None,
        on_error: Callable[[BaseException], None] = lambda exc: None,
        on_ok: Callable[[], None] = lambda: None,
        on_no_watcher: Callable[[BaseException], None] = lambda exc: None,
        min_interval: float = MIN_INTERVAL_S,
        poll_s: float = FALLBACK_POLL_S,
    ) -> None:
        self._read = read
        self._apply = apply
        self._current = current
        self._watch = watch
        self._on_error = on_error
        self._on_ok = on_ok
        self._on_no_watcher = on_no_watcher
        self.min_interval = min_interval
        self.poll_s = poll_s
        self.revision: int | None = None  # where the next read starts (None: nothing to follow yet)
        self.reads = 0  # reads so far (tests and benchmarks look at it)
        self.failing = False
        self._reading = False
        self._rewind_during_read: int | None = None
        self._kick = asyncio.Event()
        self._visible = asyncio.Event()
        self._visible.set()

    # ------------------------------------------------------------------ from the screen (event loop)

    def rewind(self, revision: int) -> None:
        """Make the next read start at `revision` (or earlier), and read soon."""
        self.revision = revision if self.revision is None else min(self.revision, revision)
        if self._reading:
            old = self._rewind_during_read
            self._rewind_during_read = revision if old is None else min(old, revision)
        self._kick.set()

    def kick(self) -> None:
        """Read now, without the throttle's wait (after our own write, so its outcome shows at once)."""
        self._kick.set()

    def pause(self) -> None:
        """The screen is hidden: read nothing until `resume()`."""
        self._visible.clear()

    def resume(self) -> None:
        """The screen shows again: read what changed meanwhile, at once."""
        self._visible.set()
        self._kick.set()

    @property
    def paused(self) -> bool:
        return not self._visible.is_set()

    # ------------------------------------------------------------------ the loop

    async def follow(self) -> None:
        """Follow the feed until cancelled; the watcher is closed on the way out."""
        watcher = None
        subscription = None
        if self._watch is not None:
            try:
                watcher = await asyncio.to_thread(self._watch)
                subscription = watcher.subscribe() if watcher is not None else None
            except Exception as exc:  # no watcher: the fallback poll still finds every change
                self._on_no_watcher(exc)
        try:
            last_read = 0.0
            while True:
                kicked = await self._wait_for_change(subscription)
                pause = last_read + self.min_interval - time.monotonic()
                if not kicked and pause > 0:
                    # Changes by others are gathered for a moment; a kick (our own write) ends the wait.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._kick.wait(), pause)
                    self._kick.clear()
                if not self._visible.is_set():
                    await self._visible.wait()
                    self._kick.clear()
                last_read = time.monotonic()
                await self.read_once()
        finally:
            if watcher is not None:
                await asyncio.to_thread(watcher.close)

    async def read_once(self) -> B | None:
        """One read from `revision` and its batch applied (None when nothing changed or the read failed)."""
        if self.revision is None:
            return None
        since = self.revision
        self._reading = True
        self._rewind_during_read = None
        try:
            batch = await asyncio.to_thread(self._read, since)
        except Exception as exc:
            self._reading = False
            self.failing = True
            self._on_error(exc)
            await asyncio.sleep(RETRY_S)
            return None
        self._reading = False
        self.reads += 1
        if self.failing:
            self.failing = False
            self._on_ok()
        if batch is None:
            return None
        revision = batch.revision
        if self._rewind_during_read is not None:
            revision = min(revision, self._rewind_during_read)
        if not self._current(batch):
            revision = min(revision, batch.since)  # read for a view that changed meanwhile: replay for the new
        self.revision = revision
        self._apply(batch)
        return batch

    async def _wait_for_change(self, subscription: Any) -> bool:
        """Wait for a change; True when it was a kick (to be shown at once)."""
        if self._kick.is_set():
            self._kick.clear()
            return True
        waits: set[asyncio.Task[Any]] = {asyncio.ensure_future(self._kick.wait())}
        if subscription is not None:
            waits.add(asyncio.ensure_future(subscription.wait_async(self.poll_s)))
        else:
            waits.add(asyncio.ensure_future(asyncio.sleep(self.poll_s / 4)))
        try:
            await asyncio.wait(waits, timeout=self.poll_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
        kicked = self._kick.is_set()
        self._kick.clear()
        return kicked
