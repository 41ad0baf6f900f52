"""The TUI's actions on runs, through the SDK (`runtui.core`): the same code paths as the CLI and scripts.

Blocking (store writes, process checks): called from worker threads. Each returns the message to show;
failures raise `RuntuiError` (or OSError) and the caller shows them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from runtui.errors import ValidationError
from runtui.ids import check_key
from runtui.status import RunStatus

if TYPE_CHECKING:
    from runtui.config import WorkspaceConfig
    from runtui.core import Run, Workspace


def _workspace(config: WorkspaceConfig) -> Workspace:
    from runtui.core.workspace import Workspace

    return Workspace._from(config)


def _run(config: WorkspaceConfig, run_id: str) -> Run:
    from runtui.core.run import Run

    return Run.get(_workspace(config), run_id)


def why_not_cancel(status: RunStatus) -> str | None:
    """Why cancel does nothing for a run in `status` (None when it can be canceled)."""
    if status.is_terminal:
        return f"it already ended ({status.value}): there is nothing to cancel"
    if status == RunStatus.CANCEL_REQUESTED:
        return "a cancel was already requested: its owner is stopping it"
    return None


def why_not_fail(status: RunStatus) -> str | None:
    """Why fail does nothing for a run in `status` (a Completed run may still be marked Failed)."""
    if status == RunStatus.FAILED:
        return "it is already Failed"
    if status == RunStatus.CANCELED:
        return "it was Canceled: a canceled run cannot be marked Failed"
    return None


def cancel(config: WorkspaceConfig, run_id: str, progress: Callable[[str], None]) -> str:
    """Request the cancel (reported through `progress` at once), then wait for its real outcome: the message says
    whether the work stopped; a process that survived raises CancelNotStoppedError naming it."""
    from runtui.errors import CancelTimeoutError

    run = _run(config, run_id)
    if not run.cancel(wait=False):
        reason = why_not_cancel(run.record.status)
        return f"{run.name}: nothing to cancel ({reason or run.record.status.value})"
    progress(f"{run.name}: cancel requested; its owner is stopping it")
    try:
        run.wait_for_cancel()
    except CancelTimeoutError as exc:
        if type(exc) is not CancelTimeoutError:
            raise  # CancelNotStoppedError: the run is Canceled but its process goes on (the message says which)
        return f"{run.name}: still {run.record.status.value}: {exc}"
    # the run's own end may have won the race (Completed/Failed): say what it became
    return f"{run.name}: {run.record.status.value}, its work stopped"


def fail(config: WorkspaceConfig, run_id: str, reason: str) -> str:
    run = _run(config, run_id)
    run.fail(reason.strip() or "marked Failed from the runtui TUI")
    return f"{run.name}: marked Failed"


def parse_tag(text: str) -> tuple[str, str | None]:
    """`key=value` or `key` (a key-only tag). Raises ValidationError with a message for the user."""
    raw = text.strip()
    if not raw:
        raise ValidationError("type a tag as key=value, or just key")
    key, sep, value = raw.partition("=")
    key = key.strip()
    if not key:
        raise ValidationError("a tag needs a key before '=' (key=value)")
    check_key(key, "tag key")
    if sep and not value.strip():
        raise ValidationError(f"nothing after '=': type {key}=VALUE, or just {key} for a key-only tag")
    return key, (value.strip() if sep else None)


def tag(config: WorkspaceConfig, run_id: str, key: str, value: str | None) -> str:
    run = _run(config, run_id)
    run.tag(key, value)
    shown = key if value is None else f"{key}={value}"
    return f"{run.name}: tagged {shown}"


def remove_tag(config: WorkspaceConfig, run_id: str, key: str) -> str:
    run = _run(config, run_id)
    removed = run.remove_tags([key.strip()])
    if not removed:
        return f"{run.name}: has no tag {key.strip()!r}; nothing removed"
    return f"{run.name}: removed tag {key.strip()}"


def delete_experiment(config: WorkspaceConfig, name: str) -> str:
    """Delete experiment `name`, its runs and their folders (the SDK's `Experiment.delete`), unless a run of it
    is live (checked in the store now, not from what the tree showed)."""
    from runtui.core.experiment import Experiment
    from runtui.errors import RuntuiError
    from runtui.store.overview import experiment_counts

    ws = _workspace(config)
    counts = experiment_counts(ws.store, [name]).get(name)
    if counts is not None and counts.live:
        raise RuntuiError(f"{name} has {counts.live} live run{'s' if counts.live != 1 else ''}: cancel them first")
    Experiment.delete(ws, name)
    runs = counts.total if counts is not None else 0
    return f"deleted experiment {name} and its {runs} run{'s' if runs != 1 else ''}"
