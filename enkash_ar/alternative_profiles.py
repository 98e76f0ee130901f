"""Plausible alternatives to the shipped contract profile: what EnKash might really do where we guessed.

Each one changes one guess of ``SHIPPED_PROFILE``, so that the sandbox can play it (``enkash-ar sandbox
serve --profile NAME``), the tests can run the client and the whole cycle against it, and ``enkash-ar
doctor`` can tell which one a live API looks like. A real API may combine several: a profile file can.
"""

from __future__ import annotations

from typing import Any, Final

from enkash_ar.contract import ReceivableStatus
from enkash_ar.contract_profile import SHIPPED_PROFILE, ContractProfile

#: The name of the shipped profile among the alternatives.
SHIPPED_NAME: Final = "shipped"


def _changed(**changes: Any) -> ContractProfile:
    return SHIPPED_PROFILE.with_changes(changes)


#: name -> (profile, what it plays)
ALTERNATIVES: Final[dict[str, tuple[ContractProfile, str]]] = {
    "spring-page": (
        _changed(search={"response": "page"}),
        "searches answer a Spring Page object ({content, totalElements, ...}) instead of an array",
    ),
    "page-index": (
        _changed(search={"offset": "page"}),
        "the offset query parameter counts pages of `limit` rows, not rows",
    ),
    "capped-limit": (
        _changed(
            search={
                "max_page_size": {"searchCustomer": 20, "searchCollectionInvoices": 20},
                "over_max": "cap",
            }
        ),
        "searches answer at most 20 rows whatever limit is asked, without saying so",
    ),
    "result-files-xlsx": (
        _changed(
            result_files={
                "format": "xlsx",
                "row_number": "Row No",
                "first_row_number": 2,
                "customer_id": "Customer Id",
                "invoice_id": "Invoice Id",
                "failure_field": "Error Field",
                "failure_reason": "Error Message",
            }
        ),
        "result files are XLSX with spreadsheet row numbers and title-case headers",
    ),
    "other-status-names": (
        _changed(
            receivable_statuses={
                "PENDING": ReceivableStatus.UNPAID,
                "PARTIALLY_RECEIVED": ReceivableStatus.PARTIALLY_PAID,
                "PAID": ReceivableStatus.PAID,
                "VOID": ReceivableStatus.CANCELLED,
            }
        ),
        "receivable statuses are PENDING / PARTIALLY_RECEIVED / PAID / VOID",
    ),
    "no-expires-in": (
        _changed(token={"expires_in": False}),
        "the token answer has no expires_in (the client assumes token.default_lifetime_seconds)",
    ),
    "errors-200": (
        _changed(errors={"http_status": "always-200"}),
        "business errors are answered HTTP 200 with errorResponse.errorType",
    ),
}


def profile_names() -> list[str]:
    """Every name ``named_profile`` accepts: the shipped profile first, then the alternatives."""
    return [SHIPPED_NAME, *ALTERNATIVES]


def named_profile(name: str) -> ContractProfile | None:
    """The shipped profile or an alternative by name; None for another name."""
    if name == SHIPPED_NAME:
        return SHIPPED_PROFILE
    entry = ALTERNATIVES.get(name)
    return entry[0] if entry else None


def name_of(profile: ContractProfile) -> str | None:
    """The name of the shipped profile or the alternative equal to ``profile``, if any."""
    if profile == SHIPPED_PROFILE:
        return SHIPPED_NAME
    return next((name for name, (p, _) in ALTERNATIVES.items() if p == profile), None)
