"""A planning cycle and the months it names: ``Cycle`` is parsed once, where an id comes in (the command line,
``open_cycle``, ``run_cycle``, a folder name, a decision's field), and passed around from there.

An id is ``YYYY-MM`` with a year from 1990 to 2100, checked before any file named after it is opened
(``../../secret`` or ``9999-12`` is not a cycle). ``parse_month`` reads the month cells planners type into the
overrides file (``2026-11`` or a spreadsheet's ``2026-11-01``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from sop_lib.core.errors import ParamsError

CYCLE_YEARS = (1990, 2100)
_CYCLE = re.compile(r"([0-9]{4})-([0-9]{2})")
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})(?:-([0-9]{2}))?$")


@dataclass(frozen=True, order=True)
class Cycle:
    """A monthly S&OP cycle: ``start`` is its month's first day; ``str(cycle)`` is its id (``2026-11``)."""

    start: pd.Timestamp

    @classmethod
    def parse(cls, value: Cycle | str) -> Cycle:
        """``"2026-11"`` → ``Cycle``; a ``Cycle`` is returned as it is; a clear ``ParamsError`` otherwise.

        Strictly ``YYYY-MM`` (``2026-1`` is refused: it would be a cycle of its own, sorted among the others) with
        a year in ``CYCLE_YEARS``. Cycle ids name folders and files: parse them before opening anything.
        """
        if isinstance(value, Cycle):
            return value
        match = _CYCLE.fullmatch(value) if isinstance(value, str) else None
        if match is None or not 1 <= int(match[2]) <= 12:
            raise ParamsError(f"Cycle {value!r} is not a month in the form YYYY-MM (e.g. 2026-11).")
        year = int(match[1])
        if not CYCLE_YEARS[0] <= year <= CYCLE_YEARS[1]:
            raise ParamsError(f"Cycle {value!r} is out of range: the year must be between {CYCLE_YEARS[0]} and "
                              f"{CYCLE_YEARS[1]}.")
        return cls(pd.Timestamp(year=year, month=int(match[2]), day=1))

    @property
    def id(self) -> str:
        return f"{self.start:%Y-%m}"

    def __str__(self) -> str:
        return self.id

    def shift(self, months: int) -> Cycle:
        """The cycle ``months`` later (negative: earlier)."""
        return Cycle(self.start + pd.DateOffset(months=months))


def parse_cycle(cycle: Cycle | str) -> pd.Timestamp:
    """The first day of the cycle's month (``Cycle.parse(cycle).start``)."""
    return Cycle.parse(cycle).start


def is_cycle(name: str) -> bool:
    """``name`` is a valid cycle id (a folder under data/cycles/ that is not one is ignored)."""
    try:
        Cycle.parse(name)
    except ParamsError:
        return False
    return True


def parse_month(text: str) -> pd.Timestamp | None:
    """A month as a planner types it: ``YYYY-MM`` (or a full ``YYYY-MM-DD`` date, as a spreadsheet may save it)
    → the month's first day; ``None`` when the text is not such a month."""
    match = _MONTH.match(text) if isinstance(text, str) else None
    if not match:
        return None
    try:
        return pd.Timestamp(int(match[1]), int(match[2]), int(match[3] or 1)).replace(day=1)
    except ValueError:
        return None
