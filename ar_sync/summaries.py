"""What happened tonight and what is owed, as pure polars functions over two small frames.

Inputs (``DataFrame`` or ``LazyFrame``; extra columns are ignored):

- result rows (``results.RESULT_SCHEMA``): one row per record per stage; ``amount`` is the invoice
  amount for invoice stages and 0 otherwise; ``reason`` is set for failures; ``origin`` says whether
  the night sent the row or found it already in EnKash;
- open invoices (``OPEN_INVOICE_SCHEMA``): what EnKash still shows as owed after the night.

Every function takes ``as_of`` instead of reading the clock, builds one lazy plan and collects once.
Days past due are ``as_of - due_date`` in whole days: due today is 0 (current), due yesterday is 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Final

import polars as pl

from ar_sync.night_summary import (
    CustomerTwin,
    InvoiceTwin,
    NightSummary,
    OverdueCustomer,
    RejectedInput,
    UnclearedField,
)
from ar_sync.results import Origin, RowOutcome, Stage

STAGES: Final = tuple(str(s) for s in Stage)
#: The counts per stage: sent and succeeded, already in EnKash, failed.
COUNTS: Final = ("sent", "already_present", "failure")
OPEN_INVOICE_SCHEMA: Final = pl.Schema(
    {
        "invoice_number": pl.String,
        "customer_ref": pl.String,
        "customer_name": pl.String,
        "due_date": pl.Date,
        "invoice_date": pl.Date,
        "net_amount": pl.Float64,
        "balance_amount": pl.Float64,
    }
)
#: Aging buckets in report order; upper bounds (days past due) are inclusive.
AGING_BUCKETS: Final = ("current", "1-30", "31-60", "61-90", "90+")

Frame = pl.DataFrame | pl.LazyFrame


def days_past_due(as_of: date) -> pl.Expr:
    """Whole days from ``due_date`` to ``as_of``; 0 or less means not yet overdue."""
    return (pl.lit(as_of) - pl.col("due_date")).dt.total_days()


def aging_bucket(as_of: date) -> pl.Expr:
    """The ``AGING_BUCKETS`` name of each invoice: 30 days past due is 1-30, 31 is 31-60, 91 is 90+."""
    days = days_past_due(as_of)
    return (
        pl.when(days <= 0)
        .then(pl.lit("current"))
        .when(days <= 30)
        .then(pl.lit("1-30"))
        .when(days <= 60)
        .then(pl.lit("31-60"))
        .when(days <= 90)
        .then(pl.lit("61-90"))
        .otherwise(pl.lit("90+"))
    )


def stage_counts(results: Frame) -> pl.DataFrame:
    """Per stage (all of ``STAGES`` first, in order): rows sent, already present, failed, and amounts."""
    success = pl.col("outcome") == RowOutcome.SUCCESS
    is_count = {
        "sent": success & (pl.col("origin") == Origin.SENT),
        "already_present": success & (pl.col("origin") == Origin.ALREADY_PRESENT),
        "failure": pl.col("outcome") == RowOutcome.FAILURE,
    }
    counts = (
        results.lazy()
        .group_by("stage")
        .agg(
            *(cond.sum().cast(pl.Int64).alias(name) for name, cond in is_count.items()),
            pl.col("amount").filter(is_count["sent"]).sum().alias("sent_amount"),
            pl.col("amount").filter(is_count["failure"]).sum().alias("failure_amount"),
        )
    )
    order = pl.col("stage").replace_strict(list(STAGES), list(range(len(STAGES))), default=len(STAGES))
    return (
        pl.LazyFrame({"stage": list(STAGES)})
        .join(counts, on="stage", how="full", coalesce=True)
        .with_columns(pl.col(c).fill_null(0) for c in COUNTS)
        .with_columns(pl.col(c).fill_null(0.0) for c in ("sent_amount", "failure_amount"))
        .sort(order, "stage")
        .collect()
    )


def failure_reasons(bulk_results: Frame) -> pl.DataFrame:
    """Failures grouped by stage and reason, most frequent first (ties: larger amount first)."""
    return (
        bulk_results.lazy()
        .filter(pl.col("outcome") == "failure")
        .group_by("stage", pl.col("reason").fill_null("(no reason given)"))
        .agg(pl.len().cast(pl.Int64).alias("count"), pl.col("amount").sum().alias("amount"))
        .sort(["count", "amount", "stage", "reason"], descending=[True, True, False, False])
        .collect()
    )


def aging(open_invoices: Frame, as_of: date) -> pl.DataFrame:
    """Open balance by aging bucket: bucket, invoices, amount; all five buckets, in order, zeros kept."""
    per_bucket = (
        open_invoices.lazy()
        .group_by(aging_bucket(as_of).alias("bucket"))
        .agg(pl.len().cast(pl.Int64).alias("invoices"), pl.col("balance_amount").sum().alias("amount"))
    )
    return (
        pl.LazyFrame({"bucket": list(AGING_BUCKETS)})
        .join(per_bucket, on="bucket", how="left", maintain_order="left")
        .with_columns(pl.col("invoices").fill_null(0), pl.col("amount").fill_null(0.0))
        .collect()
    )


def top_overdue_customers(open_invoices: Frame, as_of: date, n: int = 10) -> pl.DataFrame:
    """The ``n`` customers owing most past due: overdue amount, invoices, oldest days past due."""
    return (
        open_invoices.lazy()
        .filter(days_past_due(as_of) > 0)
        .group_by("customer_ref")
        .agg(
            pl.col("customer_name").drop_nulls().first().alias("customer_name"),
            pl.col("balance_amount").sum().alias("overdue_amount"),
            pl.len().cast(pl.Int64).alias("invoices"),
            days_past_due(as_of).max().alias("oldest_days_past_due"),
        )
        .sort(["overdue_amount", "customer_ref"], descending=[True, False])
        .head(n)
        .collect()
    )


def dso(
    open_invoices: Frame, as_of: date, *, period_days: int = 90, credit_sales: float | None = None
) -> float | None:
    """Days Sales Outstanding: ``receivables / credit_sales * period_days``.

    ``receivables`` is the sum of ``balance_amount``. ``credit_sales`` defaults to the ``net_amount``
    of the open invoices dated in ``(as_of - period_days, as_of]``; invoices already paid are not in
    that frame, so pass the period's real credit sales (from the ERP) when you have them. Returns
    ``None`` when there were no credit sales in the period (DSO is undefined, not zero).
    """
    start = as_of - timedelta(days=period_days)
    in_period = (pl.col("invoice_date") > start) & (pl.col("invoice_date") <= as_of)
    totals = (
        open_invoices.lazy()
        .select(
            pl.col("balance_amount").sum().alias("receivables"),
            pl.col("net_amount").filter(in_period).sum().alias("sales"),
        )
        .collect()
        .row(0, named=True)
    )
    sales = totals["sales"] if credit_sales is None else credit_sales
    if not sales or sales <= 0:
        return None
    return float(totals["receivables"]) / sales * period_days


def build_night_summary(
    results: Frame,
    open_invoices: Frame,
    as_of: date,
    *,
    seller_id: str,
    customers_rejected: int = 0,
    invoices_rejected: int = 0,
    credit_sales: float | None = None,
    invoice_twins: pl.DataFrame | None = None,
    customer_twins: pl.DataFrame | None = None,
    twins_open_amount: float = 0.0,
    dry_run: bool = False,
    planned: Mapping[str, int] | None = None,
    rejected: RejectedInput | None = None,
    period_days: int = 90,
    top_n: int = 10,
) -> NightSummary:
    """The night's summary: counts from the night's result rows, amounts from the open invoices.

    ``invoice_twins`` are ``convergence.invoice_twins(...).to_report`` rows, ``customer_twins`` are
    ``convergence.customer_twins(...)`` rows; amounts are rounded to 2 decimals. ``rejected`` (what
    input validation rejected, and where the report is) takes precedence over ``customers_rejected``
    and ``invoices_rejected``.
    """
    if rejected is not None:
        customers_rejected, invoices_rejected = rejected.customers, rejected.invoices
    stages = {row["stage"]: row for row in stage_counts(results).iter_rows(named=True)}
    open_df = open_invoices.lazy().collect()
    aged = aging(open_df, as_of)
    days = dso(open_df, as_of, period_days=period_days, credit_sales=credit_sales)
    top = top_overdue_customers(open_df, as_of, top_n).with_columns(pl.col("overdue_amount").round(2))

    def count(stage: Stage, column: str) -> int:
        return int(stages[str(stage)][column])

    return NightSummary(
        seller_id=seller_id,
        as_of=as_of,
        dry_run=dry_run,
        customers_created=count(Stage.CUSTOMERS_CREATE, "sent"),
        customers_already_present=count(Stage.CUSTOMERS_CREATE, "already_present"),
        customers_updated=count(Stage.CUSTOMERS_UPDATE, "sent"),
        customers_failed=sum(
            count(stage, "failure")
            for stage in (
                Stage.CUSTOMERS_CREATE,
                Stage.CUSTOMERS_UPDATE,
                Stage.CUSTOMERS_DEACTIVATE,
                Stage.CUSTOMERS_REACTIVATE,
            )
        ),
        customers_rejected=customers_rejected,
        top_rejection_reasons=list(rejected.top_reasons) if rejected else [],
        rejected_rows_file=rejected.file if rejected else None,
        invoices_cancelled=count(Stage.INVOICES_CANCEL, "sent"),
        invoices_cancel_failed=count(Stage.INVOICES_CANCEL, "failure"),
        customers_deactivated=count(Stage.CUSTOMERS_DEACTIVATE, "sent"),
        customers_reactivated=count(Stage.CUSTOMERS_REACTIVATE, "sent"),
        customer_fields_cleared=count(Stage.CUSTOMER_FIELDS_CLEAR, "sent"),
        invoice_fields_cleared=count(Stage.INVOICE_FIELDS_CLEAR, "sent"),
        fields_not_cleared=count(Stage.CUSTOMER_FIELDS_CLEAR, "failure")
        + count(Stage.INVOICE_FIELDS_CLEAR, "failure"),
        invoices_uploaded=count(Stage.INVOICES_UPLOAD, "sent"),
        invoices_already_present=count(Stage.INVOICES_UPLOAD, "already_present"),
        invoices_failed=count(Stage.INVOICES_UPLOAD, "failure"),
        invoices_rejected=invoices_rejected,
        invoices_updated=count(Stage.INVOICES_UPDATE, "sent"),
        invoices_dispatched=count(Stage.INVOICES_DISPATCH, "sent"),
        invoices_already_dispatched=count(Stage.INVOICES_DISPATCH, "already_present"),
        dispatch_failed=count(Stage.INVOICES_DISPATCH, "failure"),
        invoice_twins_deleted=count(Stage.INVOICES_DEDUPLICATE, "sent"),
        reminders_set=count(Stage.REMINDERS, "sent"),
        reminders_already_on_schedule=count(Stage.REMINDERS, "already_present"),
        reminders_failed=count(Stage.REMINDERS, "failure"),
        reminder_duplicates_deleted=count(Stage.REMINDERS_DEDUPLICATE, "sent"),
        invoice_twins=[
            InvoiceTwin(
                invoice_number=r["externalId"],
                invoice_id=r["invoiceId"],
                keeper_id=r["keeperId"],
                reason=r["reason"],
            )
            for r in (invoice_twins.iter_rows(named=True) if invoice_twins is not None else [])
        ],
        customer_twins=[
            CustomerTwin(customer_ref=r["uniqueRefNo"], customer_ids=r["customerIds"])
            for r in (customer_twins.iter_rows(named=True) if customer_twins is not None else [])
        ],
        uncleared_fields=uncleared_fields(results),
        open_invoices=open_df.height,
        open_amount=round(float(open_df["balance_amount"].sum()), 2),
        twins_open_amount=round(twins_open_amount, 2),
        aging={row["bucket"]: round(row["amount"], 2) for row in aged.iter_rows(named=True)},
        dso=None if days is None else round(days, 2),
        top_overdue=[OverdueCustomer(**row) for row in top.iter_rows(named=True)],
        planned=dict(planned) if planned is not None else None,
    )


def uncleared_fields(results: Frame) -> list[UnclearedField]:
    """The fields emptied in the ERP that could not be cleared: the failed rows of the clear stages."""
    failed = (
        results.lazy()
        .filter(
            pl.col("stage").is_in([str(Stage.CUSTOMER_FIELDS_CLEAR), str(Stage.INVOICE_FIELDS_CLEAR)])
            & (pl.col("outcome") == RowOutcome.FAILURE)
        )
        .select("key", "reason")
        .sort("key")
        .collect()
    )
    # Keys are "<record>:<field>" (field_clears.clear_key); a record may itself hold a colon.
    return [
        UnclearedField(record=key.rpartition(":")[0], field=key.rpartition(":")[2], reason=reason or "")
        for key, reason in failed.iter_rows()
    ]


def format_inr(amount: float) -> str:
    """An amount the way Indian finance teams read it: ``₹1,23,45,678.50`` (lakh/crore grouping)."""
    sign = "-" if amount < 0 else ""
    whole, fraction = f"{abs(amount):.2f}".split(".")
    head, tail = whole[:-3], whole[-3:]
    groups = [head[max(i - 2, 0) : i] for i in range(len(head), 0, -2)][::-1]
    return f"{sign}₹{','.join([*groups, tail])}.{fraction}"


def summary_markdown(
    summary: NightSummary,
    stage_counts_df: pl.DataFrame,
    aging_df: pl.DataFrame,
    top_overdue_df: pl.DataFrame,
) -> str:
    """The Prefect markdown artifact for one night: headline, what needs attention, stages, aging, top."""
    dso_text = "n/a (no credit sales in the period)" if summary.dso is None else f"{summary.dso:.1f} days"
    lines = [
        f"# Accounts receivable of {summary.seller_id} as of {summary.as_of.isoformat()}",
        "",
        f"**Open:** {summary.open_invoices} invoices, {format_inr(summary.open_amount)}  ",
        f"**DSO:** {dso_text}  ",
        f"**Rejected input rows:** {summary.customers_rejected} customers, "
        f"{summary.invoices_rejected} invoices"
        + (f" (every reason in `{summary.rejected_rows_file}`)" if summary.rejected_rows_file else "")
        + "  ",
        f"**Left the export:** {summary.invoices_cancelled} invoices cancelled, "
        f"{summary.customers_deactivated} customers deactivated  ",
        f"**Emptied in the ERP:** {summary.customer_fields_cleared + summary.invoice_fields_cleared} "
        f"fields cleared, {summary.fields_not_cleared} cannot be cleared",
        "",
    ]
    if summary.top_rejection_reasons:
        lines += [
            "## Top rejection reasons",
            "",
            "| Reason | Records |",
            "|---|---:|",
            *(f"| {_cell(r.reason)} | {r.records} |" for r in summary.top_rejection_reasons),
            "",
        ]
    if notes := summary.attention():
        lines += ["## Needs attention", "", *(f"- {_cell(note)}" for note in notes), ""]
    if summary.dry_run and summary.planned is not None:
        lines += [
            "## Dry run: what a real run would send",
            "",
            "| Stage | Rows |",
            "|---|---:|",
            *(f"| {stage} | {rows} |" for stage, rows in summary.planned.items()),
            "",
        ]
    lines += [
        "## Stages",
        "",
        "| Stage | Sent | Already in EnKash | Failed |",
        "|---|---:|---:|---:|",
        *(
            f"| {r['stage']} | {r['sent']} | {r['already_present']} | {r['failure']} |"
            for r in stage_counts_df.to_dicts()
        ),
        "",
        "## Aging",
        "",
        "| Bucket | Invoices | Amount |",
        "|---|---:|---:|",
        *(f"| {r['bucket']} | {r['invoices']} | {format_inr(r['amount'])} |" for r in aging_df.to_dicts()),
        "",
        "## Top overdue customers",
        "",
    ]
    if top_overdue_df.is_empty():
        lines.append("Nothing is overdue.")
    else:
        lines += ["| Customer | Ref | Overdue | Invoices | Oldest (days) |", "|---|---|---:|---:|---:|"]
        lines += [
            f"| {_cell(r['customer_name'])} | {_cell(r['customer_ref'])} | {format_inr(r['overdue_amount'])} "
            f"| {r['invoices']} | {r['oldest_days_past_due']} |"
            for r in top_overdue_df.to_dicts()
        ]
    return "\n".join(lines) + "\n"


def _cell(text: str | None) -> str:
    """Text safe inside a markdown table cell (ERP names can hold a pipe)."""
    return (text or "").replace("|", "\\|")
