"""Fields emptied in the ERP, cleared in EnKash with the call that can clear them, or reported.

The bulk update file cannot clear anything (an empty cell there means "unchanged"), so a field the ERP
emptied is cleared with the JsonNullable PATCH of its record (updateCustomer, updateInvoice), the member
set to null. The key contact's e-mail sits inside the customer's key contact list: the list is sent
back as EnKash holds it, without that e-mail.

A cleared field is counted as cleared, never as updated. A field that cannot be cleared is reported
as "cannot clear", with what to do: EnKash has no call for it, or EnKash refused the null (a 400 or
422). A refusal is remembered in the run ledger, so later nights on the same files do not send the
same refused call again: they report the field again until someone clears it on the portal.

Each row is one record and one field; its key is ``<customer_ref or invoice number>:<field>``.
PATCH sets a state, so sending it again after a lost answer does no harm; a rerun plans from a fresh
picture, in which a cleared field is no longer there to clear.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Final

import polars as pl
from pydantic import ValidationError as ModelValidationError

from ar_sync.comparison import CONTACT_EMAIL
from ar_sync.exactly_once import REFUSED_FOR_NOW, Night, outcome_results
from ar_sync.results import Origin, RowOutcome, Stage, empty_results, result_rows
from ar_sync.run_ledger import Outcome, RunLedger
from enkash_ar.client import EnkashClient
from enkash_ar.errors import APIError

#: How every "cannot clear" reason starts (and how the ledger tells a refusal from a passing failure).
CANNOT_CLEAR: Final = "cannot clear"
_PORTAL: Final = "clear it on the EnKash portal"

Patch = Callable[[str, dict[str, Any]], object]


def clear_key(key_column: str) -> pl.Expr:
    """The result and ledger key of each row of a clear plan, e.g. ``CUST00002:gstin``."""
    return pl.format("{}:{}", key_column, "field").alias("key")


def clear_keys(rows: pl.DataFrame, key_column: str) -> list[str]:
    """The keys of a clear plan (``planner.CustomerPlan.to_clear`` with ``customer_ref``, ...)."""
    return rows.select(clear_key(key_column)).to_series().to_list()


def refused_clears(ledger: RunLedger, seller_id: str, stage: Stage) -> dict[str, str]:
    """Keys of fields whose clearing EnKash refused on an earlier night, with its reason."""
    return {
        key: message
        for key, message in ledger.failed_messages(seller_id, stage).items()
        if message.startswith(CANNOT_CLEAR)
    }


def sendable_clears(
    rows: pl.DataFrame, key_column: str, refused: Mapping[str, str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split planned clears into those to send and those reported as "cannot clear" without a call.

    Returns:
        (rows to send, with their ``key``), (rows not sent, with ``key`` and ``reason``).
    """
    keyed = rows.with_columns(clear_key(key_column))
    earlier = pl.col("key").is_in(list(refused))
    no_call = pl.col("member").is_null()
    held_back = keyed.filter(no_call | earlier).with_columns(
        pl.when(no_call)
        .then(pl.format(f"{CANNOT_CLEAR}: EnKash has no call that clears {{}}; {_PORTAL}", "field"))
        .otherwise(pl.col("key").replace_strict(dict(refused), default=None, return_dtype=pl.String))
        .alias("reason")
    )
    return keyed.filter(~(no_call | earlier)), held_back


def _contacts_without_email(contacts: str | None) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = json.loads(contacts or "[]")
    first = next((c for c in listed if not c.get("deleted")), None)
    if first is None:
        raise ValueError("the customer has no live key contact")
    first.pop("email", None)
    return listed


def _body(row: Mapping[str, Any]) -> dict[str, Any]:
    """The PATCH body clearing one field: its member null, or the e-mail out of the key contact list."""
    if row["member"] == CONTACT_EMAIL:
        return {"customerKeyContacts": _contacts_without_email(row.get("keyContacts"))}
    return {row["member"]: None}


def _clear(
    night: Night, stage: Stage, rows: pl.DataFrame, key_column: str, id_column: str, patch: Patch
) -> pl.DataFrame:
    if rows.is_empty():
        return empty_results()
    ledger = night.ledger
    to_send, held_back = sendable_clears(rows, key_column, refused_clears(ledger, night.seller_id, stage))
    not_sent = result_rows(
        stage,
        held_back["key"].to_list(),
        outcome=RowOutcome.FAILURE,
        origin=Origin.ALREADY_PRESENT,
        reasons=held_back["reason"].to_list(),
        remote_ids=held_back[id_column].to_list(),
    )
    if to_send.is_empty():
        return night.record(not_sent)
    operation = "updateCustomer" if stage is Stage.CUSTOMER_FIELDS_CLEAR else "updateInvoice"
    batch = ledger.begin_batch(night.seller_id, stage, operation, to_send["key"].to_list(), night=night.date)
    outcomes: list[Outcome] = []
    # One call per field: a field EnKash refuses to clear must not hold back another one.
    for row in to_send.iter_rows(named=True):
        key, record_id = row["key"], str(row[id_column])
        try:
            patch(record_id, _body(row))
        except REFUSED_FOR_NOW as exc:
            # Refused before any work: nothing is in doubt; the task retry plans again from EnKash.
            sent = {o.key for o in outcomes}
            rest = [k for k in to_send["key"].to_list() if k not in sent]
            ledger.finish_batch(batch, [*outcomes, *(Outcome(k, "failed", None, str(exc)) for k in rest)])
            raise
        except APIError as exc:
            reason = f"{CANNOT_CLEAR}: EnKash refused to clear it ({_short(exc)}); {_PORTAL}"
            outcomes.append(Outcome(key, "failed", record_id, reason))
            continue
        except (ModelValidationError, ValueError) as exc:
            # The key contact list EnKash holds cannot be sent back as it is (e.g. a contact lacks a
            # required member): no call can clear the e-mail without changing what a person entered.
            held = f"the key contacts EnKash holds cannot be sent back ({_short(exc)})"
            reason = f"{CANNOT_CLEAR}: {held}; {_PORTAL}"
            outcomes.append(Outcome(key, "failed", record_id, reason))
            continue
        outcomes.append(Outcome(key, "done", record_id, "cleared: emptied in the ERP"))
    results = pl.concat([outcome_results(stage, outcomes), not_sent])
    ledger.finish_batch(batch, outcomes, results=results)
    return results


def _short(exc: Exception) -> str:
    text = exc.error_message if isinstance(exc, APIError) and exc.error_message else str(exc)
    return " ".join(text.split())[:300]


def clear_customer_fields(client: EnkashClient, night: Night, rows: pl.DataFrame) -> pl.DataFrame:
    """Clear customer fields emptied in the ERP (``planner.CustomerPlan.to_clear``): updateCustomer nulls.

    One PATCH and one result row per field.
    """
    return _clear(
        night, Stage.CUSTOMER_FIELDS_CLEAR, rows, "customer_ref", "customerId", client.update_customer
    )


def clear_invoice_fields(client: EnkashClient, night: Night, rows: pl.DataFrame) -> pl.DataFrame:
    """Clear invoice fields emptied in the ERP (``planner.InvoicePlan.to_clear``): updateInvoice nulls."""
    return _clear(night, Stage.INVOICE_FIELDS_CLEAR, rows, "externalId", "invoiceId", client.update_invoice)
