"""Consensus demand: the statistical forecast as adjusted by sales and marketing, with every unit attributed.

Overrides come from ``params/overrides/<cycle>.csv`` (``store.read_overrides``), written by hand or by the
override editor (``sop_lib.widgets.override_editor``). One row per override::

    owner, level, target, region, first_month, last_month, change_pct, change_units, reason
    Anna Berg (sales North), family, Juice, North, 2027-05, 2027-07, 12, , summer promotion with RetailCo

``level`` is ``sku``, ``family`` or ``region``; ``target`` the SKU code, family or region; ``region`` (optional)
restricts a sku- or family-level override to one region. Months are inclusive. Exactly one of ``change_pct``
(every series in scope × (1 + pct/100)) and ``change_units`` (units per month, spread over the series in scope
in proportion to their current value) is filled. Overrides apply in file order, each on the result of the
ones before; none takes a series below zero (the units it could not remove are reported as clipped).

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
CLEAN_COLUMNS = ["override_id", "row", *OVERRIDE_COLUMNS]
ADJUSTMENT_COLUMNS = [
    "override_id", "owner", "level", "target", "sku", "region", "family", "period", "delta", "clipped_units",
]
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


def apply_overrides(statistical: pd.DataFrame, overrides: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply validated overrides, in order, to the statistical forecast.

    Parameters
    ----------
    statistical
        ``sku``, ``region``, ``family``, ``period`` (month start), ``forecast`` (≥ 0): one row per
        sku × region × month. Other columns are ignored.
    overrides
        The output of :func:`validate_overrides`.

    Returns
    -------
    tuple[pandas.DataFrame, pandas.DataFrame]
        ``consensus``: ``sku``, ``region``, ``family``, ``period``, ``statistical``, ``adjustment`` (the sum of
        the deltas), ``consensus`` (= statistical + adjustment, never below zero), in the input's row order.
        ``adjustments``: ``ADJUSTMENT_COLUMNS``, one row per override × series × month it changed or tried to
        reduce below zero; ``delta`` the units it added (negative: removed), ``clipped_units`` the units it
        should have removed but could not (the series reached zero).
    """
    base = statistical[["sku", "region", "family", "period"]].reset_index(drop=True)
    stat = statistical["forecast"].to_numpy(dtype=float)
    month = pd.to_datetime(base["period"]).dt.to_period("M").dt.to_timestamp()
    month_code, _ = pd.factorize(month)
    current = stat.copy()
    adjustment = np.zeros(len(base))
    parts = []
    for ov in overrides.itertuples(index=False):
        mask = (base[ov.level] == ov.target) & month.between(ov.first_month, ov.last_month)
        if ov.region is not None and not pd.isna(ov.region):
            mask &= base["region"] == ov.region
        idx = np.flatnonzero(mask.to_numpy())
        if not len(idx):
            continue
        cur = current[idx]
        if not pd.isna(ov.change_pct):
            want = cur * (ov.change_pct / 100.0)
        else:
            # per month: units spread in proportion to the series' current values; equally if they sum to zero
            codes = month_code[idx]
            total = np.bincount(codes, weights=cur)[codes]
            count = np.bincount(codes)[codes]
            share = np.divide(cur, total, out=1.0 / count, where=total > 0)
            want = ov.change_units * share
        below = cur + want < 0
        delta = np.where(below, -cur, want)
        clipped = np.where(below, -(cur + want), 0.0)
        current[idx] = np.where(below, 0.0, cur + delta)
        adjustment[idx] += delta
        keep = (delta != 0) | (clipped > 0)
        if keep.any():
            rows = base.iloc[idx[keep]].reset_index(drop=True)
            parts.append(rows.assign(
                override_id=ov.override_id, owner=ov.owner, level=ov.level, target=ov.target,
                delta=delta[keep], clipped_units=clipped[keep],
            ))
    consensus_units = stat + adjustment
    # a series cut to zero after an earlier override can land a rounding step below zero
    rounding = (consensus_units < 0) & (adjustment != 0)
    adjustment = np.where(rounding, -stat, adjustment)
    consensus = base.assign(statistical=stat, adjustment=adjustment, consensus=stat + adjustment)
    adjustments = (
        pd.concat(parts, ignore_index=True)[ADJUSTMENT_COLUMNS] if parts
        else pd.DataFrame({c: pd.Series(dtype=float if c in ("delta", "clipped_units") else object)
                           for c in ADJUSTMENT_COLUMNS})
    )
    return consensus, adjustments


def _all_label(by: str) -> str:
    return {"family": "All families", "region": "All regions", "sku": "All SKUs"}.get(by, f"All ({by})")


def consensus_waterfall(consensus: pd.DataFrame, adjustments: pd.DataFrame, by: str = "family") -> pd.DataFrame:
    """From statistical to consensus units over the horizon, owner by owner, per ``by`` value and in total.

    Parameters
    ----------
    consensus, adjustments
        The two outputs of :func:`apply_overrides` (possibly filtered to fewer months, alike).
    by
        ``family``, ``region`` or ``sku``.

    Returns
    -------
    pandas.DataFrame
        ``by``, ``step``, ``units``, ``kind``. Per group (sorted, then "All families" or the like): a
        ``statistical`` row (kind ``total``), one row per owner who changed that group (kind ``delta``; owners in
        the order their first override appears), and a ``consensus`` row (kind ``total``). Statistical plus
        the owners' deltas equals consensus, up to floating-point rounding.
    """
    owners = list(dict.fromkeys(adjustments["owner"]))
    groups = [(str(k), consensus[consensus[by] == k], adjustments[adjustments[by] == k])
              for k in sorted(consensus[by].unique())]
    groups.append((_all_label(by), consensus, adjustments))
    rows = []
    for key, cons, adj in groups:
        rows.append({by: key, "step": "statistical", "units": float(cons["statistical"].sum()), "kind": "total"})
        per_owner = adj.groupby("owner")["delta"].sum()
        for owner in owners:
            if owner in per_owner.index:
                rows.append({by: key, "step": owner, "units": float(per_owner[owner]), "kind": "delta"})
        rows.append({by: key, "step": "consensus", "units": float(cons["consensus"].sum()), "kind": "total"})
    return pd.DataFrame(rows, columns=[by, "step", "units", "kind"])


def override_summary(overrides: pd.DataFrame, adjustments: pd.DataFrame) -> pd.DataFrame:
    """One row per override: what it asked for and what it did over the horizon.

    Parameters
    ----------
    overrides
        The output of :func:`validate_overrides`.
    adjustments
        The second output of :func:`apply_overrides`.

    Returns
    -------
    pandas.DataFrame
        ``override_id``, ``owner``, ``level``, ``target``, ``region``, ``first_month``, ``last_month``,
        ``change_pct``, ``change_units``, ``reason``, ``series`` (sku × region series changed),
        ``units_added`` (net units, negative when removed) and ``clipped_units`` (units that could not be
        removed because series reached zero). An override that matched nothing in the horizon shows zeros.
    """
    effect = adjustments.groupby("override_id")[["delta", "clipped_units"]].sum()
    effect = effect.rename(columns={"delta": "units_added"})
    changed = adjustments[adjustments["delta"] != 0].drop_duplicates(subset=["override_id", "sku", "region"])
    effect["series"] = changed.groupby("override_id").size()
    cols = ["override_id", "owner", "level", "target", "region", "first_month", "last_month",
            "change_pct", "change_units", "reason"]
    out = overrides[cols].merge(effect, left_on="override_id", right_index=True, how="left")
    out["series"] = out["series"].fillna(0).astype(int)
    out[["units_added", "clipped_units"]] = out[["units_added", "clipped_units"]].fillna(0.0).astype(float)
    return out[[*cols, "series", "units_added", "clipped_units"]].reset_index(drop=True)


def consensus_plan(consensus: pd.DataFrame, forecast: pd.DataFrame, naive: pd.DataFrame | None = None) -> pd.DataFrame:
    """The plan of record: ``apply_overrides``' consensus with the statistical forecast's intervals carried
    over and, for forecast value added, the naive benchmark.

    An interval bound moves with its point forecast: scaled by consensus / statistical, or shifted by the
    adjustment where the statistical forecast is zero; never below zero. ``forecast`` has ``sku``, ``region``,
    ``period`` and ``forecast-lo-<level>`` / ``forecast-hi-<level>``; ``naive`` has ``sku``, ``region``,
    ``period``, ``naive``. Returns the consensus columns, ``naive`` (if given) and ``consensus-lo-<level>`` /
    ``consensus-hi-<level>``.
    """
    keys = ["sku", "region", "period"]
    bounds = [c for c in forecast.columns if c.startswith(("forecast-lo-", "forecast-hi-"))]
    out = consensus.merge(forecast[keys + bounds], on=keys, how="left")
    stat = out["statistical"].to_numpy(dtype=float)
    ratio = np.divide(out["consensus"].to_numpy(dtype=float), stat, out=np.ones_like(stat), where=stat > 0)
    for col in bounds:
        scaled = np.where(stat > 0, out[col] * ratio, out[col] + out["adjustment"])
        out[col.replace("forecast-", "consensus-", 1)] = np.clip(scaled, 0.0, None)
    out = out.drop(columns=bounds)
    if naive is not None:
        out = out.merge(naive[keys + ["naive"]], on=keys, how="left")
        out.insert(out.columns.get_loc("statistical"), "naive", out.pop("naive"))
    return out


def as_forecast(plan: pd.DataFrame) -> pd.DataFrame:
    """The consensus plan under the forecast's column names (``forecast``, ``forecast-lo-80`` …), for the
    charts and summaries written for a forecast."""
    return plan.rename(columns=lambda c: c.replace("consensus", "forecast", 1) if c.startswith("consensus") else c)
