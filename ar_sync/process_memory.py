"""Give the memory polars frees back to the system at once, in the processes that run the flows.

polars allocates through its own jemalloc, which by default keeps freed pages for about ten seconds
before returning them. A night frees large frames in quick succession (a read of every invoice, its
page frames, a twin split, the night's record), so those pages pile up: at 1,000,000 invoices the
cycle's peak resident memory was 2,039 MiB with the default and 1,822 MiB with freed pages returned at
once, with no measurable change in wall time; a container's memory limit counts such pages as used.

polars builds its jemalloc with background threads, which then do that returning: a thread that frees
a frame leaves its pages to them, and they wake up on their own time. Dispatch planning frees the
transient frames of one step while the next step allocates (a split, a join, a gather, each a few
hundred MB at a million invoices), so pages waiting for a background thread added up: S4's cycle, run
side by side with and without them, peaked at 1,014.6 and 925.6 MiB (1,076.4 and 922.1 alone), with
the same wall time. So the pages are returned by the thread that frees them (``background_thread``
off).

jemalloc reads its settings from ``_RJEM_MALLOC_CONF`` once, when polars is first imported, so this
module sets the variable when it is imported, unless the user has set it (set it yourself to choose
other values; ``""`` keeps jemalloc's defaults). polars' own defaults, which an importing parent process
leaves in the variable for its children, are not the user's setting (:func:`users_setting`). It must be
imported before anything imports polars: the ``flows`` and ``cli`` packages import it first, and every
flow module imports it as its very first import (the project's isort settings keep it there), because a
worker loads a deployment's entrypoint as a file, before the ``flows`` package. It lives in ``ar_sync``,
whose package imports nothing, so that the CLI can import it without loading Prefect (``flows`` does).
Standard library only."""

from __future__ import annotations

import os
import sys
from typing import Final

#: The environment variable polars' jemalloc reads its options from (its symbols carry the ``_rjem_``
#: prefix, so ``MALLOC_CONF`` is not it).
JEMALLOC_CONF_VARIABLE: Final = "_RJEM_MALLOC_CONF"
#: Return freed pages to the system when they are freed (not after jemalloc's decay time), by the thread
#: that frees them (not left to background threads).
PROMPT_RETURN: Final = "background_thread:false,dirty_decay_ms:0,muzzy_decay_ms:0"


#: What polars itself writes into the variable when it is imported, ahead of any value it found there
#: (polars' ``__init__``): its own defaults, then ``thp:...`` with ``POLARS_THP=1``.
POLARS_DEFAULTS: Final = ("dirty_decay_ms:500", "muzzy_decay_ms:1000", "thp:always", "metadata_thp:always")


def users_setting(value: str | None) -> str | None:
    """The user's own part of an inherited ``_RJEM_MALLOC_CONF``: None when there is none (``""``, set
    by the user, is theirs: jemalloc's defaults).

    A process that imported polars leaves the variable set to polars' defaults, with what it found
    there after them, and its children inherit it: the bench's driver, a notebook or a worker that
    imported polars before starting a flow run's process. Read as the user's own setting, polars'
    defaults would keep this module's out of every such child (``make bench`` measured the cycle's
    memory with polars' defaults so, until this was found: S4's night alone peaked at 914-940 MiB over
    three runs so, and at 869 MiB with this module's setting): they are taken off the front.
    """
    if value is None or not value.strip():
        return value  # unset, or set empty by the user: jemalloc's own defaults
    options = [option for option in value.split(",") if option.strip()]
    while options and options[0].strip() in POLARS_DEFAULTS:
        options.pop(0)
    return ",".join(options) or None


def return_freed_memory_promptly() -> bool:
    """Ask polars' allocator to return freed memory at once (unless the user set it otherwise); returns
    whether the setting can still take effect, i.e. polars was not imported before this ran."""
    own = users_setting(os.environ.get(JEMALLOC_CONF_VARIABLE))
    os.environ[JEMALLOC_CONF_VARIABLE] = PROMPT_RETURN if own is None else own
    return "polars" not in sys.modules


return_freed_memory_promptly()
