"""The progress bar every long CLI command shows (on a terminal only; silent in pipes and CI)."""

from __future__ import annotations

import sys
from collections.abc import Callable

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)


def bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not sys.stderr.isatty(),
    )


def done_of(bar: Progress, task: TaskID) -> Callable[[int, int], None]:
    """The `progress(done, total)` callback a use case reports to, moving `task` of `bar`."""

    def advance(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return advance
