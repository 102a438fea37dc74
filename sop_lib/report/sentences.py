"""The sentences that open each workbook's sections: what the figures say, and what could not be said because
the data lacked a table (no price list, no capacity, no budget). Names and currencies from parameters or data
go through ``md_escape``: Markdown passes HTML through.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from IPython.display import Markdown

from sop_lib.report.escape import md_escape

NO_CAPACITY = ("**Capacity is not modelled**: the data has no bill of resources or capacity table, so the plan is "
               "unconstrained — every unit of the consensus is taken as made in its month. Give `bill_of_resources` "
               "and `capacity` to see the load against the hours available.")
NO_PRICES = ("**No price list**: the plan is shown in units; revenue and margin are not computed. Give a "
             "`prices` table to value it.")
NO_BUDGET = "**No budget** in the data: the plan's value is shown without a budget comparison."
NO_COSTS = "No unit cost in the price list: gross margin is not computed (shown as –)."


def _e(text: object) -> str:
    return md_escape(text)


def note(text: str) -> Markdown:
    """A sentence in its own paragraph (text written by the suite; it is not escaped)."""
    return Markdown(text)


def forecast_sentence(selection: pd.DataFrame, forecast: pd.DataFrame, sales: pd.DataFrame, fp: Any,
                      priced: bool, promotions: bool) -> Markdown:
    """What was forecast, over which months and how it was backtested, and what the data did not allow."""
    months = sales["period"].nunique()
    text = (f"**{len(selection)} series** forecast for {fp.horizon_months} months "
            f"({forecast['period'].min():%Y-%m} – {forecast['period'].max():%Y-%m}) with "
            f"{' and '.join(str(lv) for lv in fp.interval_levels)} % prediction intervals; history "
            f"{sales['period'].min():%Y-%m} – {sales['period'].max():%Y-%m} ({months} months). Backtest: "
            f"{fp.backtest_windows} origins, {fp.backtest_horizon} months ahead each, {fp.backtest_step} months apart.")
    life = selection["lifecycle"] if "lifecycle" in selection else pd.Series("established", index=selection.index)
    new, young, established = (int((life == k).sum()) for k in ("new", "young", "established"))
    young_text = (f"{young:,} series of {fp.young_min_months}–{fp.min_history_months - 1} months are forecast by the "
                  "simple method (seasonal naive, naive, exponential smoothing, average, family profile; Croston's family for "
                  "intermittent demand) that measured best on a short backtest of their own (3 origins × 3 months)")
    new_text = (f"{new:,} series with less than {min(fp.young_min_months, fp.min_history_months)} months follow their "
                "family's seasonal profile scaled to their own level")
    if not established:
        text += (f" **No series has the {fp.min_history_months} months of history the main backtest needs**: "
                 + "; ".join(t for n, t in ((young, young_text), (new, new_text)) if n)
                 + " (forecast.min_history_months and young_min_months in params/).")
    elif new or young:
        text += " " + "; ".join(t for n, t in ((young, young_text), (new, new_text)) if n) + "."
    if not priced:
        text += " No price list: ABC classes rank the series by units, not revenue."
    if not promotions:
        text += " No promotions in the data: no promotion regressor."
    return Markdown(text)


def consensus_sentence(overrides: pd.DataFrame, adjustments: pd.DataFrame, plan: pd.DataFrame, source: str) -> Markdown:
    """How many overrides from how many owners, and the consensus against the statistical forecast."""
    stat, cons = float(plan["statistical"].sum()), float(plan["consensus"].sum())
    change = f" ({(cons / stat - 1) * 100:+.1f} %)" if stat else ""
    if overrides.empty:
        return Markdown(f"**No overrides** this cycle ({_e(source)} is absent or empty): the consensus is the "
                        f"statistical forecast, **{cons:,.0f} units** over the horizon.")
    owners = overrides["owner"].nunique()
    text = (f"**{len(overrides)} override{'s' if len(overrides) != 1 else ''}** from {owners} "
            f"owner{'s' if owners != 1 else ''} ({_e(source)}): consensus **{cons:,.0f} units** over the horizon "
            f"against {stat:,.0f} statistical{change}.")
    clipped = float(adjustments["clipped_units"].sum()) if len(adjustments) else 0.0
    if clipped > 0:
        text += f" {clipped:,.0f} units of reductions could not be applied (series at zero)."
    return Markdown(text)


def capacity_sentence(review: pd.DataFrame, summary: pd.DataFrame, max_utilisation: float, modelled: bool) -> Markdown:
    """Resource-months over capacity and hours short, or that capacity is not modelled."""
    if not modelled:
        return Markdown(NO_CAPACITY)
    over = review[review["over_capacity"]]
    return Markdown(
        f"**{len(over)} resource-months over capacity** (utilisation above {max_utilisation:.0%}) on "
        f"{over['resource'].nunique()} of {review['resource'].nunique()} resources; "
        f"{summary['hours_short'].sum():,.0f} hours short in total.")


def supply_sentence(summary: str, costs: dict[str, float], currency: str, priced: bool, solve: dict[str, Any],
                    no_stock: int = 0) -> Markdown:
    """The demand-at-risk sentence, the plan's costs (those the data allows), the SKUs that cannot be stocked
    and the solver's figures."""
    cur = _e(currency)
    parts = [f"**{_e(summary)}**  "]
    if priced:
        parts.append(f"The plan's cost over the horizon: {costs['lost_margin']:,.0f} {cur} of lost margin, "
                     f"{costs['holding_cost']:,.0f} of holding cost, {costs['overtime_cost']:,.0f} of overtime.")
    else:
        parts.append("No price list: the plan serves as many units as it can; lost sales are counted in units."
                     + (f" Overtime costs {costs['overtime_cost']:,.0f} {cur}." if costs["overtime_cost"] else ""))
    if no_stock:
        parts.append(f"{no_stock:,} SKU{'s' if no_stock != 1 else ''} cannot be held in stock (`supply.no_stock_families`"
                     " / `no_stock_resources` in params/): made in the month they are sold, no build-ahead.")
    parts.append(f"Solved in {solve['seconds']:.2f} s ({solve['variables']:,} variables, "
                 f"{solve['constraints']:,} constraints).")
    return Markdown("\n".join(parts))


def finance_sentence(gap: pd.DataFrame, summary: pd.DataFrame, currency: str, threshold_pct: float,
                     priced: bool, budgeted: bool, costed: bool) -> Markdown:
    """The plan against the budget in money (or in units without a price list), or what is missing."""
    cur = _e(currency)
    if not budgeted and not priced:
        return Markdown(f"{NO_PRICES}\n\n{NO_BUDGET}")
    if not budgeted:
        return Markdown(NO_BUDGET + ("" if costed else f" {NO_COSTS}"))
    if gap.empty:
        return Markdown("The budget covers none of the forecast months: nothing to compare.")
    total = summary.iloc[-1]
    months = f"{gap['period'].nunique()} forecast months the budget covers ({gap['period'].min():%Y-%m} – {gap['period'].max():%Y-%m})"
    flagged = (f"**{int(gap['flag'].sum())} family-months** differ from budget by more than ±{threshold_pct:g} %"
               + (" (in units)." if not priced else "."))
    if not priced:
        return Markdown(f"{NO_PRICES} Over the {months}, the plan has **{total['plan_units']:,.0f} units** against "
                        f"{total['budget_units']:,.0f} budgeted ({total['gap_pct']:+.1f} %). {flagged}")
    margin = (f", and {total['plan_margin']:,.0f} of gross margin against {total['budget_margin']:,.0f}" if costed
              else f". {NO_COSTS}")
    return Markdown(f"Over the {months}, the plan brings **{total['plan_revenue']:,.0f} {cur}** of revenue against a "
                    f"budget of {total['budget_revenue']:,.0f} ({total['gap_pct']:+.1f} %){margin}. {flagged} "
                    f"Amounts in {cur}, rounded to the unit.")
