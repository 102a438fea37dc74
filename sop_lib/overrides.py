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

import numpy as np
import pandas as pd

from .errors import InputInvalid

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
    problems: list[dict[str, object]] = []

    def problem(row: int | None, column: str, text: str, value: object = "") -> None:
        problems.append({"file": source, "row": row, "column": column, "problem": text, "value": _text(value)})

    raw = raw.rename(columns=lambda c: str(c).strip()).reset_index(drop=True)
    present = set(raw.columns)
    cells = raw.reindex(columns=OVERRIDE_COLUMNS).map(_text)
    blank = raw.map(_text).eq("").all(axis=1)
    has_change = "change_pct" in present or "change_units" in present
    columns_ok = has_change and all(c in present for c in REQUIRED_COLUMNS)
    if not blank.all():
        for col in REQUIRED_COLUMNS:
            if col not in present:
                problem(None, col, "required column is missing")
        if not has_change:
            problem(None, "change_pct, change_units", "required column is missing: add change_pct or change_units")

    skus = [str(s) for s in products["sku"].unique()]
    families = [str(f) for f in products["family"].unique()]
    regions = sorted(str(r) for r in statistical["region"].unique())
    known = {"sku": skus, "family": families, "region": regions}
    periods = pd.to_datetime(statistical["period"]).dt.to_period("M").dt.to_timestamp()
    start, end = (periods.min(), periods.max()) if len(periods) else (None, None)
    series = statistical[["sku", "region", "family"]].drop_duplicates().astype(str)

    clean = []
    for i, rec in cells[~blank].iterrows():
        row = int(i) + _FIRST_ROW
        ok = True
        for col, what in (("owner", "name the person or team making the change"),
                          ("reason", "say why (promotion, customer news, listing, …)")):
            if col in present and not rec[col]:
                problem(row, col, f"{col} is blank: {what}")
                ok = False
        level = rec["level"].lower()
        if "level" in present and level not in LEVELS:
            problem(row, "level", "level must be sku, family or region", rec["level"])
            ok, level = False, ""
        target, region = rec["target"], rec["region"] or None
        if "target" in present and not target:
            problem(row, "target", "target is blank: give the SKU code, family or region to change")
            ok = False
        elif level and target:
            target = _canonical(target, known[level])
            if target is None:
                where = "products" if level in ("sku", "family") else "the forecast"
                problem(row, "target", f"unknown {'SKU' if level == 'sku' else level}: not in {where}", rec["target"])
                ok = False
        if region is not None:
            region = _canonical(region, regions)
            if region is None:
                problem(row, "region", f"unknown region: the forecast has {', '.join(regions)}", rec["region"])
                ok = False
            elif level == "region" and target and region != target:
                problem(row, "region", "for a region-level override leave region empty (or repeat the target)",
                        rec["region"])
                ok = False
        months = {}
        for col in ("first_month", "last_month"):
            months[col] = _parse_month(rec[col])
            if col in present and months[col] is None:
                problem(row, col, "not a month (expected YYYY-MM, e.g. 2026-11)", rec[col])
                ok = False
        first, last = months["first_month"], months["last_month"]
        if first is not None and last is not None:
            if first > last:
                problem(row, "first_month", "first_month is after last_month", f"{first:%Y-%m} > {last:%Y-%m}")
                ok = False
            elif start is not None and (last < start or first > end):
                problem(row, "first_month, last_month",
                        f"entirely outside the forecast horizon {start:%Y-%m} … {end:%Y-%m}",
                        f"{first:%Y-%m} … {last:%Y-%m}")
                ok = False
        values: dict[str, float | None] = {}
        for col in ("change_pct", "change_units"):
            values[col] = None
            if rec[col]:
                values[col] = _parse_number(rec[col], percent=col == "change_pct")
                if values[col] is None:
                    problem(row, col, "not a number (use a dot for decimals, no thousands separator)", rec[col])
                    ok = False
        if rec["change_pct"] and rec["change_units"]:
            problem(row, "change_pct, change_units", "fill change_pct or change_units, not both",
                    f"{rec['change_pct']} | {rec['change_units']}")
            ok = False
        elif has_change and not rec["change_pct"] and not rec["change_units"]:
            problem(row, "change_pct, change_units",
                    "no change given: fill change_pct (a % change) or change_units (units per month)")
            ok = False
        elif values["change_pct"] is not None and values["change_pct"] <= -100:
            problem(row, "change_pct", "must be above -100 (a change of -100 % or less removes all demand)",
                    rec["change_pct"])
            ok = False
        elif values["change_pct"] is not None and values["change_pct"] > MAX_CHANGE_PCT:
            problem(row, "change_pct", f"implausibly large: above +{MAX_CHANGE_PCT:g} % (demand × "
                    f"{1 + MAX_CHANGE_PCT / 100:g}); for a new listing or channel give change_units instead",
                    rec["change_pct"])
            ok = False
        elif values["change_units"] is not None and abs(values["change_units"]) > MAX_CHANGE_UNITS:
            problem(row, "change_units", f"implausibly large: beyond ±{MAX_CHANGE_UNITS:,.0f} units a month "
                    "(a typo or a value pasted in the wrong column?)", rec["change_units"])
            ok = False
        if ok and columns_ok:
            scope = series[series[level] == target]
            if region is not None:
                scope = scope[scope["region"] == region]
            if scope.empty:
                where = f" in region {region}" if region else ""
                problem(row, "region" if region else "target",
                        f"no forecast series for {target}{where}: nothing to change", region or target)
                continue
            clean.append({
                "row": row, "owner": rec["owner"], "level": level, "target": target, "region": region,
                "first_month": first, "last_month": last, "reason": rec["reason"],
                "change_pct": np.nan if values["change_pct"] is None else values["change_pct"],
                "change_units": np.nan if values["change_units"] is None else values["change_units"],
            })
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
