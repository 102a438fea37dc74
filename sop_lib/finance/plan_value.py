"""Money: revenue, cost of goods and gross margin of a plan, its gap to the budget (AOP), and the constrained
supply plan in money (lost revenue, inventory value, working capital)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sop_lib.core.errors import SopError
from sop_lib.core.labels import ALL_FAMILIES
from sop_lib.data.prices import prices_for


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
    revenue in a month the budget has none. A plan without money (no price list: revenue NaN) is compared in
    units: ``gap_pct`` = units gap / budget units × 100. Without unit costs the margins are NaN.
    """
    fam = plan.groupby(["family", "period"], as_index=False)[["units", "revenue", "cogs", "gross_margin"]].sum()
    bud = budget.rename(columns={"units": "budget_units", "revenue": "budget_revenue",
                                 "gross_margin": "budget_margin"})
    out = fam.rename(columns={"units": "plan_units", "revenue": "plan_revenue", "gross_margin": "plan_margin"})
    out = out.merge(bud, on=["family", "period"], how="inner")
    out["gap_units"] = out["plan_units"] - out["budget_units"]
    out["gap_revenue"] = out["plan_revenue"] - out["budget_revenue"]
    out["gap_margin"] = out["plan_margin"] - out["budget_margin"]
    if out["plan_revenue"].notna().all():
        out["gap_pct"] = out["gap_revenue"] / out["budget_revenue"].replace(0, np.nan) * 100
        # money planned where finance budgeted none is a gap whatever the threshold (its % is undefined)
        unbudgeted = (out["budget_revenue"] == 0) & (out["plan_revenue"] != 0)
    else:  # no price list: the plan has no money, so plan and budget are compared in units
        out["gap_pct"] = out["gap_units"] / out["budget_units"].replace(0, np.nan) * 100
        unbudgeted = (out["budget_units"] == 0) & (out["plan_units"] != 0)
    out["flag"] = (out["gap_pct"].abs() > threshold_pct) | unbudgeted
    cols = ["family", "period", "plan_units", "budget_units", "gap_units", "plan_revenue", "budget_revenue",
            "gap_revenue", "gap_pct", "plan_margin", "budget_margin", "gap_margin", "flag"]
    return out[cols].sort_values(["family", "period"], ignore_index=True)


def gap_summary(gap: pd.DataFrame) -> pd.DataFrame:
    """Per family over all months of ``budget_gap``'s output (plus a total row): plan, budget and gap in
    units, revenue and margin, with the revenue gap in % and the count of flagged months."""
    cols = ["plan_units", "budget_units", "gap_units", "plan_revenue", "budget_revenue", "gap_revenue",
            "plan_margin", "budget_margin", "gap_margin"]
    fam = gap.groupby("family", as_index=False)[cols].sum()
    total = pd.DataFrame([{"family": ALL_FAMILIES, **gap[cols].sum().to_dict()}])
    out = pd.concat([fam, total], ignore_index=True)
    out["gap_pct"] = out["gap_revenue"] / out["budget_revenue"].replace(0, np.nan) * 100
    flagged = gap.groupby("family")["flag"].sum()
    out["months_flagged"] = out["family"].map(flagged).fillna(gap["flag"].sum()).astype(int)
    return out


def plan_value_summary(plan: pd.DataFrame) -> pd.DataFrame:
    """Per family over the plan's months (plus an "All families" row): units, revenue, cost of goods, gross
    margin and margin % of :func:`plan_financials` output — the plan's value when there is no budget to
    compare it with. Money unknown (no price list or no unit cost) stays unknown (NaN) in the totals."""
    cols = ["units", "revenue", "cogs", "gross_margin"]
    fam = _sum_strict(plan, ["family"], cols)
    total = pd.DataFrame([{"family": ALL_FAMILIES, **{c: plan[c].sum(min_count=1) if plan[c].notna().all()
                                                        else np.nan for c in cols}}])
    out = pd.concat([fam, total], ignore_index=True)
    out.insert(1, "months", plan["period"].nunique())
    out["margin_pct"] = _margin_pct(out)
    return out


# --- the constrained plan in money ---------------------------------------------------------------------------

SUPPLY_UNITS = ["demand", "production", "served", "unmet", "closing_stock"]
_MONEY_FLOWS = ["revenue", "cogs", "gross_margin", "lost_revenue", "lost_margin"]
_FLOWS = ["demand", "production", "served", "unmet", *_MONEY_FLOWS]  # summed over months; stock is a level


class MissingPrices(SopError):
    """A SKU-month of the plan has no unit price or cost to value it at."""

    exit_code = 2


def constrained_financials(
    plan: pd.DataFrame,
    products: pd.DataFrame,
    unit_economics: pd.DataFrame,
    opening_stock: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The constrained supply plan in money, per family and month (money in the params' currency).

    Per SKU-month, at its unit price P and unit cost C: revenue = served × P, cogs = served × C, gross margin
    = revenue − cogs (docs/formulas.md); lost revenue = unmet × P and lost margin = unmet × (P − C) (unmet demand is
    lost, not back-ordered); inventory value = closing stock × C (stock at unit cost). The change of inventory
    value is the working capital the plan ties up (+) or releases (−): closing value − the SKU's value the
    month before; in a SKU's first month, against its opening stock valued at that month's unit cost (so a
    cost change shows as a revaluation from the second month on). Summed per family and month;
    ``margin_pct`` = gross margin / revenue × 100 (NaN without revenue).

    Parameters
    ----------
    plan : the supply plan (``sop_lib.supply``): ``sku``, ``period``, ``demand``, ``production``, ``served``,
        ``unmet``, ``closing_stock``, optionally ``opening_stock`` (units; other keys, e.g. ``region``, are
        summed over).
    products : ``sku``, ``family``. A SKU without a family is kept under a missing (NaN) family.
    unit_economics : as the supply plan takes it: ``sku``, ``period``, ``unit_price``, ``unit_cost`` per SKU
        and month, or without ``period`` one price per SKU; or the ``Prices`` table (``sku``, ``valid_from``,
        …), whose price in force in each month is used (:func:`prices_for`).
    opening_stock : the ``Inventory`` table (``sku``, ``on_hand``) at the start of the plan; a SKU absent
        from it opens with 0, and SKUs not in the plan are ignored. ``None``: the plan's own
        ``opening_stock`` of each SKU's first month if it has that column; otherwise the first month's change
        is unknown (NaN), and so is any total including it.

    Returns
    -------
    DataFrame
        ``family``, ``period``, the units ``demand``, ``production``, ``served``, ``unmet``,
        ``closing_stock``, then ``revenue``, ``cogs``, ``gross_margin``, ``margin_pct``, ``lost_revenue``,
        ``lost_margin``, ``inventory_value``, ``inventory_change`` (currency), sorted by family and period.

    Raises
    ------
    MissingPrices
        If a SKU-month has no unit price or cost.
    """
    carried = ["opening_stock"] if "opening_stock" in plan.columns else []
    rows = plan.groupby(["sku", "period"], as_index=False)[[*SUPPLY_UNITS, *carried]].sum()
    out = _valued(_priced(rows, unit_economics).sort_values(["sku", "period"], ignore_index=True))
    out["inventory_change"] = _inventory_change(out, opening_stock)
    out.insert(0, "family", out["sku"].map(products.set_index("sku")["family"]))
    fam = _sum_strict(out, ["family", "period"], [*SUPPLY_UNITS, *_MONEY_FLOWS, "inventory_value", "inventory_change"])
    fam["margin_pct"] = _margin_pct(fam)
    cols = ["family", "period", *SUPPLY_UNITS, "revenue", "cogs", "gross_margin", "margin_pct", "lost_revenue",
            "lost_margin", "inventory_value", "inventory_change"]
    return fam[cols].sort_values(["family", "period"], ignore_index=True)


def _valued(out: pd.DataFrame) -> pd.DataFrame:
    """SKU-months with their unit price and cost, in money: revenue, cogs and gross margin of the units served,
    lost revenue and margin of the unmet, and the closing stock at unit cost."""
    price, cost = out["unit_price"], out["unit_cost"]
    out["revenue"] = out["served"] * price
    out["cogs"] = out["served"] * cost
    out["gross_margin"] = out["revenue"] - out["cogs"]
    out["lost_revenue"] = out["unmet"] * price
    out["lost_margin"] = out["unmet"] * (price - cost)
    out["inventory_value"] = out["closing_stock"] * cost
    return out


def _inventory_change(out: pd.DataFrame, opening_stock: pd.DataFrame | None) -> pd.Series:
    """Closing stock value − the SKU's value the month before; in its first month, against the opening stock
    (``opening_stock``, else the plan's own ``opening_stock``, else unknown) at that month's unit cost."""
    cost = out["unit_cost"]
    before = out.groupby("sku")["inventory_value"].shift(1)
    first = before.isna()
    if opening_stock is not None:
        opening = out["sku"].map(opening_stock.groupby("sku")["on_hand"].sum()).fillna(0.0) * cost
    elif "opening_stock" in out.columns:
        opening = out["opening_stock"] * cost
    else:
        opening = pd.Series(np.nan, index=out.index)
    return out["inventory_value"] - before.where(~first, opening)


def _priced(rows: pd.DataFrame, unit_economics: pd.DataFrame) -> pd.DataFrame:
    """``rows`` (``sku``, ``period``) with their unit price and cost; ``MissingPrices`` names what lacks one.

    A price list without unit costs (every cost missing: a default the data layer listed) leaves margin, lost
    margin and stock value unknown; a missing price, or a cost missing for some SKUs only, is an error."""
    if "valid_from" in unit_economics.columns:
        priced = prices_for(rows, unit_economics)
    else:
        on = ["sku", "period"] if "period" in unit_economics.columns else ["sku"]
        econ = unit_economics[[*on, "unit_price", "unit_cost"]]
        priced = rows.merge(econ, on=on, how="left", validate="many_to_one")
    cost_gaps = priced["unit_cost"].isna() & priced["unit_cost"].notna().any()
    lacking = priced[priced["unit_price"].isna() | cost_gaps]
    if len(lacking):
        shown = ", ".join(f"{s} {pd.Timestamp(p):%Y-%m}" for s, p in lacking[["sku", "period"]].head(10).itertuples(
            index=False, name=None))
        raise MissingPrices(f"{len(lacking)} SKU-month(s) of the supply plan have no unit price or cost "
                            f"({shown}{', …' if len(lacking) > 10 else ''}); add them to the prices.")
    return priced


def family_totals(financials: pd.DataFrame) -> pd.DataFrame:
    """Per family over the months of :func:`constrained_financials` output, plus an "All families" row.

    Flows (units demanded, produced, served and unmet; revenue, cogs, margin, lost revenue and margin;
    inventory change) are summed over the months; ``closing_stock`` and ``inventory_value`` are levels, taken
    at each family's last month (the "All families" row sums the families' last values). So, per family, the
    summed inventory change = last inventory value − opening value. ``margin_pct`` is recomputed; money in
    the params' currency.

    Parameters
    ----------
    financials : :func:`constrained_financials` output.

    Returns
    -------
    DataFrame
        ``family``, ``months``, then the columns of :func:`constrained_financials` without ``period``.
    """
    flows = [*_FLOWS, "inventory_change"]
    ordered = financials.sort_values(["family", "period"])
    fam = _sum_strict(ordered, ["family"], flows)
    last = ordered.groupby("family", dropna=False)[["closing_stock", "inventory_value"]].last()
    fam = fam.merge(last.reset_index(), on="family", how="left")
    fam.insert(1, "months", fam["family"].map(ordered.groupby("family", dropna=False)["period"].nunique()))
    total = {"family": ALL_FAMILIES, "months": int(financials["period"].nunique()),
             **{c: fam[c].sum(skipna=False) for c in [*flows, "closing_stock", "inventory_value"]}}
    out = pd.concat([fam, pd.DataFrame([total])], ignore_index=True)
    out["margin_pct"] = _margin_pct(out)
    cols = ["family", "months", *SUPPLY_UNITS, "revenue", "cogs", "gross_margin", "margin_pct", "lost_revenue",
            "lost_margin", "inventory_value", "inventory_change"]
    return out[cols]


def _sum_strict(frame: pd.DataFrame, by: list[str], cols: list[str]) -> pd.DataFrame:
    """Group sums where one unknown (NaN) makes the sum unknown, rather than being skipped."""
    grouped = frame.groupby(by, dropna=False)
    sums = grouped[cols].sum()
    return sums.mask(grouped[cols].apply(lambda g: g.isna().any())).reset_index()


def _margin_pct(frame: pd.DataFrame) -> pd.Series:
    return frame["gross_margin"] / frame["revenue"].replace(0, np.nan) * 100
