"""Large task parameters passed without Prefect walking them.

Before a task runs, Prefect visits every element of its parameters (looking for futures and states to
wait on and to record as upstream inputs), twice. A mapping of 50,000 keys or a chunk of 500 customer
models costs a few hundred thousand visits: on a quiet night of 50,000 invoices this was about 7 s of
CPU, more than the night's reads. Data frames are not walked; Python collections and pydantic models
are. Wrap such a parameter in :func:`unwalked` at the call site: the task still receives the value
itself, and since it holds no future, no upstream link is lost.
"""

from __future__ import annotations

from typing import TypeVar, cast

from prefect.utilities.annotations import quote

T = TypeVar("T")


def unwalked(value: T) -> T:
    """``value`` for a task call, marked so that Prefect passes it on without visiting its elements
    (``prefect.utilities.annotations.quote``; the task gets ``value`` unwrapped).

    Example:
        >>> record_night_state(Stage.REMINDERS, unwalked(held), present, night)  # doctest: +SKIP
    """
    return cast(T, quote(value))
