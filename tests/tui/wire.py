"""Bytes on the wire in Pilot tests: what a real terminal would have been sent, frame by frame.

Headless Textual composes every frame but writes none of it; `WireCounter` renders each frame the app
displays to the escape sequences a terminal driver would write (Textual's own `render_segments`), so a
test can assert on repaint cost without tmux.
"""

from __future__ import annotations

from textual._compositor import CompositorUpdate
from textual.app import App
from textual.screen import Screen


class WireCounter:
    """Counts the bytes of every frame `app` displays from now on."""

    def __init__(self, app: App[object]) -> None:
        self.app = app
        self.frames: list[str] = []
        original = app._display

        def display(screen: Screen[object], renderable: object) -> None:
            if isinstance(renderable, CompositorUpdate):
                self.frames.append(renderable.render_segments(app.console))
            original(screen, renderable)  # type: ignore[arg-type]

        app._display = display  # type: ignore[method-assign]

    @property
    def bytes(self) -> int:
        return sum(len(frame.encode("utf-8")) for frame in self.frames)

    def reset(self) -> None:
        self.frames.clear()
