"""The `runtui` command. `main()` parses, runs one command and turns runtui's errors into one line and an exit code.

Exit codes: 0 success; 1 the operation failed (unknown run, store unavailable, refused status change, cancel
timed out, a waited-for run did not complete); 2 usage error (bad arguments, malformed KEY=VALUE, invalid
filter, ambiguous run id prefix). Errors that are not runtui's own are bugs and keep their traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Sequence

from runtui.cli.parsing import USAGE_ERROR, build_parser

OK = 0
FAILED = 1
INTERRUPTED = 130

# command -> module in runtui.cli.commands holding `run(args) -> int` (imported only when used)
COMMANDS: dict[str, tuple[str, str]] = {
    "ui": ("maintenance", "ui"),
    "ls": ("listing", "run"),
    "show": ("details", "run"),
    "logs": ("logs", "run"),
    "submit": ("submit", "run"),
    "cancel": ("control", "cancel"),
    "fail": ("control", "fail"),
    "tag": ("control", "tag"),
    "demo": ("demo", "run"),
    "gc": ("maintenance", "gc"),
    "sync": ("sync", "run"),
    "models": ("models", "run"),
    "import": ("importing", "run"),
    "experiment": ("experiments", "run"),
    "version": ("maintenance", "version"),
    "init": ("maintenance", "init"),
}


def _handler(command: str) -> Callable[..., int]:
    module, name = COMMANDS[command]
    handler: Callable[..., int] = getattr(importlib.import_module(f"runtui.cli.commands.{module}"), name)
    return handler


def _error(message: str) -> None:
    first, *_rest = message.strip().splitlines() or [""]
    from runtui.cli.printing import safe

    sys.stderr.write(f"runtui: error: {safe(first)}\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command = args.command or "ui"
    from runtui.errors import AmbiguousRunIdError, RuntuiError, ValidationError

    try:
        from runtui.cli.session import check_options

        check_options(args)
        return _handler(command)(args)
    except (ValidationError, AmbiguousRunIdError) as exc:
        _error(str(exc))
        return USAGE_ERROR
    except RuntuiError as exc:
        _error(str(exc))
        return FAILED
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        return INTERRUPTED
    except BrokenPipeError:
        # `runtui ls | head`: the reader left. Point stdout at /dev/null so the exit flush stays quiet.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return FAILED


def entry() -> None:
    """For `python -m runtui`."""
    raise SystemExit(main())
