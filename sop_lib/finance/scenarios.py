"""Scenarios: named what-ifs on the consensus plan, planned and valued like the cycle's constrained plan.

A scenario (``params.ScenarioSpec``, listed under ``scenarios:`` in ``params/``) changes demand, prices or
available hours; the *baseline* is implicit: the consensus demand plan, prices and capacity as they are. Each
scenario's demand is planned by the supply linear programme (``supply.plan_supply``: build-ahead, overtime and
lost sales at least cost, with the supply parameters, opening stock, safety stock and no-stock SKUs of its
``supply.PlanInputs``, as the cycle's constrained plan), and the units it serves are valued at the scenario's
prices, so scenarios compare on revenue, margin, unmet demand, overtime, supply cost and utilisation in one
table (:func:`compare_scenarios`). Utilisation is that of the scenario's whole demand before planning (the rough
cut, ``supply.capacity.review_capacity``), so it shows how far demand overshoots the hours.

``ScenarioBasis(rough_cut=True)`` serves demand by :func:`ration_to_capacity` instead: every SKU on a short resource-month
gets the same share of its units, with no stock, no overtime and no margin steering who is served. The
workbooks do not use it; it remains as the transparent rule a reader can follow by hand (a what-if in the
terms of the rough-cut capacity review), and the scenario tests' hand-worked figures are worked on it. Pure
functions: the inputs are never modified.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from sop_lib.core.errors import SopError
from sop_lib.data.params import CapacityParams, ScenarioSpec
from sop_lib.finance.plan_value import plan_financials
from sop_lib.supply import PlanInputs, plan_supply
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


@dataclass(frozen=True)
class ScenarioBasis:
    """What every scenario is compared on: the plan's inputs (``supply.PlanInputs``; ``prices`` is the
    ``Prices`` table), the SKUs' families (``products``: ``sku``, ``family``), the capacity thresholds
    (``CycleParams.capacity``), the plan's first ``months`` months (``None`` = all), and the rule that serves
    demand (the supply linear programme, or :func:`ration_to_capacity` with ``rough_cut``)."""

    inputs: PlanInputs
    products: pd.DataFrame
    capacity: CapacityParams = field(default_factory=CapacityParams)
    months: int | None = None
    rough_cut: bool = False

    def first_months(self) -> ScenarioBasis:
        """The basis with the demand of the plan's first ``months`` months (itself when ``months`` is None)."""
        if self.months is None:
            return self
        demand = self.inputs.demand
        first = np.sort(demand["period"].unique())[: self.months]
        return replace(self, inputs=replace(self.inputs, demand=demand[demand["period"].isin(first)]), months=None)

    def under(self, spec: ScenarioSpec, name: str = "scenario") -> ScenarioBasis:
        """The basis as scenario ``spec`` sees it (:func:`apply_scenario`)."""
        return replace(self, inputs=apply_scenario(self.inputs, self.products, spec, name=name))


def _unknown(name: str, what: str, asked: list[str], known: set[str], source: str) -> str:
    return (f"Scenario {name!r} names unknown {what} {', '.join(repr(a) for a in sorted(asked))}; "
            f"{source} knows: {', '.join(sorted(known)) or '(none)'}. Fix the scenario in params/.")


def apply_scenario(
    inputs: PlanInputs, products: pd.DataFrame, spec: ScenarioSpec, name: str = "scenario"
) -> PlanInputs:
    """The plan's inputs as the scenario sees them; ``inputs`` is not modified.

    - demand: ``units × (1 + demand_pct/100) × (1 + demand_pct_by_family[family]/100)`` (SKUs of a family the
      spec does not name, or without a family, get ``demand_pct`` only);
    - prices: ``unit_price × (1 + price_pct/100)``, unit costs unchanged;
    - capacity: ``available_hours × (1 + capacity_pct[resource]/100) + extra_hours[resource]``, in every month
      the capacity table has for the resource (months without a row stay without one).

    Parameters
    ----------
    inputs : the plan's inputs (``demand``: ``sku``, ``region``, ``period``, ``units``; ``capacity``; ``prices``:
        the ``Prices`` table); other columns are kept, and the other fields are passed on unchanged.
    products : columns ``sku``, ``family``.
    spec : the scenario.
    name : the scenario's name, for error messages.

    Returns
    -------
    PlanInputs
        ``inputs`` with the scenario's ``demand``, ``capacity`` and ``prices`` (same columns as given).

    Raises
    ------
    ScenarioError
        If the spec names a resource absent from ``capacity`` or a family absent from ``products``; the message
        names the scenario, the unknown names and the known ones.
    """
    capacity, prices = inputs.capacity, inputs.prices
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

    plan = inputs.demand.copy()
    family = plan["sku"].map(products.set_index("sku")["family"])
    family_factor = 1 + family.map(spec.demand_pct_by_family).fillna(0.0) / 100
    plan["units"] = plan["units"] * (1 + spec.demand_pct / 100) * family_factor

    cap = capacity.copy()
    cap["available_hours"] = (cap["available_hours"] * (1 + cap["resource"].map(spec.capacity_pct).fillna(0.0) / 100)
                              + cap["resource"].map(spec.extra_hours).fillna(0.0))

    price = prices.copy()
    price["unit_price"] = price["unit_price"] * (1 + spec.price_pct / 100)
    return replace(inputs, demand=plan, capacity=cap, prices=price)


def ration_to_capacity(
    plan_units: pd.DataFrame, bill_of_resources: pd.DataFrame, capacity: pd.DataFrame
) -> pd.DataFrame:
    """What can be made of the plan by the rough-cut rule, proportional per resource and month: the scenarios'
    rule with ``ScenarioBasis(rough_cut=True)`` (the workbooks plan scenarios with the supply linear programme instead).

    For each resource-month where required hours exceed available hours, every SKU routed through that
    resource gets only ``available / required`` of its units that month (all its regions alike); a SKU routed
    through several short resources gets the smallest of their factors. Every resource then stays within its
    hours. The rule is transparent rather than optimal: hours a SKU cannot use because another resource
    holds it back are not handed to other SKUs, and no margin or priority steers who is served (the supply
    linear programme, ``supply.plan_supply``, does). Resource-months without a capacity row, and SKUs without
    a route, are not constrained; a resource-month with 0 available hours and some load serves nothing.

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
    short = hours_short(review) > 0  # False where available is NaN: unconstrained
    review["factor"] = np.where(short, review["available_hours"] / review["required_hours"].where(short, 1.0), 1.0)
    per_sku = (bill_of_resources[["sku", "resource"]].merge(review[["resource", "period", "factor"]], on="resource")
               .groupby(["sku", "period"])["factor"].min())
    out = plan_units.reset_index(drop=True)
    factor = out[["sku", "period"]].merge(per_sku.reset_index(), on=["sku", "period"], how="left")["factor"]
    out = out.assign(served_units=out["units"] * factor.fillna(1.0).to_numpy())
    out["unmet_units"] = out["units"] - out["served_units"]
    return out


def _serve(inputs: PlanInputs, rough_cut: bool) -> tuple[pd.DataFrame, float, float]:
    """Served and unmet units per SKU and month (``sku``, ``period``, ``units``, ``served_units``,
    ``unmet_units``), overtime hours and supply cost (holding + overtime) of the plan that serves them: the
    supply linear programme, or :func:`ration_to_capacity` with ``rough_cut`` (no overtime, no stock: 0, 0)."""
    if rough_cut:
        return ration_to_capacity(inputs.demand, inputs.bill_of_resources, inputs.capacity), 0.0, 0.0
    lp = plan_supply(inputs)
    served = lp.plan.rename(columns={"demand": "units", "served": "served_units", "unmet": "unmet_units"})
    costs = lp.cost_totals
    return (served[["sku", "period", "units", "served_units", "unmet_units"]],
            float(lp.resources["overtime_hours"].sum()), costs["holding_cost"] + costs["overtime_cost"])


def _units_and_money(served: pd.DataFrame, products: pd.DataFrame, prices: pd.DataFrame) -> dict[str, float]:
    """Units demanded, served and unmet, and the money of the served units (and the revenue of the unmet)."""
    keys = served[["sku", "period"]]
    money = plan_financials(keys.assign(units=served["served_units"]), products, prices)
    unmet = plan_financials(keys.assign(units=served["unmet_units"]), products, prices)
    revenue, margin = float(money["revenue"].sum()), float(money["gross_margin"].sum())
    return {
        "demand_units": float(served["units"].sum()),
        "served_units": float(served["served_units"].sum()),
        "unmet_units": float(served["unmet_units"].sum()),
        "unmet_revenue": float(unmet["revenue"].sum()),
        "revenue": revenue,
        "cogs": float(money["cogs"].sum()),
        "gross_margin": margin,
        "margin_pct": margin / revenue * 100 if revenue else float("nan"),
    }


def _load(review: pd.DataFrame) -> dict[str, float]:
    """Peak and mean utilisation (resource-months with finite utilisation), resource-months over capacity and
    hours short of a capacity review."""
    finite = review.loc[np.isfinite(review["utilisation"]), "utilisation"]
    return {
        "peak_utilisation": float(finite.max()) if len(finite) else float("nan"),
        "mean_utilisation": float(finite.mean()) if len(finite) else float("nan"),
        "resource_months_over": float(review["over_capacity"].sum()),
        "hours_short": float(hours_short(review).sum()),
    }


def evaluate_scenario(basis: ScenarioBasis) -> dict[str, float]:
    """Headline figures of one plan (``basis.inputs``, already transformed by :func:`apply_scenario`) against
    its capacity.

    Demand is planned by the supply linear programme (``supply.plan_supply`` on ``inputs``: build-ahead, overtime,
    lost sales at least cost, as the cycle's constrained plan), and ``overtime_hours`` and ``supply_cost``
    (holding + overtime, currency) are its own; with ``rough_cut`` it is rationed by :func:`ration_to_capacity`
    instead (both 0). Money is that of the *served* units (``finance.plan_financials`` at ``inputs.prices``:
    revenue = units × price, gross margin = revenue − units × cost, margin % = gross margin / revenue × 100).
    Utilisation is that of the whole demand (``capacity.review_capacity``: required / available hours per
    resource and month), so it shows how far demand overshoots capacity.

    Parameters
    ----------
    basis : the plan's inputs, families, capacity thresholds (a resource-month is over capacity above
        ``max_utilisation``) and serving rule (:class:`ScenarioBasis`; its ``months`` is not applied here).

    Returns
    -------
    dict[str, float]
        ``demand_units``, ``served_units``, ``unmet_units``, ``unmet_revenue`` (unmet units at price: revenue
        lost), ``revenue``, ``cogs``, ``gross_margin`` (of served units), ``margin_pct``, ``peak_utilisation``
        and ``mean_utilisation`` (over resource-months with finite utilisation), ``resource_months_over``
        (count above ``max_utilisation``), ``hours_short`` (``capacity.hours_short`` summed: hours demand
        needs beyond those available), ``overtime_hours``, ``supply_cost``.
    """
    inputs = basis.inputs
    served, overtime, supply_cost = _serve(inputs, basis.rough_cut)
    review = _review(basis)
    return {**_units_and_money(served, basis.products, inputs.prices), **_load(review), "overtime_hours": overtime,
            "supply_cost": supply_cost}


def _review(basis: ScenarioBasis) -> pd.DataFrame:
    """The rough-cut capacity review of the basis's whole demand."""
    inputs = basis.inputs
    return review_capacity(required_hours(inputs.demand, inputs.bill_of_resources), inputs.capacity,
                           basis.capacity.warn_utilisation, basis.capacity.max_utilisation)


def _with_baseline(scenarios: dict[str, ScenarioSpec]) -> dict[str, ScenarioSpec]:
    if BASELINE in scenarios:
        raise ScenarioError(f"{BASELINE!r} is the consensus plan as it is and cannot be redefined; "
                            "give the scenario in params/ another name.")
    return {BASELINE: ScenarioSpec(description=BASELINE_DESCRIPTION, demand_pct=0.0, price_pct=0.0), **scenarios}


def compare_scenarios(basis: ScenarioBasis, scenarios: dict[str, ScenarioSpec]) -> pd.DataFrame:
    """One row per scenario: the baseline first, then ``scenarios`` in their order (that of params/).

    Each scenario is :func:`apply_scenario` then :func:`evaluate_scenario` on the same inputs.

    Parameters
    ----------
    basis : what every scenario is compared on (:class:`ScenarioBasis`).
    scenarios : named specs (``CycleParams.scenarios``); the name ``baseline`` is reserved.

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
    plan = basis.first_months()
    rows = []
    for name, spec in _with_baseline(scenarios).items():
        metrics = evaluate_scenario(plan.under(spec, name=name))
        rows.append({"scenario": name, "description": spec.description, **metrics})
    out = pd.DataFrame(rows)
    out["resource_months_over"] = out["resource_months_over"].astype(int)
    base = out.iloc[0]
    out["revenue_vs_baseline"] = out["revenue"] - base["revenue"]
    out["margin_vs_baseline"] = out["gross_margin"] - base["gross_margin"]
    out["unmet_vs_baseline"] = out["unmet_units"] - base["unmet_units"]
    return out


def scenario_utilisation(basis: ScenarioBasis, scenarios: dict[str, ScenarioSpec]) -> pd.DataFrame:
    """Per scenario (baseline first) and resource: utilisation of the scenario's whole demand (the rough cut,
    before any planning).

    Parameters are those of :func:`compare_scenarios`.

    Returns
    -------
    DataFrame
        ``scenario``, ``resource``, ``peak_utilisation``, ``peak_month``, ``months_over`` (months above
        ``max_utilisation``), ``hours_short``, ``mean_utilisation`` (``capacity.capacity_summary`` per scenario).
    """
    plan = basis.first_months()
    parts = []
    for name, spec in _with_baseline(scenarios).items():
        summary = capacity_summary(_review(plan.under(spec, name=name))).rename(columns={"months_over_capacity": "months_over"})
        if len(summary):
            parts.append(summary.assign(scenario=name))
    cols = ["scenario", "resource", "peak_utilisation", "peak_month", "months_over", "hours_short", "mean_utilisation"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)
