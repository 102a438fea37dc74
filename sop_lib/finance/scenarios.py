"""Scenarios: named what-ifs on the consensus plan, run through rough-cut capacity and finance.

A scenario (``params.ScenarioSpec``, listed under ``scenarios:`` in ``params/``) changes demand, prices or
available hours; the *baseline* is implicit: the consensus demand plan, prices and capacity as they are.
Each scenario's demand is rationed to its capacity by the rough-cut rule of :func:`ration_to_capacity`,
and the served units are valued at its prices, so scenarios compare on revenue, margin, utilisation and
unmet demand in one table (:func:`compare_scenarios`). Pure functions: DataFrame in, DataFrame out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sop_lib.core.errors import SopError
from sop_lib.data.params import ScenarioSpec, SupplyParams
from sop_lib.data.prices import prices_for
from sop_lib.finance.plan_value import plan_financials
from sop_lib.supply.capacity import capacity_summary, hours_short, required_hours, review_capacity

BASELINE = "baseline"
BASELINE_DESCRIPTION = "Consensus demand plan, prices and capacity as they are"

#: The metrics of :func:`evaluate_scenario`, in the order of :func:`compare_scenarios`' columns.
METRICS: tuple[str, ...] = (
    "demand_units", "served_units", "unmet_units", "unmet_revenue", "revenue", "cogs", "gross_margin", "margin_pct",
    "peak_utilisation", "mean_utilisation", "resource_months_over", "hours_short", "overtime_hours", "supply_cost",
)


class ScenarioError(SopError):
    """A scenario names a resource or product family the data does not know, or a reserved name."""

    exit_code = 2


def _unknown(name: str, what: str, asked: list[str], known: set[str], source: str) -> str:
    return (f"Scenario {name!r} names unknown {what} {', '.join(repr(a) for a in sorted(asked))}; "
            f"{source} knows: {', '.join(sorted(known)) or '(none)'}. Fix the scenario in params/.")


def apply_scenario(
    plan_units: pd.DataFrame,
    capacity: pd.DataFrame,
    prices: pd.DataFrame,
    products: pd.DataFrame,
    spec: ScenarioSpec,
    name: str = "scenario",
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The plan, capacity and prices as the scenario sees them; the inputs are not modified.

    - demand: ``units × (1 + demand_pct/100) × (1 + demand_pct_by_family[family]/100)`` (SKUs of a family the
      spec does not name, or without a family, get ``demand_pct`` only);
    - prices: ``unit_price × (1 + price_pct/100)``, unit costs unchanged;
    - capacity: ``available_hours × (1 + capacity_pct[resource]/100) + extra_hours[resource]``, in every month
      the capacity table has for the resource (months without a row stay without one).

    Parameters
    ----------
    plan_units : columns ``sku``, ``region``, ``period``, ``units`` (other columns are kept).
    capacity : columns ``resource``, ``period``, ``available_hours``.
    prices : columns ``sku``, ``valid_from``, ``unit_price``, ``unit_cost``.
    products : columns ``sku``, ``family``.
    spec : the scenario.
    name : the scenario's name, for error messages.

    Returns
    -------
    tuple of DataFrame
        ``(plan_units, capacity, prices)`` with the same columns as given.

    Raises
    ------
    ScenarioError
        If the spec names a resource absent from ``capacity`` or a family absent from ``products``; the message
        names the scenario, the unknown names and the known ones.
    """
    resources, families = set(capacity["resource"]), set(products["family"])
    asked_res = (set(spec.capacity_pct) | set(spec.extra_hours)) - resources
    asked_fam = set(spec.demand_pct_by_family) - families
    problems = []
    if asked_res:
        problems.append(_unknown(name, "resource(s)", list(asked_res), resources, "the capacity table"))
    if asked_fam:
        problems.append(_unknown(name, "product family(ies)", list(asked_fam), families, "the product master"))
    if problems:
        raise ScenarioError("\n".join(problems))

    plan = plan_units.copy()
    family = plan["sku"].map(products.set_index("sku")["family"])
    family_factor = 1 + family.map(spec.demand_pct_by_family).fillna(0.0) / 100
    plan["units"] = plan["units"] * (1 + spec.demand_pct / 100) * family_factor

    cap = capacity.copy()
    cap["available_hours"] = (cap["available_hours"] * (1 + cap["resource"].map(spec.capacity_pct).fillna(0.0) / 100)
                              + cap["resource"].map(spec.extra_hours).fillna(0.0))

    price = prices.copy()
    price["unit_price"] = price["unit_price"] * (1 + spec.price_pct / 100)
    return plan, cap, price


def ration_to_capacity(
    plan_units: pd.DataFrame, bill_of_resources: pd.DataFrame, capacity: pd.DataFrame
) -> pd.DataFrame:
    """What can be made of the plan: the rough-cut rationing rule, proportional per resource and month.

    For each resource-month where required hours exceed available hours, every SKU routed through that
    resource gets only ``available / required`` of its units that month (all its regions alike); a SKU routed
    through several short resources gets the smallest of their factors. Every resource then stays within its
    hours. The rule is transparent rather than optimal: hours a SKU cannot use because another resource
    holds it back are not handed to other SKUs, and no margin or priority steers who is served (a later
    linear programme will). Resource-months without a capacity row, and SKUs without a route, are not
    constrained; a resource-month with 0 available hours and some load serves nothing.

    Parameters
    ----------
    plan_units : columns ``sku``, ``region``, ``period``, ``units`` (other columns are kept).
    bill_of_resources : columns ``sku``, ``resource``, ``hours_per_unit``.
    capacity : columns ``resource``, ``period``, ``available_hours``.

    Returns
    -------
    DataFrame
        The rows and columns of ``plan_units`` (same order) plus ``served_units`` and ``unmet_units``
        (``units − served_units``).
    """
    review = review_capacity(required_hours(plan_units, bill_of_resources), capacity)
    short = review["required_hours"] > review["available_hours"]  # False where available is NaN: unconstrained
    review["factor"] = np.where(short, review["available_hours"] / review["required_hours"].where(short, 1.0), 1.0)
    per_sku = (bill_of_resources[["sku", "resource"]].merge(review[["resource", "period", "factor"]], on="resource")
               .groupby(["sku", "period"])["factor"].min())
    out = plan_units.reset_index(drop=True)
    factor = out[["sku", "period"]].merge(per_sku.reset_index(), on=["sku", "period"], how="left")["factor"]
    out = out.assign(served_units=out["units"] * factor.fillna(1.0).to_numpy())
    out["unmet_units"] = out["units"] - out["served_units"]
    return out


def _months(plan_units: pd.DataFrame, months: int | None) -> pd.DataFrame:
    """The plan's first ``months`` months (all when ``None``)."""
    if months is None:
        return plan_units
    first = np.sort(plan_units["period"].unique())[:months]
    return plan_units[plan_units["period"].isin(first)]


@dataclass(frozen=True)
class SupplyOptions:
    """Plan each scenario with the supply linear programme (``supply.plan_supply``) instead of the rough-cut
    rule: the same model, parameters, opening stock and safety stock as the cycle's constrained plan."""

    params: SupplyParams
    opening_stock: pd.DataFrame
    safety_stock: pd.DataFrame | None = None
    no_stock: tuple[str, ...] = ()  # SKUs that cannot be held in stock (``supply.no_stock_skus``)
    unconstrained_ok: bool = False  # capacity is not modelled: SKUs without a route are made as needed


def _serve(plan_units: pd.DataFrame, bill_of_resources: pd.DataFrame, capacity: pd.DataFrame, prices: pd.DataFrame,
           supply: SupplyOptions | None) -> tuple[pd.DataFrame, float, float]:
    """Served and unmet units per SKU and month (``sku``, ``period``, ``units``, ``served_units``,
    ``unmet_units``), overtime hours and supply cost (holding + overtime) of the plan that serves them."""
    if supply is None:
        return ration_to_capacity(plan_units, bill_of_resources, capacity), 0.0, 0.0
    from sop_lib.supply import plan_supply

    econ = prices_for(plan_units[["sku", "period"]].drop_duplicates(), prices)
    lp = plan_supply(plan_units, bill_of_resources, capacity, supply.opening_stock, econ, supply.params,
                     safety_stock=supply.safety_stock, no_stock=supply.no_stock,
                     unconstrained_ok=supply.unconstrained_ok)
    served = lp.plan.rename(columns={"demand": "units", "served": "served_units", "unmet": "unmet_units"})
    costs = lp.cost_totals
    return (served[["sku", "period", "units", "served_units", "unmet_units"]],
            float(lp.resources["overtime_hours"].sum()), costs["holding_cost"] + costs["overtime_cost"])


def evaluate_scenario(
    plan_units: pd.DataFrame,
    bill_of_resources: pd.DataFrame,
    capacity: pd.DataFrame,
    products: pd.DataFrame,
    prices: pd.DataFrame,
    warn_utilisation: float = 0.9,
    max_utilisation: float = 1.0,
    supply: SupplyOptions | None = None,
) -> dict[str, float]:
    """Headline figures of one plan (already transformed by :func:`apply_scenario`) against its capacity.

    With ``supply``, demand is planned by the supply linear programme (build-ahead, overtime, lost sales at
    least cost: the cycle's constrained plan), and ``overtime_hours`` and ``supply_cost`` (holding + overtime,
    currency) are its own; without it, demand is rationed by :func:`ration_to_capacity` (both 0). Money is
    that of the *served* units
    (``finance.plan_financials``: revenue = units × price, gross margin = revenue − units × cost, margin % =
    gross margin / revenue × 100). Utilisation is that of the unconstrained demand
    (``capacity.review_capacity``: required / available hours per resource and month), so it shows how far
    demand overshoots capacity.

    Parameters
    ----------
    plan_units : columns ``sku``, ``region``, ``period``, ``units``.
    bill_of_resources : columns ``sku``, ``resource``, ``hours_per_unit``.
    capacity : columns ``resource``, ``period``, ``available_hours``.
    products : columns ``sku``, ``family``.
    prices : columns ``sku``, ``valid_from``, ``unit_price``, ``unit_cost``.
    warn_utilisation, max_utilisation : thresholds of ``review_capacity``; a resource-month is over
        capacity above ``max_utilisation``.

    Returns
    -------
    dict[str, float]
        ``demand_units``, ``served_units``, ``unmet_units``, ``unmet_revenue`` (unmet units at price: revenue
        lost), ``revenue``, ``cogs``, ``gross_margin`` (of served units), ``margin_pct``, ``peak_utilisation``
        and ``mean_utilisation`` (over resource-months with finite utilisation), ``resource_months_over``
        (count above ``max_utilisation``), ``hours_short`` (Σ required − available where demand needs more
        hours than there are), ``overtime_hours``, ``supply_cost``.
    """
    rationed, overtime, supply_cost = _serve(plan_units, bill_of_resources, capacity, prices, supply)
    keys = rationed[["sku", "period"]]
    served = plan_financials(keys.assign(units=rationed["served_units"]), products, prices)
    unmet = plan_financials(keys.assign(units=rationed["unmet_units"]), products, prices)
    review = review_capacity(required_hours(plan_units, bill_of_resources), capacity, warn_utilisation,
                             max_utilisation)
    finite = review.loc[np.isfinite(review["utilisation"]), "utilisation"]
    revenue, margin = float(served["revenue"].sum()), float(served["gross_margin"].sum())
    return {
        "demand_units": float(rationed["units"].sum()),
        "served_units": float(rationed["served_units"].sum()),
        "unmet_units": float(rationed["unmet_units"].sum()),
        "unmet_revenue": float(unmet["revenue"].sum()),
        "revenue": revenue,
        "cogs": float(served["cogs"].sum()),
        "gross_margin": margin,
        "margin_pct": margin / revenue * 100 if revenue else float("nan"),
        "peak_utilisation": float(finite.max()) if len(finite) else float("nan"),
        "mean_utilisation": float(finite.mean()) if len(finite) else float("nan"),
        "resource_months_over": float(review["over_capacity"].sum()),
        "hours_short": float(hours_short(review).sum()),
        "overtime_hours": overtime,
        "supply_cost": supply_cost,
    }


def _with_baseline(scenarios: dict[str, ScenarioSpec]) -> dict[str, ScenarioSpec]:
    if BASELINE in scenarios:
        raise ScenarioError(f"{BASELINE!r} is the consensus plan as it is and cannot be redefined; "
                            "give the scenario in params/ another name.")
    return {BASELINE: ScenarioSpec(description=BASELINE_DESCRIPTION), **scenarios}


def compare_scenarios(
    plan_units: pd.DataFrame,
    bill_of_resources: pd.DataFrame,
    capacity: pd.DataFrame,
    products: pd.DataFrame,
    prices: pd.DataFrame,
    scenarios: dict[str, ScenarioSpec],
    warn_utilisation: float = 0.9,
    max_utilisation: float = 1.0,
    months: int | None = None,
    supply: SupplyOptions | None = None,
) -> pd.DataFrame:
    """One row per scenario: the baseline first, then ``scenarios`` in their order (that of params/).

    Each scenario is :func:`apply_scenario` then :func:`evaluate_scenario` on the same inputs.

    Parameters
    ----------
    plan_units, bill_of_resources, capacity, products, prices : as for :func:`evaluate_scenario`.
    scenarios : named specs (``CycleParams.scenarios``); the name ``baseline`` is reserved.
    warn_utilisation, max_utilisation : capacity thresholds (``CycleParams.capacity``).
    months : only the plan's first ``months`` months; ``None`` = all.
    supply : plan each scenario with the supply linear programme (see :func:`evaluate_scenario`).

    Returns
    -------
    DataFrame
        ``scenario``, ``description``, the metrics of :func:`evaluate_scenario` (``METRICS``), and the
        differences to the baseline: ``revenue_vs_baseline`` and ``margin_vs_baseline`` (currency, of served
        units) and ``unmet_vs_baseline`` (unmet units).

    Raises
    ------
    ScenarioError
        If a scenario names an unknown resource or family, or is called ``baseline``.
    """
    plan = _months(plan_units, months)
    rows = []
    for name, spec in _with_baseline(scenarios).items():
        s_plan, s_cap, s_prices = apply_scenario(plan, capacity, prices, products, spec, name=name)
        metrics = evaluate_scenario(s_plan, bill_of_resources, s_cap, products, s_prices, warn_utilisation,
                                    max_utilisation, supply)
        rows.append({"scenario": name, "description": spec.description, **metrics})
    out = pd.DataFrame(rows)
    out["resource_months_over"] = out["resource_months_over"].astype(int)
    base = out.iloc[0]
    out["revenue_vs_baseline"] = out["revenue"] - base["revenue"]
    out["margin_vs_baseline"] = out["gross_margin"] - base["gross_margin"]
    out["unmet_vs_baseline"] = out["unmet_units"] - base["unmet_units"]
    return out


def scenario_utilisation(
    plan_units: pd.DataFrame,
    bill_of_resources: pd.DataFrame,
    capacity: pd.DataFrame,
    products: pd.DataFrame,
    prices: pd.DataFrame,
    scenarios: dict[str, ScenarioSpec],
    warn_utilisation: float = 0.9,
    max_utilisation: float = 1.0,
    months: int | None = None,
) -> pd.DataFrame:
    """Per scenario (baseline first) and resource: utilisation of the unconstrained demand.

    Parameters are those of :func:`compare_scenarios`.

    Returns
    -------
    DataFrame
        ``scenario``, ``resource``, ``peak_utilisation``, ``peak_month``, ``months_over`` (months above
        ``max_utilisation``), ``hours_short``, ``mean_utilisation`` (``capacity.capacity_summary`` per scenario).
    """
    plan = _months(plan_units, months)
    parts = []
    for name, spec in _with_baseline(scenarios).items():
        s_plan, s_cap, _ = apply_scenario(plan, capacity, prices, products, spec, name=name)
        review = review_capacity(required_hours(s_plan, bill_of_resources), s_cap, warn_utilisation, max_utilisation)
        summary = capacity_summary(review).rename(columns={"months_over_capacity": "months_over"})
        if len(summary):
            parts.append(summary.assign(scenario=name))
    cols = ["scenario", "resource", "peak_utilisation", "peak_month", "months_over", "hours_short", "mean_utilisation"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)
