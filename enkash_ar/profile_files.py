"""Contract profile files: reading one a user wrote (or ``enkash-ar doctor`` wrote), and writing one.

A profile source is one of:

- nothing (None or ""): the shipped profile;
- a name from ``enkash_ar.alternative_profiles`` (``shipped``, ``spring-page``, ``page-index`` ...);
- the path of a YAML (or JSON) file holding the settings that differ from the shipped profile, or all
  of them. Its keys are the fields of ``ContractProfile``; a misspelt key is an error, not ignored.

Example file (only what differs):

.. code-block:: yaml

    search:
      offset: page
    receivable_statuses: {PENDING: UNPAID, PARTIALLY_RECEIVED: PARTIALLY_PAID, PAID: PAID, VOID: CANCELLED}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError as PydanticValidationError

from enkash_ar.alternative_profiles import named_profile, profile_names
from enkash_ar.contract_profile import SHIPPED_PROFILE, ContractProfile
from enkash_ar.errors import ConfigurationError

_WHAT_TO_DO = (
    "Fix the file (its keys are the fields of enkash_ar.contract_profile.ContractProfile; "
    "`enkash-ar doctor` writes one that fits what your EnKash answers), or unset ENKASH_CONTRACT_PROFILE "
    "to use the shipped profile."
)


def load_profile(source: str | Path | None) -> ContractProfile:
    """The contract profile named or stored at ``source`` (the shipped one when it is empty).

    Raises:
        ConfigurationError: no such name or file, or the file is not a valid profile (the message
            names the file, the key and what is wrong).

    Example:
        >>> load_profile(None) == SHIPPED_PROFILE
        True
        >>> load_profile("page-index").search.offset
        'page'
    """
    if source is None or str(source).strip() == "":
        return SHIPPED_PROFILE
    named = named_profile(str(source))
    if named is not None:
        return named
    path = Path(source).expanduser()
    if not path.is_file():
        raise ConfigurationError(
            f"contract profile {str(source)!r} is neither a file nor one of the shipped profiles "
            f"{profile_names()}. Give the path of a profile file (YAML) or one of those names."
        )
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigurationError(
            f"contract profile {path}: cannot be read as YAML ({exc}). {_WHAT_TO_DO}"
        ) from None
    if content is None:
        return SHIPPED_PROFILE
    if not isinstance(content, dict):
        raise ConfigurationError(
            f"contract profile {path}: the file must hold a mapping of settings, not a "
            f"{type(content).__name__}. {_WHAT_TO_DO}"
        )
    try:
        return SHIPPED_PROFILE.with_changes(content)
    except PydanticValidationError as exc:
        problems = "; ".join(_describe(e) for e in exc.errors())
        raise ConfigurationError(f"contract profile {path}: {problems}. {_WHAT_TO_DO}") from None


def _describe(error: Any) -> str:
    where = ".".join(str(part) for part in error.get("loc", ())) or "(top level)"
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {message}"


def profile_document(profile: ContractProfile) -> dict[str, Any]:
    """The profile as plain data, the shape a profile file holds (every setting, not only changes)."""
    return profile.model_dump(mode="json")


def dump_profile(profile: ContractProfile, path: str | Path, *, comment: str = "") -> Path:
    """Write ``profile`` as a YAML file that :func:`load_profile` reads back; returns the path.

    ``comment`` lines go on top, each prefixed with ``#``.
    """
    target = Path(path)
    header = "".join(f"# {line}\n" if line else "#\n" for line in comment.splitlines())
    body = yaml.safe_dump(profile_document(profile), sort_keys=False, allow_unicode=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(header + body, encoding="utf-8")
    return target
