"""The bulk upload file templates: the members a bulk file can carry, by the SDK's names.

The EnKash portal publishes no template for createBulkCustomer, bulkUpdate or invoiceBulkUpload
(NOTES.md section 9). This layout is our assumption (x-inferred): one row per record, the header row
uses the member names of createCustomer, updateCustomer and createInvoice. The one key contact that
createCustomer requires is flattened into ``customerKeyContacts.<member>`` columns.

Frames handed to the client always use these names. Which of them the real file carries, under which
headers and in which format, is the contract profile's ``bulk_files`` (shipped: all of them, named as
here, CSV); the client writes and the sandbox reads by it, so a user who learns the real template
changes a profile file, not this module.

Cells are text in the file. An empty cell means "not given" (for bulkUpdate: "leave unchanged").
Booleans are ``true``/``false``; dates ``yyyy-MM-dd``; amounts plain decimals.

Result files, in the shape the client returns them whatever the profile's ``result_files`` layout
(shipped: exactly this, CSV):

- success file: ``rowNumber`` + the record's id column (``customerId`` / ``invoiceId``) + the original
  row's columns;
- failure file: ``rowNumber`` + ``field`` + ``reason`` + the original row's columns.

``rowNumber`` is the 1-based number of the data row in the uploaded file (the header row is not counted).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

BulkKind = Literal["customer_create", "customer_update", "invoice_create"]

ROW_NUMBER: Final = "rowNumber"
FAILURE_FIELD: Final = "field"
FAILURE_REASON: Final = "reason"


@dataclass(frozen=True)
class BulkTemplate:
    """Columns of one kind of bulk file, and the id column its success file adds."""

    kind: BulkKind
    columns: tuple[str, ...]
    required: frozenset[str]
    id_column: str

    @property
    def success_columns(self) -> tuple[str, ...]:
        """Header of the success result file."""
        return (ROW_NUMBER, self.id_column, *(c for c in self.columns if c != self.id_column))

    @property
    def failure_columns(self) -> tuple[str, ...]:
        """Header of the failure result file."""
        return (ROW_NUMBER, FAILURE_FIELD, FAILURE_REASON, *self.columns)


_CUSTOMER_FIELDS: Final = (
    "legalName",
    "uniqueRefNo",
    "contactNumber",
    "panOrGstin",
    "address",
    "state",
    "pinCode",
    "accountNumber",
    "ifsc",
    "assignedAgent",
    "customerKeyContacts.name",
    "customerKeyContacts.legalName",
    "customerKeyContacts.mobile",
    "customerKeyContacts.email",
)

CUSTOMER_CREATE: Final = BulkTemplate(
    kind="customer_create",
    columns=_CUSTOMER_FIELDS,
    required=frozenset(
        {
            "legalName",
            "customerKeyContacts.name",
            "customerKeyContacts.legalName",
            "customerKeyContacts.mobile",
        }
    ),
    id_column="customerId",
)

CUSTOMER_UPDATE: Final = BulkTemplate(
    kind="customer_update",
    columns=("customerId", *_CUSTOMER_FIELDS),
    required=frozenset({"customerId"}),
    id_column="customerId",
)

INVOICE_CREATE: Final = BulkTemplate(
    kind="invoice_create",
    columns=(
        "customerId",
        "externalId",
        "invoiceNumber",
        "invoiceDate",
        "dueDate",
        "baseAmount",
        "cgst",
        "sgst",
        "igst",
        "tds",
        "description",
        "poNumber",
        "partialPaymentAllowed",
        "gstExclusive",
        "emailAddress",
        "mobileNumber",
    ),
    required=frozenset({"customerId", "dueDate", "baseAmount"}),
    id_column="invoiceId",
)

TEMPLATES: Final[dict[BulkKind, BulkTemplate]] = {
    t.kind: t for t in (CUSTOMER_CREATE, CUSTOMER_UPDATE, INVOICE_CREATE)
}
