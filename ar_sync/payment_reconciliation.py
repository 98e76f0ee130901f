"""Invoices whose payment state differs between the ERP export and EnKash: listed, never acted on.

The ERP's invoice export may say what it already knows was paid (optional ``amount_paid`` and
``status`` columns, :mod:`ar_sync.erp_fields`). The cycle does not change either side because of a
difference (which side is right needs a person: a cheque booked in the ERP only, a payments file not
imported yet, a typo), it lists them so that a clerk can act:

- **paid in the ERP, open in EnKash**: the ERP says paid (``status`` paid, or ``amount_paid`` at least
  the invoice total) while EnKash still shows a balance: the customer keeps getting reminders and a
  live payment link for money already paid;
- **paid in EnKash, open in the ERP**: EnKash shows it paid in full, with every rupee already in an
  earlier night's payments file, while the ERP still says unpaid or part-paid: that file was not
  imported, or the ERP booked it elsewhere;
- **amounts differ**: the ERP's ``amount_paid`` is not what EnKash had received as of the earlier
  exports: money booked on one side only, or a payment the ERP booked by hand that tonight's payments
  file carries too (importing its line would book it twice).

Tonight's own payments are in transit (the ERP exported its file before tonight's payments file
existed), so the ERP is compared with EnKash *before* tonight's lines: a payment exported tonight is
never a mismatch.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

import polars as pl

from ar_sync.payments import paise

_OPEN: Final = ("UNPAID", "PARTIALLY_PAID")


class MismatchKind(StrEnum):
    """How the ERP and EnKash disagree about an invoice's payment."""

    PAID_IN_ERP_OPEN_IN_ENKASH = "paid_in_erp_open_in_enkash"
    PAID_IN_ENKASH_OPEN_IN_ERP = "paid_in_enkash_open_in_erp"
    AMOUNTS_DIFFER = "amounts_differ"


#: What a clerk should do about each kind.
WHAT_TO_DO: Final = {
    MismatchKind.PAID_IN_ERP_OPEN_IN_ENKASH: (
        "EnKash still collects it (reminders, payment link): if the customer paid outside EnKash, record "
        "the payment on the EnKash portal; if not, correct the ERP"
    ),
    MismatchKind.PAID_IN_ENKASH_OPEN_IN_ERP: (
        "EnKash received it in full on an earlier night: import that night's payments file into the ERP "
        "(or book the payment there)"
    ),
    MismatchKind.AMOUNTS_DIFFER: (
        "the ERP and EnKash disagree on the amount paid: find the payment booked on one side only (if the "
        "ERP booked tonight's payment by hand, do not import its line of tonight's payments file)"
    ),
}
MISMATCH_SCHEMA: Final = pl.Schema(
    {
        "invoice_number": pl.String(),
        "customer_ref": pl.String(),
        "enkash_invoice_id": pl.String(),
        "kind": pl.String(),
        "erp_status": pl.String(),
        "erp_amount_paid": pl.Float64(),
        "enkash_status": pl.String(),
        "enkash_received": pl.Float64(),
        "enkash_balance": pl.Float64(),
        "what_to_do": pl.String(),
    }
)


def _erp_state(total: pl.Expr) -> pl.Expr:
    """What the ERP says: its ``status``, else what ``amount_paid`` against the total means, else null."""
    paid = pl.col("erp_paid_paise")
    by_amount = (
        pl.when(paid.is_null())
        .then(pl.lit(None, pl.String))
        .when(paid >= total)
        .then(pl.lit("paid"))
        .when(paid > 0)
        .then(pl.lit("partially_paid"))
        .otherwise(pl.lit("unpaid"))
    )
    return pl.coalesce(pl.col("status").cast(pl.String), by_amount)


def payment_mismatches(
    erp_invoices: pl.DataFrame | pl.LazyFrame, keepers: pl.DataFrame, tonight: pl.DataFrame
) -> pl.DataFrame:
    """ERP invoices whose payment state EnKash contradicts (:data:`MISMATCH_SCHEMA`), by invoice number.

    Args:
        erp_invoices: the validated ERP invoices (invoice_number, customer_ref, base_amount, cgst, sgst,
            igst, and the optional amount_paid, status), or a plan reading them; rows with neither say
            nothing and are skipped (only the others are collected).
        keepers: EnKash's invoices, one per invoice number (``convergence.invoice_twins(...).keepers``).
        tonight: tonight's payment lines (``payments.LINE_SCHEMA``): money the ERP cannot know yet.
    """
    columns = erp_invoices.lazy().collect_schema().names()
    if "amount_paid" not in columns or "status" not in columns:
        return pl.DataFrame(schema=MISMATCH_SCHEMA)
    amounts = [pl.col(c).cast(pl.Float64).fill_null(0.0) for c in ("base_amount", "cgst", "sgst", "igst")]
    erp = erp_invoices.lazy().select(
        "invoice_number",
        "customer_ref",
        "status",
        ((pl.sum_horizontal(amounts) * 100).round(0).cast(pl.Int64)).alias("erp_total_paise"),
        pl.when(pl.col("amount_paid").is_not_null())
        .then((pl.col("amount_paid").cast(pl.Float64) * 100).round(0).cast(pl.Int64))
        .alias("erp_paid_paise"),
    )
    # The ERP rows that say something about payment, first: EnKash's invoices are read for those alone
    # (an export that fills neither column on most rows is not matched against every invoice held).
    # On the streaming engine: a piece of the rows at a time, not every ERP invoice's columns at once.
    erp_said = erp.filter(pl.col("status").is_not_null() | pl.col("erp_paid_paise").is_not_null()).collect(
        engine="streaming"
    )
    if erp_said.is_empty():
        return pl.DataFrame(schema=MISMATCH_SCHEMA)
    in_transit = tonight.lazy().group_by("invoice_id").agg(pl.col("amount_paise").sum().alias("transit"))
    enkash = (
        keepers.lazy()
        .join(
            erp_said.lazy().select("invoice_number"),
            left_on="externalId",
            right_on="invoice_number",
            how="semi",
        )
        .select(
            pl.col("externalId").alias("invoice_number"),
            pl.col("invoiceId").alias("invoice_id"),
            pl.col("receivableStatus").alias("enkash_status"),
            paise("totalReceived").alias("received_paise"),
            paise("balanceAmount").alias("balance_paise"),
        )
        .join(in_transit, on="invoice_id", how="left")
        .with_columns((pl.col("received_paise") - pl.col("transit").fill_null(0)).alias("known_paise"))
    )
    erp_state = _erp_state(pl.col("erp_total_paise"))
    open_in_enkash = pl.col("enkash_status").is_in(_OPEN) & (pl.col("balance_paise") > 0)
    paid_before_tonight = (pl.col("enkash_status") == "PAID") & (pl.col("transit").fill_null(0) == 0)
    kind = (
        pl.when((erp_state == "paid") & open_in_enkash)
        .then(pl.lit(str(MismatchKind.PAID_IN_ERP_OPEN_IN_ENKASH)))
        .when(erp_state.is_in(["unpaid", "partially_paid"]) & paid_before_tonight)
        .then(pl.lit(str(MismatchKind.PAID_IN_ENKASH_OPEN_IN_ERP)))
        .when(pl.col("erp_paid_paise").is_not_null() & (pl.col("erp_paid_paise") != pl.col("known_paise")))
        .then(pl.lit(str(MismatchKind.AMOUNTS_DIFFER)))
    )
    return (
        erp_said.lazy()
        .join(enkash, on="invoice_number", how="inner")
        .with_columns(kind.alias("kind"), erp_state.alias("erp_status"))
        .filter(pl.col("kind").is_not_null())
        .select(
            "invoice_number",
            "customer_ref",
            pl.col("invoice_id").alias("enkash_invoice_id"),
            "kind",
            "erp_status",
            (pl.col("erp_paid_paise") / 100).alias("erp_amount_paid"),
            "enkash_status",
            (pl.col("known_paise") / 100).alias("enkash_received"),
            (pl.col("balance_paise") / 100).alias("enkash_balance"),
            pl.col("kind").replace_strict({str(k): v for k, v in WHAT_TO_DO.items()}).alias("what_to_do"),
        )
        .sort("invoice_number")
        .collect()
        .cast(dict(MISMATCH_SCHEMA))  # type: ignore[arg-type]
    )
