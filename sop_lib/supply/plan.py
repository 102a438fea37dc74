"""The constrained supply plan: what to make, hold, work overtime on and leave unmet, and what it costs."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sop_lib.data.params import SupplyParams
from sop_lib.supply.inputs import PlanArrays, PlanInputs, SupplyError, prepare_inputs
from sop_lib.supply.model import Model, build_model, solve

_TOL = 1e-7  # solver values below this (relative to the demand, or 1) are zero: the solver's own tolerance
NO_ROUTE = "(no route)"

@dataclass(frozen=True)
class SupplyPlan:
    """What :func:`plan_supply` decided, and what it costs.

    Attributes
    ----------
    plan : ``sku``, ``period``, ``demand``, ``opening_stock``, ``production``, ``served``, ``unmet`` (lost),
        ``closing_stock``, in units; ``opening_stock + production − served = closing_stock`` every month and
        ``opening_stock`` is the month before's ``closing_stock``.
    unmet : the SKU-months with unmet demand: ``sku``, ``period``, ``units``, ``lost_revenue`` (units × unit
        price), ``lost_margin`` (units × the lost margin per unit the plan was optimised with).
    resources : ``resource``, ``period``, ``available_hours`` (NaN: no capacity row, not constrained),
        ``overtime_hours``, ``required_hours`` (hours the planned production needs), ``utilisation``
        (required / available; above 1 with overtime; inf with load on 0 hours), ``binding`` (the capacity row
        is at its limit, required = available + overtime, and it matters: there is load or a shadow price),
        ``shadow_price``.
        **Shadow price**: by how much the plan's total cost would fall with one more available hour of that
        resource in that month, in currency per hour; ≥ 0, and 0 where hours are left over. It is the dual
        of the capacity row with its sign turned (HiGHS reports ∂ cost / ∂ hours ≤ 0): compare it with the
        cost of an overtime hour or a shift.
    costs : per ``period``: ``lost_margin``, ``holding_cost`` (closing stock × monthly holding cost),
        ``overtime_cost``, ``total``, in currency.
    unconstrained : what no capacity limited: ``resource``, ``period``, ``required_hours``, ``units`` for
        resource-months with load and no capacity row, and ``resource`` = ``"(no route)"`` for the production
        of SKUs without a route (``required_hours`` NaN; only with ``unconstrained_ok``).
    status : the solver's status, ``"optimal"``.
    valued_in_units : the data had no price list: the plan served as many units as it could, and its lost
        revenue, lost margin and total cost are unknown (NaN); holding and overtime costs are money as usual.
    build_seconds, solve_seconds : time to build the linear programme and to solve it.
    n_variables, n_constraints : its size.
    """

    plan: pd.DataFrame
    unmet: pd.DataFrame
    resources: pd.DataFrame
    costs: pd.DataFrame
    unconstrained: pd.DataFrame
    status: str
    build_seconds: float
    solve_seconds: float
    n_variables: int
    n_constraints: int
    valued_in_units: bool = False

    @property
    def cost_totals(self) -> dict[str, float]:
        """``lost_margin``, ``holding_cost``, ``overtime_cost`` and ``total`` over the horizon."""
        return {k: float(self.costs[k].sum(min_count=1)) if len(self.costs) else 0.0
                for k in ("lost_margin", "holding_cost", "overtime_cost", "total")}

    @property
    def objective(self) -> float:
        """The plan's total cost (the optimum, without the tie-break holding cost of ``model.TIE_BREAK_HOLDING``)."""
        return self.cost_totals["total"]


def _clean(v: np.ndarray, scale: np.ndarray | float) -> np.ndarray:
    return np.where(np.abs(v) <= _TOL * np.maximum(scale, 1.0), 0.0, v)


def _stock_flow(inp: PlanArrays, x: np.ndarray, served: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Opening and closing stock by the balance itself, month by month, so that it holds to the last bit.

    Where a solver residue would leave the stock a hair below zero, the hair is made (added to ``x``) instead.
    """
    opening, closing = np.empty_like(x), np.empty_like(x)
    stock = inp.opening.astype(float)
    for t in range(x.shape[1]):  # months, not variables: each step is vectorised over the SKUs
        opening[:, t] = stock
        raw = stock + x[:, t] - served[:, t]
        neg = raw < 0
        x[neg, t] -= raw[neg]
        stock = np.where(neg, 0.0, raw)
        closing[:, t] = stock
    return opening, closing


def _resources(
    inp: PlanArrays, model: Model, duals: np.ndarray, x: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """The ``resources`` and ``unconstrained`` frames of :class:`SupplyPlan`, and overtime (resources × months)."""
    n_r, n_t = inp.available.shape
    need, units = np.zeros((n_r, n_t)), np.zeros((n_r, n_t))
    np.add.at(need, inp.route_res, inp.route_hours[:, None] * x[inp.route_sku])
    np.add.at(units, inp.route_res, x[inp.route_sku])
    available = inp.available
    has_row = ~np.isnan(available)
    # the overtime the plan needs (the solver's own may be any amount when overtime costs nothing)
    over = np.clip(_clean(need - np.where(has_row, available, np.inf), need), 0.0, inp.overtime_max[:, None])
    shadow = np.zeros((n_r, n_t))
    shadow[model.cap_res, model.cap_month] = np.maximum(-_clean(duals, 1.0), 0.0)
    at_limit = np.nan_to_num(available) + over - need <= 1e-6 * np.maximum(np.nan_to_num(available), 1.0)
    binding = has_row & at_limit & ((need > 0) | (shadow > 0))
    r, t = np.nonzero(has_row | (need > 0))
    avail = available[r, t]
    with np.errstate(divide="ignore", invalid="ignore"):
        utilisation = np.where(avail > 0, need[r, t] / avail, np.where(need[r, t] > 0, np.inf, np.nan))
    resources = pd.DataFrame({
        "resource": inp.resources[r], "period": inp.months[t], "available_hours": avail,
        "overtime_hours": over[r, t], "required_hours": need[r, t],
        "utilisation": np.where(np.isnan(avail), np.nan, utilisation), "binding": binding[r, t],
        "shadow_price": shadow[r, t],
    })
    fr, ft = np.nonzero(~has_row & (need > 0))
    free = pd.DataFrame({"resource": inp.resources[fr], "period": inp.months[ft], "required_hours": need[fr, ft],
                         "units": units[fr, ft]})
    if len(inp.unrouted):
        made = x[np.isin(inp.skus, inp.unrouted)].sum(axis=0)
        unrouted = pd.DataFrame({"resource": NO_ROUTE, "period": inp.months, "required_hours": np.nan, "units": made})
        free = pd.concat([free, unrouted[unrouted["units"] > 0]], ignore_index=True)
    return resources, free, over


def _result(inp: PlanArrays, model: Model, values: np.ndarray, duals: np.ndarray) -> dict[str, pd.DataFrame]:
    """The frames of :class:`SupplyPlan` from the solution: its variables and the capacity rows' duals."""
    n_s, n_t = inp.demand.shape
    st = n_s * n_t
    d = inp.demand
    x = np.maximum(_clean(values[:st].reshape(n_s, n_t), d), 0.0)
    u = np.clip(_clean(values[2 * st:3 * st].reshape(n_s, n_t), d), 0.0, d)
    served = d - u
    opening, closing = _stock_flow(inp, x, served)
    keys = {"sku": np.repeat(inp.skus, n_t), "period": np.tile(inp.months, n_s)}
    plan = pd.DataFrame(keys | {"demand": d.ravel(), "opening_stock": opening.ravel(), "production": x.ravel(),
                                "served": served.ravel(), "unmet": u.ravel(), "closing_stock": closing.ravel(),
                                "safety_stock": np.repeat(inp.safety, n_t)})
    lost = u * model.lost_margin
    unmet = pd.DataFrame(keys | {"units": u.ravel(), "lost_revenue": (u * inp.price).ravel(),
                                 "lost_margin": lost.ravel()})
    resources, free, over = _resources(inp, model, duals, x)
    costs = pd.DataFrame({"period": inp.months, "lost_margin": lost.sum(axis=0),
                          "holding_cost": (closing * model.holding).sum(axis=0),
                          "overtime_cost": (over * inp.overtime_cost[:, None]).sum(axis=0)})
    costs["total"] = costs["lost_margin"] + costs["holding_cost"] + costs["overtime_cost"]
    if inp.valued_in_units:  # no price list: a lost unit has no money value to report
        unmet[["lost_revenue", "lost_margin"]] = np.nan
        costs[["lost_margin", "total"]] = np.nan
    return {"plan": plan, "unmet": unmet[unmet["units"] > 0].reset_index(drop=True), "resources": resources,
            "costs": costs, "unconstrained": free}


def _optimum(model: Model, params: SupplyParams) -> tuple[np.ndarray, np.ndarray, float]:
    """HiGHS's optimal variables, the duals of the capacity rows and the seconds it took.

    Raises
    ------
    SupplyError
        When HiGHS does not reach the optimum (e.g. it hit ``params.solver_time_limit_s``).
    """
    t0 = time.perf_counter()
    sol = solve(model, params.solver_time_limit_s)
    seconds = time.perf_counter() - t0
    if not sol.optimal or sol.values is None or sol.capacity_duals is None:
        raise SupplyError(f"The solver did not find the optimal supply plan (status: {sol.status}) after "
                          f"{seconds:.1f} s. If it ran out of time, raise supply.solver_time_limit_s in params/ "
                          f"(now {params.solver_time_limit_s:g} s) or plan fewer SKUs or months.")
    return sol.values, sol.capacity_duals, seconds


def plan_supply(inputs: PlanInputs) -> SupplyPlan:
    """The least-cost production plan within the capacity: the linear programme of ``sop_lib.supply``.

    Each month, per SKU, it decides production, closing stock and unmet (lost) demand, and per resource the
    overtime hours, to minimise lost margin + holding cost + overtime cost (formulation: the package
    docstring). With ``params.build_ahead`` off, the opening stock serves demand first and production covers
    at most each month's demand net of it: nothing is made, or held back, for a later month. Resource-months
    without a capacity row do not limit production; their load is listed in ``unconstrained``.

    Parameters
    ----------
    inputs : demand, bill of resources, capacity, prices, opening stock, supply parameters, safety stock (a
        soft target: each unit-month below it costs ``params.safety_stock_weight`` × the unit's margin in the
        objective, not in the reported costs, so hours go to safety stock only when no sale is lost for it),
        the SKUs that cannot be held in stock and whether SKUs without a route may be planned unconstrained;
        each described in :class:`PlanInputs`.

    Returns
    -------
    SupplyPlan
        The plan, unmet demand, resources with shadow prices, costs per month, and solver figures.

    Raises
    ------
    SupplyError
        For contradictory inputs (every problem in one message: negative available hours, hours per unit ≤ 0,
        SKUs with demand and no route, overtime for an unknown resource, missing prices, …) or when HiGHS does
        not reach the optimum (e.g. it hit ``params.solver_time_limit_s``); exit code 2.
    """
    inp = prepare_inputs(inputs)
    t0 = time.perf_counter()
    model = build_model(inp, inputs.params)
    built = time.perf_counter() - t0
    values, duals, solved = _optimum(model, inputs.params)
    return SupplyPlan(**_result(inp, model, values, duals), status="optimal", build_seconds=built,
                      solve_seconds=solved, n_variables=model.n_variables, n_constraints=model.n_constraints,
                      valued_in_units=inp.valued_in_units)


def compare_views(unconstrained_review: pd.DataFrame, supply_plan: SupplyPlan) -> pd.DataFrame:
    """Per resource and month: the hours demand would need next to the hours the constrained plan uses.

    Parameters
    ----------
    unconstrained_review : ``capacity.review_capacity`` of the demand plan: ``resource``, ``period``,
        ``required_hours``, ``available_hours``, ``utilisation``.
    supply_plan : the :func:`plan_supply` result of the same demand.

    Returns
    -------
    DataFrame
        ``resource``, ``period``, ``available_hours``, ``unconstrained_hours``, ``unconstrained_utilisation``,
        ``constrained_hours`` (production in that month), ``overtime_hours``, ``constrained_utilisation``,
        ``shift_hours`` (unconstrained − constrained: > 0 demand the month's production does not cover,
        made earlier or lost; < 0 hours spent building ahead), ``binding``, ``shadow_price``; for the months of
        the supply plan, sorted by resource and month.
    """
    review = unconstrained_review.rename(columns={"required_hours": "unconstrained_hours",
                                                  "utilisation": "unconstrained_utilisation",
                                                  "available_hours": "_available"})
    review = review[["resource", "period", "unconstrained_hours", "unconstrained_utilisation", "_available"]]
    plan = supply_plan.resources.rename(columns={"required_hours": "constrained_hours",
                                                 "utilisation": "constrained_utilisation"})
    out = plan.merge(review, on=["resource", "period"], how="outer")
    months = supply_plan.plan["period"]
    out = out[out["period"].between(months.min(), months.max())].copy()
    out["available_hours"] = out["available_hours"].fillna(out["_available"])
    for col in ("unconstrained_hours", "constrained_hours", "overtime_hours", "shadow_price"):
        out[col] = out[col].fillna(0.0)
    out["binding"] = out["binding"].fillna(False).astype(bool)
    out["shift_hours"] = out["unconstrained_hours"] - out["constrained_hours"]
    cols = ["resource", "period", "available_hours", "unconstrained_hours", "unconstrained_utilisation",
            "constrained_hours", "overtime_hours", "constrained_utilisation", "shift_hours", "binding",
            "shadow_price"]
    return out[cols].sort_values(["resource", "period"], ignore_index=True)


def views_by_resource(views: pd.DataFrame) -> pd.DataFrame:
    """:func:`compare_views` per resource over the horizon: peak utilisation unconstrained and constrained,
    months over capacity unconstrained, overtime hours, hours of build-ahead (hours made before the month that
    needed them), months the capacity binds and the highest shadow price with its month."""
    rows = []
    for res, g in views.groupby("resource"):
        top = g.loc[g["shadow_price"].idxmax()]
        rows.append({
            "resource": res,
            "unconstrained_peak": float(g["unconstrained_utilisation"].replace(np.inf, np.nan).max()),
            "months_over": int((g["unconstrained_utilisation"] > 1 + 1e-9).sum()),
            "constrained_peak": float(g["constrained_utilisation"].replace(np.inf, np.nan).max()),
            "overtime_hours": float(g["overtime_hours"].sum()),
            "build_ahead_hours": float(-g.loc[g["shift_hours"] < 0, "shift_hours"].sum()),
            "binding_months": int(g["binding"].sum()),
            "max_shadow_price": float(top["shadow_price"]),
            "shadow_price_month": top["period"] if top["shadow_price"] > 0 else pd.NaT,
        })
    return pd.DataFrame(rows)
