"""Supply review: the constrained supply plan (a linear programme), demand at risk, the inventory projection.

Rough-cut capacity (``capacity.review_capacity``) shows the load the demand plan *would* need;
:func:`plan_supply` decides what to make month by month so that the least money is lost: it may build stock
ahead of a short month, work overtime or, where neither pays, lose the sales with the least margin per hour.
Its inputs are one value, :class:`PlanInputs` (demand, bill of resources, capacity, prices, opening stock,
supply parameters, safety stock, no-stock SKUs), which :func:`demand_at_risk` and the scenarios
(``finance.scenarios``, each scenario planned by this same programme) take too. :func:`demand_at_risk` prices
the fix; :func:`compare_views` sets the unconstrained and constrained loads side by side; :func:`safety_stock`
and :func:`project_inventory` follow the stock the plan leaves. Pure functions.

The linear programme (SKU s, month t, resource r), solved by HiGHS::

    minimise   Σ m[s,t]·u[s,t]  +  Σ k[s,t]·I[s,t]  +  Σ c[r]·o[r,t]
    subject to I[s,t-1] + x[s,t] + u[s,t] − d[s,t] = I[s,t]     balance; I[s,-1] = opening stock
               Σ_s h[s,r]·x[s,t] − o[r,t] ≤ a[r,t]              capacity, for each resource-month with hours
               I[s,t] = max(I[s,-1] − Σ_{τ≤t} d[s,τ], 0)         only when build_ahead is off
               x ≥ 0,  I ≥ 0,  0 ≤ u ≤ d,  0 ≤ o[r,t] ≤ max_hours[r]

x production, I closing stock, u unmet (lost) demand, o overtime hours; d demand, h hours per unit, a
available hours; m the margin lost with a unit, price − cost floored at ``MIN_MARGIN_SHARE`` (1 %) of the price
so that a lost sale always costs something; k the holding cost of a unit for a month, unit cost ×
holding_cost_pct_per_year / 100 / 12 (at least ``TIE_BREAK_HOLDING``, so that nothing is made early for
nothing); c the cost of an overtime hour (resources without overtime in the parameters get none).
With build-ahead off the opening stock serves demand first and nothing is added to it, so production covers
at most each month's demand net of the stock used: keeping opening stock back for a short month would be
building ahead by another name. SKUs that cannot be held in stock (``no_stock``: services, fresh lines, from
``supply.no_stock_families`` / ``no_stock_resources``) get that bound whatever build_ahead says.
Without a price list (every price missing) the plan is in units: a lost unit weighs more than the overtime
that could make it, and the plan's lost revenue and margin are reported as unknown (``valued_in_units``).
Resource-months without a capacity row do not constrain production (their load is reported); a SKU with
demand and no route is an error unless ``unconstrained_ok``.
"""

from sop_lib.supply.inputs import PlanInputs, SupplyError, no_stock_skus
from sop_lib.supply.model import MIN_MARGIN_SHARE, TIE_BREAK_HOLDING
from sop_lib.supply.plan import SupplyPlan, compare_views, plan_supply, views_by_resource
from sop_lib.supply.risk import DemandAtRisk, built_ahead_units, demand_at_risk
from sop_lib.supply.safety_stock import forecast_errors, project_inventory, safety_stock

__all__ = [
    "MIN_MARGIN_SHARE", "TIE_BREAK_HOLDING", "DemandAtRisk", "PlanInputs", "SupplyError", "SupplyPlan",
    "built_ahead_units", "compare_views", "demand_at_risk", "forecast_errors", "no_stock_skus", "plan_supply",
    "project_inventory", "safety_stock", "views_by_resource",
]
