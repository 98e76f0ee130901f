"""The CLI's progress bar: one bar per long stage (rows done of planned), on a terminal only.

The stages report their progress in this process (:func:`tasks.progress.listening`); the bar shows it
with rich, below the run's log lines. Output that is not a terminal (a pipe, a log file, CI) gets no
bar at all: its readers want the log lines and the summary, not redraws.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn


def stage_label(stage: str) -> str:
    """How a stage reads on its bar: ``invoices_upload`` as ``invoices upload``."""
    return stage.replace("_", " ")


@contextmanager
def progress_bar(console: Console) -> Iterator[None]:
    """Show the stages' progress on ``console``'s stream while the block runs, if it is a terminal."""
    if not console.is_terminal:
        yield
        return
    from tasks.progress import listening

    # Log lines are printed through this console too (see _logs_above): no markup, as Prefect's own.
    bar_console = Console(file=console.file, markup=False, soft_wrap=True)
    bars: dict[str, TaskID] = {}
    progress = Progress(
        TextColumn("{task.description:<20}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
        console=bar_console,
    )

    def show(stage: str, done: int, planned: int) -> None:
        if stage not in bars:
            bars[stage] = progress.add_task(stage_label(stage), total=planned)
        progress.update(bars[stage], completed=done, total=planned)

    with progress, _logs_above(bar_console), listening(show):
        yield


@contextmanager
def _logs_above(bar_console: Console) -> Iterator[None]:
    """Print Prefect's console log lines above the bar instead of through it.

    Prefect's console handler prints with a console of its own, straight to the terminal, which would
    tear a live bar apart; a console that draws the bar prints above it. Swapped back afterwards.
    """
    from prefect.logging.handlers import PrefectConsoleHandler

    handlers = [h for h in logging.getLogger().handlers if isinstance(h, PrefectConsoleHandler)]
    saved = [h.console for h in handlers]
    for handler in handlers:
        handler.console = bar_console
    try:
        yield
    finally:
        for handler, own in zip(handlers, saved, strict=True):
            handler.console = own
