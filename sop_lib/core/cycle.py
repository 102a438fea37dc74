"""A planning cycle's id: ``YYYY-MM`` with a year from 1990 to 2100, checked before any file named after it is
opened (``../../secret`` or ``9999-12`` is not a cycle)."""

from __future__ import annotations

import re

import pandas as pd

from sop_lib.core.errors import ParamsError

CYCLE_YEARS = (1990, 2100)
_CYCLE = re.compile(r"([0-9]{4})-([0-9]{2})")


def parse_cycle(cycle: str) -> pd.Timestamp:
    """``"2026-11"`` → Timestamp of the cycle month's first day; a clear error otherwise.

    Strictly ``YYYY-MM`` (``2026-1`` is refused: it would be a cycle of its own, sorted among the others) with a
    year in ``CYCLE_YEARS``. Cycle ids name folders and files: check them before opening anything.
    """
    match = _CYCLE.fullmatch(cycle) if isinstance(cycle, str) else None
    if match is None or not 1 <= int(match[2]) <= 12:
        raise ParamsError(f"Cycle {cycle!r} is not a month in the form YYYY-MM (e.g. 2026-11).")
    year = int(match[1])
    if not CYCLE_YEARS[0] <= year <= CYCLE_YEARS[1]:
        raise ParamsError(f"Cycle {cycle!r} is out of range: the year must be between {CYCLE_YEARS[0]} and "
                          f"{CYCLE_YEARS[1]}.")
    return pd.Timestamp(year=year, month=int(match[2]), day=1)


def is_cycle(name: str) -> bool:
    """``name`` is a valid cycle id (a folder under data/cycles/ that is not one is ignored)."""
    try:
        parse_cycle(name)
    except ParamsError:
        return False
    return True
