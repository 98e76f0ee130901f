"""Doctor's search probes: what a search answers, how it reads offset, and how large a page it gives.

Five read-only requests per search, ascending by the order the client pages in:

- offset 0 / limit 1 and offset 1 / limit 1: the limit is honoured;
- offset 0 / limit P (P: the profile's page size): the payload's shape, the records, the total;
- offset 0 / limit P+1: a limit above the page size is refused, or answered (capped);
- offset 1 / limit P: rows from the second on (offset counts rows), or the second page (it counts
  pages); more rows here than the first page left out means the first page was capped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

from enkash_ar.contract import SMALLEST_AMOUNT, TIMESTAMP_FORMAT
from enkash_ar.contract_profile import ContractProfile, SearchOperation
from enkash_ar.doctor.probes import Exchange, ReadOnlyProbes
from enkash_ar.doctor.report import Finding, Verdict
from enkash_ar.search_answers import describe_shape

_KEY = {"searchCustomer": "customerId", "searchCollectionInvoices": "invoiceId"}
_ORDER = {"searchCustomer": "customerId", "searchCollectionInvoices": "createdOn"}


@dataclass
class SearchObservation:
    """What the probes of one search showed; None where they could not tell."""

    operation: SearchOperation
    page_size: int
    response: Literal["list", "page"] | None = None
    content_member: str | None = None
    total_member: str | None = None
    offset: Literal["row", "page"] | None = None
    cap: int | None = None
    over_max: Literal["reject", "cap"] | None = None
    #: the records of the first page (raw answer objects)
    records: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def _shape(payload: Any, profile: ContractProfile) -> tuple[str, str | None, str | None] | None:
    """("list", None, None), ("page", content member, total member) or None for another shape."""
    if isinstance(payload, list):
        return "list", None, None
    if not isinstance(payload, dict):
        return None
    settings = profile.search
    arrays = [k for k, v in payload.items() if isinstance(v, list)]
    if not arrays:
        return None
    content = settings.content_member if settings.content_member in arrays else arrays[0]
    counts = [k for k, v in payload.items() if isinstance(v, int) and not isinstance(v, bool)]
    total = settings.total_member if settings.total_member in counts else None
    total = total or next((k for k in counts if "total" in k.lower() and "page" not in k.lower()), None)
    return "page", content, total


def _records(
    exchange: Exchange, shape: tuple[str, str | None, str | None] | None
) -> list[dict[str, Any]] | None:
    if not exchange.succeeded or shape is None:
        return None
    payload = exchange.payload
    items = payload if shape[0] == "list" else payload.get(shape[1]) if isinstance(payload, dict) else None
    return [r for r in items if isinstance(r, dict)] if isinstance(items, list) else None


def check_search(
    probes: ReadOnlyProbes, operation: SearchOperation, profile: ContractProfile
) -> SearchObservation:
    """Probe one search and judge the profile's ``search`` settings for it."""
    size = profile.page_size(operation)
    settings = profile.search
    seen = SearchObservation(operation, size)

    def ask(offset: int, limit: int) -> Exchange:
        params = {"offset": offset, "limit": limit, "orderBy": _ORDER[operation], "direction": "ASC"}
        return probes.call(operation, params=params, json={})

    one, second, full, over, shifted = ask(0, 1), ask(1, 1), ask(0, size), ask(0, size + 1), ask(1, size)
    if not full.succeeded:
        seen.findings.append(
            Finding(
                f"{operation} answers (offset 0, limit {size})",
                operation,
                "HTTP 200 with records",
                "failed",
                full.summary(),
            )
        )
        return seen
    shape = _shape(full.payload, profile)
    expected_shape = (
        "a JSON array"
        if settings.response == "list"
        else f"a page object ({settings.content_member}, {settings.total_member})"
    )
    if shape is None:
        seen.findings.append(
            Finding(
                f"{operation} answers its records as {expected_shape}",
                "search.response",
                settings.response,
                "different",
                f"the payload is {describe_shape(full.payload)}: neither an array nor a page object",
            )
        )
        return seen
    seen.response, seen.content_member, seen.total_member = shape  # type: ignore[assignment]
    same = shape[0] == settings.response and (
        shape[0] == "list" or (shape[1] == settings.content_member and shape[2] == settings.total_member)
    )
    seen.findings.append(
        Finding(
            f"{operation} answers its records as {expected_shape}",
            "search.response",
            settings.response,
            "confirmed" if same else "different",
            f"the payload is {describe_shape(full.payload)}"
            + (f"; records in {shape[1]!r}, total in {shape[2]!r}" if shape[0] == "page" else ""),
        )
    )
    records = _records(full, shape) or []
    seen.records = records
    key = _KEY[operation]
    ids = [r.get(key) for r in records]
    later = [r.get(key) for r in _records(shifted, shape) or []]
    total = full.payload.get(shape[2]) if shape[0] == "page" and shape[2] else None

    _judge_limit(seen, one, second, shape, len(records))
    _judge_offset(seen, settings.offset, ids, later, shifted)
    _judge_page_size(seen, profile, ids, later, total, over, shape)
    return seen


def _judge_limit(
    seen: SearchObservation, one: Exchange, second: Exchange, shape: Any, first_page: int
) -> None:
    small = [_records(x, shape) for x in (one, second)]
    verdict: Verdict
    if any(r is None for r in small):
        failed = one if small[0] is None else second
        verdict, text = "failed", f"limit 1 answered {failed.summary()}"
    elif any(len(r or []) > 1 for r in small):
        verdict, text = (
            "different",
            f"limit 1 answered {[len(r or []) for r in small]} rows: limit is not honoured",
        )
    else:
        verdict, text = (
            "confirmed",
            f"limit 1 answered at most 1 row; limit {seen.page_size} answered {first_page}",
        )
    seen.findings.append(
        Finding(
            f"{seen.operation} honours limit", f"search.max_page_size.{seen.operation}", "yes", verdict, text
        )
    )


def _judge_offset(
    seen: SearchObservation, expected: str, ids: list[Any], later: list[Any], shifted: Exchange
) -> None:
    assumption = f"{seen.operation} reads offset as a {'row count' if expected == 'row' else 'page index'}"
    if not shifted.succeeded:
        seen.findings.append(Finding(assumption, "search.offset", expected, "failed", shifted.summary()))
        return
    if len(ids) < 2:
        seen.findings.append(
            Finding(
                assumption,
                "search.offset",
                expected,
                "not checkable",
                f"{len(ids)} record(s) found: offset 1 tells nothing with fewer than 2",
            )
        )
        return
    if later and later[0] == ids[1]:
        seen.offset, what = "row", "offset 1 started at the 2nd record of offset 0: a row count"
    elif not later or later[0] not in ids:
        seen.offset = "page"
        what = (
            f"offset 1 with limit {seen.page_size} answered "
            + ("nothing" if not later else "records after the first page")
            + f" although offset 0 answered {len(ids)}: a page index"
        )
    else:
        what = f"offset 1 started at record {ids.index(later[0]) + 1} of offset 0: neither rows nor pages"
    verdict: Verdict = "confirmed" if seen.offset == expected else "different"
    seen.findings.append(Finding(assumption, "search.offset", expected, verdict, what))


def _judge_page_size(
    seen: SearchObservation,
    profile: ContractProfile,
    ids: list[Any],
    later: list[Any],
    total: Any,
    over: Exchange,
    shape: Any,
) -> None:
    size, op = seen.page_size, seen.operation
    settings = profile.search
    got = len(ids)
    more_exist = (
        (isinstance(total, int) and total > got)
        or (seen.offset == "row" and got >= 1 and len(later) >= got)
        or (seen.offset == "page" and bool(later))
    )
    if got < size and more_exist:
        seen.cap, seen.over_max = got, "cap"
    if over.answered and not over.succeeded and over.status is not None and over.status < 500:
        seen.over_max = seen.over_max or "reject"
    over_rows = _records(over, shape)
    expected = (
        f"{size} rows a page; a larger limit is {'refused' if settings.over_max == 'reject' else 'cut'}"
    )
    verdict: Verdict
    if seen.cap is not None:
        verdict = "different" if not (size == seen.cap and settings.over_max == "cap") else "confirmed"
        text = (
            f"limit {size} answered {got} rows although more exist"
            + (f" ({total} in all)" if isinstance(total, int) else "")
            + f": the server caps pages at {got} without saying so"
        )
    elif got >= size:
        verdict = "confirmed"
        text = f"limit {size} answered a full page of {got}"
    else:
        verdict = "confirmed"
        text = f"all {got} records came back in one page (a cap above {got} would not show)"
    if seen.cap is None:
        if seen.over_max == "reject":
            text += f"; limit {size + 1} was refused ({over.summary()})"
            if settings.over_max != "reject":
                verdict = "different"
        elif over_rows is not None:
            # Harmless for the client, which never asks for more than the page size: not a contradiction.
            text += f"; limit {size + 1} was answered ({len(over_rows)} rows), not refused"
    seen.findings.append(
        Finding(f"{op} pages of up to {size} rows", f"search.max_page_size.{op}", expected, verdict, text)
    )


#: How far back doctor asks for invoices created with nothing owed, or dispatched (a night asks a day, or
#: an hour, before its read).
_SINCE = timedelta(days=30)


def check_narrow_reads(probes: ReadOnlyProbes, profile: ContractProfile, now: datetime) -> list[Finding]:
    """Whether EnKash applies the filters of a night's narrow searches: the two a night with a kept read
    searches with (``ar_sync.kept_reads``: every owed invoice, ``balanceAmountFrom``; invoices created
    since a time with nothing owed, ``createdOnFrom`` with ``balanceAmountTo`` 0), and the two dispatch
    reads again before it sends (``tasks.night_picture.refreshed``: the undispatched invoices,
    ``dispatched`` false; those dispatched since a time, ``dispatched`` true with ``dispatchedOnFrom``).
    One page of each; every record it returns must match.

    None is critical: a filter EnKash ignores makes a night read more, one it refuses makes the night
    read every invoice (with a warning), and what a filter leaves out that was owed is read one by one.
    """
    since = (now - _SINCE).astimezone(UTC)
    probes_: list[tuple[str, str, dict[str, Any], Any]] = [
        (
            "searchCollectionInvoices applies balanceAmountFrom (a night reads the owed invoices so)",
            "balanceAmountFrom",
            {"balanceAmountFrom": SMALLEST_AMOUNT},
            lambda r: (_number(r.get("balanceAmount")) or 0) >= SMALLEST_AMOUNT,
        ),
        (
            "searchCollectionInvoices applies createdOnFrom with balanceAmountTo 0 (a night reads the new "
            "invoices with nothing owed so)",
            "createdOnFrom, balanceAmountTo",
            {"createdOnFrom": since.strftime(TIMESTAMP_FORMAT), "balanceAmountTo": 0},
            lambda r: (_number(r.get("balanceAmount")) or 0) <= 0 and _not_before(r.get("createdOn"), since),
        ),
        (
            "searchCollectionInvoices applies dispatched false (dispatch reads the undispatched invoices so "
            "before it sends)",
            "dispatched",
            {"dispatched": False},
            lambda r: r.get("dispatched") is not True,
        ),
        (
            "searchCollectionInvoices applies dispatched true with dispatchedOnFrom (dispatch reads what was "
            "dispatched since the night's read so)",
            "dispatched, dispatchedOnFrom",
            {"dispatched": True, "dispatchedOnFrom": since.strftime(TIMESTAMP_FORMAT)},
            lambda r: r.get("dispatched") is True and _not_before(r.get("dispatchedOn"), since),
        ),
    ]
    return [_filter_finding(probes, profile, *probe) for probe in probes_]


def check_customer_filter(
    probes: ReadOnlyProbes, profile: ContractProfile, invoices: list[dict[str, Any]] | None
) -> list[Finding]:
    """Whether EnKash applies ``customerIds`` on the invoice search, as the look-ups of a lost answer
    and of retired invoices assume (``ar_sync.exactly_once``, ``ar_sync.lifecycle_writes``): one page
    searched for the customer of an invoice the plain search returned (``invoices``) must hold only
    that customer's invoices. Not critical: the look-ups read every invoice of the seller when it is
    refused, and an ignored filter only returns more, which they check row by row."""
    customer = next(
        (r.get("customerId") for r in invoices or () if isinstance(r.get("customerId"), str)), None
    )
    if customer is None:
        seen = "no invoice with a customerId to search by (nothing to compare)"
        return [Finding(_CUSTOMER_FILTER, "customerIds", "applied", "not checkable", seen, critical=False)]
    body = {"customerIds": [customer]}
    return [
        _filter_finding(
            probes, profile, _CUSTOMER_FILTER, "customerIds", body, lambda r: r.get("customerId") == customer
        )
    ]


_CUSTOMER_FILTER: Final = (
    "searchCollectionInvoices applies customerIds (the look-ups of a lost answer search a batch's "
    "customers so)"
)


def _filter_finding(
    probes: ReadOnlyProbes,
    profile: ContractProfile,
    assumption: str,
    setting: str,
    body: dict[str, Any],
    matches: Callable[[dict[str, Any]], bool],
) -> Finding:
    """One page of the invoice search with ``body``: confirmed when every record ``matches``."""
    size = profile.page_size("searchCollectionInvoices")
    params = {"offset": 0, "limit": size, "orderBy": "createdOn", "direction": "ASC"}
    got = probes.call("searchCollectionInvoices", params=params, json=body)
    records = _records(got, _shape(got.payload, profile)) if got.succeeded else None
    verdict: Verdict
    if records is None:
        verdict, seen = (
            "different",
            f"{got.summary()}: nights read every invoice instead (slower, not wrong)",
        )
    elif not records:
        verdict, seen = "not checkable", "no invoice matches (nothing to compare)"
    else:
        stray = [r for r in records if not matches(r)]
        verdict = "different" if stray else "confirmed"
        seen = (
            f"{len(stray)} of {len(records)} records do not match: the filter is not applied, nights "
            "read more (not wrong)"
            if stray
            else f"{len(records)} records, each matching"
        )
    return Finding(assumption, setting, "applied", verdict, seen, critical=False)


def _number(value: Any) -> float | None:
    try:
        return None if value is None or isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        return None


def _not_before(value: Any, since: datetime) -> bool:
    """Whether a record's time (``createdOn``, ``dispatchedOn``) is not before ``since`` (True when it
    cannot be read as a time: doctor judges the filter by what it can read)."""
    if not isinstance(value, str):
        return True
    try:
        created = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return True
    return (created if created.tzinfo else created.replace(tzinfo=UTC)) >= since - timedelta(days=1)
