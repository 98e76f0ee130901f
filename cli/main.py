"""The ``enkash-ar`` command: run a cycle, run the demo, serve the sandbox, register the block.

Prefect and the flows are imported inside the commands that need them, so ``enkash-ar sandbox serve``
starts in a moment.

A cycle that fails for a reason the user can act on (a bad ERP file, too many rejected rows, refused
credentials, EnKash unreachable) ends with one line, ``error: the cycle failed: <what to do>``, and
exit status 1. Prefect still logs the failed runs to the console, but without the Python traceback of
those expected errors; the full traceback stays in the run's logs on the Prefect server.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import os
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.collections_view import print_collections

if TYPE_CHECKING:
    from ar_sync.night_summary import NightSummary
    from flows.options import CycleOptions

app = typer.Typer(
    name="enkash-ar",
    help="Run a company's nightly Accounts Receivable cycle on EnKash with Prefect.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
sandbox_app = typer.Typer(help="The local emulator of the EnKash AR API.", no_args_is_help=True)
blocks_app = typer.Typer(help="Prefect blocks of this project.", no_args_is_help=True)
credentials_app = typer.Typer(
    help="What the run ledger remembers of EnKash credentials.", no_args_is_help=True
)
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(blocks_app, name="blocks")
app.add_typer(credentials_app, name="credentials")
console = Console()
# soft_wrap: an error stays one line however narrow the terminal, so it can be grepped from a log.
err_console = Console(stderr=True, soft_wrap=True)


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code=1)


class _NoTracebackFormatter(logging.Formatter):
    """Console formatter that drops the traceback of expected errors and delegates everything else.

    The record is copied, not changed, so the API handler still sends the traceback to Prefect.
    """

    def __init__(self, inner: logging.Formatter, expected: Callable[[BaseException | None], bool]) -> None:
        super().__init__()
        self.inner = inner
        self.expected = expected

    def format(self, record: logging.LogRecord) -> str:
        """Format ``record`` with the wrapped formatter, without the traceback of an expected error."""
        error = record.exc_info[1] if record.exc_info else None
        if self.expected(error):
            record = copy.copy(record)
            record.exc_info = None
            record.exc_text = None
        return self.inner.format(record)


def _quiet_expected_tracebacks() -> None:
    """Keep tracebacks of the errors a user can act on out of Prefect's console output."""
    from prefect.logging.handlers import PrefectConsoleHandler

    from cli.failures import foreseeable

    for handler in logging.getLogger().handlers:
        inner = handler.formatter
        if (
            isinstance(handler, PrefectConsoleHandler)
            and inner
            and not isinstance(inner, _NoTracebackFormatter)
        ):
            handler.setFormatter(_NoTracebackFormatter(inner, foreseeable))


@contextlib.contextmanager
def _prefect_server_for_run() -> Iterator[None]:
    """The Prefect server the user configured (PREFECT_API_URL), else a local one for this run's flows.

    Prefect's own temporary server begins its SQLite transactions DEFERRED: most stages of a night met
    "database is locked" there and its client's 2 s sleep. This one (``cli.local_prefect``) begins them
    IMMEDIATE, on the same local database Prefect's temporary server keeps its runs in
    (``PREFECT_SERVER_DATABASE_CONNECTION_URL``, by default ``~/.prefect/prefect.db``), so ``prefect server
    start`` shows them afterwards. Its telemetry is off (``PREFECT_SERVER_ANALYTICS_ENABLED``) and it gets
    90 s to start (``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS``; Prefect's 20 s is too little
    for a busy laptop or CI machine); a value the user set is kept in both cases.
    """
    from prefect.settings import get_current_settings

    if get_current_settings().api.url:
        yield
        return
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    from prefect.context import refresh_global_settings_context

    from cli.failures import explain_prefect_failure
    from cli.local_prefect import LocalServerError, local_prefect_server

    refresh_global_settings_context()
    settings = get_current_settings()
    timeout = settings.server.ephemeral.startup_timeout_seconds
    database = settings.server.database.connection_url
    try:
        with local_prefect_server(timeout, database.get_secret_value() if database else None) as api_url:
            console.print(
                f"Local Prefect server at {api_url} (its runs are kept in Prefect's local database)"
            )
            yield
    except LocalServerError as exc:  # only its start raises it
        raise _fail(f"the cycle failed: {explain_prefect_failure(exc) or exc}") from None


def _column_mapping(pairs: list[str] | None, option: str) -> dict[str, str]:
    """``['Cust Code=customer_ref']`` as ``{'Cust Code': 'customer_ref'}``, or a clear error."""
    mapping: dict[str, str] = {}
    for pair in pairs or []:
        header, sep, canonical = pair.rpartition("=")
        if not sep or not header.strip() or not canonical.strip():
            raise _fail(
                f"{option} {pair!r} is not 'ERP header=canonical_name', e.g. 'Cust Code=customer_ref'."
            )
        mapping[header.strip()] = canonical.strip()
    return mapping


def print_summary(summary: NightSummary) -> None:
    """Print the night's summary: what was done, what is owed by age, and what needs a person."""
    done = Table(
        title=f"EnKash AR cycle as of {summary.as_of} (seller {summary.seller_id})", show_header=True
    )
    done.add_column("measure")
    done.add_column("value", justify="right")
    for key, value in summary.counts().items():
        done.add_row(key, str(value))
    done.add_row("open_amount", f"{summary.open_amount:,.2f}")
    done.add_row("dso", "n/a" if summary.dso is None else f"{summary.dso:,.2f}")
    console.print(done)
    aging = Table(title="Open receivables by days past due (INR)")
    aging.add_column("bucket")
    aging.add_column("amount", justify="right")
    for bucket, amount in summary.aging.items():
        aging.add_row(bucket, f"{amount:,.2f}")
    console.print(aging)
    if summary.dry_run:
        console.print(f"[yellow]dry run[/]: nothing was sent. Would send: {summary.planned}")
    for note in summary.attention():
        err_console.print(f"[bold yellow]needs attention:[/] {escape(note)}")


def _run_cycle(customers: Path, invoices: Path, as_of: date | None, options: CycleOptions) -> NightSummary:
    with _prefect_server_for_run():
        return _run_night(customers, invoices, as_of, options)


def _run_night(customers: Path, invoices: Path, as_of: date | None, options: CycleOptions) -> NightSummary:
    from prefect.states import State

    from cli.failures import explain
    from cli.progress_bar import progress_bar
    from tasks.connection import close_all

    try:
        from flows.nightly_ar_cycle import nightly_ar_cycle
    except ValueError as exc:  # a setting read when the tasks are defined (ENKASH_TASK_RETRY_DELAY_SECONDS)
        raise _fail(str(exc)) from None

    _quiet_expected_tracebacks()
    try:
        with progress_bar(err_console):
            state: State[Any] = asyncio.run(
                nightly_ar_cycle(str(customers), str(invoices), as_of, options, return_state=True)  # type: ignore[arg-type]
            )
    except Exception as exc:  # before or around the flow run: the Prefect API, a local file
        reason = explain(exc, out_dir=options.out_dir, ledger_path=options.ledger_path)
        if reason is None:
            raise
        raise _fail(f"the cycle failed: {reason}") from None
    finally:
        close_all()
    if state.is_failed() or state.is_crashed():
        result = state.result(raise_on_failure=False)
        reason = str(result) if isinstance(result, BaseException) else (state.message or state.name)
        if isinstance(result, BaseException):
            reason = explain(result, out_dir=options.out_dir, ledger_path=options.ledger_path) or reason
        raise _fail(f"the cycle failed: {reason}")
    summary: NightSummary = state.result()
    return summary


@app.command()
def cycle(
    customers: Annotated[Path, typer.Option(help="ERP customer export (CSV, Parquet or XLSX).")],
    invoices: Annotated[Path, typer.Option(help="ERP invoice export (CSV, Parquet or XLSX).")],
    as_of: Annotated[
        str | None, typer.Option(help="Date aging is counted from (YYYY-MM-DD; default today IST).")
    ] = None,
    out: Annotated[
        Path, typer.Option(help="Folder for summary.json, bulk_results.parquet, rejected_rows.csv.")
    ] = Path("out"),
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Read and plan only; send nothing to EnKash.")
    ] = False,
    block: Annotated[
        str | None, typer.Option(help="EnkashCredentials block name (default: ENKASH_* settings).")
    ] = None,
    ledger: Annotated[
        Path | None, typer.Option(help="Run ledger file (default .enkash-ar/ledger.sqlite3).")
    ] = None,
    customer_column: Annotated[
        list[str] | None,
        typer.Option(help="Map an ERP customer column to ours: 'ERP header=customer_ref' (repeatable)."),
    ] = None,
    invoice_column: Annotated[
        list[str] | None,
        typer.Option(help="Map an ERP invoice column to ours: 'ERP header=invoice_number' (repeatable)."),
    ] = None,
    chunk_size: Annotated[
        int, typer.Option(min=1, max=100_000, help="Rows per bulk file (one task run per chunk).")
    ] = 5000,
    lock_timeout: Annotated[
        float,
        typer.Option(
            min=0, help="Seconds to wait for another cycle of the same seller to finish (then fail)."
        ),
    ] = 1800.0,
    host_concurrency: Annotated[
        int,
        typer.Option(
            min=1, max=8, help="Write tasks (upload chunks, dispatch and reminder batches) in flight at once."
        ),
    ] = 4,
    full_read_every_days: Annotated[
        float,
        typer.Option(
            min=0,
            max=366,
            help="Read every EnKash invoice at least this often; between, start from the last night's read "
            "and read only what may have changed (0: every night).",
        ),
    ] = 7,
    max_invoice_amount: Annotated[
        str,
        typer.Option(help="Ceiling per invoice in INR: an amount or invoice total above it is rejected."),
    ] = "100000000.00",
    rejection_threshold: Annotated[
        float,
        typer.Option(
            min=0,
            max=1,
            help="Stop the night, before anything is sent, when more than this share of an ERP file's "
            "rows is rejected.",
        ),
    ] = 0.2,
    max_cancel_share: Annotated[
        float,
        typer.Option(
            min=0,
            max=1,
            help="Refuse a night that would cancel more than this share of the open invoices, or "
            "deactivate more than this share of the active customers (a truncated export?).",
        ),
    ] = 0.05,
    confirm_cancellations: Annotated[
        bool,
        typer.Option(
            "--confirm-cancellations",
            help="Run a night above --max-cancel-share: the invoices and customers really left the ERP.",
        ),
    ] = False,
) -> None:
    """Run nightly_ar_cycle once, now, and print its summary (exit status 1 if it failed)."""
    for path in (customers, invoices):
        if not path.is_file():
            raise _fail(f"{path}: no such file. Pass the ERP exports with --customers and --invoices.")
    try:
        as_of_date = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise _fail(f"--as-of {as_of!r} is not a date; use YYYY-MM-DD.") from None
    from pydantic import ValidationError

    from flows.options import CycleOptions

    try:
        ceiling = Decimal(max_invoice_amount.replace(",", ""))
        options = CycleOptions(
            out_dir=str(out),
            dry_run=dry_run,
            credentials_block=block,
            customer_columns=_column_mapping(customer_column, "--customer-column"),
            invoice_columns=_column_mapping(invoice_column, "--invoice-column"),
            chunk_size=chunk_size,
            rejection_threshold=rejection_threshold,
            lock_timeout_seconds=lock_timeout,
            host_concurrency=host_concurrency,
            full_read_every_days=full_read_every_days,
            max_invoice_amount=ceiling,
            max_cancel_share=max_cancel_share,
            confirm_cancellations=confirm_cancellations,
        )
    except (InvalidOperation, ValidationError):
        raise _fail(
            f"--max-invoice-amount {max_invoice_amount!r} is not an amount above 0 with at most 2 decimals, "
            "e.g. 100000000.00 (10 crore)."
        ) from None
    if ledger is not None:
        options.ledger_path = str(ledger)
    summary = _run_cycle(customers, invoices, as_of_date, options)
    print_summary(summary)
    print_collections(summary, console)
    console.print(f"Reports written to {out}/")


@app.command()
def demo(
    customers: Annotated[int, typer.Option(help="Number of generated customers.")] = 50,
    invoices: Annotated[int, typer.Option(help="Number of generated invoices.")] = 500,
    seed: Annotated[int, typer.Option(help="Seed of the generated data.")] = 7,
    out: Annotated[Path, typer.Option(help="Folder for the sample ERP files and the reports.")] = Path(
        "out/demo"
    ),
) -> None:
    """Start the embedded sandbox, generate sample ERP files, run a night, let customers pay for a day,
    run the next night; print both summaries and the second night's collections."""
    from ar_sync.nights import today
    from enkash_ar.client import EnkashClient
    from flows.options import CycleOptions
    from sandbox.config import SandboxConfig
    from sandbox.payment_simulation import simulate_payments
    from sandbox.sample_data import generate_erp_files
    from sandbox.server import running_sandbox

    # Yesterday's night sends the export; customers pay today; tonight's night exports their payments.
    as_of = today()
    first_night = as_of - timedelta(days=1)
    out.mkdir(parents=True, exist_ok=True)
    customers_path, invoices_path = generate_erp_files(
        out / "erp", customers=customers, invoices=invoices, seed=seed, as_of=first_night
    )
    console.print(
        f"Sample ERP export: {customers_path} ({customers} customers), {invoices_path} ({invoices} invoices)"
    )
    config = SandboxConfig()
    with running_sandbox(config) as sandbox, _prefect_server_for_run():
        console.print(f"Embedded EnKash sandbox at {sandbox.base_url} (seller {config.seller_id})")
        # The cycle reads its connection from the ENKASH_* settings, as a user's shell would give them.
        os.environ.update(sandbox.enkash_env())
        options = CycleOptions(out_dir=str(out), ledger_path=str(out / "ledger.sqlite3"))
        print_summary(_run_cycle(customers_path, invoices_path, first_night, options))
        with EnkashClient.from_settings() as client:
            paid = simulate_payments(sandbox.base_url, client, seed=seed, start=as_of)
        console.print(
            f"\nOn {as_of} customers paid {len(paid.payments)} invoices on EnKash (some in part; "
            f"{len(paid.confirmed)} over Bharat Connect, confirmed by paymentConfirmationRequest): "
            f"{paid.received:,.2f} INR. The next night exports them.\n"
        )
        summary = _run_cycle(customers_path, invoices_path, as_of, options)
    print_summary(summary)
    print_collections(summary, console)
    console.print(
        f"Reports written to {out}/ (summary.json, payments.csv, bulk_results.parquet, rejected_rows.csv, "
        "the run reports)"
    )


@app.command(
    "prefect-server",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def prefect_server(context: typer.Context) -> None:
    """Prefect's server (`prefect server start` and its options) with SQLite transactions begun
    IMMEDIATE: no "database is locked" 503s and 2 s client sleeps (README, "Prefect server")."""
    from cli.prefect_server import serve, start_options_error

    if reason := start_options_error(context.args):
        raise _fail(reason)
    try:
        serve(context.args)
    except RuntimeError as exc:
        raise _fail(str(exc)) from None


@sandbox_app.command("serve")
def sandbox_serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0 picks a free one).")] = 8765,
    db: Annotated[str, typer.Option(help="SQLite file, or :memory:.")] = ":memory:",
    token_ttl: Annotated[int, typer.Option(help="Token lifetime in seconds.")] = 300,
    client_id: Annotated[str | None, typer.Option(help="OAuth client id to accept.")] = None,
    client_secret: Annotated[str | None, typer.Option(help="OAuth client secret to accept.")] = None,
    username: Annotated[str | None, typer.Option(help="API user to accept.")] = None,
    password: Annotated[str | None, typer.Option(help="API user's password.")] = None,
    seller_id: Annotated[str | None, typer.Option(help="Company id of the seller (CEK...).")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of fault injection and generated ids.")] = None,
    fault_500: Annotated[float, typer.Option(help="Fraction of requests answered 500.")] = 0.0,
    fault_429: Annotated[float, typer.Option(help="Fraction answered 429 with Retry-After.")] = 0.0,
    fault_drop: Annotated[
        float, typer.Option(help="Fraction processed but whose response is dropped.")
    ] = 0.0,
    fault_expire_token: Annotated[float, typer.Option(help="Fraction whose token is expired first.")] = 0.0,
    latency_ms: Annotated[int, typer.Option(help="Latency added to every request (ms).")] = 0,
    retry_after: Annotated[int, typer.Option(help="Retry-After seconds sent with 429.")] = 1,
    profile: Annotated[
        str | None,
        typer.Option(
            help="Contract profile to play: a profile file, or shipped, spring-page, page-index, "
            "capped-limit, result-files-xlsx, other-status-names, no-expires-in, errors-200."
        ),
    ] = None,
) -> None:
    """Serve the EnKash AR sandbox in the foreground (Ctrl-C stops it)."""
    from dataclasses import replace

    from enkash_ar.errors import ConfigurationError
    from enkash_ar.profile_files import load_profile
    from sandbox.config import FaultConfig, SandboxConfig, sellers_from_env
    from sandbox.server import serve

    try:
        played = load_profile(profile)
    except ConfigurationError as exc:
        raise _fail(f"--profile: {exc}") from None

    try:
        base = SandboxConfig(sellers=sellers_from_env())
    except ValueError as exc:
        raise _fail(str(exc)) from None
    given = {
        "client_id": client_id,
        "client_secret": client_secret,
        "username": username,
        "password": password,
        "seller_id": seller_id,
    }
    faults = FaultConfig.from_env().updated(
        {
            k: v
            for k, v in {
                "error_500": fault_500,
                "error_429": fault_429,
                "drop": fault_drop,
                "expire_token": fault_expire_token,
                "latency_ms": latency_ms,
                "retry_after": retry_after,
                "seed": seed,
            }.items()
            if v
        }
    )
    config = replace(
        base,
        **{k: v for k, v in given.items() if v is not None},  # type: ignore[arg-type]
        host=host,
        port=port,
        db=db,
        token_ttl=token_ttl,
        seed=seed,
        faults=faults,
        profile=played,
    )
    serve(config)


_VERDICT_STYLE = {"confirmed": "green", "different": "bold red", "failed": "bold red", "not checkable": "dim"}


@app.command()
def doctor(
    block: Annotated[
        str | None, typer.Option(help="EnkashCredentials block name (default: ENKASH_* settings).")
    ] = None,
    result_file: Annotated[
        list[str] | None,
        typer.Option(
            help="Success or failure file (URL or path) of an upload you made, to check the result-file "
            "layout; give both files of one upload (repeatable)."
        ),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            help="Check this contract profile (file or shipped name) instead of the configured one."
        ),
    ] = None,
    profile_out: Annotated[
        Path, typer.Option(help="Where to write the contract profile that fits what doctor saw.")
    ] = Path("enkash-contract-profile.yaml"),
) -> None:
    """Check what we assume about EnKash against its API, reading only; write the profile that fits.

    One token request (never repeated: three refusals lock the account), the searches, getInvoice and
    the guessed GET paths; every answer validated against spec/openapi.yaml. Exit status 1 when an
    assumption the nightly cycle depends on is contradicted, 2 when doctor could not check (no token).
    """
    from pydantic import ValidationError as PydanticValidationError

    from enkash_ar.doctor import run_doctor
    from enkash_ar.errors import ConfigurationError

    try:
        if block:
            from blocks.credentials import EnkashCredentials

            fields: Any = EnkashCredentials.load(block, _sync=True)  # type: ignore[call-arg]
        else:
            from enkash_ar.settings import EnkashSettings

            fields = EnkashSettings()
        if profile is not None:
            fields = fields.model_copy(update={"contract_profile": profile})
        report = run_doctor(fields, result_files=result_file or [])
    except (ConfigurationError, PydanticValidationError, ValueError, OSError) as exc:
        raise _fail(f"doctor cannot start: {exc}") from None
    table = Table(title=f"What we assume about EnKash, checked against {report.base_url}")
    for column in ("assumption", "setting", "we assume", "verdict", "seen"):
        table.add_column(column, overflow="fold")
    for f in report.findings:
        style = _VERDICT_STYLE[f.verdict] if f.critical or f.verdict != "different" else "yellow"
        table.add_row(
            escape(f.assumption),
            escape(f.setting),
            escape(f.expected),
            f"[{style}]{f.verdict}[/]",
            escape(f.seen),
        )
    console.print(table)
    written = report.write_profile(profile_out)
    console.print(report.summary())
    console.print(
        f"The profile that fits is in {written}: use it with ENKASH_CONTRACT_PROFILE={written} "
        "(or the credentials block's contract_profile), then run doctor again."
    )
    if report.exit_code:
        for f in report.contradicted:
            err_console.print(f"[bold red]contradicted:[/] {escape(f.setting)}: {escape(f.seen)}")
        raise typer.Exit(code=report.exit_code)


@blocks_app.command("register")
def blocks_register() -> None:
    """Register the EnkashCredentials block type with the Prefect server in use."""
    from blocks.credentials import EnkashCredentials

    EnkashCredentials.register_type_and_schema()
    console.print("Registered block type 'enkash-credentials' (EnkashCredentials).")


@credentials_app.command("forget-refused")
def credentials_forget_refused(
    block: Annotated[
        str | None, typer.Option(help="EnkashCredentials block name (default: ENKASH_* settings).")
    ] = None,
    ledger: Annotated[
        Path | None, typer.Option(help="Run ledger file (default .enkash-ar/ledger.sqlite3).")
    ] = None,
) -> None:
    """Let the next cycle try credentials EnKash refused before (e.g. after EnKash unlocked the account).

    The cycle never retries refused credentials on its own: three wrong attempts lock the account.
    """
    from ar_sync.run_ledger import DEFAULT_LEDGER_PATH, RunLedger
    from tasks.connection import connection

    try:
        seller_id = connection(block).seller_id
    except Exception as exc:  # a missing setting or block: say which, no traceback
        raise _fail(f"cannot tell the seller: {exc}") from None
    with RunLedger(ledger or DEFAULT_LEDGER_PATH) as book:
        forgotten = book.forget_refused(seller_id)
    console.print(
        f"Forgot {forgotten} refused credential(s) of seller {seller_id}; the next cycle tries once."
    )


if __name__ == "__main__":
    app()
