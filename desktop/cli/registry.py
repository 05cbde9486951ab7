"""The command registry: each area's CLI module registers its own top-level commands here.

    @command("residents", add_parser=add_residents_parser)
    def cmd_residents(args: argparse.Namespace) -> int: ...

`add_parser(commands)` adds the command's own sub-parser (with its actions) to argparse's
sub-parsers object; the decorated function runs it. `rank` orders `--help` (lower first,
then by name), so everyday commands come before the rarer ones.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

Handler = Callable[[argparse.Namespace], int]
AddParser = Callable[[object], None]  # receives argparse's _SubParsersAction


@dataclass(frozen=True)
class CliCommand:
    """One top-level command: its name, how it adds its parser, how it runs."""

    name: str
    add_parser: AddParser
    run: Handler
    rank: int = 50


COMMANDS: dict[str, CliCommand] = {}


def command(name: str, *, add_parser: AddParser, rank: int = 50) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of top-level command `name`."""

    def register(run: Handler) -> Handler:
        if name in COMMANDS and COMMANDS[name].run is not run:
            raise RuntimeError(f"command {name!r} is registered twice")
        COMMANDS[name] = CliCommand(name, add_parser, run, rank)
        return run

    return register


def ordered() -> list[CliCommand]:
    """The registered commands in the order `--help` lists them."""
    return sorted(COMMANDS.values(), key=lambda c: (c.rank, c.name))
