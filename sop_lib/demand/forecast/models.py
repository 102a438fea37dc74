"""The forecast models, in a registry: statsforecast's (vectorised over series) and Prophet (one series at a
time), their names, labels and the order of preference on a tie; and Prophet's single fit.

Every model produces long frames with ``unique_id``, ``ds``, ``<model>`` and ``<model>-lo-<L>`` /
``<model>-hi-<L>`` for each interval level (statsforecast's naming). Running them on a backtest and keeping
the best is the tournament's job (``tournament.py``, ``select.py``).
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from sop_lib.data.params import ForecastParams

SEASON = 12  # monthly data, yearly season


def quiet_cmdstan() -> None:
    """CmdStan's INFO lines otherwise land in notebooks and the pack (setting a level does not stick); so would
    Prophet's warning that a yearly season on 24 months is under-identified — the engine turns the season on
    from two years on purpose, and the backtest judges the result."""
    logging.getLogger("cmdstanpy").disabled = True
    logging.getLogger("prophet").setLevel(logging.ERROR)


def _stats_factories() -> dict[str, Callable[[int], Any]]:
    """statsforecast's models by name, each made for a forecast of ``h`` months (their own conformal intervals
    need it; ``h`` 0: the intermittent models without intervals of their own)."""
    from statsforecast.models import (
        ARIMA,
        AutoARIMA,
        AutoCES,
        AutoETS,
        AutoTheta,
        CrostonClassic,
        CrostonSBA,
        DynamicOptimizedTheta,
        HistoricAverage,
        Naive,
        SeasonalNaive,
        SimpleExponentialSmoothingOptimized,
    )
    from statsforecast.models import TSB as _TSB
    from statsforecast.utils import ConformalIntervals

    def conformal(h: int) -> Any:
        return ConformalIntervals(h=h, n_windows=2) if h else None

    return {
        "seasonal_naive": lambda h: SeasonalNaive(season_length=SEASON, alias="seasonal_naive"),
        "theta": lambda h: AutoTheta(season_length=SEASON, alias="theta"),
        "dyn_theta": lambda h: DynamicOptimizedTheta(season_length=SEASON, alias="dyn_theta"),
        "ets": lambda h: AutoETS(season_length=SEASON, alias="ets"),
        "ces": lambda h: AutoCES(season_length=SEASON, alias="ces"),
        # the "airline" model ARIMA(0,1,1)(0,1,1)12: on Stallion 24x faster than AutoARIMA's search and more
        # accurate (docs/benchmarks.md); AutoARIMA stays available for the classes a user opts into
        "arima": lambda h: ARIMA(order=(0, 1, 1), seasonal_order=(0, 1, 1), season_length=SEASON, alias="arima"),
        "auto_arima": lambda h: AutoARIMA(season_length=SEASON, alias="auto_arima"),
        # intermittent-demand models have no native intervals: conformal ones from their own errors
        "croston": lambda h: CrostonClassic(alias="croston", prediction_intervals=conformal(h)),
        "sba": lambda h: CrostonSBA(alias="sba", prediction_intervals=conformal(h)),
        "tsb": lambda h: _TSB(alpha_d=0.1, alpha_p=0.1, alias="tsb", prediction_intervals=conformal(h)),
        "historic_average": lambda h: HistoricAverage(alias="historic_average"),
        # for young series (young.py): no season to learn from under two years
        "naive": lambda h: Naive(alias="naive"),
        "ses": lambda h: SimpleExponentialSmoothingOptimized(alias="ses"),
    }


STATS_MODELS = ("seasonal_naive", "theta", "dyn_theta", "ets", "ces", "arima", "auto_arima", "croston", "sba", "tsb",
                "historic_average", "naive", "ses")
ARIMA_MIN_TRAIN = 2 * SEASON + 2  # seasonal and ordinary differencing need two years and a bit
NO_FORWARD = {"croston", "sba", "tsb", "historic_average", "ses"}  # statsforecast cannot forward these: refit
# own intervals skipped where the engine's conformal ones replace them (tournament.py): CES simulates 5,000 paths
# per forecast; the intermittent models' own conformal intervals need 2 × h + 1 months of history (37 for an
# 18-month forecast: without them a 30-month intermittent series could not use Croston at all)
REPLACED_INTERVALS = {"ces", "croston", "sba", "tsb"}
MODEL_LABELS = {
    "seasonal_naive": "seasonal naive", "theta": "Theta (auto)", "dyn_theta": "dynamic optimised Theta",
    "ets": "ETS (auto)", "ces": "complex exponential smoothing (auto)",
    "arima": "ARIMA(0,1,1)(0,1,1)12 (airline)", "auto_arima": "ARIMA (auto)",
    "croston": "Croston", "sba": "Croston SBA", "tsb": "TSB", "historic_average": "historic average",
    "naive": "naive (last month)", "ses": "simple exponential smoothing",
    "prophet": "Prophet", "combo": "mean of the best models", "family_profile": "family profile × own level",
    "zero": "zero (no recent demand)",
}
# simpler first: on a tie the simpler model is kept
PREFERENCE = ("seasonal_naive", "naive", "historic_average", "ses", "croston", "sba", "tsb", "theta", "dyn_theta", "ets", "ces",
              "arima", "auto_arima", "prophet", "combo")
MODELS = (*PREFERENCE, "family_profile", "zero")  # every model column the engine can write


def stats_models(names: list[str], h: int, own_intervals: bool = True) -> list[Any]:
    """The statsforecast models named (from ``STATS_MODELS``), made for forecasts of ``h`` months, with the
    means for intervals of their own or (``own_intervals`` False) without."""
    factories = _stats_factories()
    return [factories[m](h if own_intervals else 0) for m in names]


def _seed(uid: str) -> int:
    """A stable seed per series, so Prophet's sampled intervals are the same in any process or cluster."""
    return int.from_bytes(hashlib.sha256(uid.encode()).digest()[:4], "little")


def _remove_fit_files(model: object) -> None:
    """Delete the files CmdStan wrote for one fit (its output folder, data and init JSON). cmdstanpy only
    cleans its temporary folder at interpreter exit, which killed kernels and long-lived Dask workers never
    reach; forked workers share the parent's folder, so each fit removes exactly its own files."""
    import os
    import shutil

    try:
        runset = model.stan_backend.stan_fit.runset  # type: ignore[attr-defined]
        shutil.rmtree(os.path.dirname(runset.csv_files[0]), ignore_errors=True)
        for path in (runset._args.data, runset._args.inits):
            if isinstance(path, str) and os.path.isfile(path):
                os.remove(path)
    except (AttributeError, IndexError, OSError):
        pass  # best effort: a different cmdstanpy layout only means the files stay until exit


def prophet_fit_predict(
    train: pd.DataFrame, future: pd.DataFrame, params: ForecastParams, uid: str, exog: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Prophet fitted on one series' ``train`` (``ds``, ``y`` + regressors), forecast over ``future``'s months:
    ``unique_id``, ``ds``, ``prophet`` and its sampled ``prophet-lo/hi-<L>`` bounds (seeded by ``uid``). A
    regressor of ``exog`` is used where it varies in ``train``; a yearly season from two years of history."""
    from prophet import Prophet

    used = [c for c in exog if c in train.columns and train[c].abs().sum() > 0 and train[c].nunique() > 1]
    model = Prophet(yearly_seasonality=len(train) >= 2 * SEASON, weekly_seasonality=False,
                    daily_seasonality=False, uncertainty_samples=0)
    for col in used:
        model.add_regressor(col)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(train[["ds", "y", *used]], algorithm=params.prophet_algorithm)
        _remove_fit_files(model)
        point = model.predict(future[["ds", *used]])["yhat"].to_numpy()
        out = pd.DataFrame({"unique_id": uid, "ds": future["ds"].to_numpy(), "prophet": point})
        if params.prophet_uncertainty_samples > 0:
            model.uncertainty_samples = params.prophet_uncertainty_samples
            np.random.seed(_seed(uid))
            samples = model.predictive_samples(future[["ds", *used]])["yhat"]
            for lv in params.interval_levels:
                out[f"prophet-lo-{lv}"] = np.percentile(samples, 50 - lv / 2, axis=1)
                out[f"prophet-hi-{lv}"] = np.percentile(samples, 50 + lv / 2, axis=1)
    return out
