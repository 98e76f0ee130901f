"""The CLI's progress bar: drawn on a terminal, absent when the output is not one."""

from __future__ import annotations

import io

from rich.console import Console

from cli.progress_bar import progress_bar
from tasks.progress import tracked


def _night_of_chunks() -> None:
    for _ in tracked([list(range(10)), list(range(10)), list(range(9))], 29, "invoices_upload"):
        pass


def test_a_terminal_gets_a_bar_per_stage_with_rows_done_of_planned() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)

    with progress_bar(console):
        _night_of_chunks()

    assert "invoices upload" in screen.getvalue() and "29/29" in screen.getvalue()


def test_a_pipe_gets_no_bar_at_all() -> None:
    piped = io.StringIO()

    with progress_bar(Console(file=piped, force_terminal=False)):
        _night_of_chunks()

    assert piped.getvalue() == ""
