"""Bulk ingest: customers created and updated, invoices created, from one CSV/XLSX file each.

Each data row is validated on its own with the rules of the matching single operation
(``sandbox.backend.bulk_rules``); valid rows are written in one transaction, invalid rows are reported.
A ``BulkOutcome`` counts and lists what happened:

- ``total_count`` data rows; ``success_count`` rows written; ``failure_count`` rows refused;
- ``failure_requests`` / the failure file hold one entry per offending FIELD of a refused row (a row
  with two bad cells gives two entries with the same ``rowNumber``);
- ``warn_count`` is the number of header columns the template does not know (ignored);
- ``total_amount`` is the sum of ``baseAmount`` of the invoices created (0 for customers).

bulkUpdate: ``customerId`` must be a live customer of the company; an empty cell leaves the member
unchanged; the ``customerKeyContacts.*`` cells update the customer's first key contact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from enkash_ar.bulk_template import CUSTOMER_CREATE, CUSTOMER_UPDATE, INVOICE_CREATE, ROW_NUMBER, BulkTemplate
from enkash_ar.contract_profile import SHIPPED_PROFILE, ContractProfile
from sandbox.backend.bulk_files import (
    ResultFiles,
    Upload,
    profile_layout,
    read_upload,
    write_result_files,
)
from sandbox.backend.bulk_rules import apply_rules, customer_rules, date_time_column, invoice_rules, member_of
from sandbox.backend.customer_table import insert_customers, live_customer_ids, load_customer, save_customer
from sandbox.backend.invoice_table import insert_rows
from sandbox.backend.invoices import DEFAULT_APPROVAL
from sandbox.backend.store import INVOICE_FIELDS, Store, utc_now_iso

_CONTACT = "customerKeyContacts."
_ISO_DATE = "__invoiceDateIso"


@dataclass(frozen=True)
class BulkOutcome:
    """What one bulk file did: counts, one entry per written row and per failed field, result files."""

    total_count: int
    success_count: int
    failure_count: int
    warn_count: int
    total_amount: float
    #: ``rowNumber``, the new or updated id and the row's reference (``uniqueRefNo`` / ``externalId``)
    success_requests: list[dict[str, Any]]
    #: ``rowNumber``, ``field``, ``reason``
    failure_requests: list[dict[str, Any]]
    files: ResultFiles


def _contact(row: dict[str, Any]) -> dict[str, Any]:
    contact = {k[len(_CONTACT) :]: v for k, v in row.items() if k.startswith(_CONTACT) and v is not None}
    return contact


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


class BulkBackend:
    """Bulk files of customers and invoices, read and answered in the layouts of a contract profile."""

    def __init__(self, store: Store, profile: ContractProfile = SHIPPED_PROFILE) -> None:
        self.store = store
        self.profile = profile
        self.result_layout = profile_layout(profile)

    def _live_customers(self, company_id: str) -> pl.Series:
        with self.store.tx() as conn:
            ids = live_customer_ids(conn, company_id)
        return pl.Series("customerId", ids, dtype=pl.String)

    def _outcome(
        self,
        batch_id: str,
        template: BulkTemplate,
        rows: pl.DataFrame,
        ok: pl.DataFrame,
        failures: pl.DataFrame,
        warn_count: int,
        reference: str,
        total_amount: float = 0.0,
    ) -> BulkOutcome:
        keys = [ROW_NUMBER, template.id_column, reference]
        success = [{k: v for k, v in d.items() if v is not None} for d in ok.select(keys).to_dicts()]
        frames = self.result_layout(template, ok, failures, rows)
        return BulkOutcome(
            total_count=rows.height,
            success_count=ok.height,
            failure_count=rows.height - ok.height,
            warn_count=warn_count,
            total_amount=round(total_amount, 2),
            success_requests=success,
            failure_requests=failures.to_dicts(),
            files=write_result_files(
                self.store, f"{template.kind}-{batch_id}", frames, self.profile.result_files.format
            ),
        )

    def create_customers(self, company_id: str, upload: Upload | None, batch_id: str) -> BulkOutcome:
        """Create a customer (one key contact, ACTIVE) per valid row.

        ``batch_id`` names the result files (the request id).
        """
        rows, warn_count = read_upload(upload, CUSTOMER_CREATE, self.profile.bulk_files["customer_create"])
        valid, _, failures = apply_rules(rows, customer_rules(create=True))
        docs = []
        for row in valid.to_dicts():
            doc = {
                k: v
                for k, v in row.items()
                if v is not None and k != ROW_NUMBER and not k.startswith(_CONTACT)
            }
            doc["customerKeyContacts"] = [{**_contact(row), "deleted": False}]
            docs.append(doc)
        with self.store.tx() as conn:
            ids = insert_customers(self.store, conn, company_id, docs)
        ok = valid.with_columns(pl.Series(CUSTOMER_CREATE.id_column, ids, dtype=pl.String))
        return self._outcome(batch_id, CUSTOMER_CREATE, rows, ok, failures, warn_count, "uniqueRefNo")

    def update_customers(self, company_id: str, upload: Upload | None, batch_id: str) -> BulkOutcome:
        """Change live customers of the company; an empty cell leaves its member unchanged, the
        ``customerKeyContacts.*`` cells change the first key contact.
        """
        rows, warn_count = read_upload(upload, CUSTOMER_UPDATE, self.profile.bulk_files["customer_update"])
        rules = [
            *customer_rules(create=False),
            member_of("customerId", self._live_customers(company_id), "customer not found for this company"),
        ]
        valid, _, failures = apply_rules(rows, rules)
        now = utc_now_iso()
        with self.store.tx() as conn:
            for row in valid.to_dicts():
                doc = load_customer(conn, row["customerId"], company_id)
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
        return self._outcome(batch_id, CUSTOMER_UPDATE, rows, valid, failures, warn_count, "uniqueRefNo")

    def create_invoices(self, company_id: str, upload: Upload | None, batch_id: str) -> BulkOutcome:
        """Create an invoice per valid row, for live customers of the company (the seller)."""
        rows, warn_count = read_upload(upload, INVOICE_CREATE, self.profile.bulk_files["invoice_create"])
        checked = rows.with_columns(date_time_column(rows, "invoiceDate").alias(_ISO_DATE))
        rules = invoice_rules(self._live_customers(company_id), _ISO_DATE)
        valid, _, failures = apply_rules(checked, rules)
        now = utc_now_iso()
        with self.store.tx() as conn:
            ids = self.store.invoice_ids(conn, valid.height)
            insert = _insert_frame(valid, ids, company_id, now)
            insert_rows(conn, insert.iter_rows())
        ok = valid.drop(_ISO_DATE).with_columns(pl.Series(INVOICE_CREATE.id_column, ids, dtype=pl.String))
        total = float(insert["base_amount"].sum() or 0.0)
        return self._outcome(batch_id, INVOICE_CREATE, rows, ok, failures, warn_count, "externalId", total)
