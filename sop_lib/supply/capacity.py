"""Rough-cut capacity: hours the plan needs per resource and month against the hours available."""

from __future__ import annotations

import numpy as np
import pandas as pd


def required_hours(plan_units: pd.DataFrame, bill_of_resources: pd.DataFrame) -> pd.DataFrame:
    """Hours needed per resource and month: Σ over SKUs of units × hours per unit.

    Parameters
    ----------
    plan_units : columns ``sku``, ``period``, ``units`` (any extra keys such as region are summed over).
    bill_of_resources : columns ``sku``, ``resource``, ``hours_per_unit``.

    Returns
    -------
    Columns ``resource``, ``period``, ``required_hours``.
    """
    units = plan_units.groupby(["sku", "period"], as_index=False)["units"].sum()
    load = units.merge(bill_of_resources, on="sku", how="inner")
    load["required_hours"] = load["units"] * load["hours_per_unit"]
    return load.groupby(["resource", "period"], as_index=False)["required_hours"].sum()


def review_capacity(
    required: pd.DataFrame, capacity: pd.DataFrame, warn_utilisation: float = 0.9, max_utilisation: float = 1.0
) -> pd.DataFrame:
    """Utilisation = required / available hours per resource and month (docs/formulas.md), with a status.

    Months without available hours for a resource that has load are reported with ``available_hours`` NaN
    and status ``no capacity data`` rather than guessed.

    Returns
    -------
    Columns ``resource``, ``period``, ``required_hours``, ``available_hours``, ``utilisation``,
    ``gap_hours`` (available − required; negative = short), ``status`` (ok / tight / over capacity /
    no capacity data), ``over_capacity`` (bool).
    """
    out = required.merge(capacity[["resource", "period", "available_hours"]], on=["resource", "period"], how="left")
    out["utilisation"] = out["required_hours"] / out["available_hours"].replace(0, np.nan)
    out.loc[(out["available_hours"] == 0) & (out["required_hours"] > 0), "utilisation"] = np.inf
    out["gap_hours"] = out["available_hours"] - out["required_hours"]
    out["status"] = np.select(
        [out["available_hours"].isna(), out["utilisation"] > max_utilisation, out["utilisation"] >= warn_utilisation],
        ["no capacity data", "over capacity", "tight"],
        default="ok",
    )
    out["over_capacity"] = out["status"] == "over capacity"
    return out.sort_values(["resource", "period"], ignore_index=True)


def hours_short(review: pd.DataFrame) -> pd.Series:
    """Hours the plan needs beyond those available, per row of a capacity review: required − available where
    positive, 0 where the resource holds the load or has no capacity data (NaN available: not modelled, not short).

    The one definition of "hours short": the capacity summary, the scenarios, the scorecard's KPI and the
    decision candidates all sum this.
    """
    return (review["required_hours"] - review["available_hours"]).clip(lower=0).fillna(0.0)


def capacity_summary(review: pd.DataFrame) -> pd.DataFrame:
    """One row per resource: peak utilisation and its month, months over capacity, hours short in total."""
    rows = []
    for resource, g in review.groupby("resource"):
        finite = g[np.isfinite(g["utilisation"])]
        peak = finite.loc[finite["utilisation"].idxmax()] if len(finite) else None
        rows.append({
            "resource": resource,
            "peak_utilisation": float(peak["utilisation"]) if peak is not None else np.nan,
            "peak_month": peak["period"] if peak is not None else pd.NaT,
            "months_over_capacity": int(g["over_capacity"].sum()),
            "hours_short": float(hours_short(g).sum()),
            "mean_utilisation": float(finite["utilisation"].mean()) if len(finite) else np.nan,
        })
    return pd.DataFrame(rows, columns=["resource", "peak_utilisation", "peak_month", "months_over_capacity",
                                       "hours_short", "mean_utilisation"])
