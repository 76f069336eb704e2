"""What several command groups use: an argument type, and exit status 2 for a refusal."""

from __future__ import annotations

import argparse
import functools
from collections.abc import Awaitable, Callable
from datetime import date

from rich.console import Console

from adapters.runtime.bootstrap import Runtime
from domain.errors import DomainError, InvalidValue
from domain.values import DATE_EXAMPLE, iso_day


def day(text: str) -> date:
    """argparse type: a date in ISO 8601, as `--as-of 2026-11-21`."""
    try:
        return iso_day(text, "date")
    except InvalidValue:
        raise argparse.ArgumentTypeError(f"a date such as {DATE_EXAMPLE}") from None


Command = Callable[[Runtime, argparse.Namespace], Awaitable[int]]


def refusal_exits_2(command: Command) -> Command:
    """A command that prints a refusal of the domain (Chinese first) and exits 2, instead of
    failing with a traceback."""

    @functools.wraps(command)
    async def run(rt: Runtime, args: argparse.Namespace) -> int:
        try:
            return await command(rt, args)
        except DomainError as error:
            Console().print(f"[red]error:[/red] {error.zh} ({error.message})")
            return 2

    return run
