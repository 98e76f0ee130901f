"""Doctor's check of the receivable status names: the names invoices carry, and what they likely mean.

The portal shows one name (``PAID``). A name the profile does not know is given a meaning from its
wording (``PARTIAL...``, ``VOID`` ...) or, failing that, from the invoice's amounts; the report says it
is a guess to confirm.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any, Final

from enkash_ar.contract import ReceivableStatus
from enkash_ar.contract_profile import ContractProfile
from enkash_ar.doctor.report import Finding

#: Words that give a status name's meaning, checked in this order ("UNPAID" before "PAID").
_WORDS: Final = (
    (ReceivableStatus.PARTIALLY_PAID, ("PARTIAL", "PART_")),
    (
        ReceivableStatus.UNPAID,
        ("UNPAID", "OPEN", "DUE", "PENDING", "OUTSTANDING", "OVERDUE", "NEW", "CREATED"),
    ),
    (ReceivableStatus.CANCELLED, ("CANCEL", "VOID", "WRITTEN", "WRITE_OFF", "REJECT", "DELETED")),
    (ReceivableStatus.PAID, ("PAID", "SETTLED", "RECEIVED", "CLOSED", "COLLECTED")),
)


def guess_meaning(name: str, invoices: Sequence[dict[str, Any]]) -> ReceivableStatus | None:
    """What a status name most likely means: by its wording, else by the amounts of its invoices.

    Example:
        >>> guess_meaning("PARTIALLY_RECEIVED", []).value
        'PARTIALLY_PAID'
    """
    upper = name.upper()
    for meaning, words in _WORDS:
        if any(word in upper for word in words):
            return meaning
    balances = [(i.get("balanceAmount"), i.get("netAmount")) for i in invoices]
    if balances and all(isinstance(b, int | float) and b == 0 for b, _ in balances):
        return ReceivableStatus.PAID
    if balances and all(
        isinstance(b, int | float) and isinstance(n, int | float) and 0 < b < n for b, n in balances
    ):
        return ReceivableStatus.PARTIALLY_PAID
    if balances and all(isinstance(b, int | float) and b == n and b > 0 for b, n in balances):
        return ReceivableStatus.UNPAID
    return None


def _name(invoice: dict[str, Any]) -> str | None:
    status = invoice.get("receivableStatus")
    name = status.get("name") if isinstance(status, dict) else status
    return name if isinstance(name, str) else None


def check_status_names(
    invoices: Sequence[dict[str, Any]], profile: ContractProfile
) -> tuple[list[Finding], dict[str, ReceivableStatus] | None]:
    """The finding on ``receivable_statuses`` and, when names differ, the mapping that fits them.

    The recommended mapping keeps the names seen (known ones with their meaning, new ones with the
    guessed one) and, for a meaning no seen name has, the profile's names.
    """
    expected = ", ".join(profile.receivable_statuses)
    assumption = "invoices carry receivable status names the profile knows"
    counts = Counter(n for n in (_name(i) for i in invoices) if n is not None)
    if not counts:
        text = "no invoice found" if not invoices else "the invoices found carry no receivableStatus name"
        return [Finding(assumption, "receivable_statuses", expected, "not checkable", text)], None
    unknown = [n for n in counts if profile.meaning_of(n) is None]
    seen_text = ", ".join(f"{n} ({c})" for n, c in counts.most_common())
    if not unknown:
        return [Finding(assumption, "receivable_statuses", expected, "confirmed", f"seen: {seen_text}")], None
    mapping: dict[str, ReceivableStatus] = {}
    unsure = []
    for name in counts:
        meaning = profile.meaning_of(name) or guess_meaning(name, [i for i in invoices if _name(i) == name])
        if meaning is None:
            unsure.append(name)
        else:
            mapping[name] = meaning
    for name, meaning in profile.receivable_statuses.items():
        if meaning not in mapping.values():
            mapping[name] = meaning
    guessed = ", ".join(f"{n} -> {mapping[n].value}" for n in unknown if n in mapping)
    text = f"seen: {seen_text}; unknown to the profile: {', '.join(unknown)}"
    if guessed:
        text += f"; meaning guessed from the name or amounts (check it): {guessed}"
    if unsure:
        text += f"; no meaning could be guessed for {', '.join(unsure)}: add it by hand"
    return [Finding(assumption, "receivable_statuses", expected, "different", text)], mapping
