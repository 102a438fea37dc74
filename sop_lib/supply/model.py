"""The linear programme of the supply plan, built with sparse matrices and solved by HiGHS.

The formulation is in the package docstring (``sop_lib.supply``). HiGHS is called through
``scipy.optimize.linprog(method="highs")``: it returns the solution, the row duals (``marginals``) and the
status, and solves as fast as the ``highspy`` package (docs/benchmarks.md), without another dependency.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from sop_lib.data.params import SupplyParams
from sop_lib.supply.inputs import PlanArrays

#: A lost sale costs at least this share of the unit price, even where price ≤ cost.
MIN_MARGIN_SHARE = 0.01
#: Holding cost of a unit for a month when the real one is smaller (e.g. a unit cost of 0): it breaks ties
#: towards making things when they are needed rather than early; the reported costs leave it out.
TIE_BREAK_HOLDING = 1e-6


@dataclass(frozen=True)
class Model:
    """``minimise c·v  subject to  a_eq·v = b_eq,  a_ub·v ≤ b_ub,  lb ≤ v ≤ ub``.

    Variables v: x, I, u (S·T each, SKU-major: SKU s, month t at s·T + t), then o (one per capacity row), then
    b (the shortfall below safety stock, one per SKU-month with a safety stock, when its weight is above 0).
    Equalities: the S·T balances. Inequalities: the capacity rows (resource-months with available hours), then
    the safety-stock rows ``−I − b ≤ −safety``.
    """

    c: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    a_eq: sp.csr_matrix
    b_eq: np.ndarray
    a_ub: sp.csr_matrix
    b_ub: np.ndarray
    cap_res: np.ndarray  # K: resource index of each capacity row (the first K inequalities)
    cap_month: np.ndarray  # K: month index of each capacity row
    lost_margin: np.ndarray  # S × T, per unit lost
    holding: np.ndarray  # S × T, per unit and month (the real one, without the tie-break)
    safety_cells: np.ndarray  # the (s, t) cells with a safety-stock row, in the order of their b variables

    @property
    def n_variables(self) -> int:
        return len(self.c)

    @property
    def n_constraints(self) -> int:
        return len(self.b_eq) + len(self.b_ub)


def _sparse(entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]], shape: tuple[int, int]) -> sp.csr_matrix:
    """A sparse matrix from (rows, columns, values) triplets; each triplet is a vectorised block of entries."""
    rows, cols, vals = (np.concatenate(part) for part in zip(*entries, strict=True))
    return sp.csr_matrix((vals, (rows, cols)), shape=shape)


def stock_first(opening: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """Closing stock (SKUs × months) when the opening stock serves demand first and nothing is added to it.

    ``max(opening − cumulative demand, 0)``: with build-ahead off this *is* the stock, so production in a month
    covers at most that month's demand net of the stock used (holding stock back for a later month would be
    building ahead by another name).
    """
    return np.maximum(opening[:, None] - np.cumsum(demand, axis=1), 0.0)


def _balance(inp: PlanArrays, n_var: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """The balance of each cell (s, t): x + u − I[t] + I[t−1] = d; the opening stock moves to the right-hand
    side at t = 0. Variables x, I, u are the first three blocks of S·T."""
    n_s, n_t = inp.demand.shape
    st = n_s * n_t
    cell = np.arange(st)  # (s, t) within a block of S·T variables
    later = cell.reshape(n_s, n_t)[:, 1:].ravel()  # cells with a month before them
    ones = np.ones(st)
    a_eq = _sparse([(cell, cell, ones), (cell, 2 * st + cell, ones), (cell, st + cell, -ones),
                    (later, st + later - 1, np.ones(len(later)))], (st, n_var))
    b_eq = inp.demand.copy()
    b_eq[:, 0] -= inp.opening
    return a_eq, b_eq.ravel()


def _capacity_rows(
    inp: PlanArrays, cap_res: np.ndarray, cap_month: np.ndarray, o0: int
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Capacity row k of (r, t): Σ_s h[s,r]·x[s,t] − o_k ≤ available[r,t], as sparse triplets (routes × months,
    route-major); the overtime variables o start at ``o0``."""
    n_t, n_k = inp.demand.shape[1], len(cap_res)
    row_of = np.full(inp.available.shape, -1)
    row_of[cap_res, cap_month] = np.arange(n_k)
    k = row_of[inp.route_res].ravel()
    route = np.repeat(np.arange(len(inp.route_sku)), n_t)[k >= 0]
    month = np.tile(np.arange(n_t), len(inp.route_sku))[k >= 0]
    return [(k[k >= 0], inp.route_sku[route] * n_t + month, inp.route_hours[route]),
            (np.arange(n_k), o0 + np.arange(n_k), -np.ones(n_k))]


def _stock_bounds(inp: PlanArrays, params: SupplyParams) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of the closing stock I (S·T): build-ahead off, the shelf life
    (``max_build_ahead_months``), and the SKUs that cannot be held in stock."""
    n_s, n_t = inp.demand.shape
    inv_lb, inv_ub = np.zeros(n_s * n_t), np.full(n_s * n_t, np.inf)
    drained = stock_first(inp.opening, inp.demand).ravel()  # the opening stock used first, nothing added to it
    if not params.build_ahead:  # the stock is what is left of the opening stock, used first: nothing built ahead
        inv_lb = inv_ub = drained
    elif params.max_build_ahead_months is not None:
        # shelf life: a month's closing stock covers at most the next k months' demand (+ the safety stock aimed
        # at); opening stock beyond that is not destroyed, so the bound never falls below what is left of it
        k = params.max_build_ahead_months
        ahead = np.cumsum(np.pad(inp.demand, ((0, 0), (0, k))), axis=1)
        cover = ahead[:, k:k + n_t] - np.cumsum(inp.demand, axis=1)
        target = inp.safety[:, None] if params.safety_stock_weight > 0 else 0.0
        inv_ub = np.maximum(cover + target, drained.reshape(n_s, n_t)).ravel()
    if not inp.stockable.all():  # a service or a fresh line is made in the month it is sold: no stock of its own
        fixed = np.repeat(~inp.stockable, n_t)
        inv_lb = np.where(fixed, drained, inv_lb)
        inv_ub = np.where(fixed, drained, inv_ub)
    return inv_lb, inv_ub


def build_model(inp: PlanArrays, params: SupplyParams) -> Model:
    """The linear programme of ``inp`` (formulation: the package docstring), without loops over variables."""
    n_s, n_t = inp.demand.shape
    st = n_s * n_t
    i0, o0 = st, 3 * st  # x from 0, I from i0, u from 2·st, o from o0, then b
    cap_res, cap_month = np.nonzero(~np.isnan(inp.available))
    n_k = len(cap_res)
    margin = np.maximum(inp.price - inp.cost, MIN_MARGIN_SHARE * inp.price)
    holding = inp.cost * params.holding_cost_pct_per_year / 100 / 12

    # safety stock, a soft target: b ≥ safety − I, each unit-month short costs weight × the unit's margin, so
    # the plan keeps it when hours allow and gives it up before it loses a sale
    safety = np.repeat(inp.safety, n_t) if params.safety_stock_weight > 0 else np.zeros(st)
    cells = np.nonzero(safety > 0)[0]
    n_b = len(cells)
    b0 = o0 + n_k
    rows = n_k + np.arange(n_b)
    blocks = [*_capacity_rows(inp, cap_res, cap_month, o0),
              (rows, i0 + cells, -np.ones(n_b)), (rows, b0 + np.arange(n_b), -np.ones(n_b))]
    a_eq, b_eq = _balance(inp, b0 + n_b)
    inv_lb, inv_ub = _stock_bounds(inp, params)
    c = np.concatenate([np.zeros(st), np.maximum(holding, TIE_BREAK_HOLDING).ravel(), margin.ravel(),
                        inp.overtime_cost[cap_res], params.safety_stock_weight * margin.ravel()[cells]])
    lb = np.concatenate([np.zeros(st), inv_lb, np.zeros(st + n_k + n_b)])
    ub = np.concatenate([np.full(st, np.inf), inv_ub, inp.demand.ravel(), inp.overtime_max[cap_res], safety[cells]])
    b_ub = np.concatenate([inp.available[cap_res, cap_month], -safety[cells]])
    return Model(c=c, lb=lb, ub=ub, a_eq=a_eq, b_eq=b_eq, a_ub=_sparse(blocks, (n_k + n_b, b0 + n_b)),
                 b_ub=b_ub, cap_res=cap_res, cap_month=cap_month, lost_margin=margin, holding=holding,
                 safety_cells=cells)


@dataclass(frozen=True)
class Solution:
    """What HiGHS returned: the variables, the duals of the capacity rows and the status."""

    values: np.ndarray | None
    capacity_duals: np.ndarray | None  # ∂ objective / ∂ available hours: ≤ 0 (more hours never cost more)
    status: str
    optimal: bool


def solve(model: Model, time_limit: float) -> Solution:
    """HiGHS through ``scipy.optimize.linprog``; stops after ``time_limit`` seconds (then not optimal)."""
    has_ub = len(model.b_ub) > 0
    res = linprog(model.c, A_ub=model.a_ub if has_ub else None, b_ub=model.b_ub if has_ub else None,
                  A_eq=model.a_eq, b_eq=model.b_eq,
                  bounds=np.column_stack([model.lb, model.ub]), method="highs", options={"time_limit": time_limit})
    optimal = res.status == 0
    duals = (res.ineqlin.marginals[:len(model.cap_res)] if has_ub else np.zeros(0)) if optimal else None
    return Solution(values=res.x if optimal else None, capacity_duals=duals, status=res.message, optimal=optimal)
