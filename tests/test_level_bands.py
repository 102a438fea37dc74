"""Family, region and total bands are each level's own interval (``forecast_levels``), moved with the consensus
adjustments like a series' bounds; summed series bounds are only the fallback, and the chart's title says so."""

from __future__ import annotations

import pandas as pd
import pytest

from sop_lib.demand.consensus import as_forecast, consensus_plan, level_plan
from sop_lib.pack.summary import total_demand_chart

T1, T2 = pd.Timestamp("2026-11-01"), pd.Timestamp("2026-12-01")
# T1: A 100 + 30 = 130, B 50 + 0 = 50 → total 150 → 180 (× 1.2). T2: both statistical 0, A + 10 (a shift).
CONSENSUS = pd.DataFrame({
    "sku": ["A", "B", "A", "B"], "region": ["North", "South"] * 2, "family": ["F1", "F2"] * 2,
    "period": [T1, T1, T2, T2], "statistical": [100.0, 50.0, 0.0, 0.0], "adjustment": [30.0, 0.0, 10.0, 0.0],
    "consensus": [130.0, 50.0, 10.0, 0.0]})
SERIES = pd.DataFrame({"sku": ["A", "B", "A", "B"], "region": ["North", "South"] * 2, "period": [T1, T1, T2, T2],
                       "forecast-lo-80": [70.0, 20.0, 0.0, 0.0], "forecast-hi-80": [140.0, 90.0, 5.0, 4.0]})
LEVELS = pd.DataFrame({
    "level": ["total", "total", "family", "family", "sku"], "key": ["total", "total", "F1", "F2", "A"],
    "period": [T1, T2, T1, T1, T1], "forecast": [150.0, 0.0, 100.0, 50.0, 100.0],
    "forecast-lo-80": [130.0, 0.0, 95.0, 40.0, 1.0], "forecast-hi-80": [170.0, 6.0, 110.0, 60.0, 2.0],
    "interval_source": "own backtest"})
SALES = pd.DataFrame({"sku": ["A", "B"], "region": ["North", "South"], "period": pd.Timestamp("2026-10-01"),
                      "units": [120.0, 40.0]})


def test_the_total_takes_its_own_interval_moved_by_the_consensus() -> None:
    total = level_plan(LEVELS, "total", CONSENSUS).set_index("period")
    # T1: own 130 … 170 scaled by 180 / 150 = 1.2 → 156 … 204 (summed series bounds would give 111 … 272)
    # T2: statistical 0, so shifted by the adjustment + 10 → 10 … 16
    assert total["forecast"].tolist() == [180.0, 10.0]
    assert total["forecast-lo-80"].tolist() == pytest.approx([156.0, 10.0])
    assert total["forecast-hi-80"].tolist() == pytest.approx([204.0, 16.0])


def test_a_family_takes_its_own_interval_and_without_consensus_the_statistical_one() -> None:
    fam = level_plan(LEVELS, "family", CONSENSUS).set_index(["family", "period"])
    # F1 at T1: own 95 … 110 × 130 / 100 → 123.5 … 143; F2 unchanged (no adjustment)
    assert fam.loc[("F1", T1), ["forecast", "forecast-lo-80", "forecast-hi-80"]].tolist() == pytest.approx(
        [130.0, 123.5, 143.0])
    assert fam.loc[("F2", T1), ["forecast-lo-80", "forecast-hi-80"]].tolist() == pytest.approx([40.0, 60.0])
    stat = level_plan(LEVELS, "family")
    assert stat["family"].tolist() == ["F1", "F2"] and stat["forecast-hi-80"].tolist() == [110.0, 60.0]


def _band(fig) -> tuple[list[float], list[float]]:
    """The chart's (lower, upper) band: trace 0 draws the upper bound, trace 1 fills down to the lower."""
    return list(fig.data[1].y), list(fig.data[0].y)


def test_the_summary_chart_draws_the_total_s_own_band() -> None:
    plan = consensus_plan(CONSENSUS, SERIES)
    fig = total_demand_chart(SALES, plan, as_forecast(plan), LEVELS, 80)
    lower, upper = _band(fig)
    assert lower == pytest.approx([156.0, 10.0]) and upper == pytest.approx([204.0, 16.0])
    assert "summed" not in fig.layout.title.text


@pytest.mark.parametrize("levels", [None, LEVELS[LEVELS["level"] != "total"]])
def test_without_the_total_s_own_interval_the_chart_sums_the_series_and_says_so(levels) -> None:
    plan = consensus_plan(CONSENSUS, SERIES)
    fig = total_demand_chart(SALES, plan, as_forecast(plan), levels, 80)
    lower, upper = _band(fig)
    # T1: A 70 … 140 × 1.3 = 91 … 182, B 20 … 90 → 111 … 272; T2: A 0 … 5 + 10, B 0 … 4 → 10 … 19
    assert lower == pytest.approx([111.0, 10.0]) and upper == pytest.approx([272.0, 19.0])
    assert "band: summed series bounds, wider than the total's own" in fig.layout.title.text
