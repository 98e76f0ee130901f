"""The ways an ERP export arrives broken, and what the user must read for each."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Broken:
    """One way an ERP export arrives broken: which file, how to break it, what the user must read."""

    entity: str
    name: str
    make: Callable[[str], bytes]
    fragments: tuple[str, ...]


def _latin1(text: str) -> bytes:
    lines = text.splitlines(keepends=True)
    lines[2] = lines[2].replace(",", ",Société ", 1)  # row 3, as a spreadsheet numbers it
    return "".join(lines).encode("latin-1")


def _without_column(column: str) -> Callable[[str], bytes]:
    def make(text: str) -> bytes:
        frame = pl.read_csv(text.encode(), infer_schema=False)
        return frame.drop(column).write_csv().encode()

    return make


def _with_headers(text: str, renames: dict[str, str]) -> str:
    header, rest = text.split("\n", 1)
    names = [renames.get(name, name) for name in header.split(",")]
    return ",".join(names) + "\n" + rest


def _renamed(old: str, new: str) -> Callable[[str], bytes]:
    return lambda text: _with_headers(text, {old: new}).encode()


def _ragged(text: str) -> bytes:
    return (
        text + "INV/EXTRA/1,CUST00001,2026-11-01,2026-11-30,100,,,,note,PO-1,true,surplus,fields\n"
    ).encode()


BROKEN = [
    Broken("customers", "latin1.csv", _latin1, ("is not UTF-8", "line 3", "re-export it as CSV UTF-8")),
    Broken("invoices", "utf16.csv", lambda t: t.encode("utf-16"), ("is UTF-16", "re-export it as CSV UTF-8")),
    Broken(
        "customers", "utf16le.csv", lambda t: t.encode("utf-16-le"), ("UTF-16", "without a byte-order mark")
    ),
    Broken(
        "customers",
        "no_mobile.csv",
        _without_column("mobile"),
        ("lacks required columns ['mobile']", "column mapping"),
    ),
    Broken(
        "customers",
        "renamed.csv",
        _renamed("customer_ref", "Cust Code"),
        ("lacks required columns ['customer_ref']", "'Cust Code'", "--customer-column", "customer_columns"),
    ),
    Broken(
        "invoices",
        "garbage.csv",
        lambda _: b"\x00" + random.Random(5).randbytes(4096),
        ("is not a text file", "export it again as CSV UTF-8"),
    ),
    Broken(
        "invoices",
        "garbage.xlsx",
        lambda _: random.Random(6).randbytes(2048),
        ("is not a readable XLSX file", "save it again"),
    ),
    Broken("invoices", "empty.csv", lambda _: b"", ("is empty (0 bytes)", "export again")),
    Broken(
        "customers",
        "header_only.csv",
        lambda t: t.split("\n", 1)[0].encode() + b"\n",
        ("has a header but no data rows", "export it again"),
    ),
    Broken(
        "invoices",
        "ragged.csv",
        _ragged,
        ("could not be parsed: row 202 has 13 fields where the header has 11",),
    ),
]
