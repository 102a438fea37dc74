"""The executive summary's headline figures, computed from a cycle's result tables."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sop_lib.core.cycle import latest_cycle
from sop_lib.core.metrics import accuracy, bias_pct
from sop_lib.review.variance import month_span, own_months


def compute_headlines(
    cycle_start: pd.Timestamp,
    sales: pd.DataFrame,
    forecast: pd.DataFrame | None,
    capacity: pd.DataFrame | None,
    budget_gap: pd.DataFrame | None,
    plan_vs_actual: pd.DataFrame | None,
) -> dict[str, Any]:
    """Headline figures; a value is ``None`` when the step that produces it did not run.

    - demand: next 12 months' forecast vs the last 12 months' actual units;
    - capacity: peak utilisation (resource and month) and resource-months over capacity;
    - budget: plan vs budget revenue and gross margin over the forecast months the budget covers;
    - accuracy: the previous cycle's plan for its own month (lag 0; a quarterly plan: its quarter's months) against
      actuals: 1 − WAPE and bias (``month``: the month, or ``2026-10 – 2026-12``).
    """
    out: dict[str, Any] = {"demand": None, "capacity": None, "budget": None, "accuracy": None}
    if forecast is not None and len(forecast):
        next12 = forecast[forecast["period"] < cycle_start + pd.DateOffset(months=12)]["forecast"].sum()
        last12 = sales[sales["period"] >= cycle_start - pd.DateOffset(months=12)]["units"].sum()
        out["demand"] = {
            "next_12m_units": float(next12),
            "last_12m_units": float(last12),
            "change_pct": float((next12 / last12 - 1) * 100) if last12 else None,
        }
    if capacity is not None and len(capacity):
        finite = capacity[np.isfinite(capacity["utilisation"])]
        peak = finite.loc[finite["utilisation"].idxmax()]
        over = capacity[capacity["over_capacity"]]
        out["capacity"] = {
            "peak_utilisation": float(peak["utilisation"]),
            "peak_resource": str(peak["resource"]),
            "peak_month": pd.Timestamp(peak["period"]).strftime("%Y-%m"),
            "months_over": int(len(over)),
            "resources_over": sorted(over["resource"].unique().tolist()),
        }
    if budget_gap is not None and len(budget_gap):
        out["budget"] = _budget_headline(budget_gap)
    if plan_vs_actual is not None and len(plan_vs_actual):
        last = plan_vs_actual[own_months(plan_vs_actual)]
        last = last[last["plan_cycle"] == latest_cycle(set(last["plan_cycle"]))] if len(last) else last
        if len(last):
            out["accuracy"] = {
                "plan_cycle": str(last["plan_cycle"].iloc[0]),
                "month": month_span(last["period"]),
                "accuracy": accuracy(last["actual"], last["forecast"]),
                "bias_pct": bias_pct(last["actual"], last["forecast"]),
            }
    return out


def _budget_headline(budget_gap: pd.DataFrame) -> dict[str, Any]:
    """Plan against budget over the months both cover. Money unknown (no price list: plan revenue NaN; no unit
    cost: plan margin NaN) stays ``None``; without a price list the units are compared instead."""
    cols = ["plan_units", "budget_units", "plan_revenue", "budget_revenue", "plan_margin", "budget_margin"]
    sums = {c: float(budget_gap[c].sum(min_count=1)) if budget_gap[c].notna().all() else None for c in cols}

    def gap(plan: float | None, budget: float | None) -> float | None:
        return (plan / budget - 1) * 100 if plan is not None and budget else None

    return {
        "months": f"{budget_gap['period'].min():%Y-%m} – {budget_gap['period'].max():%Y-%m}",
        **sums,
        "units_gap_pct": gap(sums["plan_units"], sums["budget_units"]),
        "revenue_gap_pct": gap(sums["plan_revenue"], sums["budget_revenue"]),
        "margin_gap_pct": gap(sums["plan_margin"], sums["budget_margin"]),
        "flagged": int(budget_gap["flag"].sum()),
    }


def plan_changes(current: pd.DataFrame, previous: pd.DataFrame | None, by: str = "family") -> pd.DataFrame:
    """What changed since the last published plan: units per ``by`` over the months both plans cover.

    Both frames have ``by``, ``period`` and ``units`` (e.g. the consensus of this cycle and of the last one).
    Returns ``by`` (with an "All" total row last), ``months``, ``last_plan``, ``this_plan``, ``change`` and
    ``change_pct``; empty when there is no earlier plan or no month in common.
    """
    cols = [by, "months", "last_plan", "this_plan", "change", "change_pct"]
    if previous is None or not len(previous) or not len(current):
        return pd.DataFrame(columns=cols)
    common = sorted(set(current["period"]) & set(previous["period"]))
    if not common:
        return pd.DataFrame(columns=cols)
    now = current[current["period"].isin(common)].groupby(by)["units"].sum()
    then = previous[previous["period"].isin(common)].groupby(by)["units"].sum()
    out = pd.DataFrame({"last_plan": then, "this_plan": now}).fillna(0.0)
    out.loc["All"] = out.sum()
    out["change"] = out["this_plan"] - out["last_plan"]
    out["change_pct"] = out["change"] / out["last_plan"].replace(0, np.nan) * 100
    out["months"] = f"{min(common):%Y-%m} – {max(common):%Y-%m}"
    return out.rename_axis(by).reset_index()[cols]
