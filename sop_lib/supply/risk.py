"""Demand at risk: what the available hours alone cannot serve, and what the cheapest fix costs."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from sop_lib.supply.inputs import PlanInputs
from sop_lib.supply.plan import SupplyPlan, plan_supply


def built_ahead_units(plan: pd.DataFrame) -> float:
    """Units made for a later month: Σ over SKU-months of the rise in stock, max(closing − opening, 0)."""
    return float((plan["closing_stock"] - plan["opening_stock"]).clip(lower=0).sum())


@dataclass(frozen=True)
class DemandAtRisk:
    """Two supply plans of the same demand and what separates them.

    Attributes
    ----------
    capacity_only : the plan with the available hours alone: no overtime, no building ahead (opening stock
        is still used).
    with_options : the plan with the overtime and build-ahead the parameters allow.
    units_at_risk, revenue_at_risk, margin_at_risk : demand ``capacity_only`` leaves unmet, in units, at
        price and at the lost margin per unit.
    overtime_hours, overtime_cost : overtime of ``with_options``.
    build_ahead_units, extra_holding_cost : units ``with_options`` makes for a later month, and its holding
        cost minus that of ``capacity_only``.
    fix_cost : the cost of the fix, ``overtime_cost + extra_holding_cost``.
    units_unmet, revenue_unmet, margin_unmet : demand ``with_options`` still leaves unmet (where the fix
        costs more than the margin, or the hours are not there).
    """

    capacity_only: SupplyPlan
    with_options: SupplyPlan
    units_at_risk: float
    revenue_at_risk: float
    margin_at_risk: float
    overtime_hours: float
    overtime_cost: float
    build_ahead_units: float
    extra_holding_cost: float
    fix_cost: float
    units_unmet: float
    revenue_unmet: float
    margin_unmet: float

    @property
    def figures(self) -> dict[str, float]:
        """The figures (every attribute but the two plans)."""
        return {k: v for k, v in self.__dict__.items() if isinstance(v, float)}

    def summary(self, currency: str = "EUR", capacity_modelled: bool = True) -> str:
        """The executive summary's sentence, e.g. "1,200 units (1,800 EUR) of demand at risk; the cheapest
        fix costs 95 EUR (overtime 12 h, build-ahead 800 units), leaving 40 units unmet"."""
        if not capacity_modelled:
            return ("Capacity is not modelled (the data has no bill of resources or capacity): demand at risk "
                    "cannot be measured; the plan makes every unit of demand in its month.")
        if self.units_at_risk <= 0:
            return "No demand at risk: the available hours serve the whole plan without overtime or building ahead."
        left = f"{self.units_unmet:,.0f} units unmet" if round(self.units_unmet) else "none unmet"
        if self.revenue_at_risk != self.revenue_at_risk:  # NaN: no price list, units only
            return (f"{self.units_at_risk:,.0f} units of demand at risk; the fix takes overtime "
                    f"{self.overtime_hours:,.0f} h ({self.overtime_cost:,.0f} {currency}) and build-ahead "
                    f"{self.build_ahead_units:,.0f} units, leaving {left} (no price list: units, not money).")
        return (f"{self.units_at_risk:,.0f} units ({self.revenue_at_risk:,.0f} {currency}) of demand at risk; "
                f"the cheapest fix costs {self.fix_cost:,.0f} {currency} (overtime {self.overtime_hours:,.0f} h, "
                f"build-ahead {self.build_ahead_units:,.0f} units), leaving {left}.")


def demand_at_risk(inputs: PlanInputs) -> DemandAtRisk:
    """Plan the demand twice: with the available hours alone, then with the parameters' overtime and build-ahead.

    Demand the first plan cannot serve is *at risk*; the second plan is the least-cost fix. Its cost is the
    overtime it works plus the holding cost it adds (holding of the second plan − holding of the first); what
    it leaves unmet costs less to lose than to fix, or cannot be fixed.

    Parameters
    ----------
    inputs : as for :func:`plan_supply`; the first plan takes them without ``params.overtime`` and with
        ``params.build_ahead`` off.

    Returns
    -------
    DemandAtRisk
        Both plans and the figures of the executive summary sentence (:meth:`DemandAtRisk.summary`).

    Raises
    ------
    SupplyError
        As :func:`plan_supply`.
    """
    hours_alone = inputs.params.model_copy(update={"overtime": {}, "build_ahead": False})
    alone = plan_supply(replace(inputs, params=hours_alone))
    fixed = plan_supply(inputs)
    a, f = alone.cost_totals, fixed.cost_totals
    extra_holding = f["holding_cost"] - a["holding_cost"]
    return DemandAtRisk(
        capacity_only=alone, with_options=fixed,
        units_at_risk=float(alone.unmet["units"].sum()),
        revenue_at_risk=float(alone.unmet["lost_revenue"].sum(min_count=1)) if len(alone.unmet) else 0.0,
        margin_at_risk=a["lost_margin"],
        overtime_hours=float(fixed.resources["overtime_hours"].sum()), overtime_cost=f["overtime_cost"],
        build_ahead_units=built_ahead_units(fixed.plan), extra_holding_cost=extra_holding,
        fix_cost=f["overtime_cost"] + extra_holding,
        units_unmet=float(fixed.unmet["units"].sum()),
        revenue_unmet=float(fixed.unmet["lost_revenue"].sum(min_count=1)) if len(fixed.unmet) else 0.0,
        margin_unmet=f["lost_margin"],
    )
