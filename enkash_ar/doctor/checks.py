"""``run_doctor``: check every assumption of a contract profile against a live EnKash, reading only.

In order: one token request (stop if it fails: a retry could lock the account); both searches
(``search_checks``) and the two filters of a night's narrow reads; getInvoice on an invoice the search
found, and on an id that cannot exist (how errors are answered); the guessed GET paths on a customer
the search found; the receivable status names of the invoices found; result files the user passes.
Every answer is validated against spec/openapi.yaml. What cannot be checked without writing (the bulk
file layouts, the guessed write paths) is listed as such.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from enkash_ar.auth import TOKEN_OPERATION
from enkash_ar.client import EnkashClient
from enkash_ar.contract_profile import (
    INFERRED_OPERATIONS,
    SEARCH_OPERATIONS,
    ContractProfile,
    SearchOperation,
)
from enkash_ar.doctor.probes import OneTokenRequest, ReadOnlyProbes
from enkash_ar.doctor.report import DoctorReport, Finding, Verdict
from enkash_ar.doctor.result_files import ResultFile, check_result_files
from enkash_ar.doctor.search_checks import (
    SearchObservation,
    check_customer_filter,
    check_narrow_reads,
    check_search,
)
from enkash_ar.doctor.spec_schemas import SpecAnswers
from enkash_ar.doctor.status_names import check_status_names
from enkash_ar.errors import EnkashError
from enkash_ar.profile_files import load_profile
from enkash_ar.routes import READ_OPERATIONS
from enkash_ar.settings import ConnectionFields

#: An invoice id no EnKash can hold: its answer shows how errors are answered.
UNKNOWN_INVOICE_ID = "DOCTOR-NO-SUCH-INVOICE-0000"
#: Guessed GET operations the nightly cycle uses.
_CYCLE_READS = frozenset({"getCustomerReminders"})


def run_doctor(
    connection: ConnectionFields,
    *,
    result_files: Sequence[str] = (),
    transport: httpx.BaseTransport | None = None,
) -> DoctorReport:
    """Check the connection's contract profile against its EnKash, reading only.

    Args:
        connection: the settings or the credentials block (its ``contract_profile`` is what is checked).
        result_files: URLs or paths of the success and failure files of uploads the user made.
        transport: an httpx transport (tests).

    Raises:
        ConfigurationError: the contract profile cannot be loaded.
    """
    profile = load_profile(connection.contract_profile)
    # No retries: a doctor reports what the API answers, and never repeats the token request.
    quiet = connection.model_copy(update={"max_retries": 0})
    options: dict[str, Any] = {"token_guard": OneTokenRequest(), "profile": profile}
    if transport is not None:
        options["transport"] = transport
    with EnkashClient.from_config(quiet, **options) as client:
        return examine(client, result_files=result_files)


def examine(client: EnkashClient, *, result_files: Sequence[str] = ()) -> DoctorReport:
    """The checks of :func:`run_doctor` with a client built for them (``max_retries=0``, one token)."""
    profile = client.profile
    spec = SpecAnswers()
    findings: list[Finding] = []
    token_finding, answer = _check_token(client, spec)
    findings.append(token_finding)
    if token_finding.verdict == "failed":
        return DoctorReport(str(client.base_url), findings, profile, profile, stopped=True)
    recommended: dict[str, Any] = {}
    findings += _check_expires_in(answer, profile, recommended)
    probes = ReadOnlyProbes(client, spec)
    searches = {op: check_search(probes, op, profile) for op in SEARCH_OPERATIONS}
    for seen in searches.values():
        findings += seen.findings
    recommended["search"] = _search_changes(searches, profile)
    invoices, customers = searches["searchCollectionInvoices"].records, searches["searchCustomer"].records
    findings += check_narrow_reads(probes, profile, datetime.now(UTC))
    findings += check_customer_filter(probes, profile, invoices)
    findings += _check_get_invoice(probes, invoices, profile, recommended)
    findings += _check_guessed_reads(probes, customers)
    status_findings, statuses = check_status_names(invoices, profile)
    findings += status_findings
    if statuses is not None:
        recommended["receivable_statuses"] = {k: v.value for k, v in statuses.items()}
    file_findings, layout = check_result_files(_read_files(client, result_files), profile)
    findings += file_findings
    if layout is not None:
        recommended["result_files"] = layout.model_dump(mode="json")
    findings += _not_checkable(profile)
    findings += _schema_findings(probes, answer, spec)
    return DoctorReport(str(client.base_url), findings, profile, profile.with_changes(recommended))


def _check_token(client: EnkashClient, spec: SpecAnswers) -> tuple[Finding, dict[str, Any] | None]:
    assumption = "POST /oauth/token grants a token (asked once: three refusals lock the account)"
    try:
        token = client.get_authentication_token()
    except (EnkashError, httpx.HTTPError) as exc:
        return Finding(assumption, TOKEN_OPERATION, "a token", "failed", f"{type(exc).__name__}: {exc}"), None
    answer = client.last_token_answer or {}
    return (
        Finding(
            assumption,
            TOKEN_OPERATION,
            "a token",
            "confirmed",
            f"granted, valid until {token.expires_at:%Y-%m-%d %H:%M} UTC",
        ),
        answer,
    )


def _check_expires_in(answer: Any, profile: ContractProfile, recommended: dict[str, Any]) -> list[Finding]:
    given = isinstance(answer, dict) and answer.get("expires_in") not in (None, "", 0)
    expected = (
        "present"
        if profile.token.expires_in
        else f"absent ({profile.token.default_lifetime_seconds:.0f} s assumed)"
    )
    seen = f"present: {answer['expires_in']} s" if given else "absent"
    if given != profile.token.expires_in:
        recommended["token"] = {"expires_in": given}
    return [
        Finding(
            "the token answer says how long the token lives (expires_in)",
            "token.expires_in",
            expected,
            "confirmed" if given == profile.token.expires_in else "different",
            seen + ("" if given else f"; the client assumes {profile.token.default_lifetime_seconds:.0f} s"),
            critical=False,
        )
    ]


def _search_changes(
    searches: Mapping[SearchOperation, SearchObservation], profile: ContractProfile
) -> dict[str, Any]:
    """The ``search`` settings that fit both searches (a setting they disagree on keeps its value)."""
    seen = list(searches.values())
    changes: dict[str, Any] = {}
    for setting in ("response", "offset", "over_max"):
        values = {getattr(s, setting) for s in seen} - {None}
        if len(values) == 1:
            changes[setting] = values.pop()
    if changes.get("response") == "page":
        for member in ("content_member", "total_member"):
            values = {getattr(s, member) for s in seen} - {None}
            if len(values) == 1:
                changes[member] = values.pop()
    caps = {s.operation: s.cap for s in seen if s.cap is not None}
    if caps:
        changes["max_page_size"] = caps
    return changes


def _check_get_invoice(
    probes: ReadOnlyProbes,
    invoices: list[dict[str, Any]],
    profile: ContractProfile,
    recommended: dict[str, Any],
) -> list[Finding]:
    findings = []
    invoice_id = next((i.get("invoiceId") for i in invoices if i.get("invoiceId")), None)
    assumption = "getInvoice reads an invoice the search found"
    if invoice_id is None:
        findings.append(Finding(assumption, "getInvoice", "HTTP 200", "not checkable", "no invoice found"))
    else:
        got = probes.call("getInvoice", path_params={"invoiceId": str(invoice_id)})
        same = got.succeeded and isinstance(got.payload, dict) and got.payload.get("invoiceId") == invoice_id
        findings.append(
            Finding(assumption, "getInvoice", "HTTP 200", "confirmed" if same else "failed", got.summary())
        )
    missing = probes.call("getInvoice", path_params={"invoiceId": UNKNOWN_INVOICE_ID})
    expected = "HTTP 404" if profile.errors.http_status == "error-status" else "HTTP 200 with errorType"
    assumption = "business errors come with their HTTP status (not HTTP 200 with errorType)"
    verdict: Verdict
    if missing.error_type is None:
        verdict, seen = (
            "not checkable",
            f"an unknown invoice id answered {missing.summary()} without errorType",
        )
    else:
        style = "always-200" if missing.status == 200 else "error-status"
        verdict = "confirmed" if style == profile.errors.http_status else "different"
        seen = f"an unknown invoice id answered {missing.summary()}"
        if verdict == "different":
            recommended["errors"] = {"http_status": style}
    findings.append(Finding(assumption, "errors.http_status", expected, verdict, seen, critical=False))
    return findings


def _check_guessed_reads(probes: ReadOnlyProbes, customers: list[dict[str, Any]]) -> list[Finding]:
    findings = []
    customer_id = next((c.get("customerId") for c in customers if c.get("customerId")), None)
    reminder = next(
        (
            (c["customerId"], r["customerReminderId"])
            for c in customers
            for r in c.get("customerReminders") or []
            if isinstance(r, dict) and r.get("customerReminderId") and c.get("customerId")
        ),
        None,
    )
    for operation in sorted(op for op in INFERRED_OPERATIONS if op in READ_OPERATIONS):
        route = probes.client.profile.operations[operation]
        assumption = f"{route.method} {route.path} is {operation}"
        critical = operation in _CYCLE_READS
        needs_reminder = "reminderId" in route.placeholders()
        missing = (
            "no customer found"
            if customer_id is None
            else "no reminder found"
            if needs_reminder and reminder is None
            else None
        )
        if missing is not None:
            findings.append(
                Finding(assumption, f"operations.{operation}", "HTTP 200", "not checkable", missing, critical)
            )
            continue
        params = {"customerId": str(customer_id)}
        if needs_reminder and reminder is not None:
            params = {"customerId": str(reminder[0]), "reminderId": str(reminder[1])}
        got = probes.call(operation, path_params=params)
        verdict: Verdict = "confirmed" if got.succeeded else "different"
        seen = got.summary() + (
            "" if got.succeeded else " on a record the search found: the path is probably not this"
        )
        findings.append(Finding(assumption, f"operations.{operation}", "HTTP 200", verdict, seen, critical))
    return findings


def _read_files(client: EnkashClient, sources: Sequence[str]) -> list[ResultFile]:
    files = []
    for source in sources:
        if source.startswith(("http://", "https://")):
            files.append(ResultFile(source, client.result_file_content(source)))
        else:
            files.append(ResultFile(source, Path(source).expanduser().read_bytes()))
    return files


def _not_checkable(profile: ContractProfile) -> list[Finding]:
    findings = [
        Finding(
            f"{kind} bulk files have the profile's columns and format",
            f"bulk_files.{kind}",
            f"{layout.format.upper()}, {len(layout.columns)} columns",
            "not checkable",
            "needs an upload; a two-invoice night on UAT checks it",
        )
        for kind, layout in profile.bulk_files.items()
    ]
    writes = sorted(op for op in INFERRED_OPERATIONS if op not in READ_OPERATIONS)
    for operation in writes:
        route = profile.operations[operation]
        findings.append(
            Finding(
                f"{route.method} {route.path} is {operation}",
                f"operations.{operation}",
                "HTTP 200",
                "not checkable",
                "a write: doctor never sends one",
                critical=operation in ("createCustomerReminder", "updateCustomerReminder", "deleteReminder"),
            )
        )
    findings.append(
        Finding(
            "a token without expires_in lives this long",
            "token.default_lifetime_seconds",
            f"{profile.token.default_lifetime_seconds:.0f} s",
            "not checkable",
            "would need waiting for the token to expire",
            critical=False,
        )
    )
    return findings


def _schema_findings(probes: ReadOnlyProbes, token_answer: Any, spec: SpecAnswers) -> list[Finding]:
    """One finding per operation: do its answers validate against spec/openapi.yaml?"""
    problems: dict[str, list[str]] = {}
    statuses: dict[str, set[int]] = {}
    token_problems = spec.problems(TOKEN_OPERATION, 200, token_answer) if token_answer is not None else None
    if token_problems is not None:
        problems[TOKEN_OPERATION] = token_problems
        statuses[TOKEN_OPERATION] = {200}
    for x in probes.exchanges:
        if x.status is None:
            continue
        statuses.setdefault(x.operation, set()).add(x.status)
        found = problems.setdefault(x.operation, [])
        if x.schema_problems is None:
            found.append(f"HTTP {x.status} is not an answer the spec documents")
        else:
            found += [p for p in x.schema_problems if p not in found]
    return [
        Finding(
            f"{operation} answers match spec/openapi.yaml",
            operation,
            "schema-valid",
            "confirmed" if not found else "different",
            f"HTTP {sorted(statuses[operation])}: "
            + (
                "valid"
                if not found
                else "; ".join(found[:3]) + (f" (+{len(found) - 3})" if len(found) > 3 else "")
            ),
            critical=False,
        )
        for operation, found in problems.items()
    ]
