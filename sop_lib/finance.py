"""Money: revenue, cost of goods and gross margin of a plan, and its gap to the budget (AOP)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def prices_for(months: pd.DataFrame, prices: pd.DataFrame) -> pd.DataFrame:
    """Attach the price and cost in force in each row's month (the latest ``valid_from`` ≤ ``period``).

    ``months`` needs ``sku`` and ``period``; ``prices`` has ``sku``, ``valid_from``, ``unit_price``,
    ``unit_cost``. Months before a SKU's first price get its first price.
    """
    left = months.reset_index(drop=True).assign(_row=lambda d: np.arange(len(d)))
    left["period"] = left["period"].astype("datetime64[ns]")
    right = prices.sort_values("valid_from")[["sku", "valid_from", "unit_price", "unit_cost"]].copy()
    right["valid_from"] = right["valid_from"].astype("datetime64[ns]")
    merged = pd.merge_asof(
        left.sort_values("period"), right, left_on="period", right_on="valid_from", by="sku", direction="backward"
    )
    first = right.drop_duplicates("sku").set_index("sku")
    for col in ("unit_price", "unit_cost"):
        merged[col] = merged[col].fillna(merged["sku"].map(first[col]))
    return merged.sort_values("_row").drop(columns=["_row", "valid_from"]).reset_index(drop=True)


def plan_financials(plan_units: pd.DataFrame, products: pd.DataFrame, prices: pd.DataFrame) -> pd.DataFrame:
    """Revenue = units × unit price; cost of goods = units × unit cost; gross margin = revenue − cost.

    ``plan_units`` has ``sku``, ``period``, ``units`` (other keys are summed over).
    Returns ``family``, ``sku``, ``period``, ``units``, ``unit_price``, ``unit_cost``, ``revenue``, ``cogs``,
    ``gross_margin``.
    """
    units = plan_units.groupby(["sku", "period"], as_index=False)["units"].sum()
    out = prices_for(units, prices)
    out["revenue"] = out["units"] * out["unit_price"]
    out["cogs"] = out["units"] * out["unit_cost"]
    out["gross_margin"] = out["revenue"] - out["cogs"]
    out.insert(0, "family", out["sku"].map(products.set_index("sku")["family"]))
    return out.sort_values(["family", "sku", "period"], ignore_index=True)


def budget_gap(plan: pd.DataFrame, budget: pd.DataFrame, threshold_pct: float) -> pd.DataFrame:
    """Plan against budget per family and month, for the months both cover.

    Gap = plan − budget (positive: plan above budget), in units, revenue and gross margin; ``gap_pct`` =
    revenue gap / budget revenue × 100; ``flag`` when |gap_pct| exceeds ``threshold_pct``, or when the plan has
    revenue in a month the budget has none.
    """
    fam = plan.groupby(["family", "period"], as_index=False)[["units", "revenue", "cogs", "gross_margin"]].sum()
    bud = budget.rename(columns={"units": "budget_units", "revenue": "budget_revenue",
                                 "gross_margin": "budget_margin"})
    out = fam.rename(columns={"units": "plan_units", "revenue": "plan_revenue", "gross_margin": "plan_margin"})
    out = out.merge(bud, on=["family", "period"], how="inner")
    out["gap_units"] = out["plan_units"] - out["budget_units"]
    out["gap_revenue"] = out["plan_revenue"] - out["budget_revenue"]
    out["gap_margin"] = out["plan_margin"] - out["budget_margin"]
    out["gap_pct"] = out["gap_revenue"] / out["budget_revenue"].replace(0, np.nan) * 100
    # money planned where finance budgeted none is a gap whatever the threshold (its % is undefined)
    out["flag"] = (out["gap_pct"].abs() > threshold_pct) | ((out["budget_revenue"] == 0) & (out["plan_revenue"] != 0))
    cols = ["family", "period", "plan_units", "budget_units", "gap_units", "plan_revenue", "budget_revenue",
            "gap_revenue", "gap_pct", "plan_margin", "budget_margin", "gap_margin", "flag"]
    return out[cols].sort_values(["family", "period"], ignore_index=True)


def gap_summary(gap: pd.DataFrame) -> pd.DataFrame:
    """Per family over all months of ``budget_gap``'s output (plus a total row): plan, budget and gap in
    units, revenue and margin, with the revenue gap in % and the count of flagged months."""
    cols = ["plan_units", "budget_units", "gap_units", "plan_revenue", "budget_revenue", "gap_revenue",
            "plan_margin", "budget_margin", "gap_margin"]
    fam = gap.groupby("family", as_index=False)[cols].sum()
    total = pd.DataFrame([{"family": "All families", **gap[cols].sum().to_dict()}])
    out = pd.concat([fam, total], ignore_index=True)
    out["gap_pct"] = out["gap_revenue"] / out["budget_revenue"].replace(0, np.nan) * 100
    flagged = gap.groupby("family")["flag"].sum()
    out["months_flagged"] = out["family"].map(flagged).fillna(gap["flag"].sum()).astype(int)
    return out
