"""The handlers of the emulated operations, one per operationId: read the request, call the backend,
word the answer.

A handler does nothing else: rules live in ``sandbox.backend``, wire shapes in ``sandbox.answers``, and
the route table (``sandbox.routes``) says which path reaches which handler. What a handler returns is
the payload; the endpoint wraps it in the route's envelope.
"""

from __future__ import annotations

from typing import Any

from sandbox.backend.search import CUSTOMER_ORDER, INVOICE_ORDER
from sandbox.call import Call

_PARENT = "parentCompanyId"
_SELLER = "sellerId"


def get_authentication_token(call: Call) -> Any:
    """getAuthenticationToken: the OAuth password grant."""
    return call.answers.token(call.state.tokens.login(call.authorization, call.body))


# Customers


def create_customer(call: Call) -> Any:
    """createCustomer: one customer with its key contacts (and optional reminders)."""
    return call.answers.customer(call.backend.customers.create(call.company_id, call.body))


def update_customer(call: Call) -> Any:
    """updateCustomer: JsonNullable partial update."""
    call.scope(_PARENT)
    customer = call.backend.customers.update(call.company_id, call.path["customerId"], call.body)
    return call.answers.customer(customer)


def activate_customer(call: Call) -> Any:
    """activateCustomer: status ACTIVE."""
    call.scope(_PARENT)
    return call.answers.customer(
        call.backend.customers.set_status(call.company_id, call.path["customerId"], "ACTIVE")
    )


def deactivate_customer(call: Call) -> Any:
    """deactivateCustomer: status INACTIVE."""
    call.scope(_PARENT)
    return call.answers.customer(
        call.backend.customers.set_status(call.company_id, call.path["customerId"], "INACTIVE")
    )


def delete_customer(call: Call) -> Any:
    """deleteCustomerByCustomerId: soft delete; the payload is a confirmation string."""
    call.scope(_PARENT)
    call.backend.customers.delete(call.company_id, call.path["customerId"])
    return call.answers.deleted("Customer", call.path["customerId"])


def get_customer_contact_details(call: Call) -> Any:
    """getCustomerContactDetails: the customer's key contacts."""
    call.scope(_PARENT)
    return call.backend.customers.contacts(call.company_id, call.path["customerId"])


def search_customer(call: Call) -> Any:
    """searchCustomer: a page of live customers matching the body filters."""
    call.refuse_unknown_filters()
    page = call.paging(CUSTOMER_ORDER, "searchCustomer")
    return call.answers.customers(call.backend.search.customers(call.company_id, call.body, page))


# Reminders of a customer


def create_customer_reminder(call: Call) -> Any:
    """createCustomerReminder: add one reminder schedule to a customer."""
    call.scope(_PARENT)
    return call.backend.reminders.create(call.company_id, call.path["customerId"], call.body)


def get_customer_reminders(call: Call) -> Any:
    """getCustomerReminders: every reminder of a customer."""
    call.scope(_PARENT)
    return call.backend.reminders.list_of(call.company_id, call.path["customerId"])


def get_customer_reminder(call: Call) -> Any:
    """getCustomerReminder: one reminder."""
    call.scope(_PARENT)
    return call.backend.reminders.get(call.company_id, call.path["customerId"], call.path["reminderId"])


def update_customer_reminder(call: Call) -> Any:
    """updateCustomerReminder: replace a reminder with the body."""
    call.scope(_PARENT)
    return call.backend.reminders.replace(
        call.company_id, call.path["customerId"], call.path["reminderId"], call.body
    )


def delete_reminder(call: Call) -> Any:
    """deleteReminder: remove a reminder; the payload is a confirmation string."""
    call.scope(_PARENT)
    removed = call.backend.reminders.delete(call.company_id, call.path["customerId"], call.path["reminderId"])
    return call.answers.deleted("Reminder", removed)


# Invoices


def create_invoice(call: Call) -> Any:
    """createInvoice: one invoice for a customer of the token's company."""
    return call.answers.invoice(call.backend.invoices.create(call.company_id, call.body, call.base_url))


def get_invoice(call: Call) -> Any:
    """getInvoice: one invoice by id."""
    call.scope(_SELLER)
    return call.answers.invoice(call.backend.invoices.get(call.company_id, call.path["invoiceId"]))


def update_invoice(call: Call) -> Any:
    """updateInvoice: JsonNullable partial update; amounts are recomputed."""
    call.scope(_SELLER)
    invoice = call.backend.invoices.update(call.company_id, call.path["invoiceId"], call.body)
    return call.answers.invoice(invoice)


def dispatch_invoice_collection(call: Call) -> Any:
    """dispatchInvoiceCollection: send payment links; per-invoice outcome."""
    return call.answers.bulk_action(call.backend.invoices.dispatch(call.company_id, call.body, call.base_url))


def delete_invoice_collection(call: Call) -> Any:
    """deleteInvoiceCollection: soft-delete each invoice; per-invoice outcome."""
    return call.answers.bulk_action(call.backend.invoices.delete(call.company_id, call.body))


def search_collection_invoices(call: Call) -> Any:
    """searchCollectionInvoices: a page of invoices matching the body filters."""
    call.refuse_unknown_filters()
    page = call.paging(INVOICE_ORDER, "searchCollectionInvoices")
    body = call.canonical_statuses("receivableStatuses")
    return call.answers.invoices(call.backend.search.invoices(call.company_id, body, page))


def payment_confirmation_request(call: Call) -> Any:
    """paymentConfirmationRequest: the supplier confirms (or rejects) a buyer payment."""
    return call.answers.payment_recorded(
        *call.backend.bharat_connect.confirm_payment(call.company_id, call.body)
    )


def change_invoice_status_request(call: Call) -> Any:
    """changeInvoiceStatusRequest: set the receivable status of invoices."""
    body = call.canonical_statuses("status")
    return call.answers.status_set(*call.backend.bharat_connect.change_status(call.company_id, body))


# Bulk files


def create_bulk_customer(call: Call) -> Any:
    """createBulkCustomer: customers from a CSV/XLSX file (``companyId`` query required)."""
    call.scope("companyId", required=True)
    outcome = call.backend.bulk.create_customers(call.company_id, call.upload, call.request_id)
    return call.answers.bulk(outcome, call.base_url)


def bulk_update(call: Call) -> Any:
    """bulkUpdate: change customers from a CSV/XLSX file; empty cells leave members unchanged."""
    call.scope(_PARENT)
    outcome = call.backend.bulk.update_customers(call.company_id, call.upload, call.request_id)
    return call.answers.bulk(outcome, call.base_url)


def invoice_bulk_upload(call: Call) -> Any:
    """invoiceBulkUpload: invoices from a CSV/XLSX file; valid rows created, invalid rows reported."""
    call.scope(_SELLER)
    outcome = call.backend.bulk.create_invoices(call.company_id, call.upload, call.request_id)
    return call.answers.bulk(outcome, call.base_url)
