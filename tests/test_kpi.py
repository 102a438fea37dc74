"""The KPI scorecard (values, status from thresholds) and the follow-through of decisions, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sop_lib.data.params import Band, KpiParams
from sop_lib.review.decisions import COLUMNS
from sop_lib.review.kpi import compute_kpis, follow_through, kpi_trend, rate, scorecard

TS = pd.Timestamp


def test_status_follows_each_kpis_direction() -> None:
    b = Band(good=0.8, warn=0.7)
    assert [rate(v, "higher", b) for v in (0.85, 0.8, 0.75, 0.6)] == ["good", "good", "watch", "act"]
    b = Band(good=5, warn=10)
    assert [rate(v, "abs_lower", b) for v in (-4, 7, -12)] == ["good", "watch", "act"]
    low, high = Band(good=20, warn=10), Band(good=60, warn=90)
    assert [rate(v, "band", low, high) for v in (5, 15, 30, 75, 120)] == ["act", "watch", "good", "watch", "act"]
    assert rate(float("nan"), "higher", b) == "" and rate(1.0, "none", None) == ""


def _kpis() -> pd.DataFrame:
    pva = pd.DataFrame({
        "plan_cycle": ["2026-09", "2026-10", "2026-10"], "lag": [1, 0, 0],
        "family": ["Juice", "Juice", "Snacks"], "period": TS("2026-10-01"),
        "actual": [100.0, 100.0, 50.0], "forecast": [80.0, 90.0, 70.0],
    })
    cap = pd.DataFrame({
        "resource": ["Bottling", "Bottling", "Baking"],
        "period": [TS("2026-11-01"), TS("2027-08-01"), TS("2026-12-01")],
        "required_hours": [900.0, 1500.0, 450.0], "available_hours": [1000.0, 1000.0, 500.0],
    })
    cap["utilisation"] = cap["required_hours"] / cap["available_hours"]
    gap = pd.DataFrame({"family": ["Juice", "Snacks"], "period": TS("2026-11-01"),
                        "plan_revenue": [900.0, 1100.0], "budget_revenue": [1000.0, 1000.0],
                        "plan_margin": [300.0, 500.0], "budget_margin": [400.0, 400.0]})
    cons = pd.DataFrame({"sku": ["A", "A", "A", "B"], "period": pd.to_datetime(
        ["2026-11-01", "2026-12-01", "2027-01-01", "2026-11-01"]), "consensus": [300.0, 300.0, 320.0, 92.0]})
    inv = pd.DataFrame({"sku": ["A", "B"], "on_hand": [460.0, 0.0]})
    products = pd.DataFrame({"sku": ["A", "B"], "family": ["Juice", "Snacks"]})
    return compute_kpis(TS("2026-11-01"), pva, cap, gap, cons, inv, products)


def test_kpis_by_hand() -> None:
    k = _kpis().set_index(["kpi", "scope"])["value"]
    # latest plan at lag 0 (2026-10 for 2026-10): |100−90| + |50−70| = 30 over 150 → accuracy 80 %
    assert k["accuracy", ""] == pytest.approx(0.8)
    assert k["accuracy", "Juice"] == pytest.approx(0.9)
    assert k["bias_pct", "Snacks"] == pytest.approx(40.0)  # (70 − 50) / 50
    # tracking signal over both plans' months (total per plan-month): 2026-09 err +20, 2026-10 err −10
    # Σ = 10, MAD = 15 → 0.667
    assert k["tracking_signal", ""] == pytest.approx(10 / 15)
    # next 6 months: Bottling 90 %, Baking 90 %; 2027-08 (150 %) is outside → peak 90 %
    assert k["peak_utilisation", ""] == pytest.approx(0.9)
    assert k["hours_short", "Bottling"] == 500.0 and k["hours_short", ""] == 500.0
    assert k["revenue_vs_budget_pct", ""] == pytest.approx(0.0) and k["revenue_gap", "Juice"] == -100.0
    assert k["margin_vs_budget_pct", "Juice"] == pytest.approx(-25.0)
    # 92 days (Nov 30 + Dec 31 + Jan 31): A needs 920 / 92 = 10 a day → 460 on hand = 46 days
    assert k["days_of_supply", "Juice"] == pytest.approx(46.0)
    # all: 460 on hand / ((920 + 92) / 92 = 11 a day) = 41.8 days
    assert k["days_of_supply", ""] == pytest.approx(460 / 11)


def test_scorecard_rates_with_params_and_orders_totals_first() -> None:
    card = scorecard(_kpis(), KpiParams())
    first = card.drop_duplicates("kpi").set_index("kpi")
    assert (first["scope"] == "").all()  # the total of each KPI comes before its breakdown
    s = card.set_index("name")["status"]
    assert s["accuracy"] == "good" and s["accuracy:Snacks"] == "act"  # 1 − 20/50 = 60 % < 70 %
    assert s["margin_vs_budget_pct:Juice"] == "act" and s["revenue_vs_budget_pct"] == "good"
    assert s["peak_utilisation"] == "good" and s["days_of_supply:Snacks"] == "act"  # 0 days
    assert s["hours_short"] == ""  # shown, not rated
    assert card.loc[card["name"] == "accuracy", "function"].item() == "sales"


def test_every_threshold_a_kpi_names_is_a_param() -> None:
    from sop_lib.review.kpi import KPIS

    named = {b for k in KPIS.values() for b in (k.band, k.high_band) if b}
    assert named == set(KpiParams.model_fields)  # every threshold in params/ rates a KPI, and only those


def test_trend_stacks_cycles_oldest_first() -> None:
    card = scorecard(_kpis(), KpiParams())
    trend = kpi_trend({"2026-11": card, "2026-10": card.assign(value=0.0)})
    assert trend["cycle"].iloc[0] == "2026-10" and len(trend) == 2 * len(card)


def _log(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{c: r.get(c, np.nan) for c in COLUMNS} for r in rows], columns=COLUMNS)


def test_follow_through_compares_expected_and_measured_change() -> None:
    def card(values: dict[str, float]) -> pd.DataFrame:
        return pd.DataFrame({"name": list(values), "value": list(values.values())})

    cards = {"2026-10": card({"hours_short:Bottling": 1500, "revenue_gap:Juice": -1100, "tracking_signal:Energy": 5,
                              "hours_short:Baking": 300}),
             "2026-11": card({"hours_short:Bottling": 700, "revenue_gap:Juice": -800, "tracking_signal:Energy": 6,
                              "hours_short:Baking": 290})}
    log = _log([
        {"id": "D-001", "status": "closed", "raised_cycle": "2026-10", "review_cycle": "2026-11",
         "expected_kpi": "hours_short:Bottling", "expected_value": -1000.0},
        {"id": "D-002", "status": "decided", "raised_cycle": "2026-10", "review_cycle": "2026-11",
         "expected_kpi": "revenue_gap:Juice", "expected_value": 1100.0},
        {"id": "D-003", "status": "closed", "raised_cycle": "2026-10", "review_cycle": "2026-11",
         "expected_kpi": "tracking_signal:Energy", "expected_value": -5.0},
        {"id": "D-004", "status": "closed", "raised_cycle": "2026-10", "review_cycle": "2027-01",
         "expected_kpi": "hours_short:Bottling", "expected_value": -1500.0},
        {"id": "D-005", "status": "open", "raised_cycle": "2026-10", "review_cycle": "2026-11",
         "expected_kpi": "hours_short:Bottling", "expected_value": -1.0},
        {"id": "D-006", "status": "closed", "raised_cycle": "2026-10", "review_cycle": "2026-11",
         "expected_kpi": "hours_short:Mixing", "expected_value": -10.0},
        {"id": "D-007", "status": "closed", "raised_cycle": "2026-10", "review_cycle": "2026-11",
         "expected_kpi": "hours_short:Baking", "expected_value": -300.0},
    ])
    ft = follow_through(log, cards, "2026-11").set_index("id")
    assert "D-005" not in ft.index  # not decided yet: nothing to follow through
    # 1500 → 700: −800 of the −1000 expected = 80 % → met
    assert ft.loc["D-001", "measured_change"] == -800 and ft.loc["D-001", "achieved_pct"] == pytest.approx(80.0)
    assert ft.loc["D-001", "verdict"] == "met" and ft.loc["D-001", "expected_value"] == 500
    # −1100 → −800: +300 of +1100 = 27 % → partly met
    assert ft.loc["D-002", "verdict"] == "partly met" and ft.loc["D-002", "achieved_pct"] == pytest.approx(300 / 11)
    # 300 → 290 h: −10 of the −300 expected = 3 %, the noise of a new forecast → not met
    assert ft.loc["D-007", "verdict"] == "not met" and ft.loc["D-007", "achieved_pct"] == pytest.approx(10 / 3)
    # tracking signal went from 5 to 6, the wrong way → not met
    assert ft.loc["D-003", "verdict"] == "not met"
    assert ft.loc["D-004", "verdict"] == "pending"
    assert ft.loc["D-006", "verdict"] == "not measurable"


def test_days_of_supply_from_the_inventory_projection() -> None:
    months = pd.date_range("2026-11-01", periods=4, freq="MS")
    proj = pd.DataFrame({"sku": "A", "period": months, "closing": [0.0, 0.0, 620.0, 0.0],
                         "demand": [0.0, 0.0, 0.0, 930.0]})
    k = compute_kpis(TS("2026-11-01"), projection=proj,
                     products=pd.DataFrame({"sku": ["A"], "family": ["Juice"]})).set_index(["kpi", "scope"])
    # third month 2027-01 ends with 620 in stock; the fourth, 2027-02, needs 930 / 28 days = 33.2 a day
    assert k.loc[("days_of_supply", "Juice"), "value"] == pytest.approx(620 / (930 / 28))
    assert "projected stock end of 2027-01" in k.loc[("days_of_supply", ""), "basis"]
