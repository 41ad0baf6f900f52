"""A progress bar for long CLI operations (import, sync, gc): drawn on a terminal, silent in pipes and files.

UI-free on purpose (no Rich, no Textual): the CLI's long commands must not pay a UI import, and a script that pipes
their output must see only the final summary. Redraws are throttled so that a tight loop calling `advance` per
item costs a clock read, not a terminal write.
"""

from __future__ import annotations

import os
import sys
import time
from types import TracebackType
from typing import TextIO

REDRAW_S = 0.1
BAR_WIDTH = 24


def _human(n: float) -> str:
    for unit in ("", "k", "M", "G"):
        if abs(n) < 1000:
            return f"{n:.0f}{unit}" if unit == "" else f"{n:.1f}{unit}"
        n /= 1000
    return f"{n:.1f}T"


class Progress:
    """`with Progress("importing", total=n, unit="points") as bar: bar.advance(k)`.

    `total=None` draws a counter instead of a bar. `enabled=None` means: only when `stream` is a terminal and
    $TERM is not "dumb". The line is erased on exit, so the summary printed after it stands alone.
    """

    def __init__(
        self,
        label: str,
        total: int | None = None,
        *,
        unit: str = "",
        stream: TextIO | None = None,
        enabled: bool | None = None,
    ) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"
        self.enabled = enabled
        self.started = time.monotonic()
        self._drawn_at = 0.0
        self._drawn = False

    def __enter__(self) -> Progress:
        self.started = time.monotonic()
        self.draw(force=True)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def set_total(self, total: int | None) -> None:
        self.total = total
        self.draw(force=True)

    def set_label(self, label: str) -> None:
        self.label = label
        self.draw(force=True)

    def advance(self, n: int = 1) -> None:
        self.done += n
        self.draw()

    def render(self) -> str:
        """The line as drawn (without the carriage return); public for tests."""
        elapsed = max(self.elapsed, 1e-9)
        rate = self.done / elapsed
        unit = f" {self.unit}" if self.unit else ""
        if self.total:
            frac = min(1.0, self.done / self.total)
            filled = int(frac * BAR_WIDTH)
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            left = (self.total - self.done) / rate if rate > 0 and self.done < self.total else 0.0
            return (
                f"{self.label} [{bar}] {frac * 100:5.1f}% {_human(self.done)}/{_human(self.total)}{unit} "
                f"{_human(rate)}/s {left:4.0f}s left"
            )
        return f"{self.label} {_human(self.done)}{unit} {_human(rate)}/s"

    def draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._drawn_at < REDRAW_S:
            return
        self._drawn_at = now
        self.stream.write("\r\x1b[K" + self.render())
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self.enabled and self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = False
