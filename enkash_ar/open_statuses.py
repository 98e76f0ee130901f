"""The check that open invoices read back as open: the last guard against wrong status names.

The client already refuses a receivable status name its contract profile does not know. What it
cannot see alone is a profile that knows the names but gives them the wrong meaning (an EnKash whose
``PAID`` is our "unpaid"), or an EnKash that reports every invoice in one state whatever happens:
then nothing would be dispatched, nothing updated, and open receivables would read 0, with no error.
The sync engine knows which invoices must be open (those it uploaded tonight, those the ERP lists as
unpaid); :func:`check_open_statuses` stops the night when none of them reads as open.
"""

from __future__ import annotations

from collections.abc import Collection

import polars as pl

from enkash_ar.contract import OPEN_RECEIVABLE_STATUSES
from enkash_ar.contract_profile import ContractProfile
from enkash_ar.errors import CONTRACT_PROFILE_HINT, ContractMismatchError

_OPEN = [s.value for s in OPEN_RECEIVABLE_STATUSES]


def check_open_statuses(
    invoices: pl.DataFrame, open_external_ids: Collection[str] | pl.Series, profile: ContractProfile
) -> None:
    """Raise when EnKash holds invoices that must be open and reads none of them as open.

    Args:
        invoices: EnKash's invoices as ``EnkashClient.search_invoices_frame`` returns them
            (``externalId`` and ``receivableStatus`` by canonical name).
        open_external_ids: externalIds the caller knows to be open (e.g. tonight's uploads, or the
            ERP's open invoices).
        profile: the client's contract profile (``client.profile``), for EnKash's names in the message.

    Raises:
        ContractMismatchError: at least one of ``open_external_ids`` is in ``invoices`` and none of those
            is in an open status; the message names the profile's open status names and what was seen.

    Example:
        >>> frame = pl.DataFrame({"externalId": ["INV-1"], "receivableStatus": ["UNPAID"]})
        >>> check_open_statuses(frame, ["INV-1"], ContractProfile())  # passes: INV-1 reads as open
    """
    wanted = open_external_ids
    if not isinstance(wanted, pl.Series):
        wanted = pl.Series(list(wanted), dtype=pl.String)
    # Lazily: the two columns read and the counts, not a filtered copy of every invoice held.
    held = invoices.lazy().filter(pl.col("externalId").is_in(wanted.cast(pl.String).implode()))
    check_status_counts(status_counts(held), profile)


def status_counts(invoices: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """How many of ``invoices`` read in each receivable status: ``receivableStatus``, ``len``, most
    first (what :func:`check_status_counts` takes: a few rows, however many invoices)."""
    return (
        invoices.lazy()
        .group_by("receivableStatus")
        .len()
        .sort(["len", "receivableStatus"], descending=[True, False])
        .collect()
    )


def check_status_counts(counts: pl.DataFrame, profile: ContractProfile) -> None:
    """:func:`check_open_statuses` on the :func:`status_counts` of the invoices that must be open.

    Raises:
        ContractMismatchError: as :func:`check_open_statuses`.
    """
    if counts.is_empty() or counts.filter(pl.col("receivableStatus").is_in(_OPEN)).height:
        return
    described = ", ".join(
        f"{profile.wire_status(status) if status else 'no status'} ({count})"
        for status, count in counts.select("receivableStatus", "len").iter_rows()
    )
    raise ContractMismatchError(
        f"searchCollectionInvoices: EnKash holds {counts['len'].sum()} invoice(s) that must be open, and "
        f"reads none of them in an open status ({', '.join(profile.open_status_names())} by the contract "
        f"profile); they read as {described}. A night that went on would dispatch nothing and count "
        f"nothing as owed. If EnKash names its states otherwise, fix receivable_statuses. "
        f"{CONTRACT_PROFILE_HINT}",
        operation="searchCollectionInvoices",
        setting="receivable_statuses",
    )
