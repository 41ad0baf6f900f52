"""A full screen that hides the screen below it, and so ignores that screen's repaints.

Textual counts the screen just below the top one as visible whatever the top one's background (see
`App._background_screens`), and each time that screen changes it repaints the regions it changed on the top
screen. Under the `l`, `m` and compare views that is the main screen, whose tree and details change while a run
is live: every change went out as a repaint of the view on top (full frames at 4–23 a second, issue 15). An
opaque screen cannot show anything of what is below it, so those repaints are dropped here.
"""

from __future__ import annotations

from typing import Any, TypeVar

from textual.geometry import Region
from textual.screen import Screen

ResultType = TypeVar("ResultType")


class OpaqueScreen(Screen[ResultType]):
    """A screen whose background is opaque: repaints requested by the screen below it are ignored."""

    def refresh(self, *regions: Region, **kwargs: Any) -> Any:
        # Regions on a *screen* come only from a screen below it (widgets refresh themselves); a screen of its
        # own repaints with no regions, which still goes through.
        if regions and not kwargs and self.styles.background.a == 1 and self.app.screen is self:
            return self
        return super().refresh(*regions, **kwargs)
