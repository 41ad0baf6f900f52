"""What the TUI remembers between sessions, per workspace: the theme, the filter, live-only, the open experiments
and runs. Textual-free: a small JSON file beside the store (`<home>/tui.json`)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

FILE_NAME = "tui.json"


@dataclass
class TuiState:
    theme: str | None = None
    filter: str = ""
    live_only: bool = False
    open_keys: list[str] | None = None  # "exp:NAME" / "run:ID"; None: never saved (open the live ones)
    problem: str | None = field(default=None, compare=False)  # why the saved file was not used

    def save(self, home: Path) -> None:
        """Write atomically (a crash mid-write leaves the old file)."""
        data = asdict(self)
        data.pop("problem")
        path = home / FILE_NAME
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(tmp, path)


def load_state(home: Path) -> TuiState:
    """The saved state, or a fresh one (with `problem` saying why, when a file was there but unusable)."""
    path = home / FILE_NAME
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return TuiState()
    except (OSError, ValueError) as exc:
        return TuiState(problem=f"{path}: unreadable ({exc}); starting with defaults")
    if not isinstance(raw, dict):
        return TuiState(problem=f"{path}: not a JSON object; starting with defaults")
    keys = raw.get("open_keys")
    return TuiState(
        theme=raw["theme"] if isinstance(raw.get("theme"), str) else None,
        filter=raw["filter"] if isinstance(raw.get("filter"), str) else "",
        live_only=raw.get("live_only") is True,
        open_keys=[k for k in keys if isinstance(k, str)] if isinstance(keys, list) else None,
    )
