"""The backtest's origins forecast to the end of the data, and the intervals learn the steps beyond the scored
horizon from those errors where there are enough of them (tournament.reach, conformal.step_quantiles)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sop_lib.data.params import ForecastParams
from sop_lib.demand.forecast.conformal import apply_conformal, rank_points, step_quantiles
from sop_lib.demand.forecast.tournament import reach, scored, stats_tournament


def _series(n: int, uid: str = "A", end: str = "2024-12-01") -> pd.DataFrame:
    # y = 1, 2, 3 … n: a seasonal naive forecast of month t is y(t − 12), t − 12 counted from the first month
    return pd.DataFrame({"unique_id": uid, "ds": pd.date_range(end=end, periods=n, freq="MS"),
                         "y": np.arange(1.0, n + 1)})


def test_reach_runs_to_the_forecast_horizon_within_the_backtest_span() -> None:
    p = ForecastParams()  # 3 origins, 3 months apart, 6 scored: the first origin has 12 months after it
    assert (p.backtest_span, reach(p, 18), reach(p, 9), reach(p, 3)) == (12, 12, 9, 6)


def test_each_origin_is_forecast_to_the_end_of_the_data_and_only_the_first_six_months_are_scored() -> None:
    p = ForecastParams(interval_levels=(80,))
    cv, _ = stats_tournament(_series(40), ["seasonal_naive"], p, horizon=18, phase="backtest")
    cutoffs = cv["cutoff"].sort_values().unique()
    # origins: months 28, 31, 34 of 40 (the last 12, 9 and 6 months after them)
    assert list(pd.DatetimeIndex(cutoffs).strftime("%Y-%m")) == ["2023-12", "2024-03", "2024-06"]
    assert cv.groupby("cutoff").size().tolist() == [12, 9, 6]
    assert cv["ds"].max() == pd.Timestamp("2024-12-01")  # no placeholder month after the data's end
    # the first origin (month 28): its 12th step is month 40, forecast as month 28's value 28, actual 40
    first = cv[cv["cutoff"] == cutoffs[0]].sort_values("ds")
    assert first["seasonal_naive"].tolist() == list(np.arange(17.0, 29.0))
    assert first["y"].tolist() == list(np.arange(29.0, 41.0))
    # the last origin (month 34): months 35 … 40 forecast as months 23 … 28
    last = cv[cv["cutoff"] == cutoffs[2]].sort_values("ds")
    assert last["seasonal_naive"].tolist() == list(np.arange(23.0, 29.0))
    assert scored(cv, p).groupby("cutoff").size().tolist() == [6, 6, 6]


def test_an_intermittent_series_of_thirty_months_can_keep_croston_for_an_eighteen_month_forecast() -> None:
    # Croston's own conformal intervals for 18 months need 37 months of history: skipped where the engine's
    # conformal intervals replace them (the default); with the model's own intervals asked for, a series too
    # short for them still gets Croston's point forecast
    y = np.zeros(30)
    y[::3] = 6.0  # demand every third month
    data = _series(30).assign(y=y)
    _, fc = stats_tournament(data, ["croston"], ForecastParams(), horizon=18, phase="final")
    assert len(fc) == 18 and fc["croston"].notna().all()
    with pytest.raises(Exception, match="37 samples"):
        stats_tournament(data, ["croston"], ForecastParams(interval_method="scaled"), horizon=18, phase="final")
    _, fc = stats_tournament(data, ["croston"], ForecastParams(interval_method="scaled"), horizon=18,
                             phase="final", own_intervals=False)
    assert fc["croston"].notna().all() and "croston-hi-80" not in fc


def _cv(points: dict[str, dict[int, int]]) -> pd.DataFrame:
    """A backtest in which every series has error 1 at every point (ratios all 1, but at step 1 error 2, so
    the quantiles differ by step), ``points[uid][step]`` origins at each step."""
    rows = []
    for uid, by_step in points.items():
        for step, n in by_step.items():
            for k in range(n):
                cut = pd.Timestamp("2020-01-01") + pd.DateOffset(months=k)
                rows.append({"unique_id": uid, "cutoff": cut, "ds": cut + pd.DateOffset(months=step),
                             "y": 100.0, "forecast": 100.0 + (2.0 if step == 1 else 1.0)})
    return pd.DataFrame(rows)


def test_the_fewest_errors_for_a_conformal_rank() -> None:
    # ⌈(n + 1)·0.95⌉ ≤ n from n = 19; ⌈(n + 1)·0.8⌉ ≤ n from n = 4
    assert (rank_points((80,)), rank_points((95,)), rank_points((80, 95))) == (4, 19, 19)


def test_a_step_beyond_the_horizon_is_learnt_only_from_enough_errors_and_never_across_a_gap() -> None:
    # scored horizon 1; one error per series and step: A, B, C at steps 1 … 4, D at steps 1, 2 and 4. Errors at
    # step 2: 4 (enough for the 80 % rank: learnt), step 3: 3 (too few: not learnt), step 4: 4 (after a gap: not
    # learnt either)
    cv = _cv({"A": {1: 1, 2: 1, 3: 1, 4: 1}, "B": {1: 1, 2: 1, 3: 1, 4: 1}, "C": {1: 1, 2: 1, 3: 1, 4: 1},
              "D": {1: 1, 2: 1, 4: 1}})
    table = step_quantiles(cv, "forecast", pd.Series(dtype=object), (80,), max_step=1)
    assert table["step"].tolist() == [1, 2]
    assert table["points"].tolist() == [4, 4]


def test_each_pool_learns_as_far_as_its_own_errors_reach_and_extends_flat_from_there() -> None:
    # pools (min_points 1, as for the hierarchy's levels): "wide" has 4 errors at step 2, "thin" 1; scored horizon 1
    cv = _cv({"A": {1: 1, 2: 1}, "B": {1: 1, 2: 1}, "C": {1: 1, 2: 1}, "D": {1: 1, 2: 1}, "E": {1: 4, 2: 1}})
    pool = pd.Series({"A": "wide", "B": "wide", "C": "wide", "D": "wide", "E": "thin"})
    table = step_quantiles(cv, "forecast", pool, (80,), max_step=1, min_points=1)
    assert table.groupby("pool")["step"].max().to_dict() == {"*": 2, "thin": 1, "wide": 2}
    # A … D: errors 2 (step 1) and 1 (step 2), mean 1.5, leave-one-out ratios 2/1 = 2 and 1/2 = 0.5; step 2 of
    # "wide": four ratios 0.5, 80 % rank ⌈5 × 0.8⌉ = 4th → 0.5, lifted to step 1's quantile (four 2s: 2)
    q = table.set_index(["pool", "step"])["q"]
    assert q[("wide", 1)] == q[("wide", 2)] == pytest.approx(2.0)
    fc = pd.DataFrame({"unique_id": ["E", "E", "E"], "ds": pd.date_range("2021-01-01", periods=3, freq="MS"),
                       "forecast": 50.0})
    out = apply_conformal(fc, "forecast", np.array([1, 2, 3]), pool, pd.Series({"E": 1.0}), table, (80,))
    # E ("thin": errors 2, 2, 2, 2 at step 1 and 1 at step 2; a step-1 ratio is 2 / (7 / 4) = 8/7, the 4th of 4):
    # step 1's quantile × scale 1, flat at steps 2 and 3
    assert q[("thin", 1)] == pytest.approx(8 / 7)
    assert out["forecast-hi-80"].tolist() == pytest.approx([50 + 8 / 7] * 3)
