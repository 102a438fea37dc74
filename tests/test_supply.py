"""The constrained supply plan, demand at risk and the inventory projection, against optima worked out by hand.

The hand case: two SKUs on one resource ``Line`` over three months (M1 2026-11, M2 2026-12, M3 2027-01), no
opening stock, holding cost 12 % a year = 1 % of unit cost a month.

    SKU  h/unit  price  cost  margin  margin per hour  holding/unit-month  holding per hour-month
    A    0.5     10     6     4       4 / 0.5 = 8      0.06                0.06 / 0.5 = 0.12
    B    1.0     20     10    10      10 / 1 = 10      0.10                0.10 / 1 = 0.10

    demand A: 40, 60, 80 units → 20, 30, 40 h
    demand B: 40, 40, 80 units → 40, 40, 80 h
    hours needed: 60, 70, 120 against 100 available each month: M3 is 20 h short, M2 has 30 h spare.

Ways to find M3's 20 hours, per hour: build B ahead in M2 (0.10), build A ahead (0.12), build B in M1
(2 months: 0.20), overtime (its cost), lose A (8), lose B (10). So the cheapest is what the test says.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sop_lib.core.errors import SopError
from sop_lib.data.params import Overtime, SupplyParams
from sop_lib.supply import (
    PlanInputs,
    SupplyError,
    SupplyPlan,
    compare_views,
    demand_at_risk,
    plan_supply,
    project_inventory,
    safety_stock,
)
from sop_lib.supply import plan as plan_module
from sop_lib.supply.capacity import required_hours, review_capacity
from sop_lib.supply.model import Model, Solution

TS = pd.Timestamp
M1, M2, M3 = TS("2026-11-01"), TS("2026-12-01"), TS("2027-01-01")
MONTHS = [M1, M2, M3]

DEMAND = pd.DataFrame([(s, m, u) for s, units in {"A": [40, 60, 80], "B": [40, 40, 80]}.items()
                       for m, u in zip(MONTHS, units, strict=True)], columns=["sku", "period", "units"])
BOR = pd.DataFrame([("A", "Line", 0.5), ("B", "Line", 1.0)], columns=["sku", "resource", "hours_per_unit"])
CAPACITY = pd.DataFrame([("Line", m, 100.0) for m in MONTHS], columns=["resource", "period", "available_hours"])
NO_STOCK = pd.DataFrame({"sku": pd.Series(dtype=str), "on_hand": pd.Series(dtype=float)})
ECONOMICS = pd.DataFrame({"sku": ["A", "B"], "unit_price": [10.0, 20.0], "unit_cost": [6.0, 10.0]})


def params(cost_per_hour: float = 5.0, max_hours: float = 50.0, build_ahead: bool = True) -> SupplyParams:
    return SupplyParams(holding_cost_pct_per_year=12, build_ahead=build_ahead,
                        overtime={"Line": Overtime(max_hours=max_hours, cost_per_hour=cost_per_hour)})


def solve(p: SupplyParams, capacity: pd.DataFrame = CAPACITY, stock: pd.DataFrame = NO_STOCK) -> SupplyPlan:
    return plan_supply(PlanInputs(DEMAND, BOR, capacity, ECONOMICS, stock, p))


def column(result: SupplyPlan, sku: str, col: str) -> list[float]:
    rows = result.plan[result.plan["sku"] == sku].sort_values("period")
    return rows[col].tolist()


def line(result: SupplyPlan, col: str) -> list[float]:
    return result.resources[result.resources["resource"] == "Line"].sort_values("period")[col].tolist()


def test_build_ahead_is_cheapest_when_holding_costs_less_than_overtime_or_lost_sales() -> None:
    # Overtime 5 €/h, max 50 h. Cheapest: make 20 B in M2 (20 h of its 30 spare) and hold them a month:
    # 20 × 0.10 = 2.00 €, against 20 h × 5 = 100 € of overtime or 40 A lost × 4 = 160 €.
    result = solve(params(cost_per_hour=5.0))
    assert result.status == "optimal"
    assert list(result.plan.columns) == ["sku", "period", "demand", "opening_stock", "production", "served",
                                         "unmet", "closing_stock", "safety_stock"]
    assert column(result, "A", "production") == pytest.approx([40, 60, 80])
    assert column(result, "B", "production") == pytest.approx([40, 60, 60])
    assert column(result, "B", "closing_stock") == pytest.approx([0, 20, 0])
    assert column(result, "A", "closing_stock") == pytest.approx([0, 0, 0])
    assert result.plan["unmet"].sum() == pytest.approx(0)
    assert result.unmet.empty
    assert result.cost_totals == pytest.approx({"lost_margin": 0, "holding_cost": 2.0, "overtime_cost": 0,
                                                "total": 2.0})
    assert result.objective == pytest.approx(2.0)
    # hours: M1 20 + 40 = 60; M2 30 + 60 = 90; M3 40 + 60 = 100 = available → only M3 binds
    assert line(result, "required_hours") == pytest.approx([60, 90, 100])
    assert line(result, "utilisation") == pytest.approx([0.6, 0.9, 1.0])
    assert line(result, "overtime_hours") == pytest.approx([0, 0, 0])
    assert line(result, "binding") == [False, False, True]
    # one more hour in M3 → one B fewer built ahead in M2 → 0.10 € saved; M1 and M2 have hours to spare
    assert line(result, "shadow_price") == pytest.approx([0, 0, 0.10])


def test_shadow_price_is_the_cost_saved_by_one_more_hour() -> None:
    # sign convention: shadow price ≥ 0 = how much the total cost falls with one more available hour
    base = solve(params(cost_per_hour=5.0))
    more = CAPACITY.assign(available_hours=[100.0, 100.0, 101.0])
    assert solve(params(cost_per_hour=5.0), capacity=more).objective == pytest.approx(2.0 - 0.10)
    assert base.resources["shadow_price"].min() >= 0


def test_overtime_is_used_when_cheaper_than_holding() -> None:
    # Overtime 0.08 €/h < 0.10 €/h of building B ahead: 20 h of overtime in M3 = 1.60 €; nothing held.
    result = solve(params(cost_per_hour=0.08))
    assert column(result, "A", "production") == pytest.approx([40, 60, 80])
    assert column(result, "B", "production") == pytest.approx([40, 40, 80])
    assert result.plan["closing_stock"].sum() == pytest.approx(0)
    assert line(result, "overtime_hours") == pytest.approx([0, 0, 20])
    assert line(result, "required_hours") == pytest.approx([60, 70, 120])
    assert line(result, "utilisation") == pytest.approx([0.6, 0.7, 1.2])
    assert line(result, "binding") == [False, False, True]  # 120 = 100 + 20
    assert result.cost_totals == pytest.approx({"lost_margin": 0, "holding_cost": 0, "overtime_cost": 1.6,
                                                "total": 1.6})
    # an extra hour in M3 saves one overtime hour
    assert line(result, "shadow_price") == pytest.approx([0, 0, 0.08])


def test_overtime_up_to_its_limit_then_build_ahead() -> None:
    # Overtime 0.08 €/h but at most 15 h: 15 h × 0.08 = 1.20 €, the other 5 h by building 5 B in M2:
    # 5 × 0.10 = 0.50 €; total 1.70 €. The next hour would be built ahead: the shadow price is 0.10.
    result = solve(params(cost_per_hour=0.08, max_hours=15))
    assert line(result, "overtime_hours") == pytest.approx([0, 0, 15])
    assert column(result, "B", "production") == pytest.approx([40, 45, 75])
    assert column(result, "B", "closing_stock") == pytest.approx([0, 5, 0])
    assert result.objective == pytest.approx(1.7)
    assert line(result, "shadow_price") == pytest.approx([0, 0, 0.10])


def test_losing_the_low_margin_sku_is_cheapest_when_nothing_can_be_built_ahead() -> None:
    # M1 has 50 h for the 60 needed: nothing comes before M1, so the 10 h are overtime (9 €/h) or lost sales:
    # A loses 8 € an hour (2 units × 4), B 10 €. Cheapest: lose 20 A = 80 €. A still sells 20 in M1, so one
    # more hour would sell 2 more A: shadow price 8 €/h.
    capacity = CAPACITY.assign(available_hours=[50.0, 200.0, 200.0])
    result = solve(params(cost_per_hour=9.0), capacity=capacity)
    assert column(result, "A", "unmet") == pytest.approx([20, 0, 0])
    assert column(result, "A", "served") == pytest.approx([20, 60, 80])
    assert column(result, "B", "unmet") == pytest.approx([0, 0, 0])
    assert line(result, "overtime_hours") == pytest.approx([0, 0, 0])
    assert result.cost_totals == pytest.approx({"lost_margin": 80, "holding_cost": 0, "overtime_cost": 0,
                                                "total": 80})
    assert line(result, "binding") == [True, False, False]
    assert line(result, "shadow_price") == pytest.approx([8.0, 0, 0])
    assert result.unmet.to_dict("records") == [
        {"sku": "A", "period": M1, "units": pytest.approx(20), "lost_revenue": pytest.approx(200),  # 20 × 10
         "lost_margin": pytest.approx(80)}]  # 20 × 4


def test_without_build_ahead_the_low_margin_sku_is_lost() -> None:
    # build-ahead off, overtime 9 €/h: M3's 20 h are 40 A lost (160 €) rather than 20 B (200 €) or overtime
    # (180 €); one more M3 hour sells 2 A: 8 €/h.
    result = solve(params(cost_per_hour=9.0, build_ahead=False))
    assert column(result, "A", "unmet") == pytest.approx([0, 0, 40])
    assert result.plan["closing_stock"].sum() == pytest.approx(0)
    assert result.objective == pytest.approx(160)
    assert line(result, "shadow_price") == pytest.approx([0, 0, 8.0])


def test_without_build_ahead_opening_stock_is_used_first() -> None:
    # 50 A in stock: with build-ahead off they serve M1's 40 and 10 of M2 (kept back for M3 they would be
    # building ahead by another name), so M3 still loses 40 A. Hours: M1 0 + 40, M2 25 + 40, M3 40 + 80.
    stock = pd.DataFrame({"sku": ["A"], "on_hand": [50.0]})
    result = solve(params(cost_per_hour=9.0, build_ahead=False), stock=stock)
    assert column(result, "A", "opening_stock") == pytest.approx([50, 10, 0])
    assert column(result, "A", "closing_stock") == pytest.approx([10, 0, 0])
    assert column(result, "A", "production") == pytest.approx([0, 50, 40])
    assert column(result, "A", "unmet") == pytest.approx([0, 0, 40])
    # holding: 10 A at 0.06 in M1 = 0.60 €; lost: 40 × 4 = 160 €
    assert result.cost_totals["holding_cost"] == pytest.approx(0.6)
    assert result.objective == pytest.approx(160.6)


def test_demand_at_risk_prices_the_fix() -> None:
    # capacity alone (no overtime, no building ahead): M3 loses 40 A (8 €/h < 10 €/h for B) = 400 € of
    # revenue, 160 € of margin. With the options (overtime 5 €/h, build-ahead): 20 B built in M2, 2 € of
    # holding, nothing lost.
    risk = demand_at_risk(PlanInputs(DEMAND, BOR, CAPACITY, ECONOMICS, params=params(cost_per_hour=5.0)))
    assert risk.units_at_risk == pytest.approx(40)
    assert risk.revenue_at_risk == pytest.approx(400)
    assert risk.margin_at_risk == pytest.approx(160)
    assert risk.fix_cost == pytest.approx(2.0)
    assert risk.extra_holding_cost == pytest.approx(2.0)
    assert risk.overtime_hours == pytest.approx(0)
    assert risk.build_ahead_units == pytest.approx(20)
    assert risk.units_unmet == pytest.approx(0)
    assert risk.summary("EUR") == ("40 units (400 EUR) of demand at risk; the cheapest fix costs 2 EUR "
                                   "(overtime 0 h, build-ahead 20 units), leaving none unmet.")
    assert set(risk.figures) >= {"units_at_risk", "revenue_at_risk", "fix_cost", "units_unmet"}


def test_demand_at_risk_with_limited_overtime_and_no_build_ahead_leaves_some_unmet() -> None:
    # options: overtime 7 €/h (< 8 €/h of A), at most 12 h, no build-ahead: M3's 20 h = 12 h overtime (84 €)
    # + 8 h of A lost (16 A, 64 €).
    risk = demand_at_risk(PlanInputs(DEMAND, BOR, CAPACITY, ECONOMICS,
                                     params=params(cost_per_hour=7.0, max_hours=12, build_ahead=False)))
    assert risk.units_at_risk == pytest.approx(40)
    assert risk.overtime_hours == pytest.approx(12)
    assert risk.fix_cost == pytest.approx(84)
    assert risk.units_unmet == pytest.approx(16)
    assert risk.revenue_unmet == pytest.approx(160)
    assert risk.summary() == ("40 units (400 EUR) of demand at risk; the cheapest fix costs 84 EUR "
                              "(overtime 12 h, build-ahead 0 units), leaving 16 units unmet.")


def test_no_demand_at_risk_when_capacity_suffices() -> None:
    risk = demand_at_risk(PlanInputs(DEMAND, BOR, CAPACITY.assign(available_hours=200.0), ECONOMICS,
                                     params=params()))
    assert risk.units_at_risk == 0 and risk.fix_cost == pytest.approx(0)
    assert risk.summary().startswith("No demand at risk")


def test_the_price_list_is_read_at_the_price_in_force_each_month() -> None:
    # A's price rises to 12 from M3: its margin per hour there is (12 − 6) / 0.5 = 12 €/h, above B's 10 €/h, so
    # with the hours alone M3's 20 missing hours are taken from B: 20 B lost, 400 € of revenue, 200 € of margin.
    from sop_lib.data.prices import prices_for

    prices = pd.DataFrame({"sku": ["A", "B", "A"], "valid_from": [TS("2026-01-01"), TS("2026-01-01"), M3],
                           "unit_price": [10.0, 20.0, 12.0], "unit_cost": [6.0, 10.0, 6.0]})
    risk = demand_at_risk(PlanInputs(DEMAND, BOR, CAPACITY, prices, params=params()))
    assert (risk.units_at_risk, risk.revenue_at_risk, risk.margin_at_risk) == pytest.approx((20, 400, 200))
    assert column(risk.capacity_only, "B", "unmet") == pytest.approx([0, 0, 20])
    # the same plan as with the unit economics of each SKU-month given directly
    by_month = plan_supply(PlanInputs(DEMAND, BOR, CAPACITY, prices_for(DEMAND[["sku", "period"]], prices),
                                      params=params()))
    pd.testing.assert_frame_equal(risk.with_options.plan, by_month.plan)
    pd.testing.assert_frame_equal(risk.with_options.costs, by_month.costs)


def test_compare_views_puts_unconstrained_next_to_constrained_hours() -> None:
    review = review_capacity(required_hours(DEMAND, BOR), CAPACITY)
    views = compare_views(review, solve(params(cost_per_hour=5.0)))
    assert views["unconstrained_hours"].tolist() == pytest.approx([60, 70, 120])
    assert views["unconstrained_utilisation"].tolist() == pytest.approx([0.6, 0.7, 1.2])
    assert views["constrained_hours"].tolist() == pytest.approx([60, 90, 100])
    assert views["constrained_utilisation"].tolist() == pytest.approx([0.6, 0.9, 1.0])
    # M2 works 20 h for M3 (built ahead), M3 needs 20 h more than it makes
    assert views["shift_hours"].tolist() == pytest.approx([0, -20, 20])
    assert views["binding"].tolist() == [False, False, True]


def random_case(seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Six SKUs on two resources over eight months, tight capacity, some opening stock."""
    rng = np.random.default_rng(seed)
    months = pd.date_range("2026-11-01", periods=8, freq="MS")
    skus = [f"S{i}" for i in range(6)]
    demand = pd.DataFrame([(s, r, m, float(rng.integers(0, 120))) for s in skus for r in ("N", "S")
                           for m in months], columns=["sku", "region", "period", "units"])
    bor = pd.DataFrame([(s, res, round(float(rng.uniform(0.2, 1.5)), 2)) for s in skus
                        for res in ("Press", "Pack") if rng.random() < 0.8 or res == "Press"],
                       columns=["sku", "resource", "hours_per_unit"])
    capacity = pd.DataFrame([(res, m, float(rng.integers(100, 260))) for res in ("Press", "Pack")
                             for m in months], columns=["resource", "period", "available_hours"])
    stock = pd.DataFrame({"sku": skus[:4], "on_hand": rng.integers(0, 150, 4).astype(float)})
    price = rng.uniform(5, 30, len(skus))
    economics = pd.DataFrame({"sku": skus, "unit_price": price, "unit_cost": price * rng.uniform(0.4, 1.1, 6)})
    return demand, bor, capacity, stock, economics


@pytest.mark.parametrize("build_ahead", [True, False])
def test_inventory_balance_holds_every_month(build_ahead: bool) -> None:
    demand, bor, capacity, stock, economics = random_case()
    p = SupplyParams(build_ahead=build_ahead, overtime={"Pack": Overtime(max_hours=20, cost_per_hour=8)})
    result = plan_supply(PlanInputs(demand, bor, capacity, economics, stock, p))
    plan = result.plan.sort_values(["sku", "period"])
    assert plan["unmet"].sum() > 0  # the case is tight enough to lose something
    np.testing.assert_allclose(plan["opening_stock"] + plan["production"] - plan["served"], plan["closing_stock"],
                               rtol=0, atol=1e-9)
    np.testing.assert_allclose(plan["served"] + plan["unmet"], plan["demand"], rtol=0, atol=1e-9)
    first = plan.groupby("sku").head(1).set_index("sku")["opening_stock"]
    assert first.to_dict() == pytest.approx(stock.set_index("sku")["on_hand"].reindex(first.index, fill_value=0)
                                            .to_dict())
    carried = plan.groupby("sku")["closing_stock"].shift(1).dropna()
    np.testing.assert_array_equal(plan.loc[carried.index, "opening_stock"], carried)
    assert (plan[["production", "served", "unmet", "closing_stock"]] >= 0).all().all()
    assert plan.groupby(["sku", "period"])["demand"].sum().sum() == pytest.approx(demand["units"].sum())
    res = result.resources
    assert (res["required_hours"] <= res["available_hours"] + res["overtime_hours"] + 1e-6).all()
    assert (res.loc[res["resource"] == "Pack", "overtime_hours"] <= 20 + 1e-9).all()
    assert (res["shadow_price"] >= 0).all()
    proj = project_inventory(result)
    np.testing.assert_allclose(proj["opening"] + proj["production"] - proj["served"], proj["closing"],
                               rtol=0, atol=1e-9)


def test_safety_stock_by_hand() -> None:
    errors = pd.DataFrame({"sku": ["A", "A", "A", "B", "B", "C"], "error": [-2.0, 0.0, 2.0, 5.0, 5.0, 3.0]})
    out = safety_stock(errors, service_level=0.95, lead_time_months=4).set_index("sku")
    # A: mean 0, sample variance (4 + 0 + 4) / 2 = 4 → σ = 2; 1.6449 × 2 × √4 = 6.5794
    assert out.loc["A", "z"] == pytest.approx(1.6449, abs=1e-4)
    assert out.loc["A", "error_std"] == pytest.approx(2.0)
    assert out.loc["A", "safety_stock"] == pytest.approx(1.644854 * 2 * 2, rel=1e-6)
    assert out.loc["B", "safety_stock"] == pytest.approx(0.0)  # no spread, no safety stock
    assert np.isnan(out.loc["C", "safety_stock"])  # one error: spread unknown
    assert out["n_errors"].tolist() == [3, 2, 1]
    lead_1 = safety_stock(errors, 0.95, 1).set_index("sku")
    assert lead_1.loc["A", "safety_stock"] == pytest.approx(1.644854 * 2, rel=1e-6)


def test_project_inventory_by_hand() -> None:
    result = solve(params(cost_per_hour=5.0))  # B: closing 0, 20, 0
    safety = pd.DataFrame({"sku": ["B"], "safety_stock": [10.0]})
    proj = project_inventory(result, safety).set_index(["sku", "period"])
    # B in M2: 20 units / (Jan demand 80 / 31 days) = 7.75 days
    assert proj.loc[("B", M2), "days_of_supply"] == pytest.approx(20 * 31 / 80)
    assert proj.loc[("B", M1), "days_of_supply"] == 0.0
    assert proj.loc[("B", M3), "days_of_supply"] == 0.0  # last month: its own demand
    assert proj.xs("B")["below_safety"].tolist() == [True, False, True]  # 0, 20, 0 against 10
    assert proj.xs("B")["stockout_risk"].tolist() == [True, False, True]
    assert proj.xs("A")["safety_stock"].isna().all()  # no safety stock given: nothing to fall below
    assert not proj.xs("A")["below_safety"].any()
    flat = project_inventory(result, safety, days_in_month=False).set_index(["sku", "period"])
    assert flat.loc[("B", M2), "days_of_supply"] == pytest.approx(20 * 30 / 80)


def test_days_of_supply_without_demand() -> None:
    plan = pd.DataFrame({"sku": ["Z", "Z", "Y", "Y"], "period": [M1, M2, M1, M2], "demand": [10.0, 0.0, 5.0, 0.0],
                         "opening_stock": [30.0, 20.0, 5.0, 0.0], "production": 0.0, "served": [10.0, 0.0, 5.0, 0.0],
                         "unmet": 0.0, "closing_stock": [20.0, 20.0, 0.0, 0.0]})
    proj = project_inventory(plan).set_index(["sku", "period"])
    assert proj.loc[("Z", M1), "days_of_supply"] == np.inf  # stock, and no demand next month
    assert np.isnan(proj.loc[("Y", M1), "days_of_supply"])  # no stock, no demand


def test_lost_sales_always_cost_something() -> None:
    # price below cost: the margin is floored at 1 % of price (0.05 €), so with hours to spare it is made
    economics = pd.DataFrame({"sku": ["A", "B"], "unit_price": [5.0, 20.0], "unit_cost": [6.0, 10.0]})
    result = plan_supply(PlanInputs(DEMAND, BOR, CAPACITY.assign(available_hours=500.0), economics,
                                    params=params()))
    assert result.plan["unmet"].sum() == pytest.approx(0)


def test_regions_are_summed_and_missing_capacity_rows_do_not_constrain() -> None:
    demand = pd.concat([DEMAND.assign(region="N", units=DEMAND["units"] / 2),
                        DEMAND.assign(region="S", units=DEMAND["units"] / 2)])
    capacity = CAPACITY[CAPACITY["period"] != M3]  # no hours known for M3: not limited, but listed
    result = plan_supply(PlanInputs(demand, BOR, capacity, ECONOMICS, params=params()))
    assert result.plan["demand"].sum() == pytest.approx(DEMAND["units"].sum())
    assert result.plan["unmet"].sum() == pytest.approx(0)
    assert result.objective == pytest.approx(0)
    free = result.unconstrained
    assert free[["resource", "period"]].values.tolist() == [["Line", M3]]
    assert free["required_hours"].tolist() == pytest.approx([120])
    m3 = result.resources[result.resources["period"] == M3].iloc[0]
    assert np.isnan(m3["available_hours"]) and not m3["binding"]


def test_contradictory_inputs_raise_one_error_naming_each_problem() -> None:
    capacity = CAPACITY.assign(available_hours=[100.0, -5.0, 100.0])
    demand = pd.concat([DEMAND, pd.DataFrame([("Z", M1, 10.0), ("Y", M2, 3.0)], columns=DEMAND.columns)])
    economics = pd.concat([ECONOMICS, pd.DataFrame({"sku": ["Z", "Y"], "unit_price": 1.0, "unit_cost": 0.5})])
    p = SupplyParams(overtime={"Oven": Overtime(max_hours=5, cost_per_hour=1)})
    with pytest.raises(SupplyError) as info:
        plan_supply(PlanInputs(demand, BOR, capacity, economics, params=p))
    msg = str(info.value)
    assert "Available hours cannot be negative" in msg and "Line 2026-12 (-5 h)" in msg
    assert "2 SKU(s) have demand but no route" in msg and "Y, Z" in msg
    assert "Overtime is set for unknown resource(s) Oven" in msg and "know: Line" in msg
    assert info.value.exit_code == 2 and isinstance(info.value, SopError)


def test_hours_per_unit_must_be_positive() -> None:
    bor = BOR.assign(hours_per_unit=[0.5, 0.0])
    with pytest.raises(SupplyError, match=r"Hours per unit must be above 0.*B on Line \(0\)"):
        plan_supply(PlanInputs(DEMAND, bor, CAPACITY, ECONOMICS, params=params()))


def test_missing_prices_are_named() -> None:
    with pytest.raises(SupplyError, match=r"No unit price or cost for SKU\(s\) B"):
        plan_supply(PlanInputs(DEMAND, BOR, CAPACITY, ECONOMICS[ECONOMICS["sku"] == "A"], params=params()))


def test_unrouted_skus_can_be_planned_unconstrained() -> None:
    demand = pd.concat([DEMAND, pd.DataFrame([("Z", M1, 10.0)], columns=DEMAND.columns)])
    economics = pd.concat([ECONOMICS, pd.DataFrame({"sku": ["Z"], "unit_price": [1.0], "unit_cost": [0.5]})])
    result = plan_supply(PlanInputs(demand, BOR, CAPACITY, economics, params=params(), unconstrained_ok=True))
    assert column(result, "Z", "production") == pytest.approx([10, 0, 0])
    free = result.unconstrained
    assert free["resource"].tolist() == ["(no route)"] and free["units"].tolist() == pytest.approx([10])


def test_a_solver_that_does_not_finish_is_reported_with_its_status(monkeypatch: pytest.MonkeyPatch) -> None:
    def stopped(model: Model, time_limit: float) -> Solution:
        return Solution(values=None, capacity_duals=None, status="Time limit reached. (HiGHS Status 13)",
                        optimal=False)

    monkeypatch.setattr(plan_module, "solve", stopped)
    with pytest.raises(SupplyError, match=r"status: Time limit reached.*solver_time_limit_s"):
        solve(params())


def test_forecast_errors_sum_regions_per_sku_and_month() -> None:
    from sop_lib.supply import forecast_errors

    T = pd.Timestamp
    bt = pd.DataFrame({"sku": ["A", "A", "A"], "region": ["N", "S", "N"], "cutoff": T("2026-01-01"),
                       "period": [T("2026-02-01"), T("2026-02-01"), T("2026-03-01")],
                       "actual": [10.0, 5.0, 8.0], "forecast": [12.0, 4.0, None]})
    out = forecast_errors(bt)
    # Feb: (10 + 5) − (12 + 4) = −1; March has no forecast: left out
    assert out["error"].tolist() == [-1.0]


def test_views_by_resource_by_hand() -> None:
    from sop_lib.supply import views_by_resource

    T = pd.Timestamp
    views = pd.DataFrame({"resource": "Line", "period": [T("2027-01-01"), T("2027-02-01")],
                          "unconstrained_utilisation": [0.8, 1.2], "constrained_utilisation": [1.0, 1.0],
                          "overtime_hours": [0.0, 5.0], "shift_hours": [-20.0, 20.0], "binding": [True, True],
                          "shadow_price": [0.0, 7.5]})
    r = views_by_resource(views).iloc[0]
    # February needs 120 % unconstrained; 20 h of it were made in January (build-ahead), 5 h on overtime
    assert (r["unconstrained_peak"], r["months_over"], r["constrained_peak"]) == (1.2, 1, 1.0)
    assert (r["overtime_hours"], r["build_ahead_hours"], r["binding_months"]) == (5.0, 20.0, 2)
    assert r["max_shadow_price"] == 7.5 and r["shadow_price_month"] == T("2027-02-01")


def test_safety_stock_is_a_soft_target_kept_when_hours_allow() -> None:
    T = pd.Timestamp
    months = [T("2027-01-01"), T("2027-02-01")]
    demand = pd.DataFrame({"sku": "A", "period": months, "units": [10.0, 10.0]})
    bor = pd.DataFrame({"sku": ["A"], "resource": ["Line"], "hours_per_unit": [1.0]})
    econ = pd.DataFrame({"sku": ["A"], "unit_price": [20.0], "unit_cost": [10.0]})
    stock = pd.DataFrame({"sku": ["A"], "on_hand": [0.0]})
    safety = pd.DataFrame({"sku": ["A"], "safety_stock": [5.0]})
    params = SupplyParams(holding_cost_pct_per_year=20.0, safety_stock_weight=0.5)

    def run(hours: float) -> object:
        cap = pd.DataFrame({"resource": "Line", "period": months, "available_hours": hours})
        return plan_supply(PlanInputs(demand, bor, cap, econ, stock, params, safety_stock=safety))

    # ample hours: make 15 then 10, ending both months on the safety stock of 5
    plenty = run(100.0)
    assert plenty.plan["production"].tolist() == pytest.approx([15.0, 10.0])
    assert plenty.plan["closing_stock"].tolist() == pytest.approx([5.0, 5.0])
    # holding: 10 × 20 % / 12 = 1/6 a unit-month × (5 + 5) = 1.67; the target itself is not a reported cost
    assert plenty.cost_totals["total"] == pytest.approx(10 / 6)
    # 12 h a month: every hour is made (12, 12), stock ends at 2 then 4, short of 5 but no sale is lost;
    # giving up a sale (margin 10) to hold a unit of safety stock (penalty 0.5 × 10 = 5) would never pay
    tight = run(12.0)
    assert tight.plan["closing_stock"].tolist() == pytest.approx([2.0, 4.0]) and tight.unmet.empty
    # 9 h: 18 units made for 20 wanted, so 2 sales are lost whatever the plan; the target only decides when:
    # losing both in January keeps 1 unit in stock for a month (shortfall 4 + 5 = 9 unit-months, penalty 45,
    # + holding 1/6) instead of 5 + 5 = 10 (penalty 50), at the same lost margin of 20
    short = run(9.0)
    assert short.unmet["units"].sum() == pytest.approx(2.0)
    assert short.plan["closing_stock"].tolist() == pytest.approx([1.0, 0.0])


def test_stock_ending_on_its_safety_stock_is_not_below_it() -> None:
    from sop_lib.supply import project_inventory

    plan = pd.DataFrame({"sku": "A", "period": [pd.Timestamp("2027-01-01")], "demand": [10.0],
                         "opening_stock": [0.0], "production": [920.9999999], "served": [10.0], "unmet": [0.0],
                         "closing_stock": [910.9999999]})
    out = project_inventory(plan, pd.DataFrame({"sku": ["A"], "safety_stock": [911.0]}))
    assert not out["below_safety"].iloc[0] and not out["stockout_risk"].iloc[0]


def test_build_ahead_is_limited_to_the_shelf_life() -> None:
    T = pd.Timestamp
    months = [T("2027-01-01"), T("2027-02-01"), T("2027-03-01")]
    demand = pd.DataFrame({"sku": "A", "period": months, "units": [0.0, 0.0, 10.0]})
    bor = pd.DataFrame({"sku": ["A"], "resource": ["Line"], "hours_per_unit": [1.0]})
    cap = pd.DataFrame({"resource": "Line", "period": months, "available_hours": [10.0, 0.0, 0.0]})
    econ = pd.DataFrame({"sku": ["A"], "unit_price": [20.0], "unit_cost": [10.0]})
    stock = pd.DataFrame({"sku": ["A"], "on_hand": [0.0]})
    # only January has hours: with a 2-month shelf life the 10 units made in January reach March …
    two = plan_supply(PlanInputs(demand, bor, cap, econ, stock, SupplyParams(max_build_ahead_months=2)))
    assert two.plan["production"].tolist() == pytest.approx([10.0, 0.0, 0.0]) and two.unmet.empty
    # … with 1 month, January's stock may cover February's demand only (none): March's 10 are lost
    one = plan_supply(PlanInputs(demand, bor, cap, econ, stock, SupplyParams(max_build_ahead_months=1)))
    assert one.unmet["units"].sum() == pytest.approx(10.0)
    # opening stock beyond the limit is kept, not destroyed (the plan stays feasible)
    big = plan_supply(PlanInputs(demand, bor, cap, econ, stock.assign(on_hand=50.0),
                                 SupplyParams(max_build_ahead_months=0)))
    assert big.plan["closing_stock"].tolist() == pytest.approx([50.0, 50.0, 40.0])


# --- what cannot be stocked, and plans without money ----------------------------------------------------------
def test_a_sku_that_cannot_be_stocked_is_made_in_its_month_and_the_other_builds_ahead() -> None:
    # B is a service: it cannot be built in M2 for M3. M3 still needs 20 h; the next cheapest way is to build A
    # ahead in M2 (0.12 €/h-month): 20 h = 40 A made in M2 and held a month, 40 × 0.06 = 2.40 €, against 100 €
    # of overtime. B's production is its demand month by month.
    result = plan_supply(PlanInputs(DEMAND, BOR, CAPACITY, ECONOMICS, params=params(cost_per_hour=5.0),
                                    no_stock=("B",)))
    assert column(result, "B", "production") == pytest.approx([40, 40, 80])
    assert column(result, "B", "closing_stock") == pytest.approx([0, 0, 0])
    assert column(result, "A", "production") == pytest.approx([40, 100, 40])
    assert column(result, "A", "closing_stock") == pytest.approx([0, 40, 0])
    assert result.cost_totals["holding_cost"] == pytest.approx(2.40)
    assert result.cost_totals["overtime_cost"] == pytest.approx(0.0)


def test_when_nothing_can_be_stocked_the_short_month_takes_overtime() -> None:
    # Neither A nor B can be built ahead: M3's 20 missing hours are worked as overtime at 5 €/h = 100 €
    # (losing A instead would cost 8 €/h, B 10 €/h).
    result = plan_supply(PlanInputs(DEMAND, BOR, CAPACITY, ECONOMICS, params=params(cost_per_hour=5.0),
                                    no_stock=("A", "B")))
    assert result.plan["closing_stock"].abs().max() == pytest.approx(0.0)
    assert line(result, "overtime_hours") == pytest.approx([0, 0, 20])
    assert result.cost_totals["overtime_cost"] == pytest.approx(100.0)


def test_an_opening_stock_of_an_unstockable_sku_is_used_first_and_never_added_to() -> None:
    stock = pd.DataFrame({"sku": ["B"], "on_hand": [50.0]})  # B: 50 on hand, demand 40, 40, 80
    result = plan_supply(PlanInputs(DEMAND, BOR, CAPACITY, ECONOMICS, stock, params(), no_stock=("B",)))
    assert column(result, "B", "closing_stock") == pytest.approx([10, 0, 0])
    assert column(result, "B", "production") == pytest.approx([0, 30, 80])


def test_no_stock_skus_come_from_families_and_resources() -> None:
    from sop_lib.supply import no_stock_skus

    products = pd.DataFrame({"sku": ["A", "B", "C"], "family": ["Goods", "Services", "Goods"]})
    bor = pd.DataFrame({"sku": ["A", "C"], "resource": ["Line", "Bakery"], "hours_per_unit": [1.0, 1.0]})
    p = SupplyParams(no_stock_families=("Services",), no_stock_resources=("Bakery",))
    assert no_stock_skus(products, bor, p) == ["B", "C"]


def test_without_a_price_list_the_plan_serves_the_most_units_and_reports_no_money() -> None:
    # No prices: a lost unit outweighs the overtime that could make it. Overtime costs 50 €/h here, more than
    # any margin of the hand case, yet the plan builds ahead first (M2's 30 spare hours cover M3's 20 short),
    # and loses nothing. Lost revenue and margin are unknown, not 0.
    no_prices = pd.DataFrame({"sku": ["A", "B"], "unit_price": [np.nan, np.nan], "unit_cost": [np.nan, np.nan]})
    short = CAPACITY.assign(available_hours=[100.0, 60.0, 100.0])  # M2 0 spare, M3 20 short: build-ahead impossible
    options = params(cost_per_hour=50.0, max_hours=50.0)
    result = plan_supply(PlanInputs(DEMAND, BOR, short, no_prices, params=options))
    assert result.valued_in_units
    assert result.plan["unmet"].sum() == pytest.approx(0.0)
    # M1 has 40 spare hours: building 20 h ahead for M2-M3 (tie-break holding ~0) beats 50 €/h overtime
    assert line(result, "overtime_hours") == pytest.approx([0, 0, 0])
    risk = demand_at_risk(PlanInputs(DEMAND, BOR, short, no_prices, params=options))
    # capacity alone (no build-ahead, no overtime): M2 needs 70 h of 60 and M3 120 of 100, 30 h short. A unit
    # weighs 1 + 10 × 50 × its hours: A 251 (502 an hour), B 501 (501 an hour), so B is cut: 10 in M2, 20 in M3.
    assert risk.units_at_risk == pytest.approx(30.0)
    assert column(risk.capacity_only, "B", "unmet") == pytest.approx([0, 10, 20])
    assert np.isnan(risk.revenue_at_risk)
    assert "30 units of demand at risk" in risk.summary("EUR") and "no price list" in risk.summary("EUR")
    assert risk.capacity_only.unmet["lost_revenue"].isna().all()


def test_without_unit_costs_a_lost_sale_costs_its_price() -> None:
    # Costs unknown: margin per hour is the price per hour: A 10 / 0.5 = 20 €/h, B 20 €/h; overtime 25 €/h costs
    # more, holding costs nothing: M3's 20 hours are built ahead in M2 for free (tie-break only).
    no_cost = ECONOMICS.assign(unit_cost=np.nan)
    result = plan_supply(PlanInputs(DEMAND, BOR, CAPACITY, no_cost, params=params(cost_per_hour=25.0)))
    assert not result.valued_in_units
    assert result.plan["unmet"].sum() == pytest.approx(0.0)
    assert result.cost_totals["holding_cost"] == pytest.approx(0.0)
    assert line(result, "overtime_hours") == pytest.approx([0, 0, 0])


def test_without_capacity_data_the_plan_makes_demand_as_it_comes() -> None:
    # no bill of resources, no capacity (not modelled): nothing limits production; with no stock and no safety
    # stock the plan makes each month's demand in that month and loses nothing
    no_bor = BOR.iloc[0:0]
    no_cap = CAPACITY.iloc[0:0]
    result = plan_supply(PlanInputs(DEMAND, no_bor, no_cap, ECONOMICS, unconstrained_ok=True))
    assert column(result, "A", "production") == pytest.approx([40, 60, 80])
    assert column(result, "B", "production") == pytest.approx([40, 40, 80])
    assert result.plan["unmet"].sum() == 0 and result.resources.empty
    assert set(result.unconstrained["resource"]) == {"(no route)"}
