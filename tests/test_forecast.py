"""The forecasting engine on a handful of hand-made series (Prophet included, one worker)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sop_lib.data.params import ForecastParams
from sop_lib.demand.forecast.engine import ForecastResult, build_forecast
from sop_lib.demand.forecast.reconcile import aggregate_levels
from sop_lib.demand.forecast.segment import abc_classes, intermittency, sb_class

TS = pd.Timestamp
CYCLE = TS("2026-11-01")
HORIZON = pd.date_range("2026-11-01", "2027-10-01", freq="MS")  # 12 months from the cycle month

# one year starting in November (the history below starts 2022-11): Nov, Dec, Jan, …, Oct
PATTERN = [100.0, 80.0, 120.0, 150.0, 200.0, 260.0, 300.0, 280.0, 190.0, 140.0, 110.0, 130.0]
SHORT = [5.0, 7.0, 9.0, 11.0, 13.0, 20.0, 30.0, 40.0]  # 2026-03 … 2026-10
LUMPS = [0.0, 0.0, 12.0] * 16  # an order of 12 every third month, 48 months


def _series(sku: str, region: str, start: str, units: list[float]) -> pd.DataFrame:
    periods = pd.date_range(start, periods=len(units), freq="MS")
    return pd.DataFrame({"period": periods, "sku": sku, "region": region, "units": units})


@pytest.fixture(scope="module")
def result() -> ForecastResult:
    sales = pd.concat([
        # the same 12 months four times over, 2022-11 … 2026-10, no noise
        _series("SEAS", "North", "2022-11-01", PATTERN * 4),
        # eight months of history: a new item, too short to backtest
        _series("NEW", "North", "2026-03-01", SHORT),
        # a phase-out SKU, also purely seasonal (half the volume), last month of sale 2027-03
        _series("PO", "South", "2022-11-01", [v / 2 for v in PATTERN] * 4),
        # a steep decline (400 → 15 over three years)
        _series("DECL", "West", "2023-11-01", [400.0 - 11.0 * t for t in range(36)]),
        # intermittent: 12 units every third month
        _series("LUMP", "West", "2022-11-01", LUMPS),
        # a SKU discontinued before the cycle: not forecast at all
        _series("GONE", "North", "2024-01-01", [50.0] * 24),
    ], ignore_index=True)
    promotions = pd.DataFrame({
        "period": [TS("2025-05-01"), TS("2027-01-01")], "sku": ["DECL", "DECL"], "region": ["West", "West"],
        "discount_pct": [15.0, 20.0],
    })
    products = pd.DataFrame({
        "sku": ["SEAS", "NEW", "PO", "DECL", "LUMP", "GONE"],
        "family": ["Juice", "Juice", "Sparkling", "Sparkling", "Sparkling", "Juice"],
        "status": ["active", "new", "phase_out", "active", "active", "phase_out"],
        "end_period": [pd.NaT, pd.NaT, TS("2027-03-01"), pd.NaT, pd.NaT, TS("2025-12-01")],
    })
    prices = pd.DataFrame({"sku": products["sku"], "valid_from": TS("2020-01-01"), "unit_price": 1.0, "unit_cost": 0.5})
    params = ForecastParams(workers=1, prophet_uncertainty_samples=50, horizon_months=12, combine_best=4)
    return build_forecast(sales, promotions, products, prices, CYCLE, params)


def _forecast_of(result: ForecastResult, sku: str) -> pd.Series:
    return result.forecast[result.forecast["sku"] == sku].set_index("period")["forecast"]


def _sel(result: ForecastResult) -> pd.DataFrame:
    return result.selection.set_index("sku")


def test_one_row_per_series_and_month_of_the_horizon(result: ForecastResult) -> None:
    f = result.forecast
    assert len(f) == 5 * 12  # SEAS, NEW, PO, DECL, LUMP × 12 months; GONE ended before the cycle
    assert not f.duplicated(["sku", "region", "period"]).any()
    for _, g in f.groupby(["sku", "region"]):
        assert list(g["period"]) == list(HORIZON)
    assert f["forecast"].notna().all()
    for col in ("forecast-lo-80", "forecast-hi-80", "forecast-lo-95", "forecast-hi-95", "model"):
        assert col in f.columns
    assert "GONE" not in set(result.selection["sku"])


def test_pure_seasonal_series_keeps_seasonal_naive_with_zero_error(result: ForecastResult) -> None:
    sel = _sel(result)
    assert sel.loc["SEAS", "model"] == "seasonal_naive"
    assert sel.loc["SEAS", "wape"] == 0.0
    # MASE is undefined here: the in-sample seasonal-naive error it divides by is itself 0
    assert np.isnan(sel.loc["SEAS", "mase"])
    assert result.scores.set_index(["sku", "model"]).loc[("SEAS", "seasonal_naive"), "mae"] == 0.0
    assert sel.loc["SEAS", "runner_up"] not in (None, "seasonal_naive")
    # 3 origins (2025-10, 2026-01, 2026-04), 6 months each: 18 backtest points, all exact
    bt = result.backtest[result.backtest["sku"] == "SEAS"]
    assert sorted(bt["cutoff"].unique()) == [TS("2025-10-01"), TS("2026-01-01"), TS("2026-04-01")]
    assert len(bt) == 18
    assert (bt["seasonal_naive"] == bt["actual"]).all()
    # the forecast repeats the year: November 2026 = 100, …, October 2027 = 130
    assert _forecast_of(result, "SEAS").tolist() == PATTERN


def test_intermittent_series_is_classified_and_gets_an_intermittent_method(result: ForecastResult) -> None:
    # 16 orders in 48 months → ADI = 48 / 16 = 3.0 ≥ 1.32; every order is 12 → CV² = 0 < 0.49: intermittent
    adi, cv2 = intermittency(np.array(LUMPS))
    assert (adi, cv2) == (3.0, 0.0) and sb_class(adi, cv2) == "intermittent"
    sel = _sel(result)
    assert sel.loc["LUMP", "sb_class"] == "intermittent"
    assert sel.loc["LUMP", "candidates"] == "croston, sba, tsb, historic_average"
    assert sel.loc["LUMP", "model"] in {"croston", "sba", "tsb", "historic_average", "combo"}


def test_new_item_gets_its_family_profile_scaled_to_its_level(result: ForecastResult) -> None:
    sel = _sel(result)
    assert sel.loc["NEW", "lifecycle"] == "new" and sel.loc["NEW", "model"] == "family_profile"
    assert sel.loc["NEW", "history_months"] == 8
    # Juice's profile is SEAS's year: index(m) = PATTERN(m) / mean(PATTERN), mean = 2060 / 12.
    # NEW's level = mean of its last three months over their indices (Aug 20, Sep 30, Oct 40 against
    # Aug 140, Sep 110, Oct 130): level × index(m) = PATTERN(m) × (20/140 + 30/110 + 40/130) / 3
    factor = (20 / 140 + 30 / 110 + 40 / 130) / 3  # = 0.241092…
    assert _forecast_of(result, "NEW").tolist() == pytest.approx([v * factor for v in PATTERN])
    assert (result.backtest["sku"] != "NEW").all()  # nothing to backtest


def test_phase_out_sku_is_zero_after_its_end_period(result: ForecastResult) -> None:
    po = result.forecast[result.forecast["sku"] == "PO"].set_index("period")
    # 2026-11 … 2027-03 sell as last year (half the pattern: 50, 40, 60, 75, 100); 2027-04 on: nothing
    assert po.loc[:"2027-03-01", "forecast"].tolist() == [50.0, 40.0, 60.0, 75.0, 100.0]
    numeric = po.loc["2027-04-01":].select_dtypes(include=[np.number])
    assert len(numeric) == 7 and (numeric.fillna(0.0) == 0.0).all().all()


def test_declining_series_is_not_left_to_seasonal_naive(result: ForecastResult) -> None:
    # each month is 11 × 12 = 132 below the same month a year earlier: seasonal naive's error is 132 a month
    scores = result.scores[result.scores["sku"] == "DECL"].set_index("model")
    assert scores.loc["seasonal_naive", "mae"] == pytest.approx(132.0)
    assert _sel(result).loc["DECL", "model"] != "seasonal_naive"
    assert scores["mae"].min() < 132.0 / 4


def test_forecasts_and_bounds_are_never_negative_and_ordered(result: ForecastResult) -> None:
    f = result.forecast
    assert (f.select_dtypes(include=[np.number]).fillna(0.0) >= 0.0).all().all()
    assert (f["forecast-lo-95"] <= f["forecast-lo-80"] + 1e-9).all()
    assert (f["forecast-hi-80"] <= f["forecast-hi-95"] + 1e-9).all()


def test_coverage_is_reported_for_backtested_series(result: ForecastResult) -> None:
    sel = _sel(result)
    # SEAS's forecasts are exact, so every actual is inside its (zero-width or wider) interval
    assert sel.loc["SEAS", "coverage_80"] == 1.0 and sel.loc["SEAS", "coverage_95"] == 1.0
    assert np.isnan(sel.loc["NEW", "coverage_80"])


def test_levels_add_up_exactly_at_every_month(result: ForecastResult) -> None:
    lv = result.levels
    total = lv[lv["level"] == "total"].set_index("period")["forecast"]
    for level in ("family", "region", "family × region", "sku", "sku × region"):
        summed = lv[lv["level"] == level].groupby("period")["forecast"].sum()
        pd.testing.assert_series_equal(summed, total, check_names=False, rtol=0, atol=1e-9)


def test_aggregate_levels_on_a_hand_example() -> None:
    frame = pd.DataFrame({
        "sku": ["a", "a", "b", "c"], "region": ["N", "S", "N", "S"], "family": ["F", "F", "F", "G"],
        "period": TS("2027-01-01"), "forecast": [1.0, 2.0, 4.0, 8.0],
    })
    lv = aggregate_levels(frame, ["forecast"], ["period"]).set_index(["level", "key"])["forecast"]
    assert lv[("total", "total")] == 15.0
    assert lv[("family", "F")] == 7.0 and lv[("family", "G")] == 8.0       # 1 + 2 + 4; 8
    assert lv[("region", "N")] == 5.0 and lv[("region", "S")] == 10.0      # 1 + 4; 2 + 8
    assert lv[("sku", "a")] == 3.0
    assert lv[("family × region", "F | N")] == 5.0


def test_abc_by_revenue_share() -> None:
    # revenue 50, 30, 15, 5 (total 100): shares before each are 0, .50, .80, .95 → A, A, B, C
    rev = pd.Series({"w": 30.0, "x": 50.0, "y": 5.0, "z": 15.0})
    assert abc_classes(rev).to_dict() == {"w": "A", "x": "A", "y": "C", "z": "B"}


def test_interval_calibration_on_a_hand_example() -> None:
    from sop_lib.demand.forecast.select import apply_calibration, calibration_factors

    # one model, forecast 100 with an 80 % interval 90 … 110 (half-width 10); actuals 105, 90, 120, 60:
    # errors 5, 10, 20, 40 → ratios 0.5, 1, 2, 4; their 80 % quantile (linear) = 2 + 0.4 × (4 − 2) = 2.8
    cv = pd.DataFrame({"unique_id": "s", "y": [105.0, 90.0, 120.0, 60.0], "forecast": 100.0,
                       "forecast-lo-80": 90.0, "forecast-hi-80": 110.0})
    model_of = pd.Series({"s": "ets"})
    factors = calibration_factors(cv, model_of, (80,), min_points=1).set_index("model")["factor"]
    assert factors["ets"] == pytest.approx(2.8)
    fc = pd.DataFrame({"unique_id": ["s"], "forecast": [50.0], "forecast-lo-80": [45.0], "forecast-hi-80": [60.0]})
    out = apply_calibration(fc, model_of, calibration_factors(cv, model_of, (80,), min_points=1), (80,))
    # 50 − 2.8 × 5 = 36; 50 + 2.8 × 10 = 78
    assert out.loc[0, "forecast-lo-80"] == pytest.approx(36.0)
    assert out.loc[0, "forecast-hi-80"] == pytest.approx(78.0)


def test_prophet_fits_leave_no_cmdstan_files_behind() -> None:
    """cmdstanpy cleans its temporary folder only at interpreter exit, which killed kernels and long-lived
    workers never reach: each fit must remove its own files."""
    import os

    import cmdstanpy

    from sop_lib.demand.forecast.models import prophet_fit_predict

    history = pd.DataFrame({"ds": pd.date_range("2020-01-01", periods=40, freq="MS"), "y": np.arange(40.0) % 12 + 10})
    before = set(os.listdir(cmdstanpy._TMPDIR))
    out = prophet_fit_predict(history, history[["ds"]].tail(6), ForecastParams(interval_levels=(80, 95)), "x")
    assert len(out) == 6
    assert set(os.listdir(cmdstanpy._TMPDIR)) == before


def test_a_history_shorter_than_two_years_forecasts_every_series_from_its_family_profile() -> None:
    """A young company (12 months of history, no price list): no series can be backtested; each gets its
    family's seasonal profile, built from every series since none is established, scaled to its own level.

    By hand: A sells 10 a month and 20 in November, B twice that. Family total 30 a month, 60 in November;
    mean 390 / 12 = 32.5, so the November index is 60 / 32.5 = 1.846 and every other month 30 / 32.5 = 0.923.
    A's level = mean of its last three months deseasonalised = (10 / 0.923 + 10 / 0.923 + 20 / 1.846) / 3 = 10.83;
    its forecast is 10.83 × 0.923 = 10 in December and 10.83 × 1.846 = 20 in November; B's is twice that.
    """
    months = pd.date_range("2010-12-01", "2011-11-01", freq="MS")
    a = [20.0 if m.month == 11 else 10.0 for m in months]
    sales = pd.concat([_series("A", "UK", "2010-12", a), _series("B", "UK", "2010-12", [2 * u for u in a])])
    products = pd.DataFrame({"sku": ["A", "B"], "family": ["Gifts", "Gifts"], "end_period": pd.NaT})
    no_promotions = pd.DataFrame({"period": pd.Series(dtype="datetime64[ns]"), "sku": pd.Series(dtype=object),
                                  "region": pd.Series(dtype=object), "discount_pct": pd.Series(dtype=float)})
    no_prices = pd.DataFrame({"sku": pd.Series(dtype=object), "valid_from": pd.Series(dtype="datetime64[ns]"),
                              "unit_price": pd.Series(dtype=float), "unit_cost": pd.Series(dtype=float)})
    res = build_forecast(sales, no_promotions, products, no_prices, pd.Timestamp("2011-12-01"),
                         ForecastParams(horizon_months=12))
    assert set(res.selection["model"]) == {"family_profile"}
    fc = res.forecast.set_index(["sku", "period"])["forecast"]
    assert fc[("A", pd.Timestamp("2011-12-01"))] == pytest.approx(10.0)
    assert fc[("A", pd.Timestamp("2012-11-01"))] == pytest.approx(20.0)
    assert fc[("B", pd.Timestamp("2012-11-01"))] == pytest.approx(40.0)
    assert res.backtest.empty and res.level_accuracy["wape"].isna().all()
    assert set(res.calibration["factor"]) == {1.0}  # nothing backtested: intervals as the profile gives them


def test_a_late_extract_is_forecast_from_its_last_month_not_padded_with_zero_demand() -> None:
    """With forecast.allow_stale_months the history may end before the month before the cycle: the missing
    month is forecast, not taken as zero demand. A flat 10 a month ending 2026-09 gives 10 for the cycle month
    2026-11 and every month after (a zero for 2026-10 would have pulled every model down)."""
    sales = _series("A", "UK", "2023-10", [10.0] * 36)  # 2023-10 … 2026-09
    products = pd.DataFrame({"sku": ["A"], "family": ["F"], "end_period": pd.NaT})
    no_promotions = pd.DataFrame({"period": pd.Series(dtype="datetime64[ns]"), "sku": pd.Series(dtype=object),
                                  "region": pd.Series(dtype=object), "discount_pct": pd.Series(dtype=float)})
    prices = pd.DataFrame({"sku": ["A"], "valid_from": [pd.Timestamp("2020-01-01")], "unit_price": [1.0],
                           "unit_cost": [0.5]})
    res = build_forecast(sales, no_promotions, products, prices, pd.Timestamp("2026-11-01"),
                         ForecastParams(horizon_months=6, prophet_classes=(), allow_stale_months=1))
    assert res.forecast["period"].min() == pd.Timestamp("2026-11-01") and len(res.forecast) == 6
    assert res.forecast["forecast"].to_numpy() == pytest.approx(10.0, rel=1e-6)
