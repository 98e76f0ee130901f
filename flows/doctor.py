"""doctor: check what we assume about EnKash against the API of a credentials block, reading only."""

import ar_sync.process_memory  # noqa: F401  (first: polars' allocator, ar_sync/process_memory.py)

import asyncio

from prefect import flow
from prefect.artifacts import acreate_markdown_artifact

from enkash_ar.doctor import run_doctor
from tasks.connection import connection


@flow(name="doctor")
async def doctor(
    credentials_block: str | None = None,
    result_files: list[str] | None = None,
    profile_out: str = "out/enkash-contract-profile.yaml",
) -> dict[str, object]:
    """Check every guess of the contract profile against the block's EnKash, without writing anything.

    One token request (never repeated), the searches, getInvoice and the guessed GET paths on records
    found, every answer validated against spec/openapi.yaml. Publishes the findings as a markdown
    artifact, writes the profile that fits what was seen to ``profile_out``, and ends Failed when an
    assumption the nightly cycle depends on is contradicted.

    Args:
        credentials_block: EnkashCredentials block name (default: the ENKASH_* settings).
        result_files: URLs or paths of the success and failure files of an upload you made, to check
            the result-file layout (doctor never uploads).
        profile_out: where to write the profile that fits.

    Example:
        >>> asyncio.run(doctor("enkash-uat"))  # doctest: +SKIP
    """
    fields = connection(credentials_block)
    report = await asyncio.to_thread(run_doctor, fields, result_files=result_files or [])
    written = report.write_profile(profile_out)
    await acreate_markdown_artifact(
        report.to_markdown() + f"\nThe profile that fits is in `{written}`.\n",
        key="enkash-contract-check",
        description="Which guesses about EnKash hold (enkash-ar doctor)",
    )
    report.raise_for_contradictions()
    return {
        "exit_code": report.exit_code,
        "fits": report.recommended_name or "custom",
        "profile": str(written),
    }


if __name__ == "__main__":
    asyncio.run(doctor())
