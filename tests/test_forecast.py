"""The statistical forecast on a handful of hand-made series (Prophet included, one worker)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sop_lib.forecast.engine import ForecastResult, build_forecast
from sop_lib.params import ForecastParams

TS = pd.Timestamp
CYCLE = TS("2026-11-01")
HORIZON = pd.date_range("2026-11-01", "2027-10-01", freq="MS")  # 12 months from the cycle month

# one year starting in November (the history below starts 2022-11): Nov, Dec, Jan, …, Oct
PATTERN = [100.0, 80.0, 120.0, 150.0, 200.0, 260.0, 300.0, 280.0, 190.0, 140.0, 110.0, 130.0]
SHORT = [5.0, 7.0, 9.0, 11.0, 13.0, 20.0, 30.0, 40.0]  # 2026-03 … 2026-10


def _series(sku: str, region: str, start: str, units: list[float]) -> pd.DataFrame:
    periods = pd.date_range(start, periods=len(units), freq="MS")
    return pd.DataFrame({"period": periods, "sku": sku, "region": region, "units": units})


@pytest.fixture(scope="module")
def result() -> ForecastResult:
    sales = pd.concat([
        # (a) the same 12 months four times over, 2022-11 … 2026-10, no noise
        _series("SEAS", "North", "2022-11-01", PATTERN * 4),
        # (b) eight months of history: too short to backtest
        _series("NEW", "North", "2026-03-01", SHORT),
        # (c) a phase-out SKU, also purely seasonal (half the volume), last month of sale 2027-03
        _series("PO", "South", "2022-11-01", [v / 2 for v in PATTERN] * 4),
        # (d) a steep decline (400 → 15 over three years): a trend model would go below zero
        _series("DECL", "West", "2023-11-01", [400.0 - 11.0 * t for t in range(36)]),
        # a SKU discontinued before the cycle: not forecast at all
        _series("GONE", "North", "2024-01-01", [50.0] * 24),
    ], ignore_index=True)
    promotions = pd.DataFrame({
        "period": [TS("2025-05-01"), TS("2027-01-01")], "sku": ["DECL", "DECL"], "region": ["West", "West"],
        "discount_pct": [15.0, 20.0],
    })
    products = pd.DataFrame({
        "sku": ["SEAS", "NEW", "PO", "DECL", "GONE"],
        "family": ["Juice", "Juice", "Sparkling", "Sparkling", "Juice"],
        "status": ["active", "new", "phase_out", "active", "phase_out"],
        "end_period": [pd.NaT, pd.NaT, TS("2027-03-01"), pd.NaT, TS("2025-12-01")],
    })
    params = ForecastParams(models=("seasonal_naive", "prophet"), workers=1, prophet_uncertainty_samples=50,
                            backtest_months=6, horizon_months=12)
    return build_forecast(sales, promotions, products, CYCLE, params)


def _forecast_of(result: ForecastResult, sku: str) -> pd.Series:
    f = result.forecast[result.forecast["sku"] == sku].set_index("period")
    return f["forecast"]


def test_one_row_per_series_and_month_of_the_horizon(result: ForecastResult) -> None:
    f = result.forecast
    assert len(f) == 4 * 12  # SEAS, NEW, PO, DECL × 12 months; GONE ended before the cycle
    assert not f.duplicated(["sku", "region", "period"]).any()
    expected_keys = {("SEAS", "North"), ("NEW", "North"), ("PO", "South"), ("DECL", "West")}
    assert set(zip(f["sku"], f["region"], strict=True)) == expected_keys
    for _, g in f.groupby(["sku", "region"]):
        assert list(g["period"]) == list(HORIZON)
    assert f["forecast"].notna().all()
    for col in ("forecast-lo-80", "forecast-hi-80", "model"):
        assert col in f.columns


def test_pure_seasonal_series_keeps_seasonal_naive_with_zero_error(result: ForecastResult) -> None:
    sel = result.selection.set_index("sku")
    assert sel.loc["SEAS", "model"] == "seasonal_naive"
    assert sel.loc["SEAS", "wape_seasonal_naive"] == 0.0
    assert sel.loc["SEAS", "wape_chosen"] == 0.0
    assert sel.loc["SEAS", "history_months"] == 48
    # the backtest held out the last 6 months, 2026-05 … 2026-10: the pattern's May … October values
    bt = result.backtest[result.backtest["sku"] == "SEAS"].sort_values("period")
    assert list(bt["period"]) == list(pd.date_range("2026-05-01", "2026-10-01", freq="MS"))
    assert bt["actual"].tolist() == [300.0, 280.0, 190.0, 140.0, 110.0, 130.0]
    assert bt["seasonal_naive"].tolist() == [300.0, 280.0, 190.0, 140.0, 110.0, 130.0]
    # and the forecast repeats the year: November 2026 = 100, …, October 2027 = 130
    assert _forecast_of(result, "SEAS").tolist() == PATTERN


def test_short_history_gets_the_mean_of_its_last_three_months(result: ForecastResult) -> None:
    sel = result.selection.set_index("sku")
    assert sel.loc["NEW", "model"] == "recent_mean"
    assert sel.loc["NEW", "history_months"] == 8
    assert "shorter than 18 months" in sel.loc["NEW", "reason"]
    # (20 + 30 + 40) / 3 = 30 for every month of the horizon
    assert _forecast_of(result, "NEW").tolist() == pytest.approx([30.0] * 12)
    assert (result.backtest["sku"] != "NEW").all()  # nothing to backtest


def test_phase_out_sku_is_zero_after_its_end_period(result: ForecastResult) -> None:
    po = result.forecast[result.forecast["sku"] == "PO"].set_index("period")
    # 2026-11 … 2027-03 sell as last year (half the pattern: 50, 40, 60, 75, 100) ; 2027-04 on: nothing
    assert po.loc[:"2027-03-01", "forecast"].tolist() == [50.0, 40.0, 60.0, 75.0, 100.0]
    after = po.loc["2027-04-01":]
    assert len(after) == 7
    numeric = after.select_dtypes(include=[np.number])
    assert (numeric == 0.0).all().all(), numeric  # point forecast, interval and every model column


def test_discontinued_sku_is_not_forecast(result: ForecastResult) -> None:
    assert "GONE" not in set(result.forecast["sku"])
    assert "GONE" not in set(result.selection["sku"])


def test_forecasts_are_never_negative(result: ForecastResult) -> None:
    numeric = result.forecast.select_dtypes(include=[np.number])
    assert (numeric.fillna(0.0) >= 0.0).all().all()
    bt = result.backtest.select_dtypes(include=[np.number])
    assert (bt.fillna(0.0) >= 0.0).all().all()


def test_declining_series_is_fitted_by_the_trend_model_and_clipped(result: ForecastResult) -> None:
    # the last year fell by 11 × 12 = 132 units a month against the year before: seasonal naive is far off,
    # Prophet's trend fits; extended by a year it goes below zero, so the forecast stops at 0
    sel = result.selection.set_index("sku")
    assert sel.loc["DECL", "model"] == "prophet"
    assert sel.loc["DECL", "wape_seasonal_naive"] > sel.loc["DECL", "wape_prophet"]
    assert (_forecast_of(result, "DECL").iloc[-3:] == 0.0).all()
