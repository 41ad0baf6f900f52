"""The workspace a command works on (from --home / --store / discovery) and how RUN arguments are resolved."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runtui.core.run import Run
    from runtui.core.workspace import Workspace
    from runtui.store.store import Store


def workspace(args: argparse.Namespace) -> Workspace:
    """The workspace named by the global options. The store is not opened until first used."""
    from runtui.core.workspace import Workspace

    return Workspace(path=getattr(args, "home", None), store_url=getattr(args, "store", None))


def resolve_runs(store: Store, refs: Sequence[str]) -> list[str]:
    """Full run ids for ids or unambiguous prefixes, all resolved before anything is changed.

    Raises NotFoundError / AmbiguousRunIdError (which names the candidates) for the first bad one.
    """
    from runtui.errors import ValidationError

    out: list[str] = []
    for ref in refs:
        if not ref.strip():
            raise ValidationError("a run id cannot be empty")
        full = store.resolve_run_id(ref)
        if full not in out:
            out.append(full)
    return out


def get_run(ws: Workspace, ref: str) -> Run:
    from runtui.core.run import Run

    [run_id] = resolve_runs(ws.store, [ref])
    return Run.get(ws, run_id)
