"""ScriptRunConfig: what to run for `Experiment.submit`. Validated when it is made, so mistakes show early."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from runtui.errors import ValidationError


@dataclass
class ScriptRunConfig:
    source_directory: str | os.PathLike[str] = "."
    script: str = "train.py"
    arguments: Sequence[str] = field(default_factory=list)
    environment_variables: Mapping[str, str] | None = None
    python: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.script, str) or not self.script:
            raise ValidationError("ScriptRunConfig.script must be a non-empty file name (e.g. 'train.py')")
        if isinstance(self.arguments, (str, bytes)):
            raise ValidationError("ScriptRunConfig.arguments must be a list of strings, not one string")
        args = list(self.arguments or [])
        for i, arg in enumerate(args):
            if not isinstance(arg, str):
                raise ValidationError(
                    f"ScriptRunConfig.arguments[{i}] is a {type(arg).__name__} ({arg!r}); arguments must be strings"
                )
        self.arguments = args
        env = dict(self.environment_variables or {})
        for k, v in env.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise ValidationError(f"environment variable {k!r}: names and values must be strings")
            if not k or "=" in k or "\0" in k or "\0" in v:
                raise ValidationError(f"invalid environment variable name or value: {k!r}")
        self.environment_variables = env

    @property
    def source_path(self) -> Path:
        return Path(self.source_directory).expanduser().resolve()
