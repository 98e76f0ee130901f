"""``doctor``: which of our guesses about EnKash hold against a live API, found by reading only.

Example:
    >>> from enkash_ar import EnkashSettings
    >>> from enkash_ar.doctor import run_doctor
    >>> report = run_doctor(EnkashSettings())  # doctest: +SKIP
    >>> report.exit_code, report.recommended_name  # doctest: +SKIP
    (0, 'shipped')
"""

from enkash_ar.doctor.checks import UNKNOWN_INVOICE_ID, examine, run_doctor
from enkash_ar.doctor.report import (
    EXIT_CANNOT_CHECK,
    EXIT_CONTRADICTED,
    EXIT_OK,
    ContradictedAssumptionsError,
    DoctorReport,
    Finding,
)

__all__ = [
    "EXIT_CANNOT_CHECK",
    "EXIT_CONTRADICTED",
    "EXIT_OK",
    "UNKNOWN_INVOICE_ID",
    "ContradictedAssumptionsError",
    "DoctorReport",
    "Finding",
    "examine",
    "run_doctor",
]
