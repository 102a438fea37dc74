"""Screening the candidates on a sample: a model the held-out score does not need is left out of the rest of
the portfolio's backtest (dearest first, the tolerance counted against the full set); a model some series has
no alternative to is kept; a small portfolio is not screened."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sop_lib.demand.forecast.engine as engine
from sop_lib.data.params import ForecastParams
from sop_lib.demand.forecast.engine import forecast_core
from sop_lib.demand.forecast.screen import change_bound, screen, screening_sample
from sop_lib.demand.forecast.tournament import BatchTask, cutoffs_for

MONTHS = pd.date_range("2020-01-01", periods=36, freq="MS")
FUTURE = pd.date_range(MONTHS[-1] + pd.DateOffset(months=1), periods=3, freq="MS")
ERR = {"seasonal_naive": 30.0, "theta": 10.0, "ets": 10.0}  # ETS and Theta forecast alike: one is not needed
SIMPLE = {"strategy": "select", "combine_best": 0, "combinations": (), "prophet_classes": ()}


def _cv(ids: list[str], err: dict[str, float], params: ForecastParams) -> pd.DataFrame:
    rows = []
    for uid in ids:
        for cut in cutoffs_for(MONTHS[-1], params):
            for step in range(1, params.backtest_horizon + 1):
                rows.append({"unique_id": uid, "cutoff": cut, "ds": cut + pd.DateOffset(months=step), "y": 100.0,
                             **{m: 100.0 - e for m, e in err.items()}})
    return pd.DataFrame(rows)


def _train(ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame([{"unique_id": u, "ds": d, "y": 100.0} for u in ids for d in MONTHS])


def test_the_sample_is_every_kth_series_by_revenue_and_small_portfolios_are_not_screened() -> None:
    params = ForecastParams()  # 25 %, at least 60, only where the sample is under a third of the portfolio
    rank = pd.Series(np.arange(1, 401), index=[f"S{i:03d}" for i in range(1, 401)])
    sample = screening_sample(rank, params)
    assert len(sample) == 100 and sample[0] == "S001" and sample[-1] == "S400"
    assert len(screening_sample(rank.iloc[:180], params)) == 60  # 60 × 3 = 180: just screened
    assert screening_sample(rank.iloc[:179], params) == []
    assert screening_sample(rank, params.model_copy(update={"screen_candidates": False})) == []


def test_the_dearer_of_two_alike_models_is_left_out_and_the_needed_one_kept() -> None:
    params = ForecastParams(**SIMPLE)
    ids = ["S1", "S2"]
    cv = _cv(ids, ERR, params)
    groups, scale = pd.Series("portfolio", index=ids), pd.Series(1.0, index=ids)
    dropped, table = screen(cv, _train(ids), groups, ["seasonal_naive", "theta", "ets"], scale, params, 2)
    assert dropped == ["ets"]
    rows = table.set_index("model")
    # held-out WAPE of `select`: 10 / 100 with both; Theta alone does as well; seasonal naive alone 30 / 100.
    # MASE (scale 1): 10 → 10 → 30
    assert rows.loc["ets", "wape_all"] == pytest.approx(0.10) and rows.loc["ets", "mase_all"] == pytest.approx(10.0)
    assert rows.loc["ets", "wape_without"] == pytest.approx(0.10) and rows.loc["ets", "decision"] == "left out"
    assert rows.loc["theta", "wape_without"] == pytest.approx(0.30)
    assert rows.loc["theta", "mase_without"] == pytest.approx(30.0)
    assert rows.loc["theta", "decision"] == "kept: WAPE and MASE may be worse without it (the chosen strategy, select)"
    assert set(table["sample"]) == {2} and set(table["series"]) == {2}


def test_a_model_that_is_some_series_only_candidate_is_kept() -> None:
    params = ForecastParams(**SIMPLE)
    ids = ["S1", "S2"]
    cv = _cv(ids, ERR, params)
    cv.loc[cv["unique_id"] == "S2", ["seasonal_naive", "theta"]] = np.nan  # S2 has ETS only
    groups, scale = pd.Series("portfolio", index=ids), pd.Series(1.0, index=ids)
    dropped, table = screen(cv, _train(ids), groups, ["seasonal_naive", "theta", "ets"], scale, params, 2)
    assert "ets" not in dropped
    assert table.set_index("model").loc["ets", "decision"] == "kept: the only candidate of some series"


def test_the_rest_of_the_portfolio_is_backtested_without_the_models_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [f"S{i:02d}" for i in range(40)]
    calls: list[tuple[str, dict[str, tuple[str, ...]]]] = []

    def fake(task: BatchTask) -> tuple[pd.DataFrame, pd.DataFrame]:
        calls.append((task.phase, dict(task.candidates)))
        if task.phase == "backtest":
            models = set().union(*task.candidates.values())
            err = {m: e for m, e in ERR.items() if m in models}
            return _cv(list(task.candidates), err, task.params), pd.DataFrame(columns=["unique_id", "ds"])
        rows = [{"unique_id": u, "ds": d, **{m: 100.0 - ERR[m] for m in ms}}
                for u, ms in task.candidates.items() for d in FUTURE]
        return pd.DataFrame(columns=["unique_id", "cutoff", "ds"]), pd.DataFrame(rows)

    monkeypatch.setattr(engine, "run_batch", fake)
    params = ForecastParams(**SIMPLE, workers=1, batch_size=100, smooth_models=("seasonal_naive", "theta", "ets"),
                            screen_min_series=10, screen_share=0.1)
    train = _train(ids).assign(y=lambda d: 100.0 + np.sin(np.arange(len(d))))  # smooth, not constant
    future = pd.DataFrame([{"unique_id": u, "ds": d} for u in ids for d in FUTURE])
    revenue = pd.Series(np.arange(40, 0, -1, dtype=float), index=ids)  # S00 largest
    core = forecast_core(train, future, pd.Series("F", index=ids), revenue, params)
    backtests = [c for phase, c in calls if phase == "backtest"]
    assert len(backtests) == 2
    sample, rest = backtests
    assert len(sample) == 10 and all(ms == ("seasonal_naive", "theta", "ets") for ms in sample.values())
    assert len(rest) == 30 and all(ms == ("seasonal_naive", "theta") for ms in rest.values())
    assert "ets" not in core.backtest.columns  # the sample's ETS is dropped too: one candidate set for all
    assert set(core.selection["model"]) == {"theta"}
    assert set(core.selection["candidates"]) == {"seasonal_naive, theta"}
    assert core.screening.set_index("model")["decision"].to_dict() == {
        "ets": "left out", "theta": "kept: WAPE and MASE may be worse without it (the chosen strategy, select)"}


def test_a_model_the_small_series_need_is_kept_though_the_large_ones_do_not() -> None:
    """WAPE is ruled by the large series: without ETS it moves 0.5 %, within the 1 % tolerance; the small
    series' MASE (and the mean MASE) gets six times worse, so ETS is kept."""
    params = ForecastParams(**SIMPLE)
    ids = ["BIG", "SMALL"]
    cv = _cv(ids, {"seasonal_naive": 300.0, "theta": 100.0, "ets": 100.0}, params)
    cv.loc[cv["unique_id"] == "BIG", "y"] = 1000.0
    cv.loc[cv["unique_id"] == "BIG", ["seasonal_naive", "theta", "ets"]] = [700.0, 900.0, 900.0]
    small = cv["unique_id"] == "SMALL"
    cv.loc[small, ["y", "seasonal_naive", "theta", "ets"]] = [1.0, 0.2, 0.5, 1.0]  # ETS exact on the small one
    groups, scale = pd.Series("portfolio", index=ids), pd.Series({"BIG": 100.0, "SMALL": 0.1})
    dropped, table = screen(cv, _train(ids), groups, ["seasonal_naive", "theta", "ets"], scale, params, 2)
    rows = table.set_index("model")
    # WAPE: 100 / 1001 with all, 100.5 / 1001 without ETS (+0.5 %); MASE: (100/100 + 0/0.1) / 2 = 0.5 → (1 + 5) / 2
    assert rows.loc["ets", "wape_all"] == pytest.approx(100 / 1001)
    assert rows.loc["ets", "wape_without"] == pytest.approx(100.5 / 1001)
    assert rows.loc["ets", "mase_all"] == pytest.approx(0.5) and rows.loc["ets", "mase_without"] == pytest.approx(3.0)
    assert "ets" not in dropped and rows.loc["ets", "decision"] == "kept: MASE may be worse without it (the chosen strategy, select)"


def test_a_change_that_is_zero_on_average_but_noisy_is_not_taken_as_harmless() -> None:
    """20 series, each error 10 with every model; without the model half get 5 and half 15: no change on the
    whole sample, but the 90 % bootstrap interval reaches ≈ +18 % (sd of the ratio 5 / √20 / 10 ≈ 0.11)."""
    ids = [f"S{i}" for i in range(20)]
    full = pd.DataFrame({"ae": 10.0, "ay": 100.0, "mase": 1.0}, index=pd.Index(ids, name="unique_id"))
    noisy = full.assign(ae=[5.0, 15.0] * 10, mase=[0.5, 1.5] * 10)
    bound = change_bound(full, noisy)
    assert bound["wape_change_pct"] == pytest.approx(0.0) and bound["mase_change_pct"] == pytest.approx(0.0)
    assert 10 < bound["wape_upper_pct"] < 30 and 10 < bound["mase_upper_pct"] < 30
    same = change_bound(full, full)
    assert same["wape_upper_pct"] == pytest.approx(0.0) and same["mase_upper_pct"] == pytest.approx(0.0)


def test_a_model_the_chosen_combination_does_not_use_is_kept_if_select_needs_it() -> None:
    """The sample chooses mean(ETS, Theta) (error 1), which does not use ARIMA; but ARIMA is every series' best
    single model (error 5 against ETS's 8): without it `select` would get 60 % worse, and the whole portfolio
    might choose `select`. So ARIMA is kept, and the table says for which strategy."""
    params = ForecastParams(strategy="auto", combine_best=0, combinations=("mean:ets+theta",), prophet_classes=())
    ids = ["S1", "S2"]
    cv = _cv(ids, {"seasonal_naive": 30.0, "theta": 10.0, "ets": -8.0, "arima": 5.0}, params)
    groups, scale = pd.Series("portfolio", index=ids), pd.Series(1.0, index=ids)
    dropped, table = screen(cv, _train(ids), groups, ["seasonal_naive", "theta", "ets", "arima"], scale, params, 2)
    rows = table.set_index("model")
    assert dropped == []
    assert rows.loc["arima", "wape_all"] == pytest.approx(0.01)  # the combination: (108 + 90) / 2 = 99
    assert rows.loc["arima", "wape_without"] == pytest.approx(0.01) and rows.loc["arima", "wape_change_pct"] == 0
    assert rows.loc["arima", "wape_upper_pct"] == pytest.approx(60.0)  # select: ETS's 8 instead of ARIMA's 5
    assert rows.loc["arima", "decision"] == "kept: WAPE and MASE may be worse without it (select)"


def test_a_sample_where_every_fit_failed_leaves_nothing_out() -> None:
    params = ForecastParams(**SIMPLE)
    empty = pd.DataFrame(columns=["unique_id", "cutoff", "ds", "y"])
    dropped, table = screen(empty, _train(["S1"]), pd.Series(dtype=object), [], pd.Series(dtype=float), params, 200)
    assert dropped == [] and table.empty
    ids = pd.Index(["S1"], name="unique_id")
    none = change_bound(pd.DataFrame({"ae": [1.0], "ay": [1.0], "mase": [1.0]}, index=ids),
                        pd.DataFrame({"ae": [], "ay": [], "mase": []}, index=pd.Index([], name="unique_id")))
    assert np.isnan(none["wape_upper_pct"])  # nothing to compare: not taken as harmless
