"""runtui's own exceptions. Every message is meant to be read by a person: it says what and why."""

from __future__ import annotations


class RuntuiError(Exception):
    """Base class of every error runtui raises on purpose."""


class ValidationError(RuntuiError, ValueError):
    """A name, key or value given by the user cannot be accepted."""


class NotFoundError(RuntuiError, LookupError):
    """An experiment, run or file that does not exist."""


class AmbiguousRunIdError(NotFoundError):
    """A run id prefix that matches several runs."""

    def __init__(self, prefix: str, candidates: list[str]) -> None:
        shown = ", ".join(candidates[:10]) + (" ..." if len(candidates) > 10 else "")
        super().__init__(f"run id prefix {prefix!r} is ambiguous; it matches {len(candidates)} runs: {shown}")
        self.prefix = prefix
        self.candidates = candidates


class InvalidTransitionError(RuntuiError):
    """A status change the status machine does not allow."""

    def __init__(self, run_id: str, current: str, requested: str) -> None:
        super().__init__(f"run {run_id} cannot go from status {current} to {requested}")
        self.run_id = run_id
        self.current = current
        self.requested = requested


class PropertyOverwriteError(RuntuiError):
    """Properties are insert-only: an existing key cannot be given another value."""

    def __init__(self, run_id: str, key: str, old: str, new: str) -> None:
        super().__init__(
            f"property {key!r} of run {run_id} is already {old!r}; properties are immutable, "
            f"so it cannot be set to {new!r} (use a tag for values that change)"
        )
        self.key = key
        self.old = old
        self.new = new


class StoreError(RuntuiError):
    """The store cannot be opened, read or written."""


class StoreVersionError(StoreError):
    """The store was written by a newer runtui."""


class FilterSyntaxError(ValidationError):
    """A filter expression that does not parse; names the position of the problem."""

    def __init__(self, text: str, position: int, message: str) -> None:
        super().__init__(f"invalid filter at position {position + 1}: {message} (in {text!r})")
        self.text = text
        self.position = position
        self.reason = message


class RunFailedError(RuntuiError):
    """`wait_for_completion(raise_on_error=True)` on a run that ended Failed."""


class ActivityFailedException(RunFailedError):
    """Azure ML's name for what `wait_for_completion` raises on a Failed run (`azureml.exceptions`), so that
    v1 code catching it works unchanged. `error_details` holds the run's error text."""

    def __init__(self, error_details: str, **_kwargs: object) -> None:
        super().__init__(f"Activity Failed:\n{error_details}")
        self.error_details = error_details


class SubmitError(RuntuiError):
    """A script run cannot be submitted (missing script, snapshot too large, ...)."""


class CancelTimeoutError(RuntuiError):
    """A cancel request was written but the run did not reach Canceled in time."""


class CancelNotStoppedError(CancelTimeoutError):
    """The run is Canceled, but a process of it still runs (it ignores SIGINT, caught the interrupt, or could not
    be signalled); the message names it, says why and what to do."""


class PermissionDeniedError(RuntuiError, PermissionError):
    """A process that belongs to another user cannot be signalled."""


class NotSupportedLocallyError(RuntuiError, NotImplementedError):
    """An Azure ML member that only has a meaning in the cloud (Key Vault, compute targets, the portal)."""

    def __init__(self, member: str, why: str | None = None) -> None:
        super().__init__(f"{member} has no local meaning in runtui" + (f": {why}" if why else ""))
        self.member = member
