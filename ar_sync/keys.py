"""How record keys (invoice_number, customer_ref) are cleaned and compared: one rule, two spellings.

An ERP user sees ``INV/2026-27/000001`` and ``inv/2026-27/000001`` as the same invoice, and cannot
see a zero-width space or a right-to-left mark that a copy-paste left in a cell. EnKash would store
them as different records, and a customer would be billed twice. So keys are compared on a
normalised form:

1. zero-width and bidi-control characters are removed, surrounding whitespace is trimmed: this
   *cleaned* text (case kept) is what EnKash receives;
2. the cleaned text is NFKC-normalised (full-width letters, U+FF21 onwards, are plain letters; a
   no-break space is a space), case-folded (``ß`` is ``ss``), NFKC-normalised again (folding can
   undo normal form) and trimmed again: this *key* is what two rows are compared on.

Each step exists twice: as a polars expression, so the loader runs it over millions of rows in one
plan, and as plain Python, for one-off look-ups. Polars has no case folding, and its lower-casing
follows Rust's Unicode tables, not Python's, so the expression folds with a table built from
Python's own ``str.casefold`` instead. The two agree on every code point that the running Python's
Unicode database knows (the tests check them all); they may differ only on characters assigned in
a later Unicode version than Python's (NFKC is polars' own), which no ERP key is made of.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import Final

import polars as pl

#: Invisible characters that only ever get into a key by accident (copy-paste from mail, PDFs, web).
ZERO_WIDTH: Final = (
    "\u00ad"  # soft hyphen
    "\u180e"  # Mongolian vowel separator
    "\u200b\u200c\u200d"  # zero-width space, non-joiner, joiner
    "\u2060\u2061\u2062\u2063\u2064"  # word joiner, invisible function/times/separator/plus
    "\ufeff"  # zero-width no-break space (a byte-order mark inside text)
)
#: Bidirectional controls: they reorder how text is shown, so ``ABC`` can display as ``CBA``.
BIDI_CONTROLS: Final = (
    "\u061c"  # Arabic letter mark
    "\u200e\u200f"  # left-to-right / right-to-left mark
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings, pop, overrides
    "\u2066\u2067\u2068\u2069"  # isolates
)
#: Characters with the Unicode White_Space property: the same set for polars and Python, whose own
#: defaults differ (Python also strips the ASCII separators U+001C..U+001F).
WHITESPACE: Final = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)

_INVISIBLE_CLASS: Final = "[" + ZERO_WIDTH + BIDI_CONTROLS + "]"
_BIDI_CLASS: Final = "[" + BIDI_CONTROLS + "]"
_INVISIBLE_TABLE: Final = dict.fromkeys(map(ord, ZERO_WIDTH + BIDI_CONTROLS))
_BIDI_TABLE: Final = dict.fromkeys(map(ord, BIDI_CONTROLS))


#: Code points past the first two planes have no case (CJK ideographs, tags, private use), so case
#: folding changes none of them (tests/input checks this against the whole range).
CASED_PLANES_END: Final = 0x20000


@cache
def _case_folding() -> dict[str, str]:
    """Every character that case folding changes -> its folding (about 1,500 entries).

    Built once per process from ``str.casefold`` (a scan of the two planes that have cased letters,
    ~0.03 s), so the expression folds exactly as this Python does.
    """
    table = {}
    for code in range(CASED_PLANES_END):
        if 0xD800 <= code <= 0xDFFF:  # surrogates cannot occur in a polars string
            continue
        char = chr(code)
        if (folded := char.casefold()) != char:
            table[char] = folded
    return table


def strip_bidi(text: str) -> str:
    """``text`` without bidi-control characters (what every text field sent to EnKash gets)."""
    return text.translate(_BIDI_TABLE)


def strip_bidi_expr(expr: pl.Expr) -> pl.Expr:
    """:func:`strip_bidi` as a polars expression over a String column."""
    return expr.str.replace_all(_BIDI_CLASS, "")


def clean_key(text: str | None) -> str | None:
    """A key as EnKash receives it: no zero-width or bidi characters, trimmed, case kept; None if empty.

    Example:
        >>> clean_key(" CUST\u200b00001 ")
        'CUST00001'
    """
    if text is None:
        return None
    cleaned = text.translate(_INVISIBLE_TABLE).strip(WHITESPACE)
    return cleaned or None


def _is_ascii(expr: pl.Expr) -> pl.Expr:
    """True for pure-ASCII text: it holds no invisible characters, NFKC leaves it alone, and its case
    folding is plain lower-casing, so the Unicode steps can be skipped for it (most ERP keys)."""
    return expr.str.len_bytes() == expr.str.len_chars()


def clean_key_expr(expr: pl.Expr) -> pl.Expr:
    """:func:`clean_key` as a polars expression over a String column."""
    ascii_text = _is_ascii(expr)
    other = pl.when(~ascii_text).then(expr)  # null on ASCII rows, which the string kernels skip
    cleaned = pl.when(ascii_text).then(expr).otherwise(other.str.replace_all(_INVISIBLE_CLASS, ""))
    return cleaned.str.strip_chars(WHITESPACE).replace("", None)


def normalise_key(text: str | None) -> str | None:
    """The form two keys are compared on (see the module docstring); None if nothing is left.

    Example:
        >>> normalise_key("INV/2026-27/000001") == normalise_key("\u200einv/2026-27/000001 ")
        True
    """
    cleaned = clean_key(text)
    if cleaned is None:
        return None
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", cleaned).casefold())
    return folded.strip(WHITESPACE) or None


def normalise_key_expr(expr: pl.Expr) -> pl.Expr:
    """:func:`normalise_key` as a polars expression over a String column."""
    ascii_text = _is_ascii(expr)
    other = clean_key_expr(pl.when(~ascii_text).then(expr))
    folded = (
        other.str.normalize("NFKC")
        .str.replace_many(_case_folding())
        .str.normalize("NFKC")
        .str.strip_chars(WHITESPACE)
    )
    plain = expr.str.strip_chars(WHITESPACE).str.to_lowercase()
    return pl.when(ascii_text).then(plain).otherwise(folded).replace("", None)


def show_invisible_expr(expr: pl.Expr) -> pl.Expr:
    """Text with each zero-width or bidi character written as ``<U+200B>``, for messages.

    Two keys that differ only by an invisible character look the same in a report; this makes the
    difference visible.
    """
    return expr.str.replace_many({char: f"<U+{ord(char):04X}>" for char in ZERO_WIDTH + BIDI_CONTROLS})
