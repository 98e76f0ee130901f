"""The bulk endpoints: createBulkCustomer, bulkUpdate and invoiceBulkUpload.

Each data row is validated on its own with the rules of the matching single endpoint
(``sandbox.bulk_rules``); valid rows are written in one transaction, invalid rows are reported.
The answer is a BulkResponse (createBulkCustomer too, although its payload is a free object):

- ``total_count`` data rows; ``success_count`` rows written; ``failure_count`` rows refused;
- ``failureRequests`` / the failure file hold one entry per offending FIELD of a refused row (a row
  with two bad cells gives two entries with the same ``rowNumber``);
- ``warn_count`` is the number of header columns the template does not know (ignored);
- ``total_amount`` is the sum of ``baseAmount`` of the invoices created (0 for customers);
- ``failure_count_second_file`` is always 0.

bulkUpdate: ``customerId`` must be a live customer of the company; an empty cell leaves the member
unchanged; the ``customerKeyContacts.*`` cells update the customer's first key contact.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from enkash_ar.bulk_template import CUSTOMER_CREATE, CUSTOMER_UPDATE, INVOICE_CREATE, ROW_NUMBER, BulkTemplate
from sandbox.bulk_files import read_upload, result_files
from sandbox.bulk_rules import apply_rules, customer_rules, date_time_column, invoice_rules, member_of
from sandbox.checks import query_company
from sandbox.customers import insert_customers, load_customer, save_customer
from sandbox.invoices import DEFAULT_APPROVAL
from sandbox.state import Call
from sandbox.store import INVOICE_COLUMN_NAMES, INVOICE_FIELDS, utc_now_iso

_CONTACT = "customerKeyContacts."
_ISO_DATE = "__invoiceDateIso"


def _live_customers(call: Call) -> pl.Series:
    with call.store.tx() as conn:
        rows = conn.execute(
            "SELECT customer_id FROM customers WHERE company_id = ? AND deleted = 0", (call.company_id,)
        ).fetchall()
    return pl.Series("customerId", [r[0] for r in rows], dtype=pl.String)


def _answer(
    call: Call,
    template: BulkTemplate,
    rows: pl.DataFrame,
    ok: pl.DataFrame,
    invalid: pl.DataFrame,
    failures: pl.DataFrame,
    warn_count: int,
    extra_key: str,
    total_amount: float = 0.0,
) -> dict[str, Any]:
    keys = [ROW_NUMBER, template.id_column, extra_key]
    success_requests = [{k: v for k, v in d.items() if v is not None} for d in ok.select(keys).to_dicts()]
    return {
        "total_count": rows.height,
        "success_count": ok.height,
        "failure_count": invalid.height,
        "warn_count": warn_count,
        "failure_count_second_file": 0,
        "total_amount": round(total_amount, 2),
        "successRequests": success_requests,
        "failureRequests": failures.to_dicts(),
        **result_files(call, template, ok, failures, rows),
    }


def _contact(row: dict[str, Any]) -> dict[str, Any]:
    contact = {k[len(_CONTACT) :]: v for k, v in row.items() if k.startswith(_CONTACT) and v is not None}
    return contact


def create_bulk_customer(call: Call) -> dict[str, Any]:
    """createBulkCustomer: customers from a CSV/XLSX file (``companyId`` query required)."""
    query_company(call.query, "companyId", call.company_id, required=True)
    rows, warn_count = read_upload(call.upload, CUSTOMER_CREATE)
    valid, invalid, failures = apply_rules(rows, customer_rules(create=True))
    docs = []
    for row in valid.to_dicts():
        doc = {
            k: v for k, v in row.items() if v is not None and k != ROW_NUMBER and not k.startswith(_CONTACT)
        }
        doc["customerKeyContacts"] = [{**_contact(row), "deleted": False}]
        docs.append(doc)
    with call.store.tx() as conn:
        ids = insert_customers(call, conn, docs)
    ok = valid.with_columns(pl.Series(CUSTOMER_CREATE.id_column, ids, dtype=pl.String))
    return _answer(call, CUSTOMER_CREATE, rows, ok, invalid, failures, warn_count, "uniqueRefNo")


def bulk_update(call: Call) -> dict[str, Any]:
    """bulkUpdate: change customers from a CSV/XLSX file; empty cells leave members unchanged."""
    query_company(call.query, "parentCompanyId", call.company_id)
    rows, warn_count = read_upload(call.upload, CUSTOMER_UPDATE)
    rules = [
        *customer_rules(create=False),
        member_of("customerId", _live_customers(call), "customer not found for this company"),
    ]
    valid, invalid, failures = apply_rules(rows, rules)
    now = utc_now_iso()
    with call.store.tx() as conn:
        for row in valid.to_dicts():
            doc = load_customer(conn, row["customerId"], call.company_id)
            for key, value in row.items():
                if (
                    value is not None
                    and key not in (ROW_NUMBER, "customerId")
                    and not key.startswith(_CONTACT)
                ):
                    doc[key] = value
            changes = _contact(row)
            if changes:
                contacts = doc.setdefault("customerKeyContacts", [{}])
                contacts[0] = {**contacts[0], **changes}
            doc["modifiedOn"] = now
            save_customer(conn, doc)
    return _answer(call, CUSTOMER_UPDATE, rows, valid, invalid, failures, warn_count, "uniqueRefNo")


def _as_flag(col: str) -> pl.Expr:
    return (
        pl.when(pl.col(col).is_null())
        .then(None)
        .otherwise((pl.col(col).str.to_lowercase() == "true").cast(pl.Int64))
    )


def _insert_frame(valid: pl.DataFrame, ids: list[str], seller_id: str, now: str) -> pl.DataFrame:
    amount = {c: pl.col(c).cast(pl.Float64) for c in ("baseAmount", "cgst", "sgst", "igst", "tds")}
    net = (
        amount["baseAmount"]
        + amount["cgst"].fill_null(0)
        + amount["sgst"].fill_null(0)
        + amount["igst"].fill_null(0)
        - amount["tds"].fill_null(0)
    ).round(2)
    exprs: dict[str, pl.Expr] = {
        "sellerId": pl.lit(seller_id),
        "invoiceDate": pl.col(_ISO_DATE),
        **amount,
        "netAmount": net,
        "balanceAmount": net,
        "totalReceived": pl.lit(0.0),
        "approvalStatus": pl.lit(DEFAULT_APPROVAL),
        "receivableStatus": pl.lit("UNPAID"),
        "payoutStatus": pl.lit("PENDING"),
        "dispatched": pl.lit(0),
        "dispatchCount": pl.lit(0),
        "partialPaymentAllowed": _as_flag("partialPaymentAllowed"),
        "gstExclusive": _as_flag("gstExclusive"),
        "createdOn": pl.lit(now),
        "modifiedOn": pl.lit(now),
    }
    frame = valid.with_columns(pl.Series("invoiceId", ids, dtype=pl.String))
    exprs["invoiceId"] = pl.col("invoiceId")
    columns = [
        exprs.get(c.member, pl.col(c.member) if c.member in frame.columns else pl.lit(None)).alias(c.name)
        for c in INVOICE_FIELDS
    ]
    return frame.select(columns)


def invoice_bulk_upload(call: Call) -> dict[str, Any]:
    """invoiceBulkUpload: invoices from a CSV/XLSX file; valid rows created, invalid rows reported."""
    query_company(call.query, "sellerId", call.company_id)
    rows, warn_count = read_upload(call.upload, INVOICE_CREATE)
    checked = rows.with_columns(date_time_column(rows, "invoiceDate").alias(_ISO_DATE))
    valid, invalid, failures = apply_rules(checked, invoice_rules(_live_customers(call), _ISO_DATE))
    now = utc_now_iso()
    marks = ", ".join("?" * len(INVOICE_FIELDS))
    with call.store.tx() as conn:
        ids = call.store.invoice_ids(conn, valid.height)
        insert = _insert_frame(valid, ids, call.company_id, now)
        conn.executemany(
            f"INSERT INTO invoices ({', '.join(INVOICE_COLUMN_NAMES)}) VALUES ({marks})",  # noqa: S608
            insert.iter_rows(),
        )
    ok = valid.drop(_ISO_DATE).with_columns(pl.Series(INVOICE_CREATE.id_column, ids, dtype=pl.String))
    total = float(insert["base_amount"].sum() or 0.0)
    return _answer(
        call, INVOICE_CREATE, rows, ok, invalid.drop(_ISO_DATE), failures, warn_count, "externalId", total
    )
