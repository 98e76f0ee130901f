"""The last night's read of EnKash's invoices, kept next to the run ledger, so that a night reads only
what may have changed since instead of every invoice the seller ever issued.

A seller's invoices in EnKash only grow: paid ones stay. A night that reads all of them reads its whole
history every night. With a kept read, a night asks EnKash only for (:func:`narrow_filters`):

1. every invoice with something owed (``balanceAmountFrom``), which is every invoice a payment, a
   dispatch, a cancellation or an edit can still change the stages' decisions for;
2. the invoices created since the kept read with nothing owed (``createdOnFrom`` a day before the kept
   read began, so that a clock or a time zone apart does not hide one; ``balanceAmountTo`` 0): those
   the first read cannot return and the kept read does not hold;
3. one by one (getInvoice), every invoice the kept read showed with something owed (or no balance)
   that neither read returned (:func:`left_the_owed`): paid in full or cancelled to nothing since.

Every other invoice (nothing owed at the kept read and nothing owed now) is taken from the kept read
(:func:`merged`). Only documented filters and getInvoice are used, and a filter EnKash ignores or reads
more narrowly than guessed costs reads, never a wrong picture: whatever the narrow reads do not return
that was owed is read one by one. The caller (``tasks.night_picture``) reads every invoice instead
when the one-by-one reads would be many, when one of them is not found (a deleted invoice, or a
getInvoice that is not what the contract guesses: dropping an invoice that exists would upload its
number again), and when EnKash's count of invoices (where its pages carry one) differs from the
picture's.

What it cannot see: a change to an invoice that had nothing owed at the kept read and still has
nothing owed (an edit of a paid invoice on the portal, or its deletion where the pages carry no
count). So every ``full_read_every`` (an option, weekly by default) the night reads every invoice
again, and a kept read is never used when it is missing, unreadable, of another EnKash host, seller
or contract profile, of another layout, or dated after now. The picture only ever decides what need
not be *read*; what is *sent* is still reconciled against EnKash and the run ledger
(``ar_sync.exactly_once``).

The file holds the invoices as EnKash returned them (the night picture's columns: amounts, customer
names, descriptions), like the validated exports kept beside the ledger; delete it to make the next
night read every invoice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import polars as pl

from ar_sync.night_picture import PICTURE_INVOICE_COLUMNS
from ar_sync.output_files import write_replacing
from enkash_ar.contract import SMALLEST_AMOUNT, TIMESTAMP_FORMAT
from enkash_ar.frames import INVOICE_SCHEMA, unique_rows

#: The folder, next to the run ledger, that holds one kept read per EnKash host and seller.
KEPT_FOLDER: Final = "kept-reads"
#: What the file's Parquet metadata is found under, and the layout it describes (bumped on change).
METADATA_KEY: Final = "enkash_ar.kept_read"
#: 2: without customerLegalName (``night_picture.PICTURE_INVOICE_COLUMNS``); a kept read of layout 1 is
#: not used (the night reads every invoice once, and keeps its read in the new layout).
LAYOUT: Final = 2
#: The smallest amount owed.
SMALLEST_OWED: Final = SMALLEST_AMOUNT
#: How much earlier than the kept read the search for new invoices with nothing owed begins: EnKash
#: may read ``createdOnFrom`` in another time zone (IST is 5:30 from UTC) or keep another clock.
CREATED_MARGIN: Final = timedelta(days=1)
#: The default time between two reads of every invoice.
DEFAULT_FULL_READ_EVERY: Final = timedelta(days=7)

_KEPT_SCHEMA: Final = pl.Schema({c: INVOICE_SCHEMA[c] for c in PICTURE_INVOICE_COLUMNS})


@dataclass(frozen=True)
class KeptRead:
    """Every invoice of a seller as one night read them, and when."""

    invoices: pl.DataFrame
    #: when the read these invoices come from began (UTC, this machine's clock)
    read_on: datetime
    #: when the last read of every invoice began: the narrow reads are trusted until it is due again
    full_read_on: datetime


def kept_read_path(ledger_path: str | Path, base_url: str, seller_id: str) -> Path:
    """Where the kept read of ``seller_id`` at ``base_url`` lives: next to the ledger, one file each."""
    name = hashlib.sha256(f"{base_url}\x1f{seller_id}".encode()).hexdigest()[:16]
    return Path(ledger_path).parent / KEPT_FOLDER / f"invoices-{name}.parquet"


def read_identity(base_url: str, seller_id: str, profile: str) -> str:
    """What a kept read must have been read under to stand for tonight's: host, seller, contract profile
    (``profile``: the profile's JSON; a status read under other names is another picture)."""
    return hashlib.sha256(f"{base_url}\x1f{seller_id}\x1f{profile}".encode()).hexdigest()


def save_kept_read(path: Path, kept: KeptRead, identity: str) -> Path:
    """Write ``kept`` to ``path`` whole (a partial file renamed over it), with what it was read under."""
    about = {
        "layout": LAYOUT,
        "identity": identity,
        "read_on": kept.read_on.astimezone(UTC).isoformat(),
        "full_read_on": kept.full_read_on.astimezone(UTC).isoformat(),
    }
    invoices = kept.invoices.select(PICTURE_INVOICE_COLUMNS)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_replacing(
        path, lambda p: invoices.write_parquet(p, metadata={METADATA_KEY: json.dumps(about)})
    )


def load_kept_read(
    path: Path, identity: str, *, now: datetime, full_read_every: timedelta
) -> tuple[KeptRead | None, str]:
    """The kept read at ``path`` when tonight may start from it, else None; and, in words, why not
    (for the log line of a night that reads every invoice)."""
    if not path.exists():
        return None, f"no earlier read is kept ({path})"
    try:
        about = json.loads(pl.read_parquet_metadata(path)[METADATA_KEY])
        if about.get("layout") != LAYOUT:
            return None, f"the kept read {path} has another layout"
        read_on = datetime.fromisoformat(about["read_on"])
        full_read_on = datetime.fromisoformat(about["full_read_on"])
        kept_identity = about["identity"]
    except (OSError, KeyError, ValueError, TypeError, pl.exceptions.PolarsError) as exc:
        return None, f"the kept read {path} cannot be read ({type(exc).__name__})"
    if kept_identity != identity:
        return None, "the kept read was made with another EnKash host, seller or contract profile"
    if read_on > now or full_read_on > read_on:
        return None, f"the kept read is dated {read_on:%Y-%m-%d %H:%M} UTC, after now: this clock moved back"
    if now - full_read_on >= full_read_every:
        return None, (
            f"every invoice was last read on {full_read_on:%Y-%m-%d %H:%M} UTC and is read again every "
            f"{_days(full_read_every)}"
        )
    try:
        invoices = pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        return None, f"the kept read {path} cannot be read ({type(exc).__name__})"
    if invoices.schema != _KEPT_SCHEMA:
        return None, f"the kept read {path} has other columns than this version keeps"
    return KeptRead(invoices, read_on, full_read_on), ""


def narrow_filters(kept: KeptRead) -> tuple[dict[str, object], dict[str, object]]:
    """The two searches of a night with a kept read: what is owed now, and what was created since the
    kept read (less :data:`CREATED_MARGIN`) with nothing owed."""
    since = (kept.read_on - CREATED_MARGIN).astimezone(UTC)
    owed: dict[str, object] = {"balanceAmountFrom": SMALLEST_OWED}
    new_settled = {"createdOnFrom": since.strftime(TIMESTAMP_FORMAT), "balanceAmountTo": 0}
    return owed, new_settled


def left_the_owed(kept: pl.DataFrame, *fresh: pl.DataFrame) -> list[str]:
    """invoiceIds the kept read showed with something owed (or no balance) that no ``fresh`` read
    returned: settled, cancelled or deleted since; they are read one by one."""
    returned = pl.concat([f.select("invoiceId") for f in fresh]).get_column("invoiceId")
    owed = kept.filter(pl.col("balanceAmount").is_null() | (pl.col("balanceAmount") > 0))
    gone = owed.filter(~pl.col("invoiceId").is_in(returned.implode()))
    return sorted(gone.get_column("invoiceId").drop_nulls().to_list())


def merged(kept: pl.DataFrame, fresh: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """Every invoice as tonight's reads show them: the ``fresh`` reads' rows (a later read's row of the
    same invoice wins), and the kept rows none of them returned."""
    frames = [f.select(PICTURE_INVOICE_COLUMNS) for f in fresh]
    returned = pl.concat([f.select("invoiceId") for f in frames]).get_column("invoiceId")
    unchanged = kept.select(PICTURE_INVOICE_COLUMNS).filter(~pl.col("invoiceId").is_in(returned.implode()))
    return unique_rows(pl.concat([unchanged, *frames], how="vertical_relaxed"), "invoiceId", keep="last")


def _days(span: timedelta) -> str:
    days = span / timedelta(days=1)
    return f"{days:g} day" + ("" if days == 1 else "s")
