"""The supply inputs checked (every problem at once, in one message a planner can act on) and laid out as arrays."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sop_lib.core.errors import SopError
from sop_lib.data.params import SupplyParams
from sop_lib.data.prices import prices_for


class SupplyError(SopError):
    """The supply inputs are contradictory (negative hours, unrouted SKUs, …) or the solver did not finish."""

    exit_code = 2


def _no_opening_stock() -> pd.DataFrame:
    return pd.DataFrame({"sku": pd.Series(dtype=str), "on_hand": pd.Series(dtype=float)})


def _default_params() -> SupplyParams:
    return SupplyParams.model_validate({})  # the defaults of params/ (``SupplyParams()``)


@dataclass(frozen=True, eq=False)
class PlanInputs:
    """What a supply plan is made of: the one value :func:`~sop_lib.supply.plan_supply`,
    :func:`~sop_lib.supply.demand_at_risk` and the scenarios (``finance.scenarios``) take.

    Attributes
    ----------
    demand : ``sku``, ``period`` (first of the month), ``units``; other keys (``region``) are summed over. The
        plan covers every month from the first to the last.
    bill_of_resources : ``sku``, ``resource``, ``hours_per_unit``.
    capacity : ``resource``, ``period``, ``available_hours``.
    prices : the ``Prices`` table (``sku``, ``valid_from``, ``unit_price``, ``unit_cost``), whose price in force
        in each month of ``demand`` is used (``data.prices.prices_for``); or unit economics already by month
        (``sku``, ``period``, ``unit_price``, ``unit_cost``) or, without ``period``, one price per SKU. The
        scenarios need the ``Prices`` table (they change its ``unit_price``).
    opening_stock : ``sku``, ``on_hand`` at the start of the first month (the ``Inventory`` table); a SKU without
        a row has none. Default: no opening stock.
    params : holding cost, build-ahead, overtime per resource (``max_hours``, ``cost_per_hour``), time limit.
    safety_stock : ``sku``, ``safety_stock`` (``supply.safety_stock``'s output): stock the plan aims to hold at
        every month's end, a soft target (``params.safety_stock_weight``). None: no target.
    no_stock : SKUs that cannot be held in stock (services, fresh lines; :func:`no_stock_skus`): each month's
        production serves that month, after any opening stock; no build-ahead and no safety stock.
    unconstrained_ok : plan SKUs with demand but no route as if capacity were unlimited (the plan lists them in
        ``unconstrained``) instead of raising; e.g. when the data does not model capacity.
    """

    demand: pd.DataFrame
    bill_of_resources: pd.DataFrame
    capacity: pd.DataFrame
    prices: pd.DataFrame
    opening_stock: pd.DataFrame = field(default_factory=_no_opening_stock)
    params: SupplyParams = field(default_factory=_default_params)
    safety_stock: pd.DataFrame | None = None
    no_stock: tuple[str, ...] = ()
    unconstrained_ok: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "no_stock", tuple(self.no_stock))  # a list given is kept as a tuple

    def unit_economics(self) -> pd.DataFrame:
        """``prices`` as the plan reads them: the price list's price in force in each SKU-month of the demand,
        or the unit economics as given."""
        if "valid_from" in self.prices.columns:
            return prices_for(self.demand[["sku", "period"]].drop_duplicates(), self.prices)
        return self.prices


@dataclass(frozen=True)
class PlanArrays:
    """:class:`PlanInputs` checked and laid out for the linear programme: SKUs × months, resources × months,
    the routes (:func:`prepare_inputs`)."""

    skus: np.ndarray
    months: pd.DatetimeIndex
    resources: np.ndarray
    demand: np.ndarray  # S × T units
    opening: np.ndarray  # S
    price: np.ndarray  # S × T
    cost: np.ndarray  # S × T
    route_sku: np.ndarray  # B: one entry per route (SKU, resource, hours per unit)
    route_res: np.ndarray  # B
    route_hours: np.ndarray  # B
    available: np.ndarray  # R × T hours, NaN where there is no capacity row
    overtime_max: np.ndarray  # R
    overtime_cost: np.ndarray  # R
    unrouted: np.ndarray  # SKUs with demand and no route (allowed only with unconstrained_ok)
    safety: np.ndarray  # S: safety stock the plan aims to keep at each month's end (0: none)
    stockable: np.ndarray  # S bool: False for SKUs that cannot be held in stock (made in the month they are sold)
    valued_in_units: bool = False  # no price list: ``price`` is a weight that puts serving demand first, not money


def _listed(items: list[str], limit: int = 12) -> str:
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _months(periods: pd.Series) -> pd.DatetimeIndex:
    stamps = pd.to_datetime(periods)
    months = pd.date_range(stamps.min(), stamps.max(), freq="MS")
    off = sorted({f"{p:%Y-%m-%d}" for p in stamps.unique() if p not in months})
    if off or len(months) == 0:
        raise SupplyError(f"Demand periods must be the first day of a month; got {_listed(off) or 'none'}.")
    return months


def _grid(frame: pd.DataFrame, value: str, skus: np.ndarray, months: pd.DatetimeIndex) -> np.ndarray:
    """``value`` as a SKU × month array (NaN where the frame has no row)."""
    wide = frame.set_index(["sku", "period"])[value].unstack("period")  # keys are unique (``_frame``)
    return wide.reindex(index=skus, columns=months).to_numpy(dtype=float)


def _frame(table: pd.DataFrame, value: str, keys: list[str], how: str = "sum") -> pd.DataFrame:
    """``keys`` (SKU and resource names as text, periods as timestamps) and ``value`` per key (rows of the same
    key are summed, or averaged with ``how="mean"``: a price repeated per region is still one price)."""
    out = table[[*keys, value]].copy()
    for key in keys:
        out[key] = pd.to_datetime(out[key]) if key == "period" else out[key].astype(str)
    out[value] = pd.to_numeric(out[value], errors="coerce")
    grouped = out.groupby(keys, as_index=False)[value]
    return grouped.mean() if how == "mean" else grouped.sum(min_count=1)


def _fill_months(frame: pd.DataFrame, value: str, skus: np.ndarray, months: pd.DatetimeIndex) -> np.ndarray:
    """``value`` per SKU × month; a month without a row takes the SKU's previous month (else its next)."""
    return pd.DataFrame(_grid(frame, value, skus, months)).ffill(axis=1).bfill(axis=1).to_numpy()


def _values_without_money(
    price: np.ndarray, cost: np.ndarray, hours: pd.Series, params: SupplyParams
) -> tuple[np.ndarray, np.ndarray, bool]:
    """What the plan optimises when the data has no money; returns price, cost and whether units are the value.

    No price at all (no price list): units are what counts. Every unit lost is made to cost more than the
    overtime that could make it (1 + 10 × the dearest overtime hour × the SKU's hours per unit, every
    resource together), so the plan loses as few units as it can and works overtime before it loses a sale;
    cost 0, so stock is held only to serve demand (the tie-break holding cost). The money figures of such a
    plan are not reported (``valued_in_units``). No unit cost at all: a lost sale costs its price and holding
    costs nothing. A price list with gaps stays as it is (an error in the caller): only a whole missing table
    or column is a default the data layer has listed.
    """
    if price.size and np.isnan(price).all():
        dearest = max((o.cost_per_hour for o in params.overtime.values()), default=0.0)
        per_unit = 1.0 + 10.0 * max(dearest, 1.0) * hours.to_numpy(dtype=float)
        return np.repeat(per_unit[:, None], price.shape[1], axis=1), np.zeros_like(cost), True
    if cost.size and np.isnan(cost).all():
        return price, np.zeros_like(cost), False
    return price, cost, False


def prepare_inputs(inputs: PlanInputs) -> PlanArrays:
    """Check the inputs of ``plan_supply`` and turn them into arrays.

    The months are every month from the first to the last of ``demand`` (a month missing in between has no
    demand). SKUs are those of ``demand``; opening stock and routes of other SKUs are ignored. SKUs in
    ``no_stock`` cannot be held in stock (a service, a fresh line: :func:`no_stock_skus`): no build-ahead and
    no safety stock for them.

    Raises
    ------
    SupplyError
        Listing every problem found: demand that is negative or missing, negative available hours in the
        plan's months, hours per unit ≤ 0, SKUs with demand and no route (unless ``unconstrained_ok``),
        overtime for a resource neither the bill of resources nor the capacity table knows, SKUs without a
        price or cost (or a negative one), negative opening stock.
    """
    if inputs.demand.empty:
        raise SupplyError("There is no demand to plan: the demand table has no rows.")
    params = inputs.params
    dem = _frame(inputs.demand, "units", ["sku", "period"])
    months = _months(dem["period"])
    skus = np.sort(dem["sku"].unique())
    cap, bor, unrouted, problems = _routes_and_hours(dem, inputs.bill_of_resources, inputs.capacity, months,
                                                     params, inputs.unconstrained_ok)
    hours = bor.groupby("sku")["hours_per_unit"].sum().reindex(skus).fillna(0.0)
    price, cost, in_units = _economics(inputs.unit_economics(), skus, months, hours, params, problems)
    stock, safety, stockable = _stock(inputs.opening_stock, inputs.safety_stock, skus, inputs.no_stock, problems)
    if problems:
        raise SupplyError("The supply plan cannot be made:\n- " + "\n- ".join(problems))

    resources = np.array(sorted(set(bor["resource"]) | set(cap["resource"])), dtype=object)
    res_index = {r: i for i, r in enumerate(resources)}
    available = np.full((len(resources), len(months)), np.nan)
    rows, cols = cap["resource"].map(res_index).to_numpy(dtype=np.int64), months.get_indexer(cap["period"])
    available[rows, cols] = cap["available_hours"].to_numpy(dtype=float)
    sku_index = {s: i for i, s in enumerate(skus)}
    over = [params.overtime.get(r) for r in resources]
    return PlanArrays(
        skus=skus, months=months, resources=resources,
        demand=np.nan_to_num(_grid(dem, "units", skus, months)), opening=stock.fillna(0.0).to_numpy(dtype=float),
        price=price, cost=cost,
        route_sku=bor["sku"].map(sku_index).to_numpy(dtype=np.int64),
        route_res=bor["resource"].map(res_index).to_numpy(dtype=np.int64),
        route_hours=bor["hours_per_unit"].to_numpy(dtype=float),
        available=available,
        overtime_max=np.array([o.max_hours if o else 0.0 for o in over]),
        overtime_cost=np.array([o.cost_per_hour if o else 0.0 for o in over]),
        unrouted=unrouted, safety=safety, stockable=stockable, valued_in_units=in_units,
    )


def _routes_and_hours(
    dem: pd.DataFrame, bill_of_resources: pd.DataFrame, capacity: pd.DataFrame, months: pd.DatetimeIndex,
    params: SupplyParams, unconstrained_ok: bool,
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, list[str]]:
    """Capacity in the plan's months, the routes of the demand's SKUs, the SKUs with demand and no route, and the
    problems of demand, hours and routes (in that order)."""
    problems = []
    bad = dem[~(dem["units"] >= 0)]
    if len(bad):
        problems.append(f"Demand must be a number ≥ 0; {len(bad)} SKU-month(s) are not: "
                        + _listed([f"{r.sku} {r.period:%Y-%m} ({r.units})" for r in bad.itertuples()]) + ".")
    cap = _frame(capacity, "available_hours", ["resource", "period"])
    cap = cap[cap["period"].isin(months)]
    bad = cap[~(cap["available_hours"] >= 0)]
    if len(bad):
        problems.append("Available hours cannot be negative (or missing); fix the capacity table for "
                        + _listed([f"{r.resource} {r.period:%Y-%m} ({r.available_hours:g} h)"
                                   for r in bad.itertuples()]) + ".")
    all_routes = _frame(bill_of_resources, "hours_per_unit", ["sku", "resource"])
    bor = all_routes[all_routes["sku"].isin(dem["sku"])]
    bad = bor[~(bor["hours_per_unit"] > 0)]
    if len(bad):
        problems.append("Hours per unit must be above 0 in the bill of resources; they are not for "
                        + _listed([f"{r.sku} on {r.resource} ({r.hours_per_unit:g})" for r in bad.itertuples()])
                        + ".")
    wanted = dem.groupby("sku")["units"].sum()
    unrouted = np.sort(wanted[(wanted > 0) & ~wanted.index.isin(bor["sku"])].index.to_numpy(dtype=object))
    if len(unrouted) and not unconstrained_ok:
        problems.append(f"{len(unrouted)} SKU(s) have demand but no route to any resource in the bill of "
                        f"resources, so nothing could make them: {_listed(list(unrouted))}. Add their routes "
                        "(or plan them unconstrained).")
    known = set(all_routes["resource"]) | set(capacity["resource"].astype(str))
    unknown = sorted(set(params.overtime) - known)
    if unknown:
        problems.append(f"Overtime is set for unknown resource(s) {_listed(unknown)}; the bill of resources and "
                        f"the capacity table know: {_listed(sorted(known))}. Fix supply.overtime in params/.")
    return cap, bor, unrouted, problems


def _economics(
    unit_economics: pd.DataFrame, skus: np.ndarray, months: pd.DatetimeIndex, hours: pd.Series,
    params: SupplyParams, problems: list[str],
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Price and cost per SKU × month (see :func:`_values_without_money`), adding their problems."""
    econ = unit_economics
    if "period" not in econ.columns:  # one price and cost per SKU, for every month
        econ = econ.merge(pd.DataFrame({"period": months}), how="cross")
    price = _fill_months(_frame(econ, "unit_price", ["sku", "period"], "mean"), "unit_price", skus, months)
    cost = _fill_months(_frame(econ, "unit_cost", ["sku", "period"], "mean"), "unit_cost", skus, months)
    price, cost, in_units = _values_without_money(price, cost, hours, params)
    missing = [str(s) for s, row in zip(skus, np.isnan(price) | np.isnan(cost), strict=True) if row.any()]
    if missing:
        problems.append(f"No unit price or cost for SKU(s) {_listed(missing)}: add them to the price list (or "
                        "the unit economics given as the plan's prices).")
    negative = [str(s) for s, row in zip(skus, (price < 0) | (cost < 0), strict=True) if row.any()]
    if negative:
        problems.append(f"Unit price and cost cannot be negative; they are for SKU(s) {_listed(negative)}.")
    return price, cost, in_units


def _stock(
    opening_stock: pd.DataFrame, safety_stock: pd.DataFrame | None, skus: np.ndarray, no_stock: Collection[str],
    problems: list[str],
) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Opening stock, safety stock (0 for what cannot be stocked) and whether each SKU can be stocked."""
    stock = _frame(opening_stock, "on_hand", ["sku"]).set_index("sku")["on_hand"].reindex(skus)
    safety = np.zeros(len(skus))
    if safety_stock is not None and len(safety_stock):
        ss = safety_stock.groupby("sku")["safety_stock"].sum(min_count=1).reindex(skus)
        safety = np.clip(np.nan_to_num(ss.to_numpy(dtype=float)), 0.0, None)
    stockable = ~np.isin(skus, np.array(sorted(map(str, no_stock)), dtype=object))
    bad_stock = [f"{s} ({v:g})" for s, v in stock.items() if v < 0]
    if bad_stock:
        problems.append(f"Opening stock cannot be negative: {_listed(bad_stock)}.")
    return stock, np.where(stockable, safety, 0.0), stockable


def no_stock_skus(products: pd.DataFrame, bill_of_resources: pd.DataFrame, params: SupplyParams) -> list[str]:
    """SKUs that cannot be held in stock: those of ``params.no_stock_families`` (``products``: ``sku``,
    ``family``) and those routed through ``params.no_stock_resources`` (``bill_of_resources``: ``sku``,
    ``resource``)."""
    skus = set(products.loc[products["family"].astype(str).isin(params.no_stock_families), "sku"].astype(str))
    routed = bill_of_resources["resource"].astype(str).isin(params.no_stock_resources)
    skus |= set(bill_of_resources.loc[routed, "sku"].astype(str))
    return sorted(skus)
