"""Consensus demand: the statistical forecast as adjusted by sales and marketing, with every unit attributed.

The overrides (``overrides.validate_overrides``) apply in file order, each on the result of the ones before:
a percentage scales every series in its scope, units (per month) are spread over the series in scope in
proportion to their current value; none takes a series below zero (the units it could not remove are reported
as clipped). Then the waterfall per owner, and the plan of record with its intervals, as the units the
supply and finance workbooks plan from (``plan_units``).

Pure functions: frames in, frames out, no file I/O.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sop_lib.core.labels import total_label
from sop_lib.demand.forecast.reconcile import LEVELS, aggregate_levels

ADJUSTMENT_COLUMNS = [
    "override_id", "owner", "level", "target", "sku", "region", "family", "period", "delta", "clipped_units",
]


def _scope(base: pd.DataFrame, month: pd.Series, ov: Any) -> np.ndarray:
    """Row positions of the series × months one override applies to."""
    mask = (base[ov.level] == ov.target) & month.between(ov.first_month, ov.last_month)
    if ov.region is not None and not pd.isna(ov.region):
        mask &= base["region"] == ov.region
    return np.flatnonzero(mask.to_numpy())


def _wanted(cur: np.ndarray, codes: np.ndarray, ov: Any) -> np.ndarray:
    """The change one override asks of each series × month in its scope (``cur``: their current values,
    ``codes``: their months): a percentage of the value, or its units spread over the month's series in
    proportion to their values (equally if those sum to zero)."""
    if not pd.isna(ov.change_pct):
        return np.asarray(cur * (ov.change_pct / 100.0))
    total = np.bincount(codes, weights=cur)[codes]
    count = np.bincount(codes)[codes]
    share = np.divide(cur, total, out=1.0 / count, where=total > 0)
    return np.asarray(ov.change_units * share)


def apply_overrides(statistical: pd.DataFrame, overrides: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply validated overrides, in order, to the statistical forecast.

    Parameters
    ----------
    statistical
        ``sku``, ``region``, ``family``, ``period`` (month start), ``forecast`` (≥ 0): one row per
        sku × region × month. Other columns are ignored.
    overrides
        The output of :func:`sop_lib.data.overrides.validate_overrides`.

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
        idx = _scope(base, month, ov)
        if not len(idx):
            continue
        cur = current[idx]
        want = _wanted(cur, month_code[idx], ov)
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
    return _results(base, stat, adjustment, parts)


def _results(
    base: pd.DataFrame, stat: np.ndarray, adjustment: np.ndarray, parts: list[pd.DataFrame]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``apply_overrides``' two frames from the summed deltas and each override's rows."""
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
        ``by``, ``step``, ``units``, ``kind``. Per group (sorted, then ``total_label(by)``, e.g. "All families"): a
        ``statistical`` row (kind ``total``), one row per owner who changed that group (kind ``delta``; owners in
        the order their first override appears), and a ``consensus`` row (kind ``total``). Statistical plus
        the owners' deltas equals consensus, up to floating-point rounding.
    """
    owners = list(dict.fromkeys(adjustments["owner"]))
    groups = [(str(k), consensus[consensus[by] == k], adjustments[adjustments[by] == k])
              for k in sorted(consensus[by].unique())]
    groups.append((total_label(by), consensus, adjustments))
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
        The output of :func:`sop_lib.data.overrides.validate_overrides`.
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
    # ids as text on both sides: a cycle without overrides has empty frames whose dtypes pandas cannot match
    effect.index = effect.index.astype(str)
    cols = ["override_id", "owner", "level", "target", "region", "first_month", "last_month",
            "change_pct", "change_units", "reason"]
    out = overrides[cols].astype({"override_id": str}).merge(effect, left_on="override_id", right_index=True,
                                                            how="left")
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
    out = _move_bounds(consensus.merge(forecast[keys + bounds], on=keys, how="left"), bounds)
    out = out.rename(columns={c: c.replace("forecast-", "consensus-", 1) for c in bounds})
    if naive is not None:
        out = out.merge(naive[keys + ["naive"]], on=keys, how="left")
        out.insert(out.columns.get_loc("statistical"), "naive", out.pop("naive"))
    return out


def _move_bounds(frame: pd.DataFrame, bounds: list[str]) -> pd.DataFrame:
    """``frame`` (``statistical``, ``adjustment``, ``consensus`` and the statistical ``bounds``) with each bound
    moved with its point forecast: scaled by consensus / statistical, or shifted by the adjustment where the
    statistical forecast is zero; never below zero. The one rule for a series (:func:`consensus_plan`) and for a
    level of the hierarchy (:func:`level_plan`)."""
    stat = frame["statistical"].to_numpy(dtype=float)
    ratio = np.divide(frame["consensus"].to_numpy(dtype=float), stat, out=np.ones_like(stat), where=stat > 0)
    moved = {col: np.clip(np.where(stat > 0, frame[col] * ratio, frame[col] + frame["adjustment"]), 0.0, None)
             for col in bounds}
    return frame.assign(**moved)


def level_plan(levels: pd.DataFrame, level: str, consensus: pd.DataFrame | None = None) -> pd.DataFrame:
    """One level of the hierarchy (``"total"``, ``"family"``, ``"region"``, ``"sku"`` …) with **that level's own**
    interval, from its own backtest (the ``forecast_levels`` result,
    :func:`sop_lib.demand.forecast.reconcile.level_intervals`), not the sum of its series' bounds (far too wide).

    Parameters
    ----------
    levels
        ``level``, ``key``, ``period``, ``forecast``, ``forecast-lo-<L>`` / ``forecast-hi-<L>``.
    level
        The level to take (a key of ``LEVELS``).
    consensus
        ``apply_overrides``' (or :func:`consensus_plan`'s) frame: ``sku``, ``region``, ``family``, ``period``,
        ``statistical``, ``adjustment``, ``consensus``. When given, the point forecast is the consensus summed to
        the level and the level's own bounds move with it exactly as :func:`consensus_plan` moves a series' bounds:
        scaled by the level's consensus / statistical (shifted by its adjustment where the statistical is zero).

    Returns
    -------
    pandas.DataFrame
        ``key`` (``"total"`` for the total), the level's key column when it has one (e.g. ``family``), ``period``,
        ``forecast`` (statistical, or consensus if given), ``forecast-lo-<L>`` / ``forecast-hi-<L>``.
    """
    cols = LEVELS[level]
    own = levels[levels["level"] == level]
    bounds = [c for c in own.columns if c.startswith(("forecast-lo-", "forecast-hi-"))]
    out = own[["key", "period", "forecast", *bounds]].reset_index(drop=True)
    if consensus is not None:
        summed = aggregate_levels(consensus, ["statistical", "adjustment", "consensus"], ["period"])
        summed = summed[summed["level"] == level].drop(columns="level")
        merged = summed.merge(out[["key", "period", *bounds]], on=["key", "period"], how="left")
        out = _move_bounds(merged, bounds).rename(columns={"consensus": "forecast"})
        out = out[["key", "period", "forecast", *bounds]]
    if len(cols) == 1:
        out.insert(1, cols[0], out["key"])
    return out


def as_forecast(plan: pd.DataFrame) -> pd.DataFrame:
    """The consensus plan under the forecast's column names (``forecast``, ``forecast-lo-80`` …), for the
    charts and summaries written for a forecast."""
    return plan.rename(columns=lambda c: c.replace("consensus", "forecast", 1) if c.startswith("consensus") else c)


def plan_units(plan: pd.DataFrame, column: str = "forecast") -> pd.DataFrame:
    """A plan's units as the unconstrained demand plan: ``sku``, ``region``, ``period``, ``units``.
    ``plan_units(consensus_plan(...), "consensus")`` is the plan of record the capacity and finance workbooks
    work from; the default column takes a statistical forecast."""
    return plan[["sku", "region", "period", column]].rename(columns={column: "units"})
