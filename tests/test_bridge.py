"""Price / volume / mix / cost bridges and the constrained plan in money, checked against numbers worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sop_lib.core.labels import ALL_FAMILIES
from sop_lib.finance.bridge import (
    BridgeError,
    actual_bridge,
    bridge_wide,
    budget_bridge,
    plan_bridge,
    pvm_bridge,
    round_bridge,
)
from sop_lib.finance.plan_value import MissingPrices, constrained_financials, family_totals

TS = pd.Timestamp
M5, M6, M7, M8 = TS("2026-05-01"), TS("2026-06-01"), TS("2026-07-01"), TS("2026-08-01")
CHANGES = ["volume", "mix", "price", "cost"]


def items(rows: list[tuple[str, float, float, float]]) -> pd.DataFrame:
    """(sku, units, unit price, unit cost) → sku, units, revenue, cogs."""
    return pd.DataFrame([(s, v, v * p, v * c) for s, v, p, c in rows], columns=["sku", "units", "revenue", "cogs"])


def effects(bridge: pd.DataFrame, measure: str, **keys: object) -> dict[str, float]:
    """The effects of one measure (and group) as {effect: amount}; NaT selects the totals over the months."""
    rows = bridge[bridge["measure"] == measure]
    for col, value in keys.items():
        rows = rows[rows[col].isna()] if value is pd.NaT else rows[rows[col] == value]
    assert len(rows) == 6, rows
    return dict(zip(rows["effect"], rows["amount"], strict=True))


def assert_adds_up(bridge: pd.DataFrame) -> None:
    """Every group and measure: volume + mix + price + cost = new − base."""
    keys = [c for c in bridge.columns if c not in ("effect", "amount")]
    for _, g in bridge.groupby(keys, dropna=False):
        a = dict(zip(g["effect"], g["amount"], strict=True))
        assert sum(a[e] for e in CHANGES) == pytest.approx(a["new"] - a["base"], abs=1e-9)
        assert not g["amount"].isna().any()


# --- the bridge itself ----------------------------------------------------------------------------------------

def test_pvm_bridge_by_hand_two_items() -> None:
    # base: A 100 u at 10 (cost 6, margin 4), B 100 u at 20 (cost 12, margin 8)
    #   ΣV 200, shares ½ ½, average margin 6, margin 400 + 800 = 1200, average price 15, revenue 3000
    # new:  A 150 u at 11 (cost 6.5, margin 4.5), B 90 u at 19 (cost 12, margin 7)
    #   ΣV 240, margin 675 + 630 = 1305, revenue 1650 + 1710 = 3360
    base = items([("A", 100, 10, 6), ("B", 100, 20, 12)])
    new = items([("A", 150, 11, 6.5), ("B", 90, 19, 12)])
    out = pvm_bridge(base, new, item="sku")
    assert list(out.columns) == ["measure", "effect", "amount"]
    assert out["effect"].tolist() == ["base", "volume", "mix", "price", "cost", "new"] * 2
    margin = effects(out, "gross_margin")
    assert margin["base"] == pytest.approx(1200) and margin["new"] == pytest.approx(1305)
    assert margin["volume"] == pytest.approx(240)   # (240 − 200) × 6
    assert margin["mix"] == pytest.approx(-120)     # (150 − 240·½) × 4 + (90 − 240·½) × 8 = 120 − 240
    assert margin["price"] == pytest.approx(60)     # 150 × (11 − 10) + 90 × (19 − 20) = 150 − 90
    assert margin["cost"] == pytest.approx(-75)     # −[150 × (6.5 − 6) + 90 × (12 − 12)]
    assert sum(margin[e] for e in CHANGES) == pytest.approx(1305 - 1200)  # 240 − 120 + 60 − 75 = 105
    revenue = effects(out, "revenue")
    assert revenue["base"] == pytest.approx(3000) and revenue["new"] == pytest.approx(3360)
    assert revenue["volume"] == pytest.approx(600)  # 40 × 15
    assert revenue["mix"] == pytest.approx(-300)    # 30 × 10 + (−30) × 20
    assert revenue["price"] == pytest.approx(60)    # the same unit price changes as in margin
    assert revenue["cost"] == 0.0
    assert sum(revenue[e] for e in CHANGES) == pytest.approx(360)  # 600 − 300 + 60


def test_pvm_bridge_item_only_in_base_and_item_only_in_new() -> None:
    # base: A 100 u at 10 (cost 6, m 4), C 50 u at 4 (cost 3, m 1) — C is discontinued
    #   ΣV 150, shares ⅔ ⅓, average margin ⅔·4 + ⅓·1 = 3, margin 400 + 50 = 450; average price 8, revenue 1200
    # new:  A 100 u at 11 (cost 6, m 5), D 20 u at 15 (cost 5, m 10) — D is launched
    #   ΣV 120, margin 500 + 200 = 700, revenue 1100 + 300 = 1400
    # D has base share 0 and its new price and cost as base ones; C has V_new = 0.
    base = items([("A", 100, 10, 6), ("C", 50, 4, 3)])
    new = items([("A", 100, 11, 6), ("D", 20, 15, 5)])
    out = pvm_bridge(base, new, item="sku")
    margin = effects(out, "gross_margin")
    assert margin["volume"] == pytest.approx(-90)  # (120 − 150) × 3
    # A (100 − 120·⅔) × 4 = 80 ; C (0 − 120·⅓) × 1 = −40 ; D (20 − 0) × 10 = 200
    assert margin["mix"] == pytest.approx(240)
    assert margin["price"] == pytest.approx(100)   # A 100 × (11 − 10); C sells nothing; D priced as itself
    assert margin["cost"] == pytest.approx(0)
    assert sum(margin[e] for e in CHANGES) == pytest.approx(700 - 450)  # −90 + 240 + 100 = 250
    revenue = effects(out, "revenue")
    assert revenue["volume"] == pytest.approx(-240)  # −30 × 8
    assert revenue["mix"] == pytest.approx(340)      # A 20 × 10 ; C −40 × 4 ; D 20 × 15 → 200 − 160 + 300
    assert revenue["price"] == pytest.approx(100)
    assert sum(revenue[e] for e in CHANGES) == pytest.approx(1400 - 1200)


def test_pvm_bridge_base_without_units_is_all_volume_without_nan() -> None:
    # new: A 10 u at 5 (cost 3), B 30 u at 2 (cost 1): revenue 50 + 60 = 110, margin 20 + 30 = 50
    new = items([("A", 10, 5, 3), ("B", 30, 2, 1)])
    nothing = pd.DataFrame({"sku": ["A"], "units": [0.0], "revenue": [0.0], "cogs": [0.0]})
    out = pvm_bridge(nothing, new, item="sku")
    assert effects(out, "gross_margin") == pytest.approx(
        {"base": 0, "volume": 50, "mix": 0, "price": 0, "cost": 0, "new": 50})  # no base mix: new shares stand in
    assert effects(out, "revenue") == pytest.approx(
        {"base": 0, "volume": 110, "mix": 0, "price": 0, "cost": 0, "new": 110})
    # money on zero units (a rebate of 20 revenue, 5 cost) cannot be split by volume: it is price and cost
    rebate = nothing.assign(revenue=20.0, cogs=5.0)
    margin = effects(pvm_bridge(rebate, new, item="sku"), "gross_margin")
    # base margin 20 − 5 = 15 ; new 50 ; volume 50, price −20, cost +5 → 35
    assert margin == pytest.approx({"base": 15, "volume": 50, "mix": 0, "price": -20, "cost": 5, "new": 50})
    # neither side has anything: all zero, no NaN
    empty = effects(pvm_bridge(nothing, nothing, item="sku"), "gross_margin")
    assert empty == {"base": 0.0, "volume": 0.0, "mix": 0.0, "price": 0.0, "cost": 0.0, "new": 0.0}


def test_pvm_bridge_by_groups_sums_rows_and_bridges_one_sided_groups() -> None:
    base = items([("A", 100, 10, 6), ("B", 100, 20, 12)]).assign(period=M5)
    # A's 150 units of M5 come in two rows (two regions): 100 at 11 and 50 at 11
    new = pd.concat([items([("A", 100, 11, 6.5), ("A", 50, 11, 6.5), ("B", 90, 19, 12)]).assign(period=M5),
                     items([("A", 10, 10, 6)]).assign(period=M6)], ignore_index=True)
    out = pvm_bridge(base, new, item="sku", by=["period"])
    assert list(out.columns) == ["period", "measure", "effect", "amount"]
    assert effects(out, "gross_margin", period=M5) == pytest.approx(
        {"base": 1200, "volume": 240, "mix": -120, "price": 60, "cost": -75, "new": 1305})  # as by hand above
    # M6 is only in new: bridged from 0, all volume (10 × 4)
    assert effects(out, "gross_margin", period=M6) == pytest.approx(
        {"base": 0, "volume": 40, "mix": 0, "price": 0, "cost": 0, "new": 40})
    assert_adds_up(out)


def test_pvm_bridge_rejects_negative_units_and_missing_columns() -> None:
    good = items([("A", 1, 1, 1)])
    with pytest.raises(BridgeError, match="negative units"):
        pvm_bridge(good.assign(units=-1.0), good, item="sku")
    with pytest.raises(BridgeError, match="lacks column"):
        pvm_bridge(good.drop(columns="cogs"), good, item="sku")
    with pytest.raises(BridgeError, match="without units, revenue or cogs"):
        pvm_bridge(good, good.assign(revenue=np.nan), item="sku")


# --- rounding to the cent -------------------------------------------------------------------------------------

def _bridge(amounts: list[float], measure: str = "revenue") -> pd.DataFrame:
    return pd.DataFrame({"measure": measure, "effect": ["base", "volume", "mix", "price", "cost", "new"],
                         "amount": amounts})


def test_round_bridge_gives_the_missing_cent_to_the_largest_remainder() -> None:
    # 100.004 + 0.333 + 0.333 + 0.334 + 0 = 101.004. Rounded alone: 100.00 + 0.33 + 0.33 + 0.33 = 100.99, not
    # 101.00. The cent goes to price, whose remainder (0.4 cent) is the largest.
    out = round_bridge(pd.concat([_bridge([100.004, 0.333, 0.333, 0.334, 0.0, 101.004]),
                                  # 0.005 + 0.005 − 0.01 = 0: rounded alone 0.01 + 0.01 − 0.01 = 0.01, a cent too
                                  # many; it comes off volume (rounded up by ½ cent, first of the tie)
                                  _bridge([0.0, 0.005, 0.005, -0.01, 0.0, 0.0], measure="gross_margin")]))
    assert out["amount"].tolist()[:6] == [100.00, 0.33, 0.33, 0.34, 0.00, 101.00]
    assert out["amount"].tolist()[6:] == [0.00, 0.00, 0.01, -0.01, 0.00, 0.00]
    cents = (out["amount"] * 100).round().astype(int).to_numpy().reshape(2, 6)
    assert (cents[:, 1:5].sum(axis=1) == cents[:, 5] - cents[:, 0]).all()


def test_round_bridge_rounds_half_away_from_zero_and_ticks_every_group() -> None:
    assert round_bridge(_bridge([1.005, 0.0, 0.0, 0.0, 0.0, 1.005]))["amount"].tolist()[0] == 1.01
    rng = np.random.default_rng(7)
    rows = [(f"S{i}", float(rng.integers(1, 50)), round(float(rng.uniform(1, 9)), 3),
             round(float(rng.uniform(0.1, 0.9)), 3)) for i in range(7)]
    base = items([(s, v, p, p * c) for s, v, p, c in rows[:5]]).assign(family=["F", "F", "G", "G", "G"])
    new = items([(s, v + 3, p * 1.037, p * c * 0.981) for s, v, p, c in rows[2:]]).assign(
        family=["G", "G", "G", "H", "H"])
    exact = pvm_bridge(base, new, item="sku", by=["family"])
    rounded = round_bridge(exact)
    assert rounded.drop(columns="amount").equals(exact.drop(columns="amount"))
    cents = (rounded["amount"] * 100).round().astype(np.int64)
    assert ((rounded["amount"] - exact["amount"]).abs() <= 0.01 + 1e-9).all()
    for _, g in rounded.assign(cents=cents).groupby(["family", "measure"]):
        c = dict(zip(g["effect"], g["cents"], strict=True))
        assert sum(c[e] for e in CHANGES) == c["new"] - c["base"]


def test_round_bridge_needs_base_and_new() -> None:
    with pytest.raises(BridgeError, match="one base and one new"):
        round_bridge(_bridge([1, 0, 0, 0, 0, 1]).iloc[:5])


# --- budget, last plan and actuals ----------------------------------------------------------------------------

def _plan_financials() -> pd.DataFrame:
    rows = [  # family, sku, period, units, revenue, cogs
        ("Drinks", "A1", M5, 60.0, 660.0, 360.0),  # Drinks M5: 120 u, 1260 revenue, 720 cogs → P 10.5, C 6
        ("Drinks", "A2", M5, 60.0, 600.0, 360.0),
        ("Bars", "B1", M5, 40.0, 840.0, 440.0),    # Bars M5: P 21, C 11
        ("Drinks", "A1", M6, 90.0, 900.0, 540.0),  # Drinks M6: P 10, C 6
        ("Bars", "B1", M6, 10.0, 200.0, 100.0),    # Bars M6: P 20, C 10; the budget has no Bars in M6
        ("Drinks", "A1", M7, 99.0, 999.0, 555.0),  # M7: no budget → not bridged
    ]
    out = pd.DataFrame(rows, columns=["family", "sku", "period", "units", "revenue", "cogs"])
    return out.assign(gross_margin=out["revenue"] - out["cogs"])


def _budget() -> pd.DataFrame:
    return pd.DataFrame([  # family, period, units, revenue, gross_margin
        ("Drinks", M5, 100.0, 1000.0, 400.0),  # P 10, C 6, m 4
        ("Bars", M5, 50.0, 1000.0, 500.0),     # P 20, C 10, m 10
        ("Drinks", M6, 100.0, 1000.0, 400.0),
        ("Drinks", M8, 100.0, 1000.0, 400.0),  # M8: no plan → not bridged
    ], columns=["family", "period", "units", "revenue", "gross_margin"])


def test_budget_bridge_by_hand() -> None:
    out = budget_bridge(_plan_financials(), _budget())
    assert list(out.columns) == ["family", "period", "measure", "effect", "amount"]
    assert set(out["period"].dropna()) == {M5, M6}
    # family order: families, then All families; within each the months, then the total (NaT)
    order = out.drop_duplicates(["family", "period"])[["family", "period"]].astype(str).agg(" ".join, axis=1)
    assert order.tolist() == ["Bars 2026-05-01", "Bars 2026-06-01", "Bars NaT", "Drinks 2026-05-01",
                              "Drinks 2026-06-01", "Drinks NaT", "All families 2026-05-01",
                              "All families 2026-06-01", "All families NaT"]
    g = "gross_margin"
    # Drinks M5: 400 → 540 ; volume 20 × 4 = 80 ; one item, no mix ; price 120 × 0.5 = 60 ; cost 120 × 0 = 0
    assert effects(out, g, family="Drinks", period=M5) == pytest.approx(
        {"base": 400, "volume": 80, "mix": 0, "price": 60, "cost": 0, "new": 540})
    # Bars M5: 500 → 400 ; volume −10 × 10 ; price 40 × (21 − 20) ; cost −40 × (11 − 10)
    assert effects(out, g, family="Bars", period=M5) == pytest.approx(
        {"base": 500, "volume": -100, "mix": 0, "price": 40, "cost": -40, "new": 400})
    # Bars M6, which the budget lacks: from 0, all volume
    assert effects(out, g, family="Bars", period=M6) == pytest.approx(
        {"base": 0, "volume": 100, "mix": 0, "price": 0, "cost": 0, "new": 100})
    # All families M5: base Drinks 100 u (m 4), Bars 50 u (m 10): shares ⅔ ⅓, average margin 6, margin 900
    #   new 120 + 40 = 160 u, margin 540 + 400 = 940
    #   volume 10 × 6 = 60 ; mix (120 − 160·⅔) × 4 + (40 − 160·⅓) × 10 = 53⅓ − 133⅓ = −80
    #   price 120 × 0.5 + 40 × 1 = 100 ; cost −40 × 1 = −40 ; 60 − 80 + 100 − 40 = 40 = 940 − 900
    assert effects(out, g, family=ALL_FAMILIES, period=M5) == pytest.approx(
        {"base": 900, "volume": 60, "mix": -80, "price": 100, "cost": -40, "new": 940})
    # All families M6: base Drinks 100 u only (margin 400); new Drinks 90 (m 4), Bars 10 (m 10): 460
    #   volume 0 ; mix (90 − 100) × 4 + (10 − 0) × 10 = 60
    assert effects(out, g, family=ALL_FAMILIES, period=M6) == pytest.approx(
        {"base": 400, "volume": 0, "mix": 60, "price": 0, "cost": 0, "new": 460})
    # totals over the months are the sums of the monthly bridges
    assert effects(out, g, family="Drinks", period=pd.NaT) == pytest.approx(
        {"base": 800, "volume": 40, "mix": 0, "price": 60, "cost": 0, "new": 900})  # volume 80 − 40 (M6: −10 × 4)
    assert effects(out, g, family=ALL_FAMILIES, period=pd.NaT) == pytest.approx(
        {"base": 1300, "volume": 60, "mix": -20, "price": 100, "cost": -40, "new": 1400})
    # revenue, All families M5: average budget price ⅔·10 + ⅓·20 = 13⅓ ; volume 10 × 13⅓ ;
    #   mix (13⅓) × 10 + (−13⅓) × 20 = −133⅓ ; price 100 ; 2000 → 2100
    assert effects(out, "revenue", family=ALL_FAMILIES, period=M5) == pytest.approx(
        {"base": 2000, "volume": 400 / 3, "mix": -400 / 3, "price": 100, "cost": 0, "new": 2100})
    assert_adds_up(out)
    # the rounded bridge ticks in every group, totals over the months included
    rounded = round_bridge(out)
    cents = rounded.assign(c=(rounded["amount"] * 100).round().astype(np.int64))
    for _, grp in cents.groupby(["family", "period", "measure"], dropna=False):
        c = dict(zip(grp["effect"], grp["c"], strict=True))
        assert sum(c[e] for e in CHANGES) == c["new"] - c["base"]


def test_plan_bridge_new_and_dropped_skus_are_mix() -> None:
    last = pd.DataFrame([  # family, sku, period, units, revenue, cogs
        ("Drinks", "A1", M5, 10.0, 100.0, 50.0),  # P 10, C 5, m 5
        ("Drinks", "A2", M5, 10.0, 60.0, 40.0),   # P 6, C 4, m 2 — dropped from this plan
        ("Bars", "B1", M5, 5.0, 100.0, 50.0),     # P 20, C 10, m 10
    ], columns=["family", "sku", "period", "units", "revenue", "cogs"])
    this = pd.DataFrame([
        ("Drinks", "A1", M5, 15.0, 150.0, 75.0),
        ("Drinks", "A3", M5, 5.0, 40.0, 20.0),    # P 8, C 4, m 4 — launched since
        ("Bars", "B1", M5, 5.0, 110.0, 50.0),     # P 22: price list up by 2
        ("Bars", "B1", M6, 5.0, 110.0, 50.0),     # M6: not in the last plan → not bridged
    ], columns=["family", "sku", "period", "units", "revenue", "cogs"])
    out = plan_bridge(last, this)
    g = "gross_margin"
    # Drinks: 20 u both, margin 50 + 20 = 70 → 75 + 20 = 95 ; volume 0 ; shares ½ ½ so 20·s = 10 each
    #   mix A1 (15 − 10) × 5 = 25 ; A2 (0 − 10) × 2 = −20 ; A3 (5 − 0) × 4 = 20 → 25
    assert effects(out, g, family="Drinks", period=M5) == pytest.approx(
        {"base": 70, "volume": 0, "mix": 25, "price": 0, "cost": 0, "new": 95})
    assert effects(out, g, family="Bars", period=M5) == pytest.approx(
        {"base": 50, "volume": 0, "mix": 0, "price": 10, "cost": 0, "new": 60})  # 5 × (22 − 20)
    # all SKUs: 25 u both sides so 25·s = V_base: mix = 25 − 20 + 20 + 0 = 25 ; price 10 ; 120 → 155
    assert effects(out, g, family=ALL_FAMILIES, period=pd.NaT) == pytest.approx(
        {"base": 120, "volume": 0, "mix": 25, "price": 10, "cost": 0, "new": 155})
    assert set(out["period"].dropna()) == {M5}
    assert_adds_up(out)


def _pva() -> pd.DataFrame:
    rows = [  # sku, region, forecast, actual
        ("A", "North", 60.0, 50.0), ("A", "South", 40.0, 30.0),  # A: planned 100, sold 80
        ("B", "North", 50.0, 50.0),                               # B: planned 50, sold 50
    ]
    out = pd.DataFrame(rows, columns=["sku", "region", "forecast", "actual"])
    return out.assign(plan_cycle="2026-09", family="Drinks", period=TS("2026-10-01"))


PRICES = pd.DataFrame({"sku": ["A", "B"], "valid_from": [TS("2026-01-01")] * 2, "unit_price": [10.0, 20.0],
                       "unit_cost": [6.0, 12.0]})  # margins A 4, B 8


def test_actual_bridge_actuals_below_plan_show_a_negative_volume() -> None:
    out = actual_bridge(_pva(), PRICES)
    assert list(out.columns) == ["plan_cycle", "family", "period", "measure", "effect", "amount"]
    # plan: A 100 (m 4), B 50 (m 8): 150 u, shares ⅔ ⅓, average margin 16/3, margin 800 ; actual 130 u, 720
    #   volume (130 − 150) × 16/3 = −106⅔ ; mix (80 − 130·⅔) × 4 + (50 − 130·⅓) × 8 = −26⅔ + 53⅓ = 26⅔
    #   same prices for both: price and cost 0 ; −106⅔ + 26⅔ = −80
    margin = effects(out, "gross_margin", family="Drinks", period=TS("2026-10-01"))
    assert margin == pytest.approx({"base": 800, "volume": -320 / 3, "mix": 80 / 3, "price": 0, "cost": 0,
                                    "new": 720})
    assert margin["volume"] < 0


def test_actual_bridge_with_the_plans_price_list_has_a_price_effect() -> None:
    # when the plan was made A sold at 9.5 (cost 6, margin 3.5); B was not in that list: it takes today's 20
    then = pd.DataFrame({"plan_cycle": ["2026-09"], "sku": ["A"], "valid_from": [TS("2026-01-01")],
                         "unit_price": [9.5], "unit_cost": [6.0]})
    out = actual_bridge(_pva(), PRICES, plan_prices=then)
    # plan margin 100 × 3.5 + 50 × 8 = 750 ; average margin ⅔·3.5 + ⅓·8 = 5 ; actual 720
    #   volume −20 × 5 = −100 ; mix (−6⅔) × 3.5 + (6⅔) × 8 = 30 ; price 80 × (10 − 9.5) = 40 ; −100 + 30 + 40 = −30
    margin = effects(out, "gross_margin", family=ALL_FAMILIES, period=pd.NaT)
    assert margin == pytest.approx({"base": 750, "volume": -100, "mix": 30, "price": 40, "cost": 0, "new": 720})
    # another cycle's price list is not used for this cycle's plan: price effect 0 again
    other = actual_bridge(_pva(), PRICES, plan_prices=then.assign(plan_cycle="2026-08"))
    assert effects(other, "gross_margin", family="Drinks", period=pd.NaT)["price"] == 0.0
    with pytest.raises(BridgeError, match="B have no price"):
        actual_bridge(_pva(), PRICES[PRICES["sku"] == "A"])


# --- the constrained plan in money ----------------------------------------------------------------------------

J, F = TS("2026-01-01"), TS("2026-02-01")
SUPPLY = pd.DataFrame([  # sku, period, demand, production, served, unmet, closing_stock
    ("A", J, 100.0, 90.0, 95.0, 5.0, 15.0),   # opens with 20: 20 + 90 − 95 = 15
    ("A", F, 100.0, 100.0, 100.0, 0.0, 15.0),
    ("B", J, 50.0, 60.0, 50.0, 0.0, 20.0),    # opens with 10
    ("B", F, 60.0, 40.0, 55.0, 5.0, 5.0),
    ("C", J, 10.0, 0.0, 8.0, 2.0, 0.0),       # opens with 8
    ("C", F, 10.0, 0.0, 0.0, 10.0, 0.0),
], columns=["sku", "period", "demand", "production", "served", "unmet", "closing_stock"])
ECONOMICS = pd.DataFrame([  # sku, period, unit_price, unit_cost
    ("A", J, 10.0, 4.0), ("A", F, 10.0, 5.0),  # A's cost rises in February
    ("B", J, 20.0, 8.0), ("B", F, 20.0, 8.0),
    ("C", J, 5.0, 2.0), ("C", F, 5.0, 2.0),
], columns=["sku", "period", "unit_price", "unit_cost"])
FAMILIES = pd.DataFrame({"sku": ["A", "B", "C"], "family": ["F", "F", "G"]})
OPENING = pd.DataFrame({"sku": ["A", "B", "C", "Z"], "on_hand": [20.0, 10.0, 8.0, 99.0]})  # Z: not in the plan


def test_constrained_financials_by_hand() -> None:
    out = constrained_financials(SUPPLY, FAMILIES, ECONOMICS, OPENING).set_index(["family", "period"])
    f_jan, f_feb, g_jan, g_feb = (out.loc[k] for k in [("F", J), ("F", F), ("G", J), ("G", F)])
    # F January: served 95 × 10 + 50 × 20 = 1950 ; cogs 95 × 4 + 50 × 8 = 780 ; margin 1170 (60 %)
    assert (f_jan["served"], f_jan["unmet"], f_jan["closing_stock"]) == (145.0, 5.0, 35.0)
    assert (f_jan["revenue"], f_jan["cogs"], f_jan["gross_margin"]) == (1950.0, 780.0, 1170.0)
    assert f_jan["margin_pct"] == pytest.approx(60.0)
    assert (f_jan["lost_revenue"], f_jan["lost_margin"]) == (50.0, 30.0)  # 5 × 10 ; 5 × (10 − 4)
    # stock 15 × 4 + 20 × 8 = 220 ; opening 20 × 4 + 10 × 8 = 160 ; +60 of working capital
    assert (f_jan["inventory_value"], f_jan["inventory_change"]) == (220.0, 60.0)
    # F February: 100 × 10 + 55 × 20 = 2100 ; cogs 100 × 5 + 55 × 8 = 940 ; lost 5 × 20, margin 5 × 12
    assert (f_feb["revenue"], f_feb["cogs"], f_feb["gross_margin"]) == (2100.0, 940.0, 1160.0)
    assert (f_feb["lost_revenue"], f_feb["lost_margin"]) == (100.0, 60.0)
    # stock 15 × 5 + 5 × 8 = 115 ; change 115 − 220 = −105 (A revalued +15, B run down −120)
    assert (f_feb["inventory_value"], f_feb["inventory_change"]) == (115.0, -105.0)
    # G January: 8 × 5 = 40, cogs 16 ; no stock left: 0 − 8 × 2 = −16
    assert (g_jan["revenue"], g_jan["gross_margin"], g_jan["inventory_change"]) == (40.0, 24.0, -16.0)
    # G February sells nothing: margin % undefined, 10 × 5 lost
    assert math.isnan(g_feb["margin_pct"]) and g_feb["lost_revenue"] == 50.0 and g_feb["inventory_change"] == 0.0


def test_constrained_financials_from_the_price_table_and_without_opening_stock() -> None:
    prices = ECONOMICS.rename(columns={"period": "valid_from"})  # the same prices as a Prices table
    by_table = constrained_financials(SUPPLY, FAMILIES, prices, OPENING)
    pd.testing.assert_frame_equal(by_table, constrained_financials(SUPPLY, FAMILIES, ECONOMICS, OPENING))
    # the supply plan's own opening stock (20, 10, 8 in January) stands in for the Inventory table
    with_opening = SUPPLY.assign(opening_stock=[20.0, 15.0, 10.0, 20.0, 8.0, 0.0])
    pd.testing.assert_frame_equal(constrained_financials(with_opening, FAMILIES, ECONOMICS),
                                  constrained_financials(SUPPLY, FAMILIES, ECONOMICS, OPENING))
    # one price per SKU (no period), as the supply plan also takes it: A at its January cost all along
    flat = constrained_financials(SUPPLY, FAMILIES, ECONOMICS[ECONOMICS["period"] == J].drop(columns="period"),
                                  OPENING).set_index(["family", "period"])
    assert flat.loc[("F", F), "inventory_value"] == 100.0  # 15 × 4 + 5 × 8
    unknown = constrained_financials(SUPPLY, FAMILIES, ECONOMICS).set_index(["family", "period"])
    assert math.isnan(unknown.loc[("F", J), "inventory_change"])  # no opening stock: the first change is unknown
    assert unknown.loc[("F", F), "inventory_change"] == -105.0
    with pytest.raises(MissingPrices, match="C 2026-02"):
        constrained_financials(SUPPLY, FAMILIES, ECONOMICS.iloc[:5], OPENING)


def test_family_totals_sum_flows_and_take_the_last_stock() -> None:
    totals = family_totals(constrained_financials(SUPPLY, FAMILIES, ECONOMICS, OPENING)).set_index("family")
    assert list(totals.index) == ["F", "G", "All families"]
    f, g, total = totals.loc["F"], totals.loc["G"], totals.loc["All families"]
    assert (f["months"], f["revenue"], f["gross_margin"], f["lost_revenue"]) == (2, 4050.0, 2330.0, 150.0)
    assert f["margin_pct"] == pytest.approx(2330 / 4050 * 100)
    # inventory: February's value 115 ; change over the months 60 − 105 = −45 = 115 − opening 160
    assert (f["inventory_value"], f["inventory_change"]) == (115.0, -45.0)
    assert (g["revenue"], g["inventory_value"], g["inventory_change"]) == (40.0, 0.0, -16.0)
    assert (total["revenue"], total["gross_margin"], total["inventory_value"], total["inventory_change"]) == (
        4090.0, 2354.0, 115.0, -61.0)
    no_opening = family_totals(constrained_financials(SUPPLY, FAMILIES, ECONOMICS)).set_index("family")
    assert math.isnan(no_opening.loc["F", "inventory_change"])  # an unknown month makes the total unknown


def test_bridge_wide_and_the_house_table_show_the_totals() -> None:
    from sop_lib.report.tables import show_table

    wide = bridge_wide(round_bridge(budget_bridge(_plan_financials(), _budget())))
    assert list(wide.columns) == ["family", "period", "measure", "base", "volume", "mix", "price", "cost", "new"]
    assert len(wide) == 9 * 2  # 3 families (with All families) × (2 months + total) × 2 measures
    row = wide[(wide["family"] == ALL_FAMILIES) & wide["period"].isna() & (wide["measure"] == "gross_margin")]
    assert row[["base", "volume", "mix", "price", "cost", "new"]].values.tolist() == [
        [1300.0, 60.0, -20.0, 100.0, -40.0, 1400.0]]
    html = show_table(wide, {c: "money" for c in ["base", "volume", "mix", "price", "cost", "new"]}).data
    assert "<td style=\"text-align:left;white-space:nowrap\">–</td>" in html  # the total over the months


def test_bridge_wide_over_the_months_and_for_one_family_is_the_workbooks_table() -> None:
    bridge = round_bridge(budget_bridge(_plan_financials(), _budget()))
    totals = bridge_wide(bridge, over_months=True)
    assert list(totals.columns) == ["family", "measure", "base", "volume", "mix", "price", "cost", "new"]
    assert totals["family"].tolist() == ["Bars", "Bars", "Drinks", "Drinks", ALL_FAMILIES, ALL_FAMILIES]
    # the pivot the workbooks built by hand before, row for row
    by_hand = bridge[bridge["period"].isna()].pivot_table(index=["family", "measure"], columns="effect",
                                                          values="amount", sort=False)
    by_hand = by_hand[["base", "volume", "mix", "price", "cost", "new"]].reset_index().rename_axis(columns=None)
    pd.testing.assert_frame_equal(totals, by_hand)
    company = bridge_wide(bridge, over_months=True, family=ALL_FAMILIES)
    assert list(company.columns) == ["measure", "base", "volume", "mix", "price", "cost", "new"]
    assert company.loc[company["measure"] == "gross_margin"].iloc[0, 1:].tolist() == [
        1300.0, 60.0, -20.0, 100.0, -40.0, 1400.0]


def test_without_unit_costs_only_the_revenue_bridge_is_given_and_it_is_unchanged() -> None:
    from sop_lib.finance.bridge import budget_bridge, revenue_only

    m = pd.Timestamp("2027-01-01")
    plan = pd.DataFrame({"family": ["F", "G"], "period": [m, m], "units": [10.0, 30.0], "revenue": [100.0, 150.0],
                         "cogs": [60.0, 90.0]})
    budget = pd.DataFrame({"family": ["F", "G"], "period": [m, m], "units": [20.0, 20.0],
                           "revenue": [200.0, 100.0], "gross_margin": [80.0, 40.0]})
    full = budget_bridge(plan, budget)
    rev = revenue_only(budget_bridge, plan.assign(cogs=np.nan), budget)
    assert set(rev["measure"]) == {"revenue"}
    expected = full[full["measure"] == "revenue"].reset_index(drop=True)
    pd.testing.assert_frame_equal(rev, expected)
    # by hand, All families over the month: budget 300 → plan 250; volume (40 − 40) × 7.5 = 0;
    # mix: F (10 − 40 × 0.5) × 10 = −100, G (30 − 40 × 0.5) × 5 = +50, so −50; price: F 10 × (10 − 10) = 0,
    # G 30 × (5 − 5) = 0
    total = rev[(rev["family"] == ALL_FAMILIES) & rev["period"].isna()].set_index("effect")["amount"]
    assert total[["base", "volume", "mix", "price", "new"]].tolist() == pytest.approx([300, 0, -50, 0, 250])
