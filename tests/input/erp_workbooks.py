"""ERP workbooks as a clerk's Excel writes them, for the input tests and the end-to-end night."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import xlsxwriter


def write_xlsx(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    """Write a one-sheet workbook: ``date`` cells as real date cells, ``str`` cells as text (even
    "46350" or "4053.14"), numbers as numbers, ``None`` as an empty cell."""
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    date_format = book.add_format({"num_format": "dd-mm-yyyy"})
    sheet.write_row(0, 0, header)
    for r, row in enumerate(rows, start=1):
        for c, cell in enumerate(row):
            if isinstance(cell, date):
                sheet.write_datetime(r, c, cell, date_format)
            elif isinstance(cell, str):
                sheet.write_string(r, c, cell)
            elif cell is not None:
                sheet.write_number(r, c, cell)  # type: ignore[arg-type]
    book.close()
    return path
