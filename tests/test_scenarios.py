"""Scenarios through capacity and finance, and the what-if panel, checked against figures worked out by hand.

The fixture: two SKUs on one resource ``Line`` over two months.
A: 100 units a month (M1: 60 North + 40 South; M2: 100 North) × 0.5 h = 50 h; price 10, cost 6.
B: 50 units a month (South) × 1 h = 50 h; price 20, cost 12.
Required 100 h a month; available 80 h in M1 (short: factor 80/100 = 0.8) and 120 h in M2 (no rationing).
The scenarios are served by the rough-cut rule (``rough_cut=True``) so they can be worked by hand, but for the
last test: the supply linear programme, the scenarios' default and the workbooks' rule.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

from sop_lib.core.errors import SopError
from sop_lib.data.params import ScenarioSpec
from sop_lib.finance.scenarios import (
    ScenarioBasis,
    ScenarioError,
    apply_scenario,
    compare_scenarios,
    evaluate_scenario,
    ration_to_capacity,
    scenario_utilisation,
)
from sop_lib.report import scenario_chart
from sop_lib.supply import PlanInputs
from sop_lib.widgets.what_if import what_if_panel

TS = pd.Timestamp
M1, M2 = TS("2026-11-01"), TS("2026-12-01")

PLAN = pd.DataFrame([
    ("A", "North", M1, 60.0), ("A", "South", M1, 40.0), ("B", "South", M1, 50.0),
    ("A", "North", M2, 100.0), ("B", "South", M2, 50.0),
], columns=["sku", "region", "period", "units"])
BOR = pd.DataFrame([("A", "Line", 0.5), ("B", "Line", 1.0)], columns=["sku", "resource", "hours_per_unit"])
CAPACITY = pd.DataFrame([("Line", M1, 80.0), ("Line", M2, 120.0)], columns=["resource", "period", "available_hours"])
PRODUCTS = pd.DataFrame({"sku": ["A", "B"], "family": ["Soft", "Juice"]})
PRICES = pd.DataFrame({"sku": ["A", "B"], "valid_from": [TS("2026-01-01")] * 2, "unit_price": [10.0, 20.0],
                       "unit_cost": [6.0, 12.0]})
INPUTS = PlanInputs(PLAN, BOR, CAPACITY, PRICES)
RATIONED = ScenarioBasis(INPUTS, PRODUCTS, rough_cut=True)  # the proportional rule: figures worked by hand


def _served(out: pd.DataFrame) -> dict[tuple[str, str, pd.Timestamp], tuple[float, float]]:
    return {(r.sku, r.region, r.period): (r.served_units, r.unmet_units) for r in out.itertuples()}


def test_ration_to_capacity_by_hand() -> None:
    out = ration_to_capacity(PLAN, BOR, CAPACITY)
    assert list(out.columns) == ["sku", "region", "period", "units", "served_units", "unmet_units"]
    expected = {
        ("A", "North", M1): (48.0, 12.0),  # 60 × 0.8
        ("A", "South", M1): (32.0, 8.0),   # 40 × 0.8
        ("B", "South", M1): (40.0, 10.0),  # 50 × 0.8
        ("A", "North", M2): (100.0, 0.0),  # 100 h required ≤ 120 h: nothing rationed
        ("B", "South", M2): (50.0, 0.0),
    }
    got = _served(out)
    assert set(got) == set(expected)
    for key, (served, unmet) in expected.items():
        assert got[key] == pytest.approx((served, unmet), abs=1e-9), key


def test_ration_takes_the_smallest_factor_and_ignores_months_without_capacity_rows() -> None:
    # B also needs Pack: 50 × 0.2 = 10 h in M1 against 5 h → factor 0.5; Line gives 0.8 → B gets min = 0.5.
    # A is not on Pack: it keeps Line's 0.8 (the Line hours B leaves unused are not handed to A: rough cut).
    # Pack has no row for M2: not constrained there.
    bor = pd.concat([BOR, pd.DataFrame([("B", "Pack", 0.2)], columns=BOR.columns)], ignore_index=True)
    cap = pd.concat([CAPACITY, pd.DataFrame([("Pack", M1, 5.0)], columns=CAPACITY.columns)], ignore_index=True)
    got = _served(ration_to_capacity(PLAN, bor, cap))
    assert got[("B", "South", M1)] == pytest.approx((25.0, 25.0))  # 50 × 0.5
    assert got[("A", "North", M1)] == pytest.approx((48.0, 12.0))  # 60 × 0.8
    assert got[("B", "South", M2)] == pytest.approx((50.0, 0.0))


def test_ration_with_zero_hours_serves_nothing_and_unrouted_skus_are_served() -> None:
    plan = pd.DataFrame([("A", "North", M1, 10.0), ("Z", "North", M1, 7.0)], columns=PLAN.columns)
    cap = pd.DataFrame([("Line", M1, 0.0)], columns=CAPACITY.columns)
    got = _served(ration_to_capacity(plan, BOR, cap))
    assert got[("A", "North", M1)] == pytest.approx((0.0, 10.0))  # 5 h needed, 0 h available
    assert got[("Z", "North", M1)] == pytest.approx((7.0, 0.0))   # no route: not constrained


def test_evaluate_baseline_by_hand() -> None:
    got = evaluate_scenario(ScenarioBasis(INPUTS, PRODUCTS, rough_cut=True))
    expected = {
        "demand_units": 300.0,     # 150 + 150
        "served_units": 270.0,     # M1 48 + 32 + 40 = 120, M2 150
        "unmet_units": 30.0,       # 12 + 8 + 10
        "unmet_revenue": 400.0,    # A 20 × 10 + B 10 × 20
        "revenue": 3600.0,         # M1 80 × 10 + 40 × 20 = 1600; M2 100 × 10 + 50 × 20 = 2000
        "cogs": 2160.0,            # M1 80 × 6 + 40 × 12 = 960; M2 100 × 6 + 50 × 12 = 1200
        "gross_margin": 1440.0,    # 3600 − 2160
        "margin_pct": 40.0,        # 1440 / 3600 × 100
        "peak_utilisation": 1.25,  # M1 100 / 80 (of demand, before rationing)
        "mean_utilisation": (1.25 + 100 / 120) / 2,
        "resource_months_over": 1.0,
        "hours_short": 20.0,       # M1 100 − 80
        "overtime_hours": 0.0,     # the rough-cut rule has no overtime …
        "supply_cost": 0.0,        # … and holds no stock
    }
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-12), key


def test_apply_scenario_compounds_demand_and_leaves_costs_alone() -> None:
    spec = ScenarioSpec(demand_pct=10, demand_pct_by_family={"Juice": -50}, price_pct=10,
                        capacity_pct={"Line": -50}, extra_hours={"Line": 10})
    seen = apply_scenario(INPUTS, PRODUCTS, spec)
    plan, cap, prices = seen.demand, seen.capacity, seen.prices
    # A (Soft): × 1.1 → 66, 44, 110; B (Juice): × 1.1 × 0.5 = × 0.55 → 27.5
    assert plan["units"].tolist() == pytest.approx([66.0, 44.0, 27.5, 110.0, 27.5])
    assert cap["available_hours"].tolist() == pytest.approx([50.0, 70.0])  # 80 × 0.5 + 10, 120 × 0.5 + 10
    assert prices["unit_price"].tolist() == pytest.approx([11.0, 22.0])
    assert prices["unit_cost"].tolist() == [6.0, 12.0]
    assert PLAN["units"].tolist() == [60.0, 40.0, 50.0, 100.0, 50.0]  # the inputs are not modified


def _evaluate(spec: ScenarioSpec) -> dict[str, float]:
    return evaluate_scenario(ScenarioBasis(apply_scenario(INPUTS, PRODUCTS, spec), PRODUCTS, rough_cut=True))


def test_price_up_ten_percent() -> None:
    got = _evaluate(ScenarioSpec(price_pct=10))
    assert got["served_units"] == pytest.approx(270.0)       # volumes as in the baseline
    assert got["revenue"] == pytest.approx(3960.0)           # 3600 × 1.1
    assert got["cogs"] == pytest.approx(2160.0)              # costs unchanged
    assert got["gross_margin"] == pytest.approx(1800.0)      # 3960 − 2160
    assert got["margin_pct"] == pytest.approx(1800 / 3960 * 100)  # 45.45 %
    assert got["unmet_revenue"] == pytest.approx(440.0)      # 400 × 1.1


def test_extra_hours_remove_the_unmet_demand() -> None:
    got = _evaluate(ScenarioSpec(extra_hours={"Line": 20}))  # M1 100 h = the 100 h required: not over
    assert got["unmet_units"] == 0.0
    assert got["revenue"] == pytest.approx(4000.0)       # 200 × 10 + 100 × 20
    assert got["gross_margin"] == pytest.approx(1600.0)  # 4000 − (200 × 6 + 100 × 12)
    assert got["peak_utilisation"] == pytest.approx(1.0)
    assert got["resource_months_over"] == 0.0            # exactly 100 % is not over capacity
    assert got["hours_short"] == 0.0


def test_capacity_halved() -> None:
    got = _evaluate(ScenarioSpec(capacity_pct={"Line": -50}))
    # M1 40 h for 100 h → factor 0.4: A 40, B 20; M2 60 h for 100 h → 0.6: A 60, B 30
    assert got["served_units"] == pytest.approx(150.0)
    assert got["unmet_units"] == pytest.approx(150.0)
    assert got["revenue"] == pytest.approx(2000.0)       # M1 400 + 400, M2 600 + 600
    assert got["unmet_revenue"] == pytest.approx(2000.0)  # A 100 × 10 + B 50 × 20
    assert got["hours_short"] == pytest.approx(100.0)    # 60 + 40
    assert got["peak_utilisation"] == pytest.approx(2.5)  # 100 / 40
    assert got["resource_months_over"] == 2.0


def test_unknown_resource_and_family_are_named() -> None:
    spec = ScenarioSpec(capacity_pct={"Bottlng": 10}, demand_pct_by_family={"Snacks": 5})
    with pytest.raises(ScenarioError) as err:
        compare_scenarios(RATIONED, scenarios={"typo": spec})
    msg = str(err.value)
    assert "'typo'" in msg and "'Bottlng'" in msg and "Line" in msg  # scenario, unknown and known resource
    assert "'Snacks'" in msg and "Juice" in msg and "Soft" in msg
    assert isinstance(err.value, SopError) and err.value.exit_code == 2


def test_baseline_is_a_reserved_name() -> None:
    with pytest.raises(ScenarioError, match="baseline"):
        compare_scenarios(RATIONED, scenarios={"baseline": ScenarioSpec()})


def test_compare_scenarios_order_and_deltas() -> None:
    scenarios = {"price_up": ScenarioSpec(description="Prices +10 %", price_pct=10),
                 "extra_shift": ScenarioSpec(description="20 h more", extra_hours={"Line": 20})}
    out = compare_scenarios(RATIONED, scenarios=scenarios)
    assert out["scenario"].tolist() == ["baseline", "price_up", "extra_shift"]
    assert out["description"].tolist()[1:] == ["Prices +10 %", "20 h more"]
    assert out.columns[:2].tolist() == ["scenario", "description"]
    assert out["revenue"].tolist() == pytest.approx([3600.0, 3960.0, 4000.0])
    assert out["revenue_vs_baseline"].tolist() == pytest.approx([0.0, 360.0, 400.0])
    assert out["margin_vs_baseline"].tolist() == pytest.approx([0.0, 360.0, 160.0])  # 1800 − 1440, 1600 − 1440
    assert out["unmet_vs_baseline"].tolist() == pytest.approx([0.0, 0.0, -30.0])
    assert out["resource_months_over"].tolist() == [1, 1, 0]


def test_compare_scenarios_first_months_only() -> None:
    out = compare_scenarios(ScenarioBasis(INPUTS, PRODUCTS, months=1, rough_cut=True), scenarios={})
    row = out.iloc[0]
    assert (row["demand_units"], row["served_units"], row["revenue"]) == pytest.approx((150.0, 120.0, 1600.0))
    assert row["mean_utilisation"] == pytest.approx(1.25)  # M1 only


def test_scenario_utilisation_per_resource() -> None:
    out = scenario_utilisation(ScenarioBasis(INPUTS, PRODUCTS), scenarios={"halved": ScenarioSpec(capacity_pct={"Line": -50})})
    assert out.columns.tolist() == ["scenario", "resource", "peak_utilisation", "peak_month", "months_over",
                                    "hours_short", "mean_utilisation"]
    rows = {r.scenario: r for r in out.itertuples()}
    assert rows["baseline"].peak_utilisation == pytest.approx(1.25) and rows["baseline"].peak_month == M1
    assert rows["halved"].peak_utilisation == pytest.approx(2.5) and rows["halved"].months_over == 2
    assert rows["halved"].hours_short == pytest.approx(100.0)


def test_scenario_chart_shows_money_and_utilisation() -> None:
    out = compare_scenarios(RATIONED, scenarios={"halved": ScenarioSpec(capacity_pct={"Line": -50})})
    fig = scenario_chart(out, "EUR")
    assert isinstance(fig, go.Figure)
    names = [t.name for t in fig.data]
    assert names == ["revenue", "gross margin", "lost revenue (unmet demand)", "peak utilisation"]
    assert list(fig.data[0].y) == pytest.approx([3600.0, 2000.0])
    assert list(fig.data[3].y) == pytest.approx([125.0, 250.0])  # in % of available hours
    assert "EUR" in fig.layout.annotations[0].text and "EUR" in fig.layout.yaxis.title.text


def test_what_if_panel_recomputes_on_slider_change() -> None:
    panel = what_if_panel(RATIONED, currency="EUR")
    assert panel.result["scenario"].tolist() == ["baseline", "what-if"]
    assert panel.result["revenue"].tolist() == pytest.approx([3600.0, 3600.0])  # sliders at 0: what-if = baseline
    assert set(panel.capacity) == {"Line"}

    panel.capacity["Line"].value = 25  # M1 80 × 1.25 = 100 h, M2 150 h: nothing short
    what_if = panel.result.iloc[1]
    assert what_if["unmet_units"] == pytest.approx(0.0)
    assert what_if["revenue"] == pytest.approx(4000.0)  # all 300 units served: 200 × 10 + 100 × 20

    panel.price_pct.value = 10
    assert panel.result.iloc[1]["revenue"] == pytest.approx(4400.0)  # 4000 × 1.1
    assert panel.result.iloc[1]["revenue_vs_baseline"] == pytest.approx(800.0)
    assert "what-if" in panel.table.value and "4,400" in panel.table.value

    panel.reset()
    panel.demand_pct.value = -20  # A 80, B 40 a month: 40 + 40 = 80 h = M1's 80 h, so nothing rationed
    what_if = panel.result.iloc[1]
    assert what_if["unmet_units"] == pytest.approx(0.0)
    assert what_if["revenue"] == pytest.approx(3200.0)  # 160 × 10 + 80 × 20
    assert what_if["description"] == "demand -20 %"


def test_scenarios_planned_by_the_supply_programme() -> None:
    """By default each scenario is the cycle's constrained plan: stock and overtime fill M1's gap."""
    from sop_lib.data.params import Overtime, SupplyParams

    # M1 needs 100 h against 80: 20 A in stock (10 h of A) + 10 h of overtime at 1 EUR/h close it exactly
    supply = PlanInputs(PLAN, BOR, CAPACITY, PRICES, opening_stock=pd.DataFrame({"sku": ["A"], "on_hand": [20.0]}),
                        params=SupplyParams(overtime={"Line": Overtime(max_hours=10, cost_per_hour=1.0)}))
    got = evaluate_scenario(ScenarioBasis(supply, PRODUCTS))
    assert got["unmet_units"] == pytest.approx(0.0) and got["served_units"] == pytest.approx(300.0)
    assert got["revenue"] == pytest.approx(4000.0)  # A 200 × 10 + B 100 × 20
    assert got["overtime_hours"] == pytest.approx(10.0) and got["supply_cost"] == pytest.approx(10.0)
    # capacity −50 %: M1 40 h + 10 h overtime + 10 h of A from stock = 60 of the 100 h needed; M2 60 h + 10 h
    # overtime = 70 of 100 h. Both SKUs earn 8 EUR an hour of Line, so 40 + 30 = 70 h of margin are lost: 560 EUR
    table = compare_scenarios(ScenarioBasis(supply, PRODUCTS), {"half": ScenarioSpec(capacity_pct={"Line": -50})})
    half = table.set_index("scenario").loc["half"]
    assert half["gross_margin"] == pytest.approx(1600.0 - 560.0)  # baseline margin 1600 (all served)
    assert half["overtime_hours"] == pytest.approx(20.0) and half["supply_cost"] == pytest.approx(20.0)
