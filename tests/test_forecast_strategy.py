"""Conformal intervals by horizon step and the choice of strategy, on hand-worked examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sop_lib.data.params import ForecastParams
from sop_lib.demand.forecast.conformal import (
    apply_conformal,
    conformal_quantile,
    series_scale,
    step_quantiles,
)
from sop_lib.demand.forecast.strategy import choose_strategy, final_models

TS = pd.Timestamp
CUTS = [TS("2020-01-01"), TS("2020-04-01"), TS("2020-07-01")]


def test_conformal_quantile_is_the_finite_sample_rank() -> None:
    r = np.array([4.0, 1.0, 3.0, 2.0])
    assert conformal_quantile(r, 50) == 3.0  # ⌈5 × 0.5⌉ = 3rd smallest
    assert conformal_quantile(r, 80) == 4.0  # ⌈5 × 0.8⌉ = 4th
    # ⌈5 × 0.95⌉ = 5 > 4 ratios: the normal approximation, z(95 %) = 1.95996 × RMS = √(30 / 4)
    assert conformal_quantile(r, 95) == pytest.approx(1.959964 * np.sqrt(7.5))
    assert np.isnan(conformal_quantile(np.array([np.nan]), 80))


def _cv(errors: dict[str, list[list[float]]]) -> pd.DataFrame:
    """A backtest with actual 100, forecast 100 + error, per series: one list of step errors per origin."""
    rows = []
    for uid, by_origin in errors.items():
        for cut, errs in zip(CUTS, by_origin, strict=False):
            for step, e in enumerate(errs, start=1):
                rows.append({"unique_id": uid, "cutoff": cut, "ds": cut + pd.DateOffset(months=step), "y": 100.0,
                             "forecast": 100.0 + e})
    return pd.DataFrame(rows)


def test_conformal_bounds_by_step_on_a_hand_example() -> None:
    # |errors| of A: step 1: 1, 1; step 2: 2, 4 (sum 8, scale = MAE 2); of B: 10, 30; 20, 20 (sum 80, scale 20).
    # Each ratio is |e| / the mean of the series' other 3 errors: A: 1 / (7/3) = 3/7, 2 / (6/3) = 1,
    # 4 / (4/3) = 3; B: 10 / (70/3) = 3/7, 30 / (50/3) = 1.8, 20 / (60/3) = 1
    cv = _cv({"A": [[1, -2], [-1, 4]], "B": [[10, -20], [-30, 20]]})
    assert series_scale(cv, "forecast").to_dict() == {"A": 2.0, "B": 20.0}
    table = step_quantiles(cv, "forecast", pd.Series(dtype=object), (50, 80), max_step=2)
    q = table.set_index(["step", "level"])["q"]
    # step 1 ratios 3/7 3/7 3/7 1.8: 50 % → 3rd = 3/7, 80 % → 4th = 1.8; step 2 ratios 1 3 1 1: 1 and 3
    assert q.to_dict() == pytest.approx({(1, 50): 3 / 7, (1, 80): 1.8, (2, 50): 1.0, (2, 80): 3.0})
    fc = pd.DataFrame({"unique_id": ["A", "A", "A", "B"], "ds": pd.date_range("2021-01-01", periods=4, freq="MS"),
                       "forecast": [100.0, 100.0, 100.0, 5.0]})
    out = apply_conformal(fc, "forecast", np.array([1, 2, 3, 2]), pd.Series(dtype=object),
                          series_scale(cv, "forecast"), table, (50, 80))
    # A: half-width q × 2 — step 1: 6/7 (50 %), 3.6 (80 %); step 2: 2, 6; step 3 takes step 2's (flat beyond)
    assert out["forecast-hi-50"].tolist()[:3] == pytest.approx([100 + 6 / 7, 102.0, 102.0])
    assert out["forecast-lo-80"].tolist()[:3] == pytest.approx([96.4, 94.0, 94.0])
    # B at step 2, 80 %: 5 ∓ 3 × 20 → the lower bound floored at 0
    assert (out.loc[3, "forecast-lo-80"], out.loc[3, "forecast-hi-80"]) == (0.0, 65.0)


def test_a_quantile_never_falls_below_an_earlier_step() -> None:
    # the hand example above with its steps swapped: step 1 ratios 1 3 1 1 (50 %: 1, 80 %: 3), step 2 ratios
    # 3/7 3/7 3/7 1.8 (50 %: 3/7, 80 %: 1.8 on their own) — an interval does not narrow further out: step 2 keeps 1, 3
    cv = _cv({"A": [[-2, 1], [4, -1]], "B": [[-20, 10], [20, -30]]})
    q = step_quantiles(cv, "forecast", pd.Series(dtype=object), (50, 80), max_step=2).set_index(["step", "level"])["q"]
    assert q.to_dict() == pytest.approx({(1, 50): 1.0, (1, 80): 3.0, (2, 50): 1.0, (2, 80): 3.0})


def test_a_pool_with_too_few_errors_takes_every_series_quantile() -> None:
    cv = _cv({"A": [[1, -2], [-1, 4]], "B": [[10, -20], [-30, 20]]})
    pool = pd.Series({"A": "ets", "B": "theta"})
    by_pool = step_quantiles(cv, "forecast", pool, (80,), max_step=2, min_points=3).set_index(["pool", "step"])["q"]
    assert by_pool[("ets", 1)] == by_pool[("*", 1)] == pytest.approx(1.8)  # 2 points < 3: pooled
    own = step_quantiles(cv, "forecast", pool, (80,), max_step=2, min_points=2).set_index(["pool", "step"])["q"]
    # 2 ratios a pool and step are too few for the 80 % rank (⌈3 × 0.8⌉ = 3): z(80 %) × their RMS
    z = 1.2815516
    assert own[("ets", 2)] == pytest.approx(z * np.sqrt((1 + 9) / 2))  # A's step-2 ratios 1, 3
    assert own[("theta", 1)] == pytest.approx(z * np.sqrt(((3 / 7) ** 2 + 1.8**2) / 2))  # B's step-1 3/7, 1.8


def _models_cv(spec: dict[str, dict[str, tuple[float, float]]]) -> pd.DataFrame:
    """Backtest of 3 origins × 2 months, actual 100; per series and model (early error, last-origin error)."""
    rows = []
    for uid, models in spec.items():
        for cut in CUTS:
            for step in (1, 2):
                row = {"unique_id": uid, "cutoff": cut, "ds": cut + pd.DateOffset(months=step), "y": 100.0}
                for m, (early, late) in models.items():
                    row[m] = 100.0 + (late if cut == CUTS[-1] else early)
                rows.append(row)
    cv = pd.DataFrame(rows)
    cv["mean:ets+dyn_theta"] = cv[["ets", "dyn_theta"]].mean(axis=1)
    return cv


# S1: ETS is best on the earlier origins (error +1 against -2 and +3), then misses by +10 on the last, where
# DynamicOptimizedTheta misses by -10: per-series selection keeps ETS, the mean of the two is exact.
# S3: Theta is exact everywhere, the two others miss by +10 and +20: selection is right, the mean is 15 off.
S1 = {"ets": (1.0, 10.0), "dyn_theta": (-2.0, -10.0), "theta": (3.0, 20.0)}
S3 = {"ets": (10.0, 10.0), "dyn_theta": (20.0, 20.0), "theta": (0.0, 0.0)}
SINGLES = ["theta", "dyn_theta", "ets"]


def _params(**kw: object) -> ForecastParams:
    return ForecastParams(combinations=("mean:ets+dyn_theta",), combine_best=0, **kw)  # type: ignore[arg-type]


def test_auto_chooses_the_combination_that_wins_on_the_held_out_origin() -> None:
    cv = _models_cv({"S1": S1, "S2": S1})
    groups = pd.Series("portfolio", index=["S1", "S2"])
    evidence, strategy_of = choose_strategy(cv, groups, SINGLES, pd.Series(dtype=float), _params())
    ev = evidence.set_index("strategy")
    # held out (the last origin): selection's ETS is 10 off on 100 → WAPE 0.1; the mean is exact
    assert ev.loc["select", "wape"] == pytest.approx(0.1)
    assert ev.loc["mean:ets+dyn_theta", "wape"] == pytest.approx(0.0)
    assert ev.loc["mean:ets+dyn_theta", "chosen"] and ev["chosen"].sum() == 1
    assert "held out" in ev.loc["mean:ets+dyn_theta", "reason"]
    # on all origins selection looks better than it is: (4 × 1 + 2 × 10) / 6 / 100
    assert ev.loc["select", "wape_all_origins"] == pytest.approx(0.04)
    assert set(strategy_of) == {"mean:ets+dyn_theta"}
    kept = final_models(cv, strategy_of, pd.Series({"S1": "ets", "S2": "ets"}), SINGLES, ["mean:ets+dyn_theta"])
    assert kept.to_dict() == {"S1": "mean:ets+dyn_theta", "S2": "mean:ets+dyn_theta"}


def test_strategy_set_in_params_is_kept_and_the_evidence_still_shown() -> None:
    cv = _models_cv({"S1": S1})
    evidence, strategy_of = choose_strategy(cv, pd.Series("portfolio", index=["S1"]), SINGLES,
                                            pd.Series(dtype=float), _params(strategy="select"))
    assert strategy_of.to_dict() == {"S1": "select"}
    assert evidence.set_index("strategy").loc["select", "reason"] == "set by forecast.strategy: select"
    assert len(evidence) == 3  # the fixed mean, the choice among combinations, selection


def test_per_segment_each_group_gets_its_own_strategy() -> None:
    cv = _models_cv({"S1": S1, "S3": S3})
    groups = pd.Series({"S1": "smooth", "S3": "erratic"})
    evidence, strategy_of = choose_strategy(cv, groups, SINGLES, pd.Series(dtype=float),
                                            _params(strategy_scope="segment"))
    assert strategy_of.to_dict() == {"S1": "mean:ets+dyn_theta", "S3": "select"}
    assert set(evidence["group"]) == {"smooth", "erratic"}
    kept = final_models(cv, strategy_of, pd.Series({"S1": "ets", "S3": "theta"}), SINGLES, ["mean:ets+dyn_theta"])
    assert kept.to_dict() == {"S1": "mean:ets+dyn_theta", "S3": "theta"}


def test_combinations_must_name_a_rule_and_two_models() -> None:
    with pytest.raises(ValueError, match="combination"):
        ForecastParams(combinations=("mean:ets",))
    with pytest.raises(ValueError, match="combination"):
        ForecastParams(combinations=("sum:ets+theta",))


def test_each_level_takes_its_own_backtest_errors_not_summed_bounds() -> None:
    from sop_lib.demand.forecast.reconcile import level_intervals

    # A over-forecasts by e where B under-forecasts by e: the total is exact at every backtest point
    rows = []
    for cut in CUTS[:2]:
        for step, e in ((1, 4.0), (2, 8.0)):
            for sku, sign in (("A", 1), ("B", -1)):
                f = 100.0 + sign * e
                rows.append({"sku": sku, "region": "R", "family": "F", "cutoff": cut,
                             "period": cut + pd.DateOffset(months=step), "actual": 100.0, "forecast": f,
                             "forecast-lo-80": f - 5, "forecast-hi-80": f + 5})
    backtest = pd.DataFrame(rows)
    months = pd.date_range("2021-01-01", periods=3, freq="MS")
    forecast = pd.DataFrame({"sku": ["A"] * 3 + ["B"] * 3, "region": "R", "family": "F",
                             "period": list(months) * 2, "forecast": 100.0})
    levels, cover = level_intervals(backtest, forecast, (80,), max_step=2)
    total = levels[levels["level"] == "total"]
    assert total["forecast"].tolist() == [200.0] * 3
    assert (total["forecast-lo-80"] == 200.0).all() and (total["forecast-hi-80"] == 200.0).all()
    # A alone: |errors| 4, 8, 4, 8 (scale 6); leave-one-out ratios 4 / (20/3) = 0.6 at step 1, 8 / (16/3) = 1.5
    # at step 2, the same for B: 4 ratios a step at the SKU level → 80 % bounds 100 ∓ 3.6, ∓ 9, ∓ 9 (step 3: step 2's)
    a = levels[(levels["level"] == "sku") & (levels["key"] == "A")]
    assert a["forecast-hi-80"].tolist() == pytest.approx([103.6, 109.0, 109.0])
    c = cover.set_index("level")
    assert c.loc["total", "coverage_80"] == 1.0 and c.loc["total", "coverage_80_summed"] == 1.0
    # held out: learnt on the first origin alone (ratios 4/8 and 8/4, two a step: too few for the 80 % rank, so
    # z(80 %) × RMS, scale 6: ± 3.8 and ± 15.4), the second origin's 4 falls outside, its 8 inside; summed ± 5
    # bounds: 4 inside, 8 outside
    assert c.loc["sku", "coverage_80"] == 0.5 and c.loc["sku", "coverage_80_summed"] == 0.5


def test_beyond_the_backtest_horizon_the_width_is_flat_or_grows_as_measured() -> None:
    from sop_lib.demand.forecast.conformal import growth_exponent

    # pooled quantiles 1 at step 1, 2 at step 2: q ∝ h^1 (b = log 2 / log 2 = 1)
    table = pd.DataFrame({"pool": "*", "step": [1, 2], "level": 80, "q": [1.0, 2.0], "points": 10})
    assert growth_exponent(table, 80) == pytest.approx(1.0)
    fc = pd.DataFrame({"unique_id": "A", "ds": pd.date_range("2021-01-01", periods=4, freq="MS"), "forecast": 100.0})
    scale = pd.Series({"A": 3.0})
    flat = apply_conformal(fc, "forecast", np.array([1, 2, 3, 4]), pd.Series(dtype=object), scale, table, (80,))
    assert flat["forecast-hi-80"].tolist() == pytest.approx([103.0, 106.0, 106.0, 106.0])
    trend = apply_conformal(fc, "forecast", np.array([1, 2, 3, 4]), pd.Series(dtype=object), scale, table, (80,),
                            growth="trend")
    # step 3: 2 × (3/2) × 3 = 9; step 4: 2 × (4/2) × 3 = 12
    assert trend["forecast-hi-80"].tolist() == pytest.approx([103.0, 106.0, 109.0, 112.0])


def test_held_out_widening_is_the_conformal_quantile_of_error_over_half_width() -> None:
    from sop_lib.demand.forecast.strategy import held_out_widening

    point, hi = pd.Series([100.0] * 4), pd.Series([110.0] * 4)  # half-width 10
    y = pd.Series([110.0, 100.0, 90.0, 125.0])  # |e| / 10 = 1, 0, 1, 2.5
    assert held_out_widening(y, point, hi, 80) == 2.5  # ⌈5 × 0.8⌉ = 4th smallest
    assert held_out_widening(y, point, hi, 50) == 1.0  # 3rd smallest
    # intervals wide enough already are never narrowed; a factor is capped at 3
    assert held_out_widening(pd.Series([100.0] * 4), point, hi, 80) == 1.0
    assert held_out_widening(pd.Series([200.0] * 4), point, hi, 80) == 3.0


def test_widen_scales_the_half_width_around_the_point_and_floors_at_zero() -> None:
    from sop_lib.demand.forecast.conformal import widen

    fc = pd.DataFrame({"unique_id": ["A", "B", "C"], "forecast": [100.0, 5.0, 50.0],
                       "forecast-lo-80": [90.0, 0.0, 40.0], "forecast-hi-80": [110.0, 15.0, 60.0]})
    out = widen(fc, "forecast", pd.DataFrame({80: [2.0, 2.0]}, index=["A", "B"]), (80,))
    assert out["forecast-hi-80"].tolist() == [120.0, 25.0, 60.0]  # C has no factor: unchanged
    assert out["forecast-lo-80"].tolist() == [80.0, 0.0, 40.0]  # B: 5 − 2 × 10 floored at 0


def test_auto_growth_keeps_the_rule_that_predicts_the_second_half_of_the_backtest() -> None:
    from sop_lib.demand.forecast.conformal import choose_growth

    def table(qs: list[float]) -> pd.DataFrame:
        return pd.DataFrame({"pool": "*", "step": range(1, len(qs) + 1), "level": 80, "q": qs, "points": 50})

    # q = √h: fitted on steps 1–3 (b = 0.5), the trend predicts steps 4–6 exactly; flat would stay at √3
    assert choose_growth(table([float(np.sqrt(h)) for h in range(1, 7)]), 80) == "trend"
    # widths that stop growing after step 3: flat predicts 4–6 exactly
    assert choose_growth(table([1.0, 1.4, 1.7, 1.7, 1.7, 1.7]), 80) == "flat"
    assert choose_growth(table([1.0, 1.0, 1.0, 1.0, 1.0, 1.0]), 80) == "flat"  # a tie keeps flat
    assert choose_growth(table([1.0, 2.0, 3.0]), 80) == "flat"  # too few steps to judge
