"""A planning cycle and the months it names: ``Cycle`` is parsed once, where an id comes in (the command line,
``open_cycle``, ``run_cycle``, a folder name, a decision's field), and passed around from there.

A cycle is a month (``YYYY-MM``, e.g. ``2026-11``) or a quarter (``YYYY-Qn``, e.g. ``2026-Q4``), with a year
from 1990 to 2100, checked before any file named after it is opened (``../../secret`` or ``9999-12`` is not a
cycle). History and plans stay monthly whatever the cadence: a cycle is run at the start of its period, with
actuals up to the month before it, and plans from its first month (``start``): ``2026-11`` plans from November
2026 with actuals to October; ``2026-Q4`` plans from October 2026 with actuals to September.

Cycles of both cadences order by time: by first month, a month before the quarter that starts with it
(``2026-09 < 2026-10 < 2026-Q4 < 2026-11 < 2027-Q1``), so "the last published plan" is whichever came last,
whatever its cadence. Ids as text sort the same way with ``cycle_key``. ``parse_month`` reads the month cells
planners type into the overrides file (``2026-11`` or a spreadsheet's ``2026-11-01``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from sop_lib.core.errors import ParamsError

CYCLE_YEARS = (1990, 2100)
Cadence = Literal["monthly", "quarterly"]
CADENCE_MONTHS: dict[str, int] = {"monthly": 1, "quarterly": 3}
_CYCLE = re.compile(r"([0-9]{4})-([0-9]{2})")
_QUARTER = re.compile(r"([0-9]{4})-Q([0-9])")
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})(?:-([0-9]{2}))?$")


@dataclass(frozen=True, order=True)
class Cycle:
    """An S&OP cycle: ``start`` is its first month's first day, ``months`` its length (1: a monthly cycle, 3: a
    quarterly one); ``str(cycle)`` is its id (``2026-11``, ``2026-Q4``). Ordered by ``(start, months)``."""

    start: pd.Timestamp
    months: int = 1

    @classmethod
    def parse(cls, value: Cycle | str) -> Cycle:
        """``"2026-11"`` or ``"2026-Q4"`` → ``Cycle``; a ``Cycle`` is returned as it is; a clear ``ParamsError``
        otherwise.

        Strictly ``YYYY-MM`` or ``YYYY-Qn`` (``2026-1`` or ``2026-q4`` are refused: each would be a cycle of its
        own, sorted among the others) with a year in ``CYCLE_YEARS``. Cycle ids name folders and files: parse
        them before opening anything.
        """
        if isinstance(value, Cycle):
            return value
        text = value if isinstance(value, str) else ""
        month, quarter = _CYCLE.fullmatch(text), _QUARTER.fullmatch(text)
        if month is not None and 1 <= int(month[2]) <= 12:
            year, first, length = int(month[1]), int(month[2]), 1
        elif quarter is not None and 1 <= int(quarter[2]) <= 4:
            year, first, length = int(quarter[1]), 3 * int(quarter[2]) - 2, 3
        else:
            raise ParamsError(f"Cycle {value!r} is not a month in the form YYYY-MM (e.g. 2026-11) or a quarter in "
                              f"the form YYYY-Qn (e.g. 2026-Q4, n from 1 to 4).")
        if not CYCLE_YEARS[0] <= year <= CYCLE_YEARS[1]:
            raise ParamsError(f"Cycle {value!r} is out of range: the year must be between {CYCLE_YEARS[0]} and "
                              f"{CYCLE_YEARS[1]}.")
        return cls(pd.Timestamp(year=year, month=first, day=1), length)

    @classmethod
    def containing(cls, month: pd.Timestamp, cadence: Cadence = "monthly") -> Cycle:
        """The cycle of ``cadence`` whose months include ``month`` (any day of it)."""
        ts = pd.Timestamp(month)
        length = CADENCE_MONTHS[cadence]
        return cls(pd.Timestamp(year=ts.year, month=(ts.month - 1) // length * length + 1, day=1), length)

    @property
    def cadence(self) -> Cadence:
        return "quarterly" if self.months == 3 else "monthly"

    @property
    def id(self) -> str:
        if self.months == 3:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start:%Y-%m}"

    def __str__(self) -> str:
        return self.id

    @property
    def plan_start(self) -> pd.Timestamp:
        """The first month the cycle plans (its ``start``): actuals run to the month before."""
        return self.start

    @property
    def first_month(self) -> pd.Timestamp:
        return self.start

    @property
    def last_month(self) -> pd.Timestamp:
        """The first day of the cycle's last month (``start`` for a monthly cycle)."""
        return self.start + pd.DateOffset(months=self.months - 1)

    @property
    def end(self) -> pd.Timestamp:
        """The first day after the cycle's months: the next cycle of its cadence starts here."""
        return self.start + pd.DateOffset(months=self.months)

    def month_starts(self) -> list[pd.Timestamp]:
        """The first day of each of the cycle's months, in order."""
        return [self.start + pd.DateOffset(months=i) for i in range(self.months)]

    def shift(self, cycles: int) -> Cycle:
        """The cycle of the same cadence ``cycles`` later (negative: earlier); for a monthly cycle, months."""
        return Cycle(self.start + pd.DateOffset(months=cycles * self.months), self.months)

    def previous(self) -> Cycle:
        """The cycle of the same cadence just before (``2027-Q1`` → ``2026-Q4``, ``2026-01`` → ``2025-12``)."""
        return self.shift(-1)

    def as_month(self) -> Cycle:
        """The monthly cycle that plans from the same month (``2026-Q4`` → ``2026-10``)."""
        return Cycle(self.start)


def parse_cycle(cycle: Cycle | str) -> pd.Timestamp:
    """The first day of the cycle's first month (``Cycle.parse(cycle).start``)."""
    return Cycle.parse(cycle).start


def is_cycle(name: str) -> bool:
    """``name`` is a valid cycle id (a folder under data/cycles/ that is not one is ignored)."""
    try:
        Cycle.parse(name)
    except ParamsError:
        return False
    return True


def cycle_key(cycle: Cycle | str) -> tuple[pd.Timestamp, int]:
    """Sort key of a cycle or id, in time (``sorted(ids, key=cycle_key)``); for monthly ids, their text order."""
    parsed = Cycle.parse(cycle)
    return parsed.start, parsed.months


def cycle_rank(cycle: Cycle | str) -> int:
    """``cycle_key`` as one integer, for pandas (``frame.sort_values("cycle", key=lambda s: s.map(cycle_rank))``)."""
    parsed = Cycle.parse(cycle)
    return ((parsed.start.year * 12 + parsed.start.month - 1) * 4) + parsed.months


def sort_cycles(ids: list[str] | set[str]) -> list[str]:
    """Cycle ids oldest first, months and quarters in one list (``cycle_key``)."""
    return sorted(ids, key=cycle_key)


def latest_cycle(ids: list[str] | set[str] | pd.Series) -> str:
    """The newest of cycle ids (``max`` in time, not in text: ``2026-Q4`` is before ``2026-11``)."""
    return max(ids, key=cycle_key)


def check_cadence(cycle: Cycle, cadence: Cadence, source: str) -> None:
    """A ``ParamsError`` when the cycle's form is not the cadence the parameters set (``source`` names where)."""
    if cycle.cadence == cadence:
        return
    example = Cycle.containing(cycle.start, cadence)
    raise ParamsError(
        f"Cycle {cycle} is a {cycle.cadence} cycle but the parameters set cadence: {cadence} ({source}). Run the "
        f"{cadence} cycle instead (e.g. {example}), or set cadence: {cycle.cadence} in params/{cycle}.yaml for "
        f"this cycle (or in params/defaults.yaml when the company's cycle changes).")


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
