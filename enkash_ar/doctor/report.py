"""What doctor found: one row per assumption, the profile that fits, and the exit status."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from enkash_ar.alternative_profiles import name_of
from enkash_ar.contract_profile import ContractProfile
from enkash_ar.errors import EnkashError
from enkash_ar.profile_files import dump_profile

Verdict = Literal["confirmed", "different", "not checkable", "failed"]

#: Exit statuses of ``enkash-ar doctor``.
EXIT_OK: Final = 0
EXIT_CONTRADICTED: Final = 1
EXIT_CANNOT_CHECK: Final = 2


class ContradictedAssumptionsError(EnkashError):
    """Doctor found an assumption the nightly cycle depends on contradicted (or could not check)."""


@dataclass(frozen=True)
class Finding:
    """One assumption and what the API showed about it."""

    #: what we assume, in a few words
    assumption: str
    #: the contract profile setting (or the documented operation) it concerns
    setting: str
    #: what the configured profile says
    expected: str
    verdict: Verdict
    #: what was seen, or why it cannot be checked without writing
    seen: str
    #: whether the nightly cycle depends on it (a contradiction then fails doctor)
    critical: bool = True


@dataclass(frozen=True)
class DoctorReport:
    """Every finding, the profile doctor was run with and the profile that fits what it saw."""

    base_url: str
    findings: list[Finding]
    configured: ContractProfile
    recommended: ContractProfile
    #: doctor could not run its checks (no token, no answer): the findings say why
    stopped: bool = False

    @property
    def contradicted(self) -> list[Finding]:
        """Findings that contradict an assumption the nightly cycle depends on."""
        return [f for f in self.findings if f.critical and f.verdict in ("different", "failed")]

    @property
    def exit_code(self) -> int:
        """0: nothing the cycle depends on is contradicted; 1: something is; 2: doctor could not check."""
        if self.stopped:
            return EXIT_CANNOT_CHECK
        return EXIT_CONTRADICTED if self.contradicted else EXIT_OK

    @property
    def recommended_name(self) -> str | None:
        """The shipped profile or alternative the recommendation equals, if any."""
        return name_of(self.recommended)

    def summary(self) -> str:
        """One line: how many assumptions hold, which profile fits."""
        counts = {v: sum(1 for f in self.findings if f.verdict == v) for v in ("confirmed", "different")}
        fits = self.recommended_name or "a custom profile"
        changed = "" if self.recommended == self.configured else " (differs from the configured one)"
        return (
            f"{counts['confirmed']} confirmed, {counts['different']} different, "
            f"{len(self.contradicted)} contradicting what the nightly cycle depends on; the profile that "
            f"fits: {fits}{changed}"
        )

    def raise_for_contradictions(self) -> None:
        """Raise :class:`ContradictedAssumptionsError` unless the exit code is 0 (a flow run fails)."""
        if self.exit_code == EXIT_OK:
            return
        wrong = ", ".join(sorted({f.setting for f in self.contradicted})) or "the token request"
        raise ContradictedAssumptionsError(
            f"doctor: {self.summary()}. Contradicted: {wrong}. Use the profile doctor wrote "
            "(contract_profile on the credentials block, or ENKASH_CONTRACT_PROFILE), then run doctor again."
        )

    def write_profile(self, path: str | Path) -> Path:
        """Write the recommended profile as a file the settings or the block can name; returns its path."""
        header = f"Contract profile fitting what `enkash-ar doctor` saw at {self.base_url}.\n{self.summary()}"
        return dump_profile(self.recommended, path, comment=header)

    def to_markdown(self) -> str:
        """The findings as a markdown table (for a Prefect artifact)."""
        lines = [
            f"# EnKash contract check of {self.base_url}",
            "",
            self.summary(),
            "",
            "| assumption | setting | we assume | verdict | seen | cycle depends on it |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for f in self.findings:
            cells = [
                f.assumption,
                f"`{f.setting}`",
                f.expected,
                f.verdict,
                f.seen,
                "yes" if f.critical else "no",
            ]
            lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
        return "\n".join(lines) + "\n"
