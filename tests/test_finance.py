"""Money: prices in force, plan financials and the gap to budget, checked by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from sop_lib.data.prices import prices_for
from sop_lib.finance.plan_value import budget_gap, gap_summary, plan_financials

TS = pd.Timestamp

PRICES = pd.DataFrame({
    "sku": ["A", "B", "A"],
    "valid_from": [TS("2026-06-01"), TS("2026-03-01"), TS("2026-01-01")],  # not sorted on purpose
    "unit_price": [2.2, 5.0, 2.0],
    "unit_cost": [1.1, 3.0, 1.0],
})
PRODUCTS = pd.DataFrame({"sku": ["A", "B"], "family": ["Drinks", "Bars"]})


def test_prices_for_picks_the_price_in_force_and_keeps_row_order() -> None:
    months = pd.DataFrame({
        "sku": ["A", "A", "A", "B", "A", "B"],
        "period": [TS("2026-07-01"), TS("2025-12-01"), TS("2026-06-01"), TS("2026-01-01"), TS("2026-05-01"),
                   TS("2026-03-01")],
        "units": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    })
    out = prices_for(months, PRICES)
    assert out["sku"].tolist() == ["A", "A", "A", "B", "A", "B"]
    assert out["units"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]  # rows stay where they were
    assert out["unit_price"].tolist() == [
        2.2,  # 2026-07: latest valid_from ≤ month is 2026-06
        2.0,  # 2025-12: before A's first price → its first price
        2.2,  # 2026-06: valid_from on the month itself is in force
        5.0,  # 2026-01: before B's first price (2026-03) → its first price
        2.0,  # 2026-05: still the 2026-01 price
        5.0,  # 2026-03
    ]
    assert out["unit_cost"].tolist() == [1.1, 1.0, 1.1, 3.0, 1.0, 3.0]


def test_plan_financials_by_hand() -> None:
    plan = pd.DataFrame([
        ("A", "North", TS("2026-07-01"), 100.0),
        ("A", "South", TS("2026-07-01"), 50.0),
        ("B", "North", TS("2026-07-01"), 10.0),
        ("A", "North", TS("2026-05-01"), 20.0),
    ], columns=["sku", "region", "period", "units"])
    out = plan_financials(plan, PRODUCTS, PRICES)
    expected = pd.DataFrame([
        # family, sku, period, units, price, cost, revenue, cogs, gross_margin
        ("Bars", "B", TS("2026-07-01"), 10.0, 5.0, 3.0, 50.0, 30.0, 20.0),         # 10×5 ; 10×3
        ("Drinks", "A", TS("2026-05-01"), 20.0, 2.0, 1.0, 40.0, 20.0, 20.0),       # 20×2 ; 20×1
        ("Drinks", "A", TS("2026-07-01"), 150.0, 2.2, 1.1, 330.0, 165.0, 165.0),   # (100+50)×2.2 ; 150×1.1
    ], columns=["family", "sku", "period", "units", "unit_price", "unit_cost", "revenue", "cogs",
                "gross_margin"])
    pd.testing.assert_frame_equal(out[expected.columns.tolist()], expected, check_dtype=False)


def _plan_rows() -> pd.DataFrame:
    m5, m6, m7 = TS("2026-05-01"), TS("2026-06-01"), TS("2026-07-01")
    return pd.DataFrame([
        # Drinks 2026-05 is two SKUs: 60+40 units, 63+42 = 105 revenue, 30+20 = 50 margin
        ("Drinks", "A", m5, 60.0, 63.0, 33.0, 30.0),
        ("Drinks", "C", m5, 40.0, 42.0, 22.0, 20.0),
        ("Drinks", "A", m6, 100.0, 106.0, 56.0, 50.0),
        ("Drinks", "A", m7, 100.0, 100.0, 50.0, 50.0),  # no budget for 2026-07: dropped
        ("Bars", "B", m5, 20.0, 95.0, 65.0, 30.0),
        ("Bars", "B", m6, 10.0, 40.0, 28.0, 12.0),
    ], columns=["family", "sku", "period", "units", "revenue", "cogs", "gross_margin"])


def _budget_rows() -> pd.DataFrame:
    m5, m6, m8 = TS("2026-05-01"), TS("2026-06-01"), TS("2026-08-01")
    return pd.DataFrame([
        ("Drinks", m5, 90.0, 100.0, 40.0),
        ("Drinks", m6, 100.0, 100.0, 45.0),
        ("Bars", m5, 25.0, 100.0, 35.0),
        ("Bars", m6, 20.0, 50.0, 20.0),
        ("Bars", m8, 20.0, 50.0, 20.0),  # no plan for 2026-08: dropped
    ], columns=["family", "period", "units", "revenue", "gross_margin"])


def test_budget_gap_by_hand() -> None:
    gap = budget_gap(_plan_rows(), _budget_rows(), threshold_pct=5.0)
    assert list(gap[["family", "period"]].itertuples(index=False, name=None)) == [
        ("Bars", TS("2026-05-01")), ("Bars", TS("2026-06-01")),
        ("Drinks", TS("2026-05-01")), ("Drinks", TS("2026-06-01")),
    ]
    assert gap["plan_units"].tolist() == [20.0, 10.0, 100.0, 100.0]
    assert gap["gap_units"].tolist() == [-5.0, -10.0, 10.0, 0.0]       # 20-25, 10-20, 100-90, 100-100
    assert gap["plan_revenue"].tolist() == [95.0, 40.0, 105.0, 106.0]
    assert gap["gap_revenue"].tolist() == [-5.0, -10.0, 5.0, 6.0]      # 95-100, 40-50, 105-100, 106-100
    assert gap["gap_margin"].tolist() == [-5.0, -8.0, 10.0, 5.0]       # 30-35, 12-20, 50-40, 50-45
    # gap % = revenue gap / budget revenue × 100: -5/100, -10/50, 5/100, 6/100
    assert gap["gap_pct"].tolist() == pytest.approx([-5.0, -20.0, 5.0, 6.0])
    # flagged beyond ±5 %: exactly -5 % and +5 % are not flagged
    assert gap["flag"].tolist() == [False, True, False, True]


def test_budget_gap_with_zero_budget_revenue_has_no_percentage() -> None:
    plan = pd.DataFrame([("Bars", "B", TS("2026-05-01"), 1.0, 5.0, 3.0, 2.0)],
                        columns=["family", "sku", "period", "units", "revenue", "cogs", "gross_margin"])
    budget = pd.DataFrame([("Bars", TS("2026-05-01"), 0.0, 0.0, 0.0)],
                          columns=["family", "period", "units", "revenue", "gross_margin"])
    gap = budget_gap(plan, budget, threshold_pct=5.0)
    assert gap.loc[0, "gap_revenue"] == 5.0
    assert math.isnan(gap.loc[0, "gap_pct"])
    assert bool(gap.loc[0, "flag"])  # 5.0 of revenue where finance budgeted none is a gap to raise
    nothing = budget_gap(plan.assign(revenue=0.0, cogs=0.0, gross_margin=0.0, units=0.0), budget, threshold_pct=5.0)
    assert not bool(nothing.loc[0, "flag"])  # neither plan nor budget: nothing to flag


def test_gap_summary_per_family_and_total() -> None:
    summary = gap_summary(budget_gap(_plan_rows(), _budget_rows(), threshold_pct=5.0)).set_index("family")
    assert list(summary.index) == ["Bars", "Drinks", "All families"]
    bars, drinks, total = summary.loc["Bars"], summary.loc["Drinks"], summary.loc["All families"]
    # Bars: units 20+10 vs 25+20 ; revenue 95+40 vs 100+50 ; margin 30+12 vs 35+20
    assert (bars["plan_units"], bars["budget_units"], bars["gap_units"]) == (30.0, 45.0, -15.0)
    assert (bars["plan_revenue"], bars["budget_revenue"], bars["gap_revenue"]) == (135.0, 150.0, -15.0)
    assert (bars["plan_margin"], bars["budget_margin"], bars["gap_margin"]) == (42.0, 55.0, -13.0)
    assert bars["gap_pct"] == pytest.approx(-10.0)  # -15 / 150
    assert bars["months_flagged"] == 1
    # Drinks: units 100+100 vs 90+100 ; revenue 105+106 vs 100+100 ; margin 50+50 vs 40+45
    assert (drinks["plan_units"], drinks["budget_units"], drinks["gap_units"]) == (200.0, 190.0, 10.0)
    assert (drinks["plan_revenue"], drinks["budget_revenue"], drinks["gap_revenue"]) == (211.0, 200.0, 11.0)
    assert (drinks["plan_margin"], drinks["budget_margin"], drinks["gap_margin"]) == (100.0, 85.0, 15.0)
    assert drinks["gap_pct"] == pytest.approx(5.5)  # 11 / 200
    assert drinks["months_flagged"] == 1
    # total: units 230 vs 235 ; revenue 346 vs 350 ; margin 142 vs 140
    assert (total["plan_units"], total["budget_units"], total["gap_units"]) == (230.0, 235.0, -5.0)
    assert (total["plan_revenue"], total["budget_revenue"], total["gap_revenue"]) == (346.0, 350.0, -4.0)
    assert (total["plan_margin"], total["budget_margin"], total["gap_margin"]) == (142.0, 140.0, 2.0)
    assert total["gap_pct"] == pytest.approx(-1.1428571428571428)  # -4 / 350 × 100
    assert total["months_flagged"] == 2
