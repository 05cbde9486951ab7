"""The command line: `township-desk [--data-dir DIR] COMMAND`. Every command is a thin call into the core.

Each area's module in this package registers its own commands (desktop/cli/registry.py); this
module only finds the modules, builds the parser from what they registered, and runs one command.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence

from desktop import APP_TITLE, __version__
from desktop.cli.registry import COMMANDS, ordered
from desktop.cli.session import EXIT_FAILED, PASSWORD_ENV, close_opened, suggest_restore
from desktop.errors import DatabaseCorrupt, UserFacingError, ValidationError

__all__ = ["PASSWORD_ENV", "main"]

EXIT_BROKEN_PIPE = 141  # what a shell reports for a process ended by SIGPIPE
_HELPERS = frozenset({"registry", "session"})


def load_commands() -> None:
    """Import every module of this package (in name order) so each registers its commands."""
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module.name not in _HELPERS:
            importlib.import_module(f"{__name__}.{module.name}")


def _parser(chosen: str | None) -> argparse.ArgumentParser:
    """The parser with every command; only `chosen` (if any) has its lazily built parser in full."""
    parser = argparse.ArgumentParser(prog="township-desk", description=f"{APP_TITLE}（township-desk）")
    parser.add_argument("--version", action="version", version=f"township-desk {__version__}")
    parser.add_argument("--data-dir", help="数据目录（默认按系统规范；也可用环境变量 TOWNSHIP_DESK_DATA）")
    parser.add_argument("-v", "--verbose", action="store_true", help="在终端输出日志")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for each in ordered():
        each.add_to(commands, full=each.name == chosen)
    return parser


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Find the command first (placeholders for the lazily built ones), then parse with its full parser."""
    load_commands()
    chosen = _parser(None).parse_known_args(argv)[0].command
    return _parser(chosen).parse_args(argv)


def _report(error: UserFacingError, args: argparse.Namespace) -> None:
    if isinstance(error, ValidationError):
        for message in error.errors.values():
            print(f"错误：{message}", file=sys.stderr)
    else:
        print(f"错误：{error.message}", file=sys.stderr)
    if error.details and args.verbose:
        print(error.details, file=sys.stderr)
    if isinstance(error, DatabaseCorrupt) and args.command != "restore":
        suggest_restore(args)


def _quiet_after_broken_pipe() -> int:
    """The reader of our output went away (`... | head`): stop without a traceback."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # the interpreter's final flush must not fail again
    os.close(devnull)
    return EXIT_BROKEN_PIPE


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `township-desk` console script."""
    args = parse(argv)
    command = args.command or "gui"
    try:
        return COMMANDS[command].run(args)
    except UserFacingError as error:
        _report(error, args)
        return EXIT_FAILED
    except BrokenPipeError:
        return _quiet_after_broken_pipe()
    except KeyboardInterrupt:
        print("已取消。", file=sys.stderr)
        return 130
    finally:
        close_opened()
