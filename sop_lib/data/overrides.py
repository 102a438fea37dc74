"""The overrides file: its columns and its validation, every problem at once with file, row and column.

Overrides come from ``params/overrides/<cycle>.csv`` or ``<cycle>.xlsx`` (read by ``overrides_file``, through
``Store.read_overrides``), written by hand, by the override editor (``sop_lib.widgets.override_editor``) or in
the workbook ``sop overrides template`` makes. One row per override::

    owner, level, target, region, first_month, last_month, change_pct, change_units, reason
    Anna Berg (sales North), family, Juice, North, 2027-05, 2027-07, 12, , summer promotion with RetailCo

``level`` is ``sku``, ``family`` or ``region``; ``target`` the SKU code, family or region; ``region`` (optional)
restricts a sku- or family-level override to one region (blank, or "All regions": every region). Months are inclusive. Exactly one of ``change_pct``
(every series in scope × (1 + pct/100)) and ``change_units`` (units per month, spread over the series in scope
in proportion to their current value) is filled. Overrides apply in file order, each on the result of the
ones before (``demand.consensus.apply_overrides``).

Each cell is checked on its own by a pandera schema (``OVERRIDE_CELLS``, as the input contract is), lazily, so
every failing cell is a problem with its row and column; the rules between a row's cells (``_Checker``) follow.
Pure functions: frames in, frames out, no file I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa

from sop_lib.core.cycle import parse_month
from sop_lib.core.errors import InputInvalid
from sop_lib.core.labels import ALL_REGIONS

LEVELS = ("sku", "family", "region")
#: Beyond these an override is a typo, not a plan (a +1,000 % override multiplies demand by 11).
MAX_CHANGE_PCT = 1000.0
MAX_CHANGE_UNITS = 1e9
NOT_A_MONTH = "not a month (expected YYYY-MM, e.g. 2026-11)"
NOT_A_NUMBER = "not a number (use a dot for decimals, no thousands separator)"

_PROBLEM_COLUMNS = ["file", "row", "column", "problem", "value"]  # as validate.PROBLEM_COLUMNS
FIRST_ROW = 2  # a spreadsheet shows the header as row 1
# a row's problems are listed in this order of their columns (the file's own order, the rules between cells last)
_ORDER = ["owner", "reason", "level", "target", "region", "first_month", "last_month", "first_month, last_month",
          "change_pct", "change_units", "change_pct, change_units"]


def _number(text: str) -> float | None:
    """A finite number as typed (``12.5``, ``-3``, ``1e3``); None otherwise."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _percent(text: str) -> float | None:
    """A % change as typed, or as a spreadsheet's percentage cell saves it (``12%``)."""
    return _number(text[:-1].strip() if text.endswith("%") else text)


def _given(problem: str) -> pa.Check:
    return pa.Check(lambda cells: cells != "", error=problem)


def _reads(parse: Callable[[str], object], problem: str, blank_ok: bool = False) -> pa.Check:
    """Cells that ``parse`` reads (it returns None for the others); blank cells too when ``blank_ok``."""
    return pa.Check(lambda cells: cells.map(parse).notna() | (blank_ok & (cells == "")), error=problem)


#: Each cell of an overrides file on its own (stripped text, ``""`` when blank), every failure reported with its
#: row and column (``error`` is the planner's message). The rules between a row's cells are ``_Checker``'s.
OVERRIDE_CELLS = pa.DataFrameSchema({
    "owner": pa.Column(checks=_given("owner is blank: name the person or team making the change")),
    "level": pa.Column(checks=pa.Check(lambda cells: cells.str.lower().isin(LEVELS),
                                       error="level must be sku, family or region")),
    "target": pa.Column(checks=_given("target is blank: give the SKU code, family or region to change")),
    "region": pa.Column(required=False),  # empty: every region
    "first_month": pa.Column(checks=_reads(parse_month, NOT_A_MONTH)),
    "last_month": pa.Column(checks=_reads(parse_month, NOT_A_MONTH)),
    "change_pct": pa.Column(checks=_reads(_percent, NOT_A_NUMBER, blank_ok=True), required=False),
    "change_units": pa.Column(checks=_reads(_number, NOT_A_NUMBER, blank_ok=True), required=False),
    "reason": pa.Column(checks=_given("reason is blank: say why (promotion, customer news, listing, …)")),
})
OVERRIDE_COLUMNS = list(OVERRIDE_CELLS.columns)
CLEAN_COLUMNS = ["override_id", "row", *OVERRIDE_COLUMNS]


class OverridesInvalid(InputInvalid):
    """The overrides file has problems; ``problems`` lists each (file, row, column, problem, value)."""

    def _message(self) -> str:
        n = len(self.problems)
        where = "in the workbook" if " sheet " in str(self.inputs_dir) else "(or use the override editor)"
        head = (
            f"The overrides file {self.inputs_dir} has {n} problem{'s' if n != 1 else ''}; no override was applied. "
            f"Fix the rows below {where} and run again.\n"
        )
        return head + self.problems.astype("string").fillna("").to_string(index=False, max_colwidth=90)


def _text(value: object) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value).strip()


def _canonical(value: str, known: list[str]) -> str | None:
    """``value`` as spelled in ``known`` (exact, else ignoring case), or None if unknown."""
    if value in known:
        return value
    folded = {k.casefold(): k for k in known}
    return folded.get(value.casefold())


@dataclass
class _Checker:
    """The rules between the cells of a row (a target of its level, months in order and in the horizon, one
    change within bounds), each problem added to ``problems``. Cells that fail ``OVERRIDE_CELLS`` are left to it."""

    source: str
    known: dict[str, list[str]]  # level → the names a target may take
    series: pd.DataFrame  # sku, region, family of the forecast
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    has_change: bool  # the file has change_pct or change_units
    problems: list[dict[str, object]] = field(default_factory=list)

    @classmethod
    def of(cls, source: str, present: set[str], statistical: pd.DataFrame, products: pd.DataFrame) -> _Checker:
        regions = sorted(str(r) for r in statistical["region"].unique())
        known = {"sku": [str(s) for s in products["sku"].unique()],
                 "family": [str(f) for f in products["family"].unique()], "region": regions}
        periods = pd.to_datetime(statistical["period"]).dt.to_period("M").dt.to_timestamp()
        start, end = (periods.min(), periods.max()) if len(periods) else (None, None)
        series = statistical[["sku", "region", "family"]].drop_duplicates().astype(str)
        return cls(source, known, series, start, end, bool({"change_pct", "change_units"} & present))

    def problem(self, row: int | None, column: str, text: str, value: object = "") -> bool:
        """Record a problem; returns False so that a check can ``return self.problem(...)``."""
        self.problems.append({"file": self.source, "row": row, "column": column, "problem": text,
                              "value": _text(value)})
        return False

    def cells(self, cells: pd.DataFrame, first_row: int) -> set[int]:
        """Check the file's columns (the columns it has, its non-blank rows) against ``OVERRIDE_CELLS``: a missing
        column is a problem without a row, a failing cell one with its row. Returns the rows with a failing cell."""
        try:
            OVERRIDE_CELLS.validate(cells, lazy=True)
            cases = pd.DataFrame(columns=["column", "check", "failure_case", "index"])
        except pa.errors.SchemaErrors as err:
            cases = err.failure_cases
        missing = cases["check"] == "column_in_dataframe"
        for column in [c for c in OVERRIDE_COLUMNS if c in set(cases.loc[missing, "failure_case"])]:
            self.problem(None, column, "required column is missing")
        if not self.has_change:
            self.problem(None, "change_pct, change_units", "required column is missing: add change_pct or change_units")
        for case in cases[~missing].itertuples(index=False):
            self.problem(int(case.index) + first_row, str(case.column), str(case.check), case.failure_case)
        return {int(i) for i in cases.loc[~missing, "index"]}

    def row(self, row: int, rec: pd.Series, typed: bool) -> dict[str, object] | None:
        """The row typed, or None when it has a problem (every problem of the row is recorded). ``typed``: its
        cells passed ``OVERRIDE_CELLS`` and the file has every column it needs."""
        level, target, region, where_ok = self._scope(row, rec)
        (first, last), months_ok = self._months(row, rec)
        values, change_ok = self._change(row, rec)
        if not (typed and where_ok and months_ok and change_ok):
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

    def _scope(self, row: int, rec: pd.Series) -> tuple[str, str | None, str | None, bool]:
        """Level, target and region spelled as in the data, and whether they are all right."""
        ok = True
        level = rec["level"].lower() if rec["level"].lower() in LEVELS else ""
        target, region = rec["target"], rec["region"] or None
        if region is not None and region.casefold() == ALL_REGIONS.casefold():
            region = None  # the template's region list offers it for "every region", as a blank cell means
        if level and target:
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
        first, last = parse_month(rec["first_month"]), parse_month(rec["last_month"])
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
        pct, units = _percent(rec["change_pct"]), _number(rec["change_units"])
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
        return {"change_pct": pct, "change_units": units}, ok


def validate_overrides(
    raw: pd.DataFrame,
    statistical: pd.DataFrame,
    products: pd.DataFrame,
    source: str = "params/overrides/<cycle>.csv",
    first_row: int = FIRST_ROW,
) -> pd.DataFrame:
    """Check an overrides file and return it typed, or raise with every problem at once.

    Parameters
    ----------
    raw
        The file as read (``Store.read_overrides``): text cells, columns ``OVERRIDE_COLUMNS`` (``region`` and
        one of ``change_pct`` / ``change_units`` may be absent; other columns are ignored). Rows that are
        entirely blank are skipped but still count for row numbers.
    statistical
        The statistical forecast: ``sku``, ``region``, ``family``, ``period``. Its regions are the known
        regions and its first and last ``period`` the forecast horizon.
    products
        ``sku``, ``family``: the known SKUs and families.
    source
        The file as the planner knows it (a workbook's with its sheet), the ``file`` column of the problems.
    first_row
        The spreadsheet row of ``raw``'s first row (2: the header is row 1).

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
    cells = cells[~raw.map(_text).eq("").all(axis=1)]  # a blank row is skipped; the rows after it keep their number
    check = _Checker.of(source, set(raw.columns), statistical, products)
    failed = check.cells(cells[[c for c in OVERRIDE_COLUMNS if c in raw.columns]], first_row) if len(cells) else set()
    complete = all(p["row"] is not None for p in check.problems)  # every column it needs is there
    clean = [rec for i, cells_of in cells.iterrows()
             if (rec := check.row(int(i) + first_row, cells_of, typed=complete and i not in failed)) is not None]
    if check.problems:  # in file order: by row, a row's problems in the order of their columns
        problems = sorted(check.problems, key=lambda p: (-1, 0) if p["row"] is None else (
            p["row"], _ORDER.index(str(p["column"]))))
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
