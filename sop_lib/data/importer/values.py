"""Reading the values of an extract: text to numbers, text to months, numbers back to exact text. Pure functions.

Extracts are read as text so that codes keep their leading zeros (``00123`` stays ``00123``). A column becomes a
number only where that is safe: :func:`numeric_column` converts a column whose every non-empty value is a plain
number (the source's ``decimal`` and ``thousands`` honoured; no exponent, no leading zero as in ``007``). Each
function works on the distinct values of a column and maps the result back: a million order lines hold a few
thousand distinct dates or quantities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sop_lib.data.dates import ISO, describe_format, guess_date_format, parse_dates

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_INTEGER = re.compile(r"[+-]?\d+")
_LEADING_ZERO = re.compile(r"[+-]?0\d")
_INT64_DIGITS = 18  # longer integers are read as floats (and never as a code: codes stay text)


def _by_distinct(values: pd.Series, convert) -> pd.Series:
    """``convert`` applied to the distinct values of ``values`` only, mapped back onto every row."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    converted = convert(pd.Series(uniques, dtype=object))
    out = converted.take(np.where(codes < 0, 0, codes)) if len(converted) else converted.reindex(range(len(codes)))
    out = pd.Series(out.to_numpy(), index=values.index, dtype=converted.dtype)
    out[codes < 0] = None
    return out


def normalise_number_text(text: pd.Series, decimal: str = ".", thousands: str | None = None) -> pd.Series:
    """Number text with the dot as decimal mark and no thousands separator (``'1.234,5'`` → ``'1234.5'``)."""
    out = text.astype("string").str.strip()
    if thousands:
        out = out.str.replace(thousands, "", regex=False)
    if decimal != ".":
        if thousands != ".":  # with a decimal comma, a dot is not part of a number unless it is the thousands mark
            out = out.str.replace(".", "\x00", regex=False)
        out = out.str.replace(decimal, ".", regex=False)
    return out


def read_numbers(values: pd.Series, decimal: str = ".", thousands: str | None = None) -> pd.Series:
    """Floats of ``values``; ``NaN`` where a value is empty or not a plain number. Numbers pass through."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype(float)
    if pd.api.types.is_numeric_dtype(values):
        return pd.to_numeric(values, errors="coerce").astype(float)

    def convert(uniques: pd.Series) -> pd.Series:
        is_text = uniques.map(lambda v: isinstance(v, str))
        text = normalise_number_text(uniques.where(is_text, ""), decimal, thousands)
        ok = text.str.fullmatch(_NUMBER.pattern).fillna(False).astype(bool)
        out = pd.to_numeric(text.where(ok), errors="coerce").astype(float)
        others = pd.to_numeric(uniques.where(~is_text), errors="coerce")  # Decimal, int objects from SQL
        return out.where(is_text, others.astype(float))

    return _by_distinct(values, convert).astype(float)


def numeric_column(values: pd.Series, decimal: str = ".", thousands: str | None = None) -> pd.Series | None:
    """The column as numbers (``Int64`` when every value is a whole number, else float) when every non-empty value
    is a plain number and none has a leading zero; ``None`` otherwise (the column stays text)."""
    present = values.dropna()
    if present.empty:
        return None
    distinct = normalise_number_text(pd.Series(present.unique()), decimal, thousands)
    if not distinct.str.fullmatch(_NUMBER.pattern).fillna(False).all():
        return None
    if distinct.str.match(_LEADING_ZERO.pattern).fillna(False).any():
        return None
    numbers = read_numbers(values, decimal, thousands)
    is_int = distinct.str.fullmatch(_INTEGER.pattern).fillna(False).all()
    if is_int and distinct.str.lstrip("+-").str.len().max() <= _INT64_DIGITS:
        return numbers.round().astype("Int64")
    return numbers


def exact_text(values: pd.Series) -> pd.Series:
    """Text of each value: text as it is (spaces around it removed), whole numbers without ``.0``, dates as
    ``YYYY-MM-DD``; empty text and missing values become ``None``."""
    if pd.api.types.is_datetime64_any_dtype(values):
        out = values.dt.strftime("%Y-%m-%d")
    elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = pd.to_numeric(values, errors="coerce")
        whole = numbers.notna() & np.isfinite(numbers.astype(float)) & (numbers.astype(float) % 1 == 0)
        out = numbers.astype(float).map(lambda v: f"{v:.15g}").astype(object)
        out[whole] = numbers[whole].astype(float).map(lambda v: str(int(v)))
        out[numbers.isna()] = None
    else:
        out = _by_distinct(values, _strip_text)
    out = out.astype(object).where(pd.notna(out), None)
    return out.where(out != "", None)


def _strip_text(uniques: pd.Series) -> pd.Series:
    text = uniques.map(lambda v: v if isinstance(v, str) else str(v), na_action="ignore")
    return text.astype(object).str.strip().astype(object)


@dataclass(frozen=True)
class MonthReading:
    """What :func:`read_months` did: the months (first day; ``NaT`` where unreadable), the format and how it was
    chosen, and the rows that could not be read."""

    months: pd.Series
    format: str | None  # strptime format, ISO8601, or None (already dates / nothing to read / ambiguous)
    how: str  # "detected", "date_format", "already dates", "ambiguous", "unreadable", "empty"
    unread: pd.Series  # boolean, per row: a non-empty value that is not a date
    ties: tuple[str, ...] = ()
    example: str = ""

    @property
    def label(self) -> str:
        """E.g. ``MM/DD/YYYY (detected)``."""
        if self.how == "already dates":
            return "their month (already dates)"
        if self.how == "ambiguous":
            return " or ".join(describe_format(f) for f in self.ties) + " (ambiguous)"
        return f"{describe_format(self.format)} ({self.how})" if self.format else self.how


def first_of_month(values: pd.Series) -> pd.Series:
    """Timestamps moved to the first day of their month (``NaT`` stays)."""
    stamps = pd.to_datetime(values)
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_localize(None)
    return pd.Series(stamps.to_numpy().astype("datetime64[M]").astype("datetime64[ns]"), index=values.index)


def read_months(values: pd.Series, date_format: str = "auto") -> MonthReading:
    """Read a column of dates as months. Dates (Parquet DATE, SQL timestamps, Excel datetime cells) pass through;
    whole numbers (``201101``) are read as text; text is read with ``date_format`` or, for ``auto``, the format
    :func:`sop_lib.data.dates.guess_date_format` finds (an ambiguous column is reported, not guessed)."""
    none = pd.Series(False, index=values.index)
    if pd.api.types.is_datetime64_any_dtype(values):
        return MonthReading(first_of_month(values), None, "already dates", none)
    present = values.dropna()
    if len(present) and present.map(lambda v: hasattr(v, "year") and hasattr(v, "month")).all():
        return MonthReading(first_of_month(pd.to_datetime(values)), None, "already dates", none)
    text = exact_text(values)
    if text.dropna().empty:
        return MonthReading(pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]"), None, "empty", none)
    if date_format == "auto":
        guess = guess_date_format(pd.Series(text.dropna().unique(), dtype=object))
        if guess.ambiguous:
            return MonthReading(pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]"), None, "ambiguous",
                                none, ties=guess.ties, example=guess.example)
        if guess.format is None:
            return MonthReading(pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]"), None, "unreadable",
                                text.notna(), example=guess.example)
        fmt, how = guess.format, "detected"
    else:
        fmt, how = (ISO if date_format in ("ISO8601", "iso") else date_format), "date_format"
    parsed = _by_distinct(text, lambda u: parse_dates(u, fmt))
    parsed = pd.to_datetime(parsed)
    return MonthReading(first_of_month(parsed), fmt, how, text.notna() & parsed.isna())
