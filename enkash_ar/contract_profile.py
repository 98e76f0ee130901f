"""The contract profile: every guess this project makes about EnKash's undocumented parts, in one typed place.

The portal documents the AR operations only in part (spec/openapi.yaml marks each guess ``x-inferred``).
Everything the nightly cycle leans on that the portal does not state is a field here, with the value
we ship as its default:

- ``operations``: method and path of the operations the portal only lists in its navigation
  (deactivate, contacts, the five reminder operations, bulk delete, change-status);
- ``bulk_files``: columns, header names and file format of each kind of bulk upload;
- ``result_files``: format and column names of the success / failure files of a bulk upload, and the
  number of the first data row;
- ``search``: whether a search answers a JSON array or a Spring ``Page`` object, what ``offset``
  counts (rows or pages), the largest page each search honours and what it does with a larger limit;
- ``receivable_statuses``: the names EnKash gives each receivable state (only ``PAID`` is shown);
- ``token``: whether the token answer carries ``expires_in``, and the lifetime assumed when it does not;
- ``errors``: whether business errors come with their HTTP status or as HTTP 200 with ``errorType``.

The client sends and reads by it, the sandbox plays it (``enkash-ar sandbox serve --profile``), and
``enkash-ar doctor`` checks it against a live API and writes the profile that fits what it saw. A user
who learns the real value of a guess changes a file (``ENKASH_CONTRACT_PROFILE``), not the code; see
``enkash_ar.profile_files`` for loading and ``enkash_ar.alternative_profiles`` for the alternatives
the sandbox can play.

Inside the SDK, receivable statuses always have their canonical names (:class:`ReceivableStatus`):
the client translates EnKash's names both ways, so the sync engine never sees a profile.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from enkash_ar.bulk_template import TEMPLATES, BulkKind
from enkash_ar.contract import MAX_SEARCH_LIMIT, OPEN_RECEIVABLE_STATUSES, ReceivableStatus

FileFormat = Literal["csv", "xlsx"]
SearchOperation = Literal["searchCustomer", "searchCollectionInvoices"]
SEARCH_OPERATIONS: Final[tuple[SearchOperation, ...]] = ("searchCustomer", "searchCollectionInvoices")
HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]

_PLACEHOLDER = re.compile(r"\{([^/{}]+)\}")


class ProfileModel(BaseModel):
    """A section of the profile: immutable, and a misspelt key is an error rather than ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class OperationRoute(ProfileModel):
    """Method and path of one operation whose page the portal does not show."""

    method: HttpMethod
    path: str = Field(description="Path below the base URL, with {customerId}-style placeholders.")

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/") or "?" in value:
            raise ValueError(f"path {value!r} must start with '/' and carry no query string")
        return value

    def placeholders(self) -> set[str]:
        """The ``{name}`` placeholders of the path."""
        return set(_PLACEHOLDER.findall(self.path))


_C = "/api/v0/customer"
#: The operations the portal lists without a page, with the method and path we guessed.
INFERRED_OPERATIONS: Final[dict[str, OperationRoute]] = {
    "deactivateCustomer": OperationRoute(method="PUT", path=_C + "/deactivate/{customerId}"),
    "getCustomerContactDetails": OperationRoute(method="GET", path=_C + "/{customerId}/contact"),
    "createCustomerReminder": OperationRoute(method="POST", path=_C + "/{customerId}/reminder"),
    "getCustomerReminders": OperationRoute(method="GET", path=_C + "/{customerId}/reminder"),
    "getCustomerReminder": OperationRoute(method="GET", path=_C + "/{customerId}/reminder/{reminderId}"),
    "updateCustomerReminder": OperationRoute(method="PUT", path=_C + "/{customerId}/reminder/{reminderId}"),
    "deleteReminder": OperationRoute(method="DELETE", path=_C + "/{customerId}/reminder/{reminderId}"),
    "deleteInvoiceCollection": OperationRoute(method="POST", path="/api/v0/invoice/bulk/delete"),
    "changeInvoiceStatusRequest": OperationRoute(method="POST", path="/api/v0/invoice/change-status"),
}


class BulkFileLayout(ProfileModel):
    """One kind of bulk upload file: which members it carries, under which headers, in which format.

    Members are the names of ``enkash_ar.bulk_template`` (the createCustomer / createInvoice members);
    ``headers`` renames those whose header in EnKash's template differs.
    """

    format: FileFormat = Field(default="csv", description="File format the client uploads.")
    columns: tuple[str, ...] = Field(description="Members the file carries, in file order.")
    headers: dict[str, str] = Field(
        default_factory=dict, description="member -> header text, where the header is not the member name."
    )

    def header_of(self, member: str) -> str:
        """The header under which ``member`` appears in the file."""
        return self.headers.get(member, member)


def _default_bulk_files() -> dict[BulkKind, BulkFileLayout]:
    return {kind: BulkFileLayout(columns=t.columns) for kind, t in TEMPLATES.items()}


class ResultFileLayout(ProfileModel):
    """The success and failure files a bulk upload answers with (``success_file_url`` ...)."""

    format: FileFormat = Field(default="csv", description="Format EnKash writes result files in.")
    row_number: str = Field(default="rowNumber", description="Column with the row's number in the upload.")
    first_row_number: Literal[0, 1, 2] = Field(
        default=1,
        description="Number of the first data row: 1 counts data rows, 0 counts from zero, 2 counts the "
        "header row as a spreadsheet does.",
    )
    customer_id: str = Field(default="customerId", description="Column of the new customer's id.")
    invoice_id: str = Field(default="invoiceId", description="Column of the new invoice's id.")
    failure_field: str = Field(default="field", description="Failure file column naming the bad member.")
    failure_reason: str = Field(default="reason", description="Failure file column saying what is wrong.")


class SearchSettings(ProfileModel):
    """How the two searches (searchCustomer, searchCollectionInvoices) answer and page."""

    response: Literal["list", "page"] = Field(
        default="list",
        description="'list': the payload is a JSON array of records; 'page': a Spring Page object.",
    )
    content_member: str = Field(default="content", description="Page member holding the records.")
    total_member: str = Field(default="totalElements", description="Page member holding the total count.")
    offset: Literal["row", "page"] = Field(
        default="row", description="What the offset query parameter counts: rows, or pages of `limit` rows."
    )
    max_page_size: dict[SearchOperation, int] = Field(
        default_factory=lambda: dict.fromkeys(SEARCH_OPERATIONS, MAX_SEARCH_LIMIT),
        description="Largest limit each search honours (the client never asks for more).",
    )
    over_max: Literal["reject", "cap"] = Field(
        default="reject",
        description="What the server does with a larger limit: 'reject' (400) or 'cap' (answers fewer rows).",
    )

    @field_validator("max_page_size")
    @classmethod
    def _page_sizes(cls, value: dict[SearchOperation, int]) -> dict[SearchOperation, int]:
        missing = [op for op in SEARCH_OPERATIONS if op not in value]
        if missing:
            raise ValueError(f"give a page size for {missing}")
        bad = {op: n for op, n in value.items() if not 1 <= n <= MAX_SEARCH_LIMIT}
        if bad:
            raise ValueError(f"page sizes must be within 1..{MAX_SEARCH_LIMIT}, got {bad}")
        return value


def _default_statuses() -> dict[str, ReceivableStatus]:
    return {s.value: s for s in ReceivableStatus}


class TokenSettings(ProfileModel):
    """What the token endpoint answers."""

    expires_in: bool = Field(default=True, description="Whether the token answer carries expires_in.")
    default_lifetime_seconds: float = Field(
        default=300.0,
        gt=0,
        description="Lifetime assumed when the answer has no expires_in (the portal's '5 min' note).",
    )


class ErrorSettings(ProfileModel):
    """How business errors (validation, not found ...) are answered."""

    http_status: Literal["error-status", "always-200"] = Field(
        default="error-status",
        description="'error-status': 4xx/5xx with the error envelope; 'always-200': HTTP 200 with "
        "errorResponse.errorType (the client reads both).",
    )


class ContractProfile(ProfileModel):
    """Every assumption about EnKash that the portal does not confirm, with the values we ship.

    Example:
        >>> profile = ContractProfile()
        >>> profile.search.max_page_size["searchCollectionInvoices"]
        5000
        >>> profile.wire_status(ReceivableStatus.UNPAID)
        'UNPAID'
    """

    operations: dict[str, OperationRoute] = Field(
        default_factory=lambda: dict(INFERRED_OPERATIONS),
        description="Method and path of each operation the portal lists without a page.",
    )
    bulk_files: dict[BulkKind, BulkFileLayout] = Field(
        default_factory=_default_bulk_files, description="Layout of each kind of bulk upload file."
    )
    result_files: ResultFileLayout = Field(default_factory=ResultFileLayout)
    search: SearchSettings = Field(default_factory=SearchSettings)
    receivable_statuses: dict[str, ReceivableStatus] = Field(
        default_factory=_default_statuses,
        description="EnKash's receivableStatus name -> what it means (several names may mean one thing).",
    )
    token: TokenSettings = Field(default_factory=TokenSettings)
    errors: ErrorSettings = Field(default_factory=ErrorSettings)

    @field_validator("operations")
    @classmethod
    def _known_operations(cls, value: dict[str, OperationRoute]) -> dict[str, OperationRoute]:
        unknown = sorted(set(value) - set(INFERRED_OPERATIONS))
        if unknown:
            raise ValueError(
                f"{unknown} are not operations the profile governs; it holds the guessed ones: "
                f"{sorted(INFERRED_OPERATIONS)}"
            )
        for name, route in value.items():
            wanted = INFERRED_OPERATIONS[name].placeholders()
            if route.placeholders() != wanted:
                raise ValueError(
                    f"{name}: path {route.path!r} must have the placeholders {sorted(wanted)} "
                    f"(it has {sorted(route.placeholders())})"
                )
        # A file may name only the operations it changes; the others keep the shipped guess.
        return {**INFERRED_OPERATIONS, **value}

    @field_validator("bulk_files")
    @classmethod
    def _bulk_layouts(cls, value: dict[BulkKind, BulkFileLayout]) -> dict[BulkKind, BulkFileLayout]:
        layouts = {**_default_bulk_files(), **value}
        for kind, layout in layouts.items():
            template = TEMPLATES[kind]
            problems = []
            unknown = [c for c in layout.columns if c not in template.columns]
            if unknown:
                problems.append(f"unknown members {unknown} (known: {list(template.columns)})")
            missing = sorted(template.required - set(layout.columns))
            if missing:
                problems.append(f"required members {missing} are not among the columns")
            stray = sorted(set(layout.headers) - set(layout.columns))
            if stray:
                problems.append(f"headers given for members that are not columns: {stray}")
            headers = [layout.header_of(c) for c in layout.columns]
            if len(set(headers)) != len(headers):
                problems.append(f"two columns share a header: {headers}")
            if problems:
                raise ValueError(f"{kind}: " + "; ".join(problems))
        return layouts

    @field_validator("receivable_statuses")
    @classmethod
    def _status_names(cls, value: dict[str, ReceivableStatus]) -> dict[str, ReceivableStatus]:
        lacking = [s.value for s in ReceivableStatus if s not in value.values()]
        if lacking:
            raise ValueError(f"give EnKash's name for every receivable state; none for {lacking}")
        # Translating both ways is unambiguous only if a canonical name, when EnKash uses it, means itself.
        swapped = {n: m.value for n, m in value.items() if n in ReceivableStatus.__members__ and n != m.value}
        if swapped:
            raise ValueError(f"a canonical status name must mean itself, got {swapped}")
        return value

    @model_validator(mode="after")
    def _distinct_result_columns(self) -> ContractProfile:
        r = self.result_files
        success = [r.row_number, r.customer_id]
        failure = [r.row_number, r.failure_field, r.failure_reason]
        for which, names in (
            ("success", success),
            ("failure", failure),
            ("invoice", [r.row_number, r.invoice_id]),
        ):
            if len(set(names)) != len(names):
                raise ValueError(f"result_files: the {which} file columns must differ, got {names}")
        return self

    def with_changes(self, changes: Mapping[str, Any]) -> ContractProfile:
        """This profile with ``changes`` (a profile file's content, possibly partial) applied.

        Mappings merge key by key, so a file names only what differs (``search: {offset: page}``
        keeps the other search settings); lists and ``receivable_statuses`` are replaced whole, since
        keeping the old names beside the new ones would make the sandbox answer the old ones.

        Raises:
            pydantic.ValidationError: the result is not a valid profile (unknown key, bad value).
        """
        return ContractProfile.model_validate(_merged(self.model_dump(mode="json"), changes, ()))

    # ---- receivable statuses ----------------------------------------------------------------------

    def meaning_of(self, wire_name: str) -> ReceivableStatus | None:
        """What EnKash's status ``wire_name`` means, or None when the profile does not know it."""
        return self.receivable_statuses.get(wire_name)

    def canonical_name(self, wire_name: str) -> str:
        """The canonical name (``ReceivableStatus``) of EnKash's status ``wire_name``.

        Raises:
            ValueError: the profile does not know ``wire_name``. The sync engine counts what is owed by
                canonical names, so an unknown one must stop the read: an invoice EnKash calls by
                another name would otherwise count as settled.
        """
        meaning = self.meaning_of(wire_name)
        if meaning is None:
            raise ValueError(
                f"receivableStatus {wire_name!r} is not a name the contract profile knows "
                f"({self.describe_statuses()}); add it to receivable_statuses with what it means"
            )
        return meaning.value

    def wire_names(self, status: ReceivableStatus | str) -> list[str]:
        """EnKash's names for a canonical status (several when several mean it)."""
        return [name for name, meaning in self.receivable_statuses.items() if meaning == status]

    def wire_status(self, status: ReceivableStatus | str) -> str:
        """The name EnKash is sent (and the sandbox answers) for a canonical status: its first name.

        A name that is not canonical is assumed to be EnKash's own already and passes unchanged.
        """
        names = self.wire_names(status)
        return names[0] if names else str(status)

    def open_status_names(self) -> list[str]:
        """EnKash's names of the states that still count as owed (for messages and filters)."""
        return [n for n, meaning in self.receivable_statuses.items() if meaning in OPEN_RECEIVABLE_STATUSES]

    def describe_statuses(self) -> str:
        """``'UNPAID (unpaid), PAID (paid) ...'``: the profile's names and meanings, for messages."""
        return ", ".join(f"{n} ({m.value.lower()})" for n, m in self.receivable_statuses.items())

    # ---- paths ------------------------------------------------------------------------------------

    def route_of(self, operation_id: str) -> OperationRoute | None:
        """The profile's method and path of ``operation_id`` (None for a documented operation)."""
        return self.operations.get(operation_id)

    def page_size(self, operation_id: SearchOperation | str) -> int:
        """The largest limit the search ``operation_id`` honours."""
        sizes = self.search.max_page_size
        return next((n for op, n in sizes.items() if op == operation_id), MAX_SEARCH_LIMIT)


#: Members whose value a change replaces instead of merging into.
_REPLACED: Final = frozenset({("receivable_statuses",)})


def _merged(base: Any, change: Any, where: tuple[str, ...]) -> Any:
    if isinstance(base, dict) and isinstance(change, Mapping) and where not in _REPLACED:
        out = dict(base)
        for key, value in change.items():
            out[key] = _merged(base.get(key), value, (*where, str(key)))
        return out
    return change


#: The profile this project ships: the guesses written in spec/openapi.yaml.
SHIPPED_PROFILE: Final = ContractProfile()

__all__ = [
    "INFERRED_OPERATIONS",
    "SEARCH_OPERATIONS",
    "SHIPPED_PROFILE",
    "BulkFileLayout",
    "ContractProfile",
    "ErrorSettings",
    "FileFormat",
    "OperationRoute",
    "ResultFileLayout",
    "SearchOperation",
    "SearchSettings",
    "TokenSettings",
]
