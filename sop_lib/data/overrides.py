"""The overrides file: its columns and its validation, every problem at once with file, row and column.

Overrides come from ``params/overrides/<cycle>.csv`` (``store.read_overrides``), written by hand or by the
override editor (``sop_lib.widgets.override_editor``). One row per override::

    owner, level, target, region, first_month, last_month, change_pct, change_units, reason
    Anna Berg (sales North), family, Juice, North, 2027-05, 2027-07, 12, , summer promotion with RetailCo

``level`` is ``sku``, ``family`` or ``region``; ``target`` the SKU code, family or region; ``region`` (optional)
restricts a sku- or family-level override to one region. Months are inclusive. Exactly one of ``change_pct``
(every series in scope × (1 + pct/100)) and ``change_units`` (units per month, spread over the series in scope
in proportion to their current value) is filled. Overrides apply in file order, each on the result of the
ones before (``consensus.apply_overrides``).

Pure functions: frames in, frames out, no file I/O.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sop_lib.core.errors import InputInvalid

OVERRIDE_COLUMNS = [
    "owner", "level", "target", "region", "first_month", "last_month", "change_pct", "change_units", "reason",
]
REQUIRED_COLUMNS = ("owner", "level", "target", "first_month", "last_month", "reason")
LEVELS = ("sku", "family", "region")
#: Beyond these an override is a typo, not a plan (a +1,000 % override multiplies demand by 11).
MAX_CHANGE_PCT = 1000.0
MAX_CHANGE_UNITS = 1e9

CLEAN_COLUMNS = ["override_id", "row", *OVERRIDE_COLUMNS]
_PROBLEM_COLUMNS = ["file", "row", "column", "problem", "value"]  # as validate.PROBLEM_COLUMNS
_MONTH = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")
_FIRST_ROW = 2  # a spreadsheet shows the header as row 1


class OverridesInvalid(InputInvalid):
    """The overrides file has problems; ``problems`` lists each (file, row, column, problem, value)."""

    def _message(self) -> str:
        n = len(self.problems)
        head = (
            f"The overrides file {self.inputs_dir} has {n} problem{'s' if n != 1 else ''}; no override was applied. "
            "Fix the rows below (or use the override editor) and run again.\n"
        )
        return head + self.problems.astype("string").fillna("").to_string(index=False, max_colwidth=90)


def _text(value: object) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value).strip()


def _parse_month(text: str) -> pd.Timestamp | None:
    """``YYYY-MM`` (or a full ``YYYY-MM-DD`` date, as a spreadsheet may save it) → first day of the month."""
    match = _MONTH.match(text)
    if not match:
        return None
    try:
        return pd.Timestamp(int(match.group(1)), int(match.group(2)), int(match.group(3) or 1)).replace(day=1)
    except ValueError:
        return None


def _parse_number(text: str, percent: bool = False) -> float | None:
    if percent and text.endswith("%"):  # a spreadsheet's percentage cell saves as "12%"
        text = text[:-1].strip()
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _canonical(value: str, known: list[str]) -> str | None:
    """``value`` as spelled in ``known`` (exact, else ignoring case), or None if unknown."""
    if value in known:
        return value
    folded = {k.casefold(): k for k in known}
    return folded.get(value.casefold())


@dataclass
class _Checker:
    """The checks of one overrides file, row by row, each problem added to ``problems`` in file order."""

    source: str
    present: set[str]
    known: dict[str, list[str]]  # level → the names a target may take
    series: pd.DataFrame  # sku, region, family of the forecast
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    problems: list[dict[str, object]] = field(default_factory=list)

    @classmethod
    def of(cls, source: str, present: set[str], statistical: pd.DataFrame, products: pd.DataFrame) -> _Checker:
        regions = sorted(str(r) for r in statistical["region"].unique())
        known = {"sku": [str(s) for s in products["sku"].unique()],
                 "family": [str(f) for f in products["family"].unique()], "region": regions}
        periods = pd.to_datetime(statistical["period"]).dt.to_period("M").dt.to_timestamp()
        start, end = (periods.min(), periods.max()) if len(periods) else (None, None)
        series = statistical[["sku", "region", "family"]].drop_duplicates().astype(str)
        return cls(source, present, known, series, start, end)

    @property
    def has_change(self) -> bool:
        return "change_pct" in self.present or "change_units" in self.present

    def problem(self, row: int | None, column: str, text: str, value: object = "") -> bool:
        """Record a problem; returns False so that a check can ``return self.problem(...)``."""
        self.problems.append({"file": self.source, "row": row, "column": column, "problem": text,
                              "value": _text(value)})
        return False

    def columns(self) -> None:
        for col in REQUIRED_COLUMNS:
            if col not in self.present:
                self.problem(None, col, "required column is missing")
        if not self.has_change:
            self.problem(None, "change_pct, change_units", "required column is missing: add change_pct or change_units")

    def row(self, row: int, rec: pd.Series) -> dict[str, object] | None:
        """The row typed, or None when it has a problem (every problem of the row is recorded)."""
        ok = self._text_given(row, rec)
        level, target, region, where_ok = self._scope(row, rec)
        (first, last), months_ok = self._months(row, rec)
        values, change_ok = self._change(row, rec)
        if not (ok and where_ok and months_ok and change_ok) or not (
                self.has_change and all(c in self.present for c in REQUIRED_COLUMNS)):
            return None
        scope = self.series[self.series[level] == target]
        if region is not None:
            scope = scope[scope["region"] == region]
        if scope.empty:
            where = f" in region {region}" if region else ""
            self.problem(row, "region" if region else "target",
                         f"no forecast series for {target}{where}: nothing to change", region or target)
            return None
        return {"row": row, "owner": rec["owner"], "level": level, "target": target, "region": region,
                "first_month": first, "last_month": last, "reason": rec["reason"],
                "change_pct": np.nan if values["change_pct"] is None else values["change_pct"],
                "change_units": np.nan if values["change_units"] is None else values["change_units"]}

    def _text_given(self, row: int, rec: pd.Series) -> bool:
        ok = True
        for col, what in (("owner", "name the person or team making the change"),
                          ("reason", "say why (promotion, customer news, listing, …)")):
            if col in self.present and not rec[col]:
                ok = self.problem(row, col, f"{col} is blank: {what}")
        return ok

    def _scope(self, row: int, rec: pd.Series) -> tuple[str, str | None, str | None, bool]:
        """Level, target and region spelled as in the data, and whether they are all right."""
        ok = True
        level = rec["level"].lower()
        if "level" in self.present and level not in LEVELS:
            ok, level = self.problem(row, "level", "level must be sku, family or region", rec["level"]), ""
        target, region = rec["target"], rec["region"] or None
        if "target" in self.present and not target:
            ok = self.problem(row, "target", "target is blank: give the SKU code, family or region to change")
        elif level and target:
            target = _canonical(target, self.known[level])
            if target is None:
                where = "products" if level in ("sku", "family") else "the forecast"
                ok = self.problem(row, "target", f"unknown {'SKU' if level == 'sku' else level}: not in {where}",
                                  rec["target"])
        if region is not None:
            regions = self.known["region"]
            region = _canonical(region, regions)
            if region is None:
                ok = self.problem(row, "region", f"unknown region: the forecast has {', '.join(regions)}",
                                  rec["region"])
            elif level == "region" and target and region != target:
                ok = self.problem(row, "region", "for a region-level override leave region empty (or repeat the "
                                  "target)", rec["region"])
        return level, target, region, ok

    def _months(self, row: int, rec: pd.Series) -> tuple[tuple[pd.Timestamp | None, pd.Timestamp | None], bool]:
        ok = True
        months = {}
        for col in ("first_month", "last_month"):
            months[col] = _parse_month(rec[col])
            if col in self.present and months[col] is None:
                ok = self.problem(row, col, "not a month (expected YYYY-MM, e.g. 2026-11)", rec[col])
        first, last = months["first_month"], months["last_month"]
        if first is not None and last is not None:
            if first > last:
                ok = self.problem(row, "first_month", "first_month is after last_month",
                                  f"{first:%Y-%m} > {last:%Y-%m}")
            elif self.start is not None and (last < self.start or first > self.end):
                ok = self.problem(row, "first_month, last_month", "entirely outside the forecast horizon "
                                  f"{self.start:%Y-%m} … {self.end:%Y-%m}", f"{first:%Y-%m} … {last:%Y-%m}")
        return (first, last), ok

    def _change(self, row: int, rec: pd.Series) -> tuple[dict[str, float | None], bool]:
        ok = True
        values: dict[str, float | None] = {}
        for col in ("change_pct", "change_units"):
            values[col] = None
            if rec[col]:
                values[col] = _parse_number(rec[col], percent=col == "change_pct")
                if values[col] is None:
                    ok = self.problem(row, col, "not a number (use a dot for decimals, no thousands separator)",
                                      rec[col])
        pct, units = values["change_pct"], values["change_units"]
        if rec["change_pct"] and rec["change_units"]:
            ok = self.problem(row, "change_pct, change_units", "fill change_pct or change_units, not both",
                              f"{rec['change_pct']} | {rec['change_units']}")
        elif self.has_change and not rec["change_pct"] and not rec["change_units"]:
            ok = self.problem(row, "change_pct, change_units",
                              "no change given: fill change_pct (a % change) or change_units (units per month)")
        elif pct is not None and pct <= -100:
            ok = self.problem(row, "change_pct", "must be above -100 (a change of -100 % or less removes all "
                              "demand)", rec["change_pct"])
        elif pct is not None and pct > MAX_CHANGE_PCT:
            ok = self.problem(row, "change_pct", f"implausibly large: above +{MAX_CHANGE_PCT:g} % (demand × "
                              f"{1 + MAX_CHANGE_PCT / 100:g}); for a new listing or channel give change_units "
                              "instead", rec["change_pct"])
        elif units is not None and abs(units) > MAX_CHANGE_UNITS:
            ok = self.problem(row, "change_units", f"implausibly large: beyond ±{MAX_CHANGE_UNITS:,.0f} units a "
                              "month (a typo or a value pasted in the wrong column?)", rec["change_units"])
        return values, ok


def validate_overrides(
    raw: pd.DataFrame,
    statistical: pd.DataFrame,
    products: pd.DataFrame,
    source: str = "params/overrides/<cycle>.csv",
) -> pd.DataFrame:
    """Check an overrides file and return it typed, or raise with every problem at once.

    Parameters
    ----------
    raw
        The file as read (``store.read_overrides``): text cells, columns ``OVERRIDE_COLUMNS`` (``region`` and
        one of ``change_pct`` / ``change_units`` may be absent; other columns are ignored). Rows that are
        entirely blank are skipped but still count for row numbers.
    statistical
        The statistical forecast: ``sku``, ``region``, ``family``, ``period``. Its regions are the known
        regions and its first and last ``period`` the forecast horizon.
    products
        ``sku``, ``family``: the known SKUs and families.
    source
        The file's name as the planner knows it, shown in the ``file`` column of the problems.

    Returns
    -------
    pandas.DataFrame
        ``CLEAN_COLUMNS``: ``override_id`` ("O1", "O2", … in file order), ``row`` (spreadsheet row), text
        columns stripped (``level`` lower case, ``target`` and ``region`` spelled as in the data, ``region``
        None for all regions), ``first_month`` / ``last_month`` month-start Timestamps, ``change_pct`` /
        ``change_units`` floats or NaN.

    Raises
    ------
    OverridesInvalid
        (an ``InputInvalid``) with one row per problem: file, row, column, problem, value.
    """
    raw = raw.rename(columns=lambda c: str(c).strip()).reset_index(drop=True)
    cells = raw.reindex(columns=OVERRIDE_COLUMNS).map(_text)
    blank = raw.map(_text).eq("").all(axis=1)
    check = _Checker.of(source, set(raw.columns), statistical, products)
    if not blank.all():
        check.columns()
    clean = [rec for i, cells_of in cells[~blank].iterrows()
             if (rec := check.row(int(i) + _FIRST_ROW, cells_of)) is not None]
    problems = check.problems
    if problems:
        frame = pd.DataFrame(problems, columns=_PROBLEM_COLUMNS)
        frame["row"] = frame["row"].astype("Int64")
        raise OverridesInvalid(frame, source)
    out = pd.DataFrame(clean, columns=CLEAN_COLUMNS[1:])
    out.insert(0, "override_id", [f"O{k + 1}" for k in range(len(out))])
    out["row"] = out["row"].astype(int)
    for col in ("first_month", "last_month"):
        out[col] = pd.to_datetime(out[col])
    for col in ("change_pct", "change_units"):
        out[col] = out[col].astype(float)
    return out[CLEAN_COLUMNS]
