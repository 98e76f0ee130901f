"""Cancellations, deactivations and reactivations, each exactly once (see :mod:`ar_sync.exactly_once`).

Every one is a write with the run ledger around it (:func:`ar_sync.exactly_once.guarded_send`). Its
look-up asks EnKash whether the record already is in the state the write sets (the invoice deleted or
CANCELLED, the customer INACTIVE or ACTIVE), so:

- a write whose answer was lost is looked up before anything is sent again, and counted once, as sent
  by the night that sent it;
- a rerun plans from a fresh picture of EnKash, in which a cancelled invoice is no longer open: it is
  never cancelled twice;
- a delete that EnKash answers "not found" because an earlier attempt of the same call did the work is
  checked against EnKash and counted done, not failed.

The calls: deleteInvoiceCollection (path inferred) for invoices never dispatched; updateInvoice
(documented) with ``receivableStatus`` CANCELLED (the status name is inferred) for the others;
deactivateCustomer / activateCustomer (deactivate path inferred from activate's).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import polars as pl

from ar_sync.exactly_once import REFUSED_FOR_NOW, Lookup, Night, customers_invoices, guarded_send
from ar_sync.results import Stage, empty_results
from ar_sync.run_ledger import Outcome
from enkash_ar.client import EnkashClient
from enkash_ar.contract import ReceivableStatus
from enkash_ar.errors import APIError


def lookup_retired(client: EnkashClient, rows: pl.DataFrame) -> Lookup:
    """Which planned invoices EnKash no longer shows open: externalId -> invoiceId.

    A copy is retired when the search no longer returns it (deleted) or returns it CANCELLED. Uses the
    documented ``customerIds`` filter (every invoice of the seller when EnKash refuses it:
    ``exactly_once.customers_invoices``) and compares ids here.
    """
    id_of = dict(zip(rows["externalId"].to_list(), rows["invoiceId"].to_list(), strict=True))
    customers = sorted(set(rows["customerId"].drop_nulls().to_list()))

    def lookup(numbers: Sequence[str]) -> dict[str, str]:
        held = customers_invoices(client, customers)
        alive = set(
            held.filter(pl.col("receivableStatus") != ReceivableStatus.CANCELLED.value)["invoiceId"].to_list()
        )
        return {n: id_of[n] for n in numbers if n in id_of and id_of[n] not in alive}

    return lookup


def _reasons(rows: pl.DataFrame, key: str) -> dict[str, str]:
    return dict(zip(rows[key].to_list(), rows["reason"].to_list(), strict=True))


def delete_invoices(client: EnkashClient, night: Night, rows: pl.DataFrame) -> pl.DataFrame:
    """Delete open invoices never dispatched (``lifecycle.LifecyclePlan.to_delete``), each once.

    Keyed by externalId; the result's ``reason`` says why the invoice left.
    """
    number_of = dict(zip(rows["invoiceId"].to_list(), rows["externalId"].to_list(), strict=True))
    id_of = {number: invoice_id for invoice_id, number in number_of.items()}
    why = _reasons(rows, "externalId")
    lookup = lookup_retired(client, rows)

    def send(chunk: pl.DataFrame) -> list[Outcome]:
        answer = client.delete_invoice_collection(chunk["invoiceId"].to_list())
        done = [number_of[str(i.invoice_id)] for i in answer.success_invoices or []]
        refused = {number_of[str(i.invoice_id)]: i.message for i in answer.failure_invoices or []}
        # "Not found" can be this very call's earlier attempt (its answer lost, the client sent it
        # again): EnKash decides whether the invoice is gone.
        gone = lookup(sorted(refused)) if refused else {}
        return [Outcome(n, "done", id_of[n], why.get(n)) for n in [*done, *gone]] + [
            Outcome(n, "failed", id_of[n], message) for n, message in refused.items() if n not in gone
        ]

    return _guarded(night, Stage.INVOICES_CANCEL, "deleteInvoiceCollection", rows, "externalId", send, lookup)


def withdraw_invoices(client: EnkashClient, night: Night, rows: pl.DataFrame) -> pl.DataFrame:
    """Take dispatched (or partly paid) invoices out of collection: receivableStatus CANCELLED, each once."""
    why = _reasons(rows, "externalId")

    body = {"receivableStatus": ReceivableStatus.CANCELLED.value}

    def send(chunk: pl.DataFrame) -> list[Outcome]:
        return [
            _one(number, invoice_id, why.get(number), partial(client.update_invoice, invoice_id, body))
            for number, invoice_id in chunk.select("externalId", "invoiceId").iter_rows()
        ]

    lookup = lookup_retired(client, rows)
    return _guarded(night, Stage.INVOICES_CANCEL, "updateInvoice", rows, "externalId", send, lookup)


def lookup_customer_status(client: EnkashClient, rows: pl.DataFrame, status: str) -> Lookup:
    """Which planned customers EnKash already shows in ``status``: uniqueRefNo -> customerId."""
    id_of = dict(zip(rows["uniqueRefNo"].to_list(), rows["customerId"].to_list(), strict=True))

    def lookup(refs: Sequence[str]) -> dict[str, str]:
        held = client.search_customers_frame()
        there = set(held.filter(pl.col("status") == status)["customerId"].to_list())
        return {r: id_of[r] for r in refs if r in id_of and id_of[r] in there}

    return lookup


def deactivate_customers(client: EnkashClient, night: Night, rows: pl.DataFrame) -> pl.DataFrame:
    """Deactivate customers gone from the export (``LifecyclePlan.to_deactivate``), each once."""
    return _set_status(
        night,
        rows,
        Stage.CUSTOMERS_DEACTIVATE,
        "deactivateCustomer",
        client.deactivate_customer,
        "not in the ERP export any more: deactivated",
        lookup_customer_status(client, rows, "INACTIVE"),
    )


def reactivate_customers(client: EnkashClient, night: Night, rows: pl.DataFrame) -> pl.DataFrame:
    """Activate again customers this project deactivated that are back in the export, each once."""
    return _set_status(
        night,
        rows,
        Stage.CUSTOMERS_REACTIVATE,
        "activateCustomer",
        client.activate_customer,
        "back in the ERP export: activated again",
        lookup_customer_status(client, rows, "ACTIVE"),
    )


def _set_status(
    night: Night,
    rows: pl.DataFrame,
    stage: Stage,
    operation: str,
    call: Callable[[str], object],
    why: str,
    lookup: Lookup,
) -> pl.DataFrame:
    """One (de)activation call per customer of ``rows`` (``customerId``, ``uniqueRefNo``), guarded."""

    def send(chunk: pl.DataFrame) -> list[Outcome]:
        return [
            _one(ref, cid, why, partial(call, cid))
            for ref, cid in chunk.select("uniqueRefNo", "customerId").iter_rows()
        ]

    return _guarded(night, stage, operation, rows, "uniqueRefNo", send, lookup)


def _one(key: str, remote_id: str, reason: str | None, call: Callable[[], object]) -> Outcome:
    """One state-setting call as an outcome: done, or failed with EnKash's reason."""
    try:
        call()
    except REFUSED_FOR_NOW:
        raise  # refused before any work: guarded_send sends the chunk again
    except APIError as exc:
        return Outcome(key, "failed", remote_id, str(exc))
    return Outcome(key, "done", remote_id, reason)


def _guarded(
    night: Night,
    stage: Stage,
    operation: str,
    rows: pl.DataFrame,
    key_column: str,
    send: Callable[[pl.DataFrame], list[Outcome]],
    lookup: Lookup,
) -> pl.DataFrame:
    if rows.is_empty():
        return empty_results()
    return guarded_send(
        night=night,
        stage=stage,
        operation=operation,
        rows=rows,
        key_column=key_column,
        send=send,
        lookup=lookup,
    )
