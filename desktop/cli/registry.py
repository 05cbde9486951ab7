"""The command registry: each area's CLI module registers its own top-level commands here.

    @command("residents", add_parser=add_residents_parser)
    def cmd_residents(args: argparse.Namespace) -> int: ...

`add_parser(commands)` adds the command's own sub-parser (with its actions) to argparse's
sub-parsers object; the decorated function runs it. `rank` orders `--help` (lower first,
then by name), so everyday commands come before the rarer ones. A command whose parser needs
the core (the kinds of the import registry …) gives its one-line `help`: its parser is then
built only when that command is run, so `--help` and the other commands start quickly.
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
    help: str | None = None  # given: the parser is built only when the command is run

    def add_to(self, commands, *, full: bool) -> None:  # commands: argparse._SubParsersAction
        """The command's parser, or (not `full`, for a lazily built one) a placeholder with its help."""
        if full or self.help is None:
            self.add_parser(commands)
        else:
            commands.add_parser(self.name, help=self.help, add_help=False)


COMMANDS: dict[str, CliCommand] = {}


def command(name: str, *, add_parser: AddParser, rank: int = 50,
            help: str | None = None) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of top-level command `name`."""

    def register(run: Handler) -> Handler:
        if name in COMMANDS and COMMANDS[name].run is not run:
            raise RuntimeError(f"command {name!r} is registered twice")
        COMMANDS[name] = CliCommand(name, add_parser, run, rank, help)
        return run

    return register


def ordered() -> list[CliCommand]:
    """The registered commands in the order `--help` lists them."""
    return sorted(COMMANDS.values(), key=lambda c: (c.rank, c.name))
