"""Accuracy metrics (``sop_lib.core.metrics``) and the post-cycle comparison, on frames small enough to check
by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sop_lib.core import metrics
from sop_lib.core.metrics import abs_error, accuracy, bias_pct, coverage, mae, tracking_signal, wape
from sop_lib.review.variance import plan_vs_actual, score, stack_plans

TS = pd.Timestamp
A = pd.Series([10.0, 20.0, 30.0])
F = pd.Series([12.0, 18.0, 33.0])

PVA_COLUMNS = ["plan_cycle", "lag", "family", "sku", "region", "period", "forecast", "actual", "plan_revenue",
               "actual_revenue", "revenue_variance"]


# --- the metrics ----------------------------------------------------------------------------------------


def test_wape_by_hand() -> None:
    # |10-12| + |20-18| + |30-33| = 2 + 2 + 3 = 7 ; Σ|A| = 60 ; 7 / 60 = 0.116666…
    assert wape(A, F) == pytest.approx(0.11666666666666667, rel=1e-12)


def test_bias_pct_by_hand_positive_is_over_forecast() -> None:
    # Σ(F - A) = +2 - 2 + 3 = +3 ; ΣA = 60 ; 3 / 60 × 100 = +5 %
    assert bias_pct(A, F) == pytest.approx(5.0, rel=1e-12)
    # under-forecast: F = [8, 18, 30] → Σ(F - A) = -2 - 2 + 0 = -4 ; -4 / 60 × 100 = -6.666… %
    assert bias_pct(A, pd.Series([8.0, 18.0, 30.0])) == pytest.approx(-6.666666666666667, rel=1e-12)


def test_accuracy_by_hand() -> None:
    # 1 - 7/60 = 53/60 = 0.883333…
    assert accuracy(A, F) == pytest.approx(0.8833333333333333, rel=1e-12)


def test_accuracy_is_floored_at_zero_when_wape_exceeds_one() -> None:
    actual, forecast = pd.Series([10.0, 10.0]), pd.Series([40.0, 5.0])
    # WAPE = (30 + 5) / 20 = 1.75 > 1 → accuracy 1 - 1.75 = -0.75, floored to 0
    assert wape(actual, forecast) == pytest.approx(1.75)
    assert accuracy(actual, forecast) == 0.0


def test_perfect_forecast() -> None:
    assert wape(A, A) == 0.0
    assert bias_pct(A, A) == 0.0
    assert accuracy(A, A) == 1.0


def test_zero_actual_gives_nan_not_a_division_error() -> None:
    actual, forecast = pd.Series([0.0, 0.0, 0.0]), pd.Series([3.0, 1.0, 0.0])
    assert math.isnan(wape(actual, forecast))
    assert math.isnan(bias_pct(actual, forecast))
    assert math.isnan(accuracy(actual, forecast))


def test_returns_count_in_wape_by_their_size() -> None:
    # a return month (A = -5): WAPE's denominator is Σ|A| = 10 + 5 = 15, numerator |10-8| + |-5-0| = 7
    actual, forecast = pd.Series([10.0, -5.0]), pd.Series([8.0, 0.0])
    assert wape(actual, forecast) == pytest.approx(7 / 15)
    # bias: Σ(F - A) = (8 - 10) + (0 + 5) = 3 ; ΣA = 5 → 60 %
    assert bias_pct(actual, forecast) == pytest.approx(60.0)


def test_mae_and_absolute_error_by_hand() -> None:
    # |10-12| + |20-18| + |30-33| = 2 + 2 + 3 = 7 units ; over 3 points: 7 / 3
    assert abs_error(A, F) == 7.0
    assert mae(A, F) == pytest.approx(7 / 3, rel=1e-12)
    assert abs_error([], []) == 0.0 and math.isnan(mae([], []))


def test_tracking_signal_by_hand() -> None:
    # Σ(A - F) = -2 + 2 - 3 = -3 ; MAD = 7 / 3 ; -3 / (7/3) = -9/7 (slightly over-forecast)
    assert tracking_signal(A, F) == pytest.approx(-9 / 7, rel=1e-12)
    # under-forecast by 2 five months running: Σ(A - F) = 10, MAD = 2 → +5, outside ±4
    assert tracking_signal([10.0] * 5, [8.0] * 5) == pytest.approx(5.0)
    # no error at all: MAD = 0 → 0, not a division error
    assert tracking_signal(A, A) == 0.0
    assert tracking_signal([], []) == 0.0


def test_coverage_counts_bounds_as_inside_and_leaves_out_points_without_an_interval() -> None:
    actual = [10.0, 20.0, 30.0, 40.0]
    lower = [5.0, 21.0, 30.0, np.nan]  # 10 in [5, 15]; 20 below 21; 30 on the lower bound; 40 has no interval
    upper = [15.0, 25.0, 35.0, 50.0]
    assert coverage(actual, lower, upper) == pytest.approx(2 / 3)
    assert math.isnan(coverage([1.0], [np.nan], [np.nan]))
    assert math.isnan(coverage([], [], []))


def test_coverage_per_group() -> None:
    frame = pd.DataFrame({
        "unique_id": ["a", "a", "b", "b"], "y": [10.0, 20.0, 5.0, 6.0], "ets": 0.0,
        "ets-lo-80": [8.0, 8.0, np.nan, np.nan], "ets-hi-80": [12.0, 12.0, np.nan, np.nan],
    })
    out = metrics.coverage_by(frame, ["ets"], 80)["ets"]
    # a: 10 inside [8, 12], 20 outside → 1/2 ; b: no interval at all → NaN
    assert out["a"] == 0.5 and math.isnan(out["b"])


def test_mase_scale_is_the_seasonal_naive_error_before_the_backtest() -> None:
    ds = pd.date_range("2024-01-01", periods=14, freq="MS")
    history = pd.concat([
        # 14 months rising by 1: y_t - y_t-12 = 12 for the last two months → 12
        pd.DataFrame({"unique_id": "long", "ds": ds, "y": np.arange(14.0)}),
        # 5 months (a year or less): lag 1, |3-1| + |2-3| + |5-2| + |5-5| = 6 over 4 → 1.5
        pd.DataFrame({"unique_id": "short", "ds": ds[:5], "y": [1.0, 3.0, 2.0, 5.0, 5.0]}),
        # flat: the scale is 0, so MASE is undefined (NaN), never infinite
        pd.DataFrame({"unique_id": "flat", "ds": ds, "y": 4.0}),
        pd.DataFrame({"unique_id": "one", "ds": ds[:1], "y": 7.0}),  # nothing to difference
    ]).sample(frac=1.0, random_state=0)  # the order of rows does not matter
    scale = metrics.mase_scale(history, season=12)
    assert scale["long"] == 12.0 and scale["short"] == 1.5
    assert math.isnan(scale["flat"]) and math.isnan(scale["one"])
    cv = pd.DataFrame({"unique_id": ["long", "long", "flat"], "y": [20.0, 30.0, 4.0], "m": [26.0, 24.0, 5.0]})
    mase = metrics.mase_by(cv, ["m"], scale)["m"]
    assert mase["long"] == pytest.approx(0.5)  # MAE (6 + 6) / 2 = 6 over 12
    assert math.isnan(mase["flat"])


def test_per_group_forms_agree_with_the_scalar_ones_and_span_every_cutoff() -> None:
    # two backtest origins of one series are one group: a cutoff column does not split it
    frame = pd.DataFrame({
        "unique_id": ["s", "s", "s", "t", "t"], "cutoff": [1, 1, 2, 1, 2],
        "y": [10.0, 20.0, 30.0, 0.0, 0.0], "m": [12.0, 18.0, 33.0, 3.0, 1.0], "n": [10.0, 20.0, 30.0, 0.0, 0.0],
    })
    s, t = frame["unique_id"] == "s", frame["unique_id"] == "t"
    for per_group, scalar in [(metrics.wape_by, wape), (metrics.bias_pct_by, bias_pct), (metrics.mae_by, mae),
                              (metrics.accuracy_by, accuracy), (metrics.abs_error_by, abs_error),
                              (metrics.tracking_signal_by, tracking_signal)]:
        out = per_group(frame, ["m", "n"])
        assert list(out.index) == ["s", "t"] and list(out.columns) == ["m", "n"]
        for uid, rows in (("s", s), ("t", t)):
            for col in ("m", "n"):
                expected = scalar(frame.loc[rows, "y"], frame.loc[rows, col])
                assert out.loc[uid, col] == pytest.approx(expected, nan_ok=True)
    by_hand = metrics.wape_by(frame, ["m"])["m"]
    assert by_hand["s"] == pytest.approx(7 / 60) and math.isnan(by_hand["t"])  # t sold nothing: no WAPE


def test_score_per_group_and_overall() -> None:
    frame = pd.DataFrame({
        "family": ["Juice"] * 3 + ["Bars"] * 2,
        "actual": [10.0, 20.0, 30.0, 0.0, 0.0],
        "forecast": [12.0, 18.0, 33.0, 3.0, 1.0],
    })
    by_family = score(frame, ["family"]).set_index("family")
    assert set(by_family.index) == {"Juice", "Bars"}
    juice = by_family.loc["Juice"]
    assert juice["actual"] == 60.0 and juice["forecast"] == 63.0  # 10+20+30 ; 12+18+33
    assert juice["wape"] == pytest.approx(7 / 60)
    assert juice["bias_pct"] == pytest.approx(5.0)
    assert juice["accuracy"] == pytest.approx(53 / 60)
    bars = by_family.loc["Bars"]
    assert bars["actual"] == 0.0 and bars["forecast"] == 4.0
    assert math.isnan(bars["wape"]) and math.isnan(bars["bias_pct"]) and math.isnan(bars["accuracy"])

    overall = score(frame, [])
    assert len(overall) == 1
    row = overall.iloc[0]
    # Σ|A-F| = 2+2+3+3+1 = 11 ; ΣA = 60 ; ΣF = 67
    assert row["actual"] == 60.0 and row["forecast"] == 67.0
    assert row["wape"] == pytest.approx(11 / 60)
    assert row["bias_pct"] == pytest.approx(7 / 60 * 100)  # (67 - 60) / 60 = 11.67 %
    assert row["accuracy"] == pytest.approx(49 / 60)


def test_score_with_other_column_names() -> None:
    frame = pd.DataFrame({"sku": ["X", "X"], "units": [4.0, 6.0], "plan": [5.0, 5.0]})
    out = score(frame, ["sku"], actual="units", forecast="plan")
    # |4-5| + |6-5| = 2 over 10 ; bias 0
    assert out.loc[0, "units"] == 10.0 and out.loc[0, "plan"] == 10.0
    assert out.loc[0, "wape"] == pytest.approx(0.2)
    assert out.loc[0, "bias_pct"] == 0.0


# --- plan against actual --------------------------------------------------------------------------------


@pytest.fixture()
def pva() -> pd.DataFrame:
    products = pd.DataFrame({"sku": ["A", "B"], "family": ["Juice", "Bars"]})
    prices = pd.DataFrame({
        "sku": ["A", "B", "A"],
        "valid_from": [TS("2026-10-01"), TS("2026-06-01"), TS("2026-01-01")],  # not sorted on purpose
        "unit_price": [2.5, 10.0, 2.0],  # A's price rises from 2.0 to 2.5 in 2026-10
        "unit_cost": [1.2, 6.0, 1.0],
    })
    plans = pd.DataFrame([
        ("2025-12", "A", "North", TS("2026-01-01"), 10.0),   # lag across the year end
        ("2026-09", "A", "North", TS("2026-09-01"), 100.0),
        ("2026-09", "A", "North", TS("2026-10-01"), 110.0),
        ("2026-09", "B", "North", TS("2026-10-01"), 5.0),    # B sold nothing in 2026-10: no sales row
        ("2026-09", "A", "North", TS("2026-11-01"), 120.0),  # the cycle month: not closed, left out
        ("2026-09", "A", "North", TS("2026-12-01"), 130.0),  # after the cycle: left out
        ("2026-10", "A", "North", TS("2026-10-01"), 105.0),
        ("2026-10", "B", "North", TS("2026-10-01"), 6.0),
    ], columns=["plan_cycle", "sku", "region", "period", "forecast"])
    actuals = pd.DataFrame([
        ("A", "North", TS("2026-09-01"), 90.0),
        ("A", "North", TS("2026-10-01"), 120.0),
        ("A", "South", TS("2026-10-01"), 50.0),   # never planned: not part of the comparison
        ("A", "North", TS("2026-11-01"), 999.0),  # a month not closed yet
    ], columns=["sku", "region", "period", "units"])
    return plan_vs_actual(plans, actuals, products, prices, TS("2026-11-01"))


def test_plan_vs_actual_by_hand(pva: pd.DataFrame) -> None:
    expected = pd.DataFrame([
        # plan_cycle, lag, family, sku, region, period, forecast, actual, plan_rev, actual_rev, variance
        # 2025-12 → 2026-01: (2026-2025)*12 + (1-12) = 1 ; price 2.0 ; 10×2 = 20 ; no sales row → 0
        ("2025-12", 1, "Juice", "A", "North", TS("2026-01-01"), 10.0, 0.0, 20.0, 0.0, -20.0),
        # price in 2026-09 is still 2.0: 100×2 = 200 ; 90×2 = 180
        ("2026-09", 0, "Juice", "A", "North", TS("2026-09-01"), 100.0, 90.0, 200.0, 180.0, -20.0),
        # price in 2026-10 is 2.5: 110×2.5 = 275 ; 120×2.5 = 300
        ("2026-09", 1, "Juice", "A", "North", TS("2026-10-01"), 110.0, 120.0, 275.0, 300.0, 25.0),
        # B at 10.0: 5×10 = 50 ; actual 0
        ("2026-09", 1, "Bars", "B", "North", TS("2026-10-01"), 5.0, 0.0, 50.0, 0.0, -50.0),
        # 105×2.5 = 262.5 ; 120×2.5 = 300
        ("2026-10", 0, "Juice", "A", "North", TS("2026-10-01"), 105.0, 120.0, 262.5, 300.0, 37.5),
        # 6×10 = 60
        ("2026-10", 0, "Bars", "B", "North", TS("2026-10-01"), 6.0, 0.0, 60.0, 0.0, -60.0),
    ], columns=PVA_COLUMNS)
    pd.testing.assert_frame_equal(pva, expected, check_dtype=False)


def test_plan_vs_actual_leaves_out_months_from_the_cycle_on(pva: pd.DataFrame) -> None:
    assert pva["period"].max() == TS("2026-10-01")
    assert 999.0 not in set(pva["actual"])


def test_plan_vs_actual_without_closed_months_is_empty_with_columns() -> None:
    plans = pd.DataFrame([("2026-11", "A", "North", TS("2026-11-01"), 1.0)],
                         columns=["plan_cycle", "sku", "region", "period", "forecast"])
    actuals = pd.DataFrame(columns=["sku", "region", "period", "units"])
    products = pd.DataFrame({"sku": ["A"], "family": ["Juice"]})
    prices = pd.DataFrame({"sku": ["A"], "valid_from": [TS("2026-01-01")], "unit_price": [1.0], "unit_cost": [0.5]})
    out = plan_vs_actual(plans, actuals, products, prices, TS("2026-11-01"))
    assert out.empty
    assert list(out.columns) == PVA_COLUMNS


# --- the archive ----------------------------------------------------------------------------------------


def test_stack_plans_of_nothing_is_empty_with_the_columns() -> None:
    out = stack_plans({})
    assert out.empty
    assert list(out.columns) == ["plan_cycle", "sku", "region", "period", "forecast"]


def test_stack_plans_tags_each_cycle_oldest_first() -> None:
    def plan(units: float) -> pd.DataFrame:
        return pd.DataFrame({"sku": ["A"], "region": ["North"], "period": [TS("2026-12-01")],
                             "forecast": [units], "model": ["prophet"]})

    out = stack_plans({"2026-10": plan(2.0), "2026-09": plan(1.0)})
    assert list(out.columns) == ["plan_cycle", "sku", "region", "period", "forecast"]  # extra columns dropped
    assert out["plan_cycle"].tolist() == ["2026-09", "2026-10"]
    assert out["forecast"].tolist() == [1.0, 2.0]
