"""Keys: invoice numbers and customer refs that a clerk sees as equal are one record, everywhere."""

from __future__ import annotations

import sys
import unicodedata

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ar_sync.keys import (
    BIDI_CONTROLS,
    CASED_PLANES_END,
    ZERO_WIDTH,
    clean_key,
    clean_key_expr,
    normalise_key,
    normalise_key_expr,
    show_invisible_expr,
    strip_bidi,
    strip_bidi_expr,
)


def polars_keys(values: list[str | None]) -> list[str | None]:
    return pl.select(normalise_key_expr(pl.lit(pl.Series(values, dtype=pl.String)))).to_series().to_list()


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("INV/2026-27/000001", "inv/2026-27/000001"),
        ("CUST00001", "CUST\u200b00001"),
        ("CUST00001", "\u200eCUST00001\u202c"),
        ("CUST00001", "  CUST00001\u00a0"),
        ("INV-1", "\uff29\uff2e\uff36-1"),  # full-width letters, as some Asian-locale keyboards type them
        ("STRASSE-1", "straße-1"),
    ],
)
def test_keys_a_clerk_sees_as_equal_compare_equal(a: str, b: str) -> None:
    assert normalise_key(a) == normalise_key(b)
    assert polars_keys([a, b])[0] == polars_keys([a, b])[1]


@pytest.mark.parametrize(("a", "b"), [("INV-1", "INV-01"), ("INV 1", "INV1"), ("C1", "C-1")])
def test_different_keys_stay_different(a: str, b: str) -> None:
    assert normalise_key(a) != normalise_key(b)


def test_cleaned_key_keeps_case_and_loses_only_invisible_characters_and_outer_spaces() -> None:
    raw = " \u202aINV/2026-27/\u200b000001\u202c "
    assert clean_key(raw) == "INV/2026-27/000001"
    assert pl.select(clean_key_expr(pl.lit(raw))).item() == "INV/2026-27/000001"
    assert clean_key("\u200b \u200e") is None
    assert normalise_key("\u200b") is None
    assert polars_keys(["\u200b", None]) == [None, None]


def test_bidi_controls_go_but_indic_joiners_stay_in_ordinary_text() -> None:
    # ZWJ/ZWNJ shape Devanagari and Malayalam words: text fields keep them, only keys drop them.
    name = "\u202eक्\u200dष Traders"
    assert strip_bidi(name) == "क्\u200dष Traders"
    assert pl.select(strip_bidi_expr(pl.lit(name))).item() == "क्\u200dष Traders"


def test_invisible_characters_are_shown_in_messages() -> None:
    assert pl.select(show_invisible_expr(pl.lit("CUST\u200b01"))).item() == "CUST<U+200B>01"


def test_python_and_polars_agree_on_every_code_point_python_knows() -> None:
    # Code points assigned after this Python's Unicode version may be normalised differently by
    # polars (its tables are newer); no ERP key is made of them, so they are left out on purpose.
    chars = [
        chr(code)
        for code in range(sys.maxunicode + 1)
        if not 0xD800 <= code <= 0xDFFF and unicodedata.category(chr(code)) != "Cn"
    ]
    words = [f"{c}x{c}" for c in chars]
    expected = [normalise_key(word) for word in words]
    got = polars_keys(words)
    assert [w for w, g, e in zip(words, got, expected, strict=True) if g != e] == []


_INTERESTING = st.sampled_from(
    list(ZERO_WIDTH + BIDI_CONTROLS) + list("ßẞΣσςİıﬁＡａ\u00a0\u3000 /-İǅ") + ["\u0130", "\u1e9e"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_INTERESTING, st.characters(exclude_categories=["Cs", "Cn"])), max_size=12))
def test_python_and_polars_agree_on_random_keys(parts: list[str]) -> None:
    text = "".join(parts)
    assert polars_keys([text]) == [normalise_key(text)]
    assert pl.select(clean_key_expr(pl.lit(text))).item() == clean_key(text)


def test_case_folding_changes_no_character_past_the_planes_the_table_scans() -> None:
    # The expression's folding table scans only the first two planes: nothing beyond them has case.
    changed = [
        hex(code)
        for code in range(CASED_PLANES_END, sys.maxunicode + 1)
        if not 0xD800 <= code <= 0xDFFF and chr(code).casefold() != chr(code)
    ]
    assert changed == []
