"""A fleet: many EnKash sellers, each with its own credentials block, ERP export and options, run as one
night. Plain data and pure checks (no Prefect): the ``ar_fleet`` flow plans a night with them.

A fleet is written as YAML (``load_fleet``) or filled in as the ``ar_fleet`` flow's form::

    options:                      # for every seller; a seller's own options win
      chunk_size: 2000
    sellers:
      - seller_id: CEKACME001
        credentials_block: enkash-acme
        customers_file: erp/{seller}/{date:%Y-%m-%d}/customers.csv
        invoices_file: erp/{seller}/{date:%Y-%m-%d}/invoices.csv
        options: {max_cancel_share: 0.1}
      - seller_id: CEKBETA002
        credentials_block: enkash-beta
        customers_file: /srv/beta/customers.csv
        invoices_file: /srv/beta/invoices.csv
        enabled: false

Two kinds of problems, told apart on purpose:

- the description itself is wrong (a duplicate seller, an unknown option, an option out of range, a
  placeholder other than ``{seller}`` and ``{date}``, two sellers writing to one folder or ledger): the
  fleet is refused before any seller starts, with one line per problem naming the seller and the field;
- something is missing tonight for one seller (its credentials block, its ERP file, or a block made for
  another seller): that seller fails alone, without a run, and the others go on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from enkash_ar.contract import COMPANY_ID_PATTERN

#: Where a seller's night writes, unless the fleet or the seller says otherwise: one folder per night.
DEFAULT_OUT_DIR: Final = "out/{seller}/{date:%Y-%m-%d}"
#: A seller's run ledger, kept from night to night (exactly-once depends on it): one per seller.
DEFAULT_LEDGER_PATH: Final = "ledgers/{seller}.sqlite3"
#: Fields of a seller's options that are paths and may hold ``{seller}`` and ``{date}``.
PATTERN_OPTIONS: Final = ("out_dir", "ledger_path")
#: Options a fleet sets per seller itself: never from a seller's or the fleet's options.
FLEET_OWNED_OPTIONS: Final = ("credentials_block",)


class FleetError(ValueError):
    """A fleet description that cannot run: the message has one line per problem, naming the seller
    (or the file) and the field, and what to do."""


class FleetSeller(BaseModel):
    """One seller of the fleet."""

    model_config = ConfigDict(extra="forbid")

    seller_id: str = Field(
        pattern=COMPANY_ID_PATTERN, description="The seller's EnKash company id (CEK + 7 characters)."
    )
    credentials_block: str = Field(
        min_length=1, description="Name of the seller's EnkashCredentials block (never the secrets)."
    )
    customers_file: str = Field(
        min_length=1,
        description="The seller's ERP customer export; may hold {seller} and {date:%Y-%m-%d}.",
    )
    invoices_file: str = Field(
        min_length=1,
        description="The seller's ERP invoice export; may hold {seller} and {date:%Y-%m-%d}.",
    )
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="Options of this seller's cycle (the nightly cycle's option names), over the fleet's.",
    )
    enabled: bool = Field(default=True, description="False leaves the seller out of the night.")


class Fleet(BaseModel):
    """Every seller of a fleet, and how many of their nights may run at once."""

    model_config = ConfigDict(extra="forbid")

    sellers: list[FleetSeller] = Field(min_length=1, description="The sellers, one cycle each per night.")
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="Options for every seller's cycle (out_dir and ledger_path may hold {seller}, {date}).",
    )
    max_parallel: int = Field(
        default=4, ge=1, le=1000, description="Seller nights of this fleet running at once, at most."
    )
    host_limit: int = Field(
        default=4,
        ge=1,
        le=1000,
        description="Seller nights at once per EnKash host, across every fleet (EnKash's rate limit is "
        "shared by the sellers of one host); an existing limit on the Prefect server is kept.",
    )


@dataclass(frozen=True)
class SellerNight:
    """One seller's night, as the fleet plans it: files and folders for that date, merged options."""

    seller_id: str
    credentials_block: str
    customers_file: str
    invoices_file: str
    #: the cycle's options: the fleet's, the seller's over them, paths expanded, the block set
    options: dict[str, Any]
    #: why the seller cannot run tonight (missing block or file), or None
    problem: str | None = None

    @property
    def out_dir(self) -> str:
        """Where the seller's night writes summary.json and its report."""
        return str(self.options["out_dir"])


#: Checks a seller's merged options; returns one problem per bad field (``"chunk_size: ..."``).
OptionsCheck = Callable[[Mapping[str, Any]], list[str]]


def load_fleet(path: str | Path) -> Fleet:
    """Read a fleet description (YAML).

    Raises:
        FleetError: the file is missing or not YAML, or the description is wrong (one line each).
    """
    source = Path(path)
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FleetError(f"{source}: no such fleet file; give the path of your fleet YAML") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise FleetError(f"{source}: not a readable YAML fleet file ({reason})") from None
    return parse_fleet(raw, where=str(source))


def parse_fleet(raw: Any, *, where: str = "fleet") -> Fleet:
    """A fleet from plain data (parsed YAML, a form's JSON).

    Raises:
        FleetError: one line per problem, naming the seller (by id, else by position) and the field.
    """
    if not isinstance(raw, Mapping):
        raise FleetError(f"{where}: a fleet is a mapping with 'sellers' (a list) and optional 'options'")
    try:
        return Fleet.model_validate(raw)
    except ValidationError as exc:
        listed = raw.get("sellers")
        sellers = listed if isinstance(listed, list) else []
        lines = [f"{where}: {_locate(error['loc'], sellers)}: {_reason(error)}" for error in exc.errors()]
        raise FleetError("\n".join(lines)) from None


def _locate(loc: tuple[Any, ...], sellers: list[Any]) -> str:
    if len(loc) >= 2 and loc[0] == "sellers" and isinstance(loc[1], int):
        entry = sellers[loc[1]] if loc[1] < len(sellers) else None
        seller_id = entry.get("seller_id") if isinstance(entry, Mapping) else None
        who = f"seller {seller_id}" if isinstance(seller_id, str) else f"seller #{loc[1] + 1}"
        return who + (f" {'.'.join(str(p) for p in loc[2:])}" if loc[2:] else "")
    return ".".join(str(p) for p in loc) or "fleet"


def _reason(error: Mapping[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return (
            "unknown field; remove it (a seller has seller_id, credentials_block, customers_file, "
            "invoices_file, options, enabled)"
        )
    return str(error["msg"])


def fleet_problems(fleet: Fleet, check_options: OptionsCheck) -> list[str]:
    """What is wrong in the description itself, one line each (empty when nothing).

    ``check_options`` validates a seller's merged options (the flows pass the cycle's own option model,
    so unknown option names and out-of-range values are refused the way a single cycle refuses them).
    """
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, seller in enumerate(fleet.sellers, start=1):
        if seller.seller_id in seen:
            problems.append(
                f"seller {seller.seller_id}: listed twice (sellers #{seen[seller.seller_id]} and "
                f"#{number}); keep one entry per seller"
            )
        seen.setdefault(seller.seller_id, number)
    for where, options in [("fleet options", fleet.options)] + [
        (f"seller {s.seller_id} options", s.options) for s in fleet.sellers
    ]:
        problems += [
            f"{where}.{name}: set by the fleet from the seller's credentials_block; remove it"
            for name in FLEET_OWNED_OPTIONS
            if name in options
        ]
    paths: dict[tuple[str, str], str] = {}
    example = date(2000, 1, 31)
    for seller in fleet.sellers:
        merged = _merged_options(fleet, seller)
        fields = {"customers_file": seller.customers_file, "invoices_file": seller.invoices_file} | {
            name: str(merged[name]) for name in PATTERN_OPTIONS
        }
        for name, pattern in fields.items():
            try:
                expanded = expand(pattern, seller.seller_id, example)
            except FleetError as exc:
                problems.append(f"seller {seller.seller_id} {name}: {exc}")
                continue
            if name in PATTERN_OPTIONS:
                other = paths.setdefault((name, expanded), seller.seller_id)
                if other != seller.seller_id:
                    problems.append(
                        f"seller {seller.seller_id} {name}: the same as seller {other}'s ({pattern}); "
                        "give each seller its own, e.g. with {seller} in the path"
                    )
        problems += [
            f"seller {seller.seller_id} options.{line}"
            for line in check_options(merged | {"credentials_block": seller.credentials_block})
        ]
    return problems


def check_fleet(fleet: Fleet, check_options: OptionsCheck) -> Fleet:
    """``fleet`` if its description is right.

    Raises:
        FleetError: ``fleet_problems`` found something (one line each).
    """
    problems = fleet_problems(fleet, check_options)
    if problems:
        raise FleetError("\n".join(problems))
    return fleet


_PLACEHOLDER = re.compile(r"\{([^{}:!]*)[^{}]*\}")


def expand(pattern: str, seller_id: str, night: date) -> str:
    """``pattern`` with ``{seller}`` and ``{date:FORMAT}`` (strftime; ``{date}`` is ISO) filled in.

    Example:
        >>> expand("erp/{seller}/{date:%Y-%m-%d}/invoices.csv", "CEKACME001", date(2026, 11, 24))
        'erp/CEKACME001/2026-11-24/invoices.csv'

    Raises:
        FleetError: another placeholder, or a broken one.
    """
    unknown = sorted({m for m in _PLACEHOLDER.findall(pattern) if m not in {"seller", "date"}})
    if unknown:
        names = ", ".join("{" + name + "}" for name in unknown)
        raise FleetError(f"unknown placeholder {names} in {pattern!r}; use {{seller}} and {{date:%Y-%m-%d}}")
    try:
        return pattern.format(seller=seller_id, date=night)
    except (ValueError, IndexError) as exc:
        raise FleetError(
            f"broken placeholder in {pattern!r} ({exc}); write braces as {{{{ and }}}}"
        ) from None


def _merged_options(fleet: Fleet, seller: FleetSeller) -> dict[str, Any]:
    defaults = {"out_dir": DEFAULT_OUT_DIR, "ledger_path": DEFAULT_LEDGER_PATH}
    return defaults | fleet.options | seller.options


def plan_night(
    fleet: Fleet,
    night: date,
    block_sellers: Mapping[str, str],
    file_exists: Callable[[str], bool] = lambda path: Path(path).is_file(),
) -> list[SellerNight]:
    """The enabled sellers' nights, in the fleet's order, each with its problem if it cannot run.

    Args:
        fleet: a fleet whose description passed ``check_fleet``.
        night: the night (fills ``{date}``).
        block_sellers: the seller id of every credentials block that exists, by block name.
        file_exists: whether an ERP file is there (the default looks on this machine's disk).
    """
    planned = []
    for seller in fleet.sellers:
        if not seller.enabled:
            continue
        options = {
            name: expand(value, seller.seller_id, night) if name in PATTERN_OPTIONS else value
            for name, value in _merged_options(fleet, seller).items()
        }
        options["credentials_block"] = seller.credentials_block
        customers = expand(seller.customers_file, seller.seller_id, night)
        invoices = expand(seller.invoices_file, seller.seller_id, night)
        planned.append(
            SellerNight(
                seller_id=seller.seller_id,
                credentials_block=seller.credentials_block,
                customers_file=customers,
                invoices_file=invoices,
                options=options,
                problem=_night_problem(seller, block_sellers, [customers, invoices], file_exists),
            )
        )
    return planned


def _night_problem(
    seller: FleetSeller,
    block_sellers: Mapping[str, str],
    files: list[str],
    file_exists: Callable[[str], bool],
) -> str | None:
    block = seller.credentials_block
    if block not in block_sellers:
        return (
            f"seller {seller.seller_id} credentials_block: no EnkashCredentials block named {block!r}; "
            "create it (enkash-ar block register, or the Prefect UI) or fix the name"
        )
    if block_sellers[block] != seller.seller_id:
        return (
            f"seller {seller.seller_id} credentials_block: block {block!r} is for seller "
            f"{block_sellers[block]}; name this seller's own block"
        )
    missing = [path for path in files if not file_exists(path)]
    if missing:
        return (
            f"seller {seller.seller_id}: ERP file missing: {', '.join(missing)}; "
            "deliver tonight's export there (or fix customers_file / invoices_file), then rerun the seller"
        )
    return None


def pydantic_options_check(model: type[BaseModel]) -> OptionsCheck:
    """An ``OptionsCheck`` that validates options with a pydantic model (the cycle's options model).

    Example:
        >>> class Options(BaseModel):
        ...     model_config = ConfigDict(extra="forbid")
        ...     chunk_size: int = 5000
        >>> pydantic_options_check(Options)({"chunk_sise": 10})
        ['chunk_sise: unknown option; known: chunk_size']
    """
    known = ", ".join(sorted(model.model_fields))

    def check(options: Mapping[str, Any]) -> list[str]:
        try:
            model.model_validate(options)
        except ValidationError as exc:
            return [
                f"{'.'.join(str(p) for p in e['loc'])}: "
                + ("unknown option; known: " + known if e["type"] == "extra_forbidden" else str(e["msg"]))
                for e in exc.errors()
            ]
        return []

    return check
