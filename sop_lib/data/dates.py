"""Reading dates the way real extracts write them: find the format a column uses, say it in words, parse it.

The data contract takes months as ISO 8601 (``YYYY-MM`` or ``YYYY-MM-DD``). Extracts arrive as
``13/01/11``, ``1/13/2011 8:26``, ``2011.01.13`` or ``Jan 2011``. :func:`guess_date_format` tries the
formats of :data:`CANDIDATES` on a column's values (a time after the date is ignored: plans are monthly) and
returns the one that reads every value, or the list of those that tie (``01/02/11`` is 1 February or
2 January: only a day above 12 somewhere in the column tells). :func:`parse_dates` reads a column with a
given format; :func:`describe_format` turns ``%d/%m/%y`` into ``DD/MM/YY`` for messages.
Pure functions, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

ISO = "ISO8601"

#: Date formats tried, most trusted first; a tie between two that read every value is ambiguous.
CANDIDATES: tuple[str, ...] = (
    ISO,
    "%d/%m/%Y", "%m/%d/%Y", "%d/%m/%y", "%m/%d/%y",
    "%d.%m.%Y", "%d.%m.%y", "%d-%m-%Y", "%m-%d-%Y", "%d-%m-%y", "%m-%d-%y",
    "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y%m", "%Y/%m", "%m/%Y", "%m.%Y", "%m-%Y",
    "%b %Y", "%B %Y", "%b-%y", "%b-%Y", "%b %y", "%d %b %Y", "%d %B %Y", "%d-%b-%y", "%d-%b-%Y",
)

# a time after the date ("8:26", "08:26:00", "T08:26:00.000", "8:26 AM") is not part of the month
_TIME = re.compile(r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp][Mm])?(?:Z|[+-]\d{2}:?\d{2})?)\s*$")
_WORDS = {"%Y": "YYYY", "%y": "YY", "%m": "MM", "%d": "DD", "%b": "Mon", "%B": "Month"}


def describe_format(fmt: str) -> str:
    """``%d/%m/%y`` → ``DD/MM/YY``; ``ISO8601`` → ``YYYY-MM-DD``."""
    if fmt == ISO:
        return "YYYY-MM-DD"
    out = fmt
    for code, word in _WORDS.items():
        out = out.replace(code, word)
    return out


def strip_time(values: pd.Series) -> pd.Series:
    """Text of each value without a trailing time of day (``'1/13/2011 8:26'`` → ``'1/13/2011'``)."""
    return values.astype("string").str.strip().str.replace(_TIME, "", regex=True)


def parse_dates(values: pd.Series, fmt: str = ISO) -> pd.Series:
    """Timestamps of ``values`` read with ``fmt`` (a ``strptime`` format or ``ISO8601``); a time of day after
    the date is ignored; unreadable or empty cells give ``NaT``. Values that already are dates pass through."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return pd.to_datetime(values).dt.tz_localize(None) if getattr(values.dt, "tz", None) else values
    text = strip_time(values)
    if fmt == ISO:
        # ISO also takes a time after a 'T'; strip_time already removed it
        return pd.to_datetime(text, format=ISO, errors="coerce")
    return pd.to_datetime(text, format=fmt, errors="coerce")


@dataclass(frozen=True)
class DateGuess:
    """What :func:`guess_date_format` found in a column.

    ``format`` is the one format that reads the most values (``None`` when no candidate reads any, or when
    several tie: then ``ties`` lists them); ``share`` is the share of the distinct non-empty values it reads; ``example``
    a value as written; ``unread`` up to five values it cannot read.
    """

    format: str | None
    share: float
    example: str
    ties: tuple[str, ...] = ()
    unread: tuple[str, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        """The format in words (``DD/MM/YY``), or the tied ones joined with ' or '."""
        if self.format:
            return describe_format(self.format)
        return " or ".join(describe_format(f) for f in self.ties)

    @property
    def ambiguous(self) -> bool:
        return self.format is None and len(self.ties) > 1


def guess_date_format(values: pd.Series, sample: int = 20_000) -> DateGuess:
    """The format (of :data:`CANDIDATES`) that reads the most of a column's non-empty values.

    Distinct values are tried (at most ``sample`` of them, spread over the column). A format must read more
    values than every other to win; formats that read the same most values tie (``ties``), unless one of
    them is ISO 8601, which a tie never overturns. ``share`` 0 means no format reads any value.
    """
    text = strip_time(values.dropna())
    text = text[text != ""]
    distinct = pd.Series(text.unique())
    if len(distinct) > sample:
        distinct = distinct.iloc[:: max(1, len(distinct) // sample)]
    if distinct.empty:
        return DateGuess(None, 0.0, "")
    counts = {fmt: int(pd.to_datetime(distinct, format=fmt, errors="coerce").notna().sum()) for fmt in CANDIDATES}
    best = max(counts.values())
    example = str(distinct.iloc[0])
    if best == 0:
        return DateGuess(None, 0.0, example, unread=tuple(str(v) for v in distinct.head(5)))
    top = tuple(f for f in CANDIDATES if counts[f] == best)
    fmt = ISO if ISO in top else (top[0] if len(top) == 1 else None)
    chosen = fmt or top[0]
    parsed = pd.to_datetime(distinct, format=chosen, errors="coerce")
    unread = tuple(str(v) for v in distinct[parsed.isna()].head(5))
    share = best / len(distinct)
    return DateGuess(fmt, share, example, ties=() if fmt else top, unread=unread)
