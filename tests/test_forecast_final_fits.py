"""The engine's two phases: every candidate on the backtest, then the final fit of only the models each
series' forecast uses; a needed model that forecasts wildly is replaced by the series' next best."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sop_lib.demand.forecast.engine as engine
from sop_lib.data.params import ForecastParams
from sop_lib.demand.forecast.engine import forecast_core
from sop_lib.demand.forecast.tournament import BatchTask, cutoffs_for

MONTHS = pd.date_range("2020-01-01", periods=36, freq="MS")
FUTURE = pd.date_range(MONTHS[-1] + pd.DateOffset(months=1), periods=3, freq="MS")


def _inputs(ids: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    rng = np.random.default_rng(7)
    train = pd.DataFrame([{"unique_id": u, "ds": d, "y": 100.0 + 10 * np.sin(i / 2) + rng.normal(0, 3)}
                          for u in ids for i, d in enumerate(MONTHS)])
    future = pd.DataFrame([{"unique_id": u, "ds": d} for u in ids for d in FUTURE])
    return train, future, pd.Series("F", index=ids), pd.Series(1.0, index=ids)


def test_a_fixed_combination_fits_only_its_members_for_the_final_forecast() -> None:
    ids = ["S1", "S2"]
    train, future, family, revenue = _inputs(ids)
    params = ForecastParams(strategy="combine", combinations=("mean:ets+dyn_theta",), workers=1,
                            smooth_models=("seasonal_naive", "theta", "dyn_theta", "ets"), prophet_classes=())
    core = forecast_core(train, future, family, revenue, params)
    # every candidate was backtested …
    assert core.backtest[["seasonal_naive", "theta", "dyn_theta", "ets"]].notna().all().all()
    # … but only the combination's members were fitted for the forecast
    fc = core.forecast
    assert fc[["ets", "dyn_theta"]].notna().all().all()
    assert "theta" not in fc or fc["theta"].isna().all()
    assert "seasonal_naive" not in fc or fc["seasonal_naive"].isna().all()
    assert fc["forecast"].to_numpy() == pytest.approx(fc[["ets", "dyn_theta"]].mean(axis=1).to_numpy())
    assert set(core.selection["model"]) == {"mean:ets+dyn_theta"}


def _fake_batch(calls: list[dict[str, tuple[str, ...]]]):
    """A tournament without fitting: backtest errors ets 1 < theta 2 < seasonal naive 4 for every series;
    final forecasts 100 + the model's rank, except S1's ETS, which explodes (10⁶)."""
    err = {"ets": 1.0, "theta": 2.0, "seasonal_naive": 4.0}

    def run(task: BatchTask) -> tuple[pd.DataFrame, pd.DataFrame]:
        if task.phase == "backtest":
            rows = []
            for uid in task.candidates:
                for cut in cutoffs_for(MONTHS[-1], task.params):
                    for step in range(1, task.params.backtest_horizon + 1):
                        rows.append({"unique_id": uid, "cutoff": cut, "ds": cut + pd.DateOffset(months=step),
                                     "y": 100.0, **{m: 100.0 + e for m, e in err.items()}})
            return pd.DataFrame(rows), pd.DataFrame(columns=["unique_id", "ds"])
        calls.append(dict(task.candidates))
        rows = [{"unique_id": uid, "ds": d, **{m: (1e6 if (uid, m) == ("S1", "ets") else 100.0 + err[m])
                                               for m in models}}
                for uid, models in task.candidates.items() for d in FUTURE]
        return pd.DataFrame(columns=["unique_id", "cutoff", "ds"]), pd.DataFrame(rows)

    return run


def test_a_wild_final_forecast_is_replaced_by_the_next_best_model(monkeypatch: pytest.MonkeyPatch) -> None:
    ids = ["S1", "S2"]
    train, future, family, revenue = _inputs(ids)
    calls: list[dict[str, tuple[str, ...]]] = []
    monkeypatch.setattr(engine, "run_batch", _fake_batch(calls))
    params = ForecastParams(strategy="select", combine_best=0, combinations=(), workers=1, prophet_classes=())
    core = forecast_core(train, future, family, revenue, params)
    # first pass: each series' best (ETS); second pass: only S1's next best (Theta), ETS not fitted again
    assert calls == [{"S1": ("ets",), "S2": ("ets",)}, {"S1": ("theta",)}]
    model = core.selection.set_index("unique_id")["model"]
    assert model.to_dict() == {"S1": "theta", "S2": "ets"}
    fc = core.forecast.set_index("unique_id")["forecast"]
    assert (fc.loc["S1"] == 102.0).all() and (fc.loc["S2"] == 101.0).all()
