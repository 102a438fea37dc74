"""Forecast value added: the stair-step report and each owner's overrides, on hand-worked numbers."""

from __future__ import annotations

import pandas as pd
import pytest

from sop_lib.review.variance import forecast_value_added, owner_value_added, seasonal_naive_plan

TS = pd.Timestamp


def test_stair_step_shows_when_the_consensus_made_things_worse() -> None:
    pva = pd.DataFrame({
        "plan_cycle": "2026-10", "sku": ["A", "B"], "region": "North", "period": TS("2026-10-01"),
        "actual": [100.0, 100.0],
        "naive": [80.0, 130.0],        # |err| 20 + 30 = 50 → WAPE 50 / 200 = 25 %
        "statistical": [90.0, 105.0],  # 10 + 5 = 15 → 7.5 %: the statistical step added 17.5 points
        "forecast": [95.0, 120.0],     # consensus: 5 + 20 = 25 → 12.5 %: overrides lost 5 points
    })
    out = forecast_value_added(pva, ["plan_cycle"]).set_index("step")
    assert out.loc["naive", "wape"] == pytest.approx(0.25)
    assert pd.isna(out.loc["naive", "fva_points"])
    assert out.loc["statistical", "fva_points"] == pytest.approx(17.5)
    assert out.loc["consensus", "fva_points"] == pytest.approx(-5.0)  # negative: the override made it worse
    assert out.loc["consensus", "abs_error"] == 25.0
    assert out.loc["consensus", "bias_pct"] == pytest.approx(7.5)  # (215 − 200) / 200


def test_each_owner_is_scored_on_what_they_changed_in_the_order_applied() -> None:
    pva = pd.DataFrame({
        "plan_cycle": "2026-10", "sku": ["A", "B"], "region": "North", "period": TS("2026-10-01"),
        "actual": [100.0, 50.0], "statistical": [90.0, 60.0], "naive": [0.0, 0.0], "forecast": [120.0, 55.0],
    })
    adj = pd.DataFrame([
        ("2026-10", "O1", "Sales", "A", "North", TS("2026-10-01"), 5.0),
        ("2026-10", "O2", "Marketing", "A", "North", TS("2026-10-01"), 25.0),
        ("2026-10", "O2", "Marketing", "B", "North", TS("2026-10-01"), -5.0),
        ("2026-10", "O2", "Marketing", "A", "North", TS("2026-11-01"), 25.0),  # month not closed: not scored
    ], columns=["plan_cycle", "override_id", "owner", "sku", "region", "period", "delta"])
    out = owner_value_added(pva, adj)
    cyc = out[out["plan_cycle"] == "2026-10"].set_index("owner")
    # Sales first: A 90 → 95, |err| 10 → 5 over actual 100: WAPE 10 % → 5 %, +5 points, 5 units saved
    assert cyc.loc["Sales", "wape_before"] == pytest.approx(0.10)
    assert cyc.loc["Sales", "fva_points"] == pytest.approx(5.0)
    assert cyc.loc["Sales", "units_saved"] == pytest.approx(5.0)
    # Marketing after Sales: A 95 → 120 (|err| 5 → 20), B 60 → 55 (10 → 5): 15/150 = 10 % → 25/150 = 16.7 %
    assert cyc.loc["Marketing", "series_months"] == 2
    assert cyc.loc["Marketing", "before"] == 155.0 and cyc.loc["Marketing", "after"] == 175.0
    assert cyc.loc["Marketing", "fva_points"] == pytest.approx(-20 / 3)
    assert cyc.loc["Marketing", "units_saved"] == pytest.approx(-10.0)
    total = out[out["plan_cycle"] == "all"].set_index("owner")
    assert total.loc["Marketing", "fva_points"] == pytest.approx(-20 / 3)


def test_no_overrides_no_owner_rows() -> None:
    pva = pd.DataFrame({"plan_cycle": ["2026-10"], "sku": ["A"], "region": ["North"], "period": [TS("2026-10-01")],
                        "actual": [1.0], "statistical": [1.0], "naive": [1.0], "forecast": [1.0]})
    empty = pd.DataFrame(columns=["plan_cycle", "override_id", "owner", "sku", "region", "period", "delta"])
    assert owner_value_added(pva, empty).empty


def test_seasonal_naive_repeats_the_last_twelve_months() -> None:
    sales = pd.DataFrame({"sku": "A", "region": "North",
                          "period": pd.to_datetime(["2025-11-01", "2025-12-01", "2024-12-01"]),
                          "units": [7.0, 9.0, 100.0]})
    keys = pd.DataFrame({"sku": "A", "region": "North",
                         "period": pd.to_datetime(["2026-11-01", "2026-12-01", "2027-01-01", "2027-12-01"])})
    out = seasonal_naive_plan(sales, keys, TS("2026-11-01"))
    # Nov ← 2025-11 (7); Dec ← 2025-12 (9, not 2024's 100); Jan: no sale in 2026-01 → 0; Dec 2027 ← 9 again
    assert out["naive"].tolist() == [7.0, 9.0, 0.0, 9.0]
