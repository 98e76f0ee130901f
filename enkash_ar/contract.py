"""Facts of the EnKash AR contract that more than one layer needs.

Everything here comes from ``spec/openapi.yaml`` (a copy of the team's reconstructed contract). The
client validates against these before sending, and the sandbox enforces them when answering, so a
rule that changes on the portal changes here once.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

#: sellerId, parentCompanyId, companyId and the OAuth clientId: ``CEK`` + 7 upper-case alphanumerics.
COMPANY_ID_PATTERN: Final = r"^CEK[A-Z0-9]{7}$"
#: customerId: ``KC`` + 14 upper-case alphanumerics.
CUSTOMER_ID_PATTERN: Final = r"^KC[A-Z0-9]{14}$"
ACCOUNT_NUMBER_PATTERN: Final = r"^$|^[A-Za-z0-9]{9,36}$"
MOBILE_PATTERN: Final = r"^$|^((\+|00)(\d{1,3})[\s-]?)?(\d{10})$"
IFSC_PATTERN: Final = r"^$|^[A-Za-z]{4}0[A-Z0-9a-z]{6}$"
#: A pragmatic subset of the RFC-5322 pattern in openapi.yaml (local@domain.tld).
EMAIL_PATTERN: Final = r"^[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?\.)+[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$"  # noqa: E501
#: Reminder time of day.
REMINDER_TIME_PATTERN: Final = r"^([01]\d|2[0-3]):[0-5]\d$"

COMPANY_ID_RE: Final = re.compile(COMPANY_ID_PATTERN)
CUSTOMER_ID_RE: Final = re.compile(CUSTOMER_ID_PATTERN)

#: createInvoice ``baseAmount`` minimum.
MIN_BASE_AMOUNT: Final = 0.1
#: searchCollectionInvoices ``limit`` maximum (documented for invoices); the contract profile's page
#: sizes (``search.max_page_size``) may not exceed it, for searchCustomer too.
MAX_SEARCH_LIMIT: Final = 5000

#: ``dueDate`` on the wire.
DATE_FORMAT: Final = "%Y-%m-%d"
#: Error ``timestamp`` and the search range filters (``createdOnFrom``, ``dueDateTo`` ...).
TIMESTAMP_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
#: The smallest amount (INR): the contract's amounts have two decimals.
SMALLEST_AMOUNT: Final = 0.01


class ErrorType(StrEnum):
    """``errorResponse.errorType`` values (exact, from the portal)."""

    CLIENT_REQUEST_ABORT = "CLIENT_REQUEST_ABORT"
    CLIENT_REQUEST_ERROR = "CLIENT_REQUEST_ERROR"
    INVALID_ACCESS = "INVALID_ACCESS"
    RECORD_NOT_FOUND = "RECORD_NOT_FOUND"
    SYSTEM_ERROR = "SYSTEM_ERROR"
    UNAUTHORIZED = "UNAUTHORIZED"
    UNKNOWN_ERROR = "UNKNOWN_ERROR"
    UNPROCESSABLE_REQUEST = "UNPROCESSABLE_REQUEST"
    VALIDATION_ERROR = "VALIDATION_ERROR"


class ApprovalStatus(StrEnum):
    """Invoice approval status (createInvoice ``approvalStatus``, search ``approvalStatuses``)."""

    APPROVER_APPROVAL_PENDING = "APPROVER_APPROVAL_PENDING"
    APPROVER_APPROVED = "APPROVER_APPROVED"
    APPROVER_REJECTED = "APPROVER_REJECTED"
    BANK_APPROVED = "BANK_APPROVED"
    CHECKER_APPROVAL_PENDING = "CHECKER_APPROVAL_PENDING"
    CHECKER_APPROVED = "CHECKER_APPROVED"
    CHECKER_REJECTED = "CHECKER_REJECTED"
    MAKER_APPROVAL_PENDING = "MAKER_APPROVAL_PENDING"
    MAKER_APPROVED = "MAKER_APPROVED"
    MAKER_REJECTED = "MAKER_REJECTED"


class ReceivableStatus(StrEnum):
    """Invoice ``receivableStatus.name``.

    The portal shows only ``PAID``; the rest is our assumption (x-inferred), kept to the states an AR
    cycle needs: open (UNPAID, PARTIALLY_PAID) and closed (PAID, CANCELLED).
    """

    UNPAID = "UNPAID"
    PARTIALLY_PAID = "PARTIALLY_PAID"
    PAID = "PAID"
    CANCELLED = "CANCELLED"


#: Receivable states that still count as owed.
OPEN_RECEIVABLE_STATUSES: Final = frozenset({ReceivableStatus.UNPAID, ReceivableStatus.PARTIALLY_PAID})


class SortDirection(StrEnum):
    """Search ``direction``."""

    ASC = "ASC"
    DESC = "DESC"


class ReminderType(StrEnum):
    """Reminder ``reminderType``."""

    ONCE = "ONCE"
    RECURRING = "RECURRING"
