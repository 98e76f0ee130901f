"""The payload of a search answer, read as the contract profile says searches answer.

The portal does not show what the searches return (spec/openapi.yaml guesses a JSON array of records).
A Spring backend would as likely answer a ``Page`` object (``{"content": [...], "totalElements": n,
...}``). :func:`search_page` reads either, as the profile's ``search.response`` says, and names what it
saw when the answer is neither, so that a wrong guess stops the read instead of passing as "no records".
"""

from __future__ import annotations

from typing import Any

from enkash_ar.contract_profile import SearchSettings
from enkash_ar.errors import CONTRACT_PROFILE_HINT, ContractMismatchError
from enkash_ar.paging import SearchPage


def search_page(payload: Any, settings: SearchSettings, operation: str) -> SearchPage[Any]:
    """The records (still raw) and the total of one search answer's payload.

    Raises:
        ContractMismatchError: the payload is not the shape ``settings.response`` says.

    Example:
        >>> search_page([{"invoiceId": "I1"}], SearchSettings(), "searchCollectionInvoices").items
        [{'invoiceId': 'I1'}]
    """
    if settings.response == "list":
        if isinstance(payload, list):
            return SearchPage(payload)
        return _wrong_shape(payload, settings, operation)
    if isinstance(payload, dict) and isinstance(payload.get(settings.content_member), list):
        total = payload.get(settings.total_member)
        if total is not None and (not isinstance(total, int) or isinstance(total, bool) or total < 0):
            raise ContractMismatchError(
                f"{operation}: the page's {settings.total_member!r} is {total!r}, not a count. Check "
                f"search.total_member. {CONTRACT_PROFILE_HINT}",
                operation=operation,
                setting="search.total_member",
            )
        return SearchPage(payload[settings.content_member], total)
    return _wrong_shape(payload, settings, operation)


def describe_shape(payload: Any) -> str:
    """What a search payload looks like, in a few words (for messages and for doctor)."""
    if isinstance(payload, list):
        return f"a JSON array of {len(payload)} item(s)"
    if isinstance(payload, dict):
        lists = [k for k, v in payload.items() if isinstance(v, list)]
        return f"an object with members {sorted(payload)}" + (f" (arrays: {lists})" if lists else "")
    return "nothing" if payload is None else f"a {type(payload).__name__}"


def _wrong_shape(payload: Any, settings: SearchSettings, operation: str) -> SearchPage[Any]:
    expected = (
        "a JSON array of records"
        if settings.response == "list"
        else f"a page object with an array {settings.content_member!r}"
    )
    hint = ""
    if settings.response == "list" and isinstance(payload, dict):
        arrays = [k for k, v in payload.items() if isinstance(v, list)]
        if arrays:
            hint = (
                " It looks like a page object: set search.response: page, "
                f"search.content_member: {arrays[0]}."
            )
    elif settings.response == "page" and isinstance(payload, list):
        hint = " It looks like a plain array: set search.response: list."
    raise ContractMismatchError(
        f"{operation}: the answer's payload is {describe_shape(payload)}, not {expected} as the contract "
        f"profile's search.response: {settings.response} says.{hint} {CONTRACT_PROFILE_HINT}",
        operation=operation,
        setting="search.response",
    )
