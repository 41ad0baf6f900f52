"""The command line's grammar: every subcommand, its options and its help. Only argparse here (fast `--help`).

Errors from argparse become one line on stderr and exit code 2, like every other usage error.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from runtui._version import __version__

USAGE_ERROR = 2

DESCRIPTION = """\
runtui: a local-first tracker and live terminal monitor for training runs.

Without a command, opens the live monitor (TUI) on the workspace.
RUN is a run id or an unambiguous prefix of one."""

EPILOG = """\
workspace: --home DIR, else $RUNTUI_HOME, else .runtui/config.json in this folder or a parent, else ~/.runtui.
  A workspace is created by `runtui init`, `runtui submit`, `runtui demo` or the SDK's first start_logging();
  other commands refuse a --home/--store that does not exist (the default ~/.runtui is created when first used).
store: --store URL (e.g. postgresql+psycopg://user@host/db), else $RUNTUI_STORE_URL, else the workspace's SQLite file.
exit codes: 0 success, 1 the operation failed, 2 usage error, 130 interrupted;
  `runtui logs -f` exits with the run's outcome: 0 Completed, 1 Failed, 3 Canceled."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `runtui: error: ...` and a pointer to `--help`, exit code 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"runtui: error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(USAGE_ERROR)


def key_value(text: str) -> tuple[str, str | None]:
    """`key=value` or a bare `key` (a key-only tag). The key is checked here, so a bad one is a usage error."""
    from runtui.errors import ValidationError
    from runtui.ids import check_key

    key, sep, value = text.partition("=")
    try:
        check_key(key, "tag key")
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(f"malformed tag {text!r}: {exc}") from None
    return key, (value if sep else None)


def tag_key(text: str) -> str:
    from runtui.errors import ValidationError
    from runtui.ids import check_key

    try:
        return check_key(text, "tag key")
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, not {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, not {text!r}")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, not {text!r}")
    return value


def _workspace_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    # Accepted before and after the command (`runtui --home X ls` and `runtui ls --home X`). In subcommands the
    # default is SUPPRESS, so an option given only before the command is not overwritten by the subparser.
    default = None if top else argparse.SUPPRESS
    group = parser.add_argument_group("workspace")
    group.add_argument("--home", metavar="DIR", default=default, help="the workspace folder (default: discovered)")
    group.add_argument("--store", metavar="URL", default=default, help="the store's SQLAlchemy URL")


class _TopHelp(argparse.RawDescriptionHelpFormatter):
    """The command list in one column: `experiment`, the longest command name, stays on its help's line."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=28)
        self._action_max_length = 18  # argparse widens the column only for options, not for subcommand names


def build_parser() -> Parser:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = Parser(
        prog="runtui",
        usage="runtui [-h] [--version] [--home DIR] [--store URL] [COMMAND [ARGS ...]]",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=_TopHelp,
    )
    parser.add_argument("--version", action="version", version=f"runtui {__version__}")
    _workspace_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser, prog="runtui")

    def command(
        name: str, help: str, description: str | None = None, usage: str | None = None
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=description or help, formatter_class=fmt, usage=usage)
        _workspace_options(p, top=False)
        return p

    command("ui", "open the live monitor (the default command)")

    p = command(
        "init",
        "create a workspace",
        "Create a workspace: the folder DIR (default: --home, else the discovered or default workspace) with its\n"
        "store. Commands that read runs (ls, show, logs, ...) refuse a --home or --store that does not exist\n"
        "instead of creating one there; `runtui init`, `runtui submit`, `runtui demo` and the SDK's first\n"
        "start_logging() create it. Prints the workspace folder; running it again changes nothing.",
    )
    p.add_argument("dir", nargs="?", metavar="DIR", help="the workspace folder to create (optional)")

    p = command(
        "ls",
        "list runs",
        "List runs, newest first: status, name, id, duration, headline metric (the first metric a run logged), "
        "tags.\nChild runs are indented under their parent (a sweep's trials in the order they ran); a child whose\n"
        "parent is not listed is marked '↳'. --flat lists every run newest first with a PARENT column instead.\n\n"
        "By default: every live run plus the most recent runs (--limit). --all lists every run.\n"
        "Runs of archived experiments are hidden unless --archived or --all is given, or --experiment (or an\n"
        "exp: filter term) names the experiment.\n"
        "FILTER uses the filter language, e.g. 'status:running tag:best', 'metric:loss<0.1 or exp:mnist'.",
    )
    p.add_argument("filter", nargs="?", metavar="FILTER", help="a filter expression (quote it for the shell)")
    p.add_argument("--experiment", "-e", metavar="NAME", help="only runs of this experiment")
    p.add_argument(
        "--all", "-a", action="store_true", help="every run (archived experiments' too), not only live and recent ones"
    )
    p.add_argument("--archived", action="store_true", help="also the runs of archived experiments (hidden by default)")
    p.add_argument(
        "--limit", type=positive_int, default=50, metavar="N", help="recent runs shown without --all (default 50)"
    )
    p.add_argument("--flat", action="store_true", help="newest first with a PARENT column, not as a tree")
    p.add_argument("--json", action="store_true", help="one JSON object per line (for scripts; with parentRunId)")

    p = command("show", "show a run's details", "Show a run's details, tags, properties, metrics and error.")
    p.add_argument("run", metavar="RUN")
    p.add_argument("--json", action="store_true", help="print the details as one JSON object")

    p = command(
        "logs",
        "print a run's log",
        "Print a run's output log. Terminal control sequences are removed (colours are kept on a terminal).",
    )
    p.add_argument("run", metavar="RUN")
    p.add_argument(
        "--follow",
        "-f",
        action="store_true",
        help="keep printing new output until the run ends, then exit with its outcome: 0 Completed, 1 Failed, "
        "3 Canceled (1 also when the log cannot be followed, e.g. a run of another workspace)",
    )
    p.add_argument("--file", metavar="NAME", help="which log file of the run (default: its main output log)")

    p = command(
        "submit",
        "run a script as a supervised run",
        "Submit SCRIPT as a run: its folder is snapshotted and a supervisor starts it in the background, so it\n"
        "survives the end of this terminal session. Options for runtui go BEFORE the script; everything after\n"
        "SCRIPT is passed to it. Prints the new run's id on stdout.",
        usage="runtui submit [-h] [--home DIR] [--store URL] [--experiment NAME] [--name NAME]\n"
        "                     [--tag KEY[=VALUE]] [--source-dir DIR] [--azureml-compat] [--wait]\n"
        "                     SCRIPT [ARGS ...]",
    )
    p.add_argument("--experiment", "-e", metavar="NAME", help="experiment name (default: the source folder's name)")
    p.add_argument("--name", metavar="NAME", help="display name of the run")
    p.add_argument(
        "--tag",
        "-t",
        action="append",
        type=key_value,
        default=[],
        metavar="KEY[=VALUE]",
        help="tag the run (repeatable)",
    )
    p.add_argument(
        "--source-dir", metavar="DIR", help="the folder to snapshot and run in (default: the script's folder)"
    )
    p.add_argument(
        "--azureml-compat",
        action="store_true",
        help="let the script's unchanged Azure ML v1 imports (`from azureml.core import Run`, azureml.core.run,\n"
        "azureml.core.model, azureml.exceptions, ...) resolve to runtui; never when the real azureml-core is\n"
        "installed where the script runs (then that one is used)",
    )
    p.add_argument("--wait", "-w", action="store_true", help="stream the output and wait; exit 1 unless Completed")
    p.add_argument("script", metavar="SCRIPT", help="the Python script to run")
    p.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS", help="arguments for the script")
    p._actions[-1].required = False  # argparse counts a REMAINDER positional as required; ARGS is optional

    p = command(
        "cancel",
        "cancel runs (and their unfinished child runs)",
        "Cancel runs and their unfinished descendants, then wait until they are Canceled. Exit 1 on timeout.",
    )
    p.add_argument("runs", nargs="+", metavar="RUN")
    p.add_argument("--timeout", type=positive_seconds, metavar="SECONDS", help="how long to wait (default 30)")
    p.add_argument("--no-wait", action="store_true", help="only request the cancel; do not wait")

    p = command("fail", "mark a run Failed", "Mark a run Failed (a Completed run too), with an optional reason.")
    p.add_argument("run", metavar="RUN")
    p.add_argument("--reason", metavar="TEXT", help="why (stored as the run's error)")

    p = command(
        "tag",
        "set or remove tags of a run",
        "Set tags (KEY=VALUE, or KEY alone for a key-only tag) and remove tags (--remove KEY).",
    )
    p.add_argument("run", metavar="RUN")
    p.add_argument("tags", nargs="*", type=key_value, metavar="KEY[=VALUE]")
    p.add_argument(
        "--remove", "-r", action="append", type=tag_key, default=[], metavar="KEY", help="remove a tag (repeatable)"
    )

    p = command(
        "demo",
        "start a demo workload and watch it",
        "Start a realistic demo workload (a hyper-parameter sweep with child runs, a failing run, a long run with\n"
        "a progress bar, tagged and property-carrying runs) as real submitted scripts, then open the monitor.\n"
        "Use --home to keep it out of your default workspace. It runs for about five minutes.",
    )
    p.add_argument("--no-ui", action="store_true", help="leave the workload running in the background and return")
    p.add_argument("--stop", action="store_true", help="cancel the demo runs that are still live, and return")

    p = command(
        "gc",
        "finalize runs whose owner process is gone",
        "Find live runs whose owner (supervisor or SDK process) is gone and mark them Failed ('owner process lost').",
    )
    p.add_argument("--dry-run", action="store_true", help="only list what would be finalized")

    p = command(
        "sync",
        "copy this workspace's runs into another store",
        "Copy the workspace's experiments, runs, tags, properties, metrics and artifact records into another store\n"
        "(typically a shared PostgreSQL one). Running it again copies only what changed since. Log files,\n"
        "snapshots and artifact files stay in the run folders on this host.",
    )
    p.add_argument(
        "--to", required=True, metavar="URL", help="the target store, e.g. postgresql+psycopg://user@host/db"
    )
    p.add_argument(
        "--from-home",
        metavar="DIR",
        help="copy the workspace in DIR (its own store, whatever $RUNTUI_STORE_URL says) instead of the current one",
    )

    p = command(
        "models",
        "list registered models",
        "The local model registry (run.register_model / Model.register).\n"
        "  runtui models [list] [NAME] [--tag KEY[=VALUE]] [--latest]   every version, newest first\n"
        "  runtui models show NAME[:VERSION]                            one version (default: the latest)",
    )
    p.add_argument("words", nargs="*", metavar="[list|show] NAME[:VERSION]", help="what to list or show")
    p.add_argument("--tag", action="append", type=key_value, default=[], metavar="KEY[=VALUE]", help="filter")
    p.add_argument("--latest", action="store_true", help="only each model's newest version")
    p.add_argument("--json", action="store_true", help="JSON (list: one object per line)")
    p = command(
        "experiment",
        "list, archive, reactivate or delete experiments",
        "Experiments, as Azure ML's Experiment.list/archive/reactivate/delete:\n"
        "  runtui experiment ls [--archived | --all] [--json]   active experiments (or archived ones, or all)\n"
        "  runtui experiment archive NAME                        hide it and its runs from `ls` and the monitor\n"
        "  runtui experiment reactivate NAME                     show it again\n"
        "  runtui experiment delete NAME [--yes]                 delete it, its runs and their files (asks first;\n"
        "                                                        refused while one of its runs is live)",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser, prog="runtui experiment")
    actions.required = True

    def action(name: str, help: str) -> argparse.ArgumentParser:
        a = actions.add_parser(name, help=help, description=help, formatter_class=fmt)
        _workspace_options(a, top=False)
        return a

    a = action("ls", "list experiments: name, state, runs (live), created, tags; active ones by default")
    view = a.add_mutually_exclusive_group()
    view.add_argument("--archived", action="store_true", help="only archived experiments (Azure's ArchivedOnly)")
    view.add_argument("--all", "-a", action="store_true", help="active and archived experiments (Azure's All)")
    a.add_argument("--json", action="store_true", help="one JSON object per line")
    for name, help in (
        ("archive", "archive an experiment: its runs stay, hidden from `runtui ls` unless asked"),
        ("reactivate", "make an archived experiment active again"),
    ):
        action(name, help).add_argument("name", metavar="NAME")
    a = action("delete", "delete an experiment, its runs and their files (cannot be undone)")
    a.add_argument("name", metavar="NAME")
    a.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")

    from runtui.cli.commands.importing import add_parser as add_import

    add_import(command)

    command("version", "print runtui's version")
    return parser
