"""Forecast models, in a registry: statsforecast's (vectorised over series) and Prophet (one series at a time).

Every model produces long frames with ``unique_id``, ``ds``, ``<model>`` and ``<model>-lo-<L>`` /
``<model>-hi-<L>`` for each interval level (statsforecast's naming).
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

SEASON = 12  # monthly data, yearly season


@dataclass(frozen=True)
class EngineConfig:
    """Settings of one forecasting run (data goes in the call, settings here)."""

    horizon: int = 18
    levels: tuple[int, ...] = (80, 95)
    bt_horizon: int = 6  # months ahead scored at each backtest origin
    bt_windows: int = 3  # rolling origins
    bt_step: int = 3  # months between origins
    prophet_algorithm: str = "LBFGS"
    prophet_uncertainty_samples: int = 300
    exog: tuple[str, ...] = ()  # regressor columns (Prophet), present in history and future frames
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def bt_span(self) -> int:
        """Months at the end of the history that the backtest forecasts."""
        return self.bt_horizon + (self.bt_windows - 1) * self.bt_step


def quiet_cmdstan() -> None:
    """CmdStan's INFO lines otherwise land in notebooks and the pack (setting a level does not stick)."""
    logging.getLogger("cmdstanpy").disabled = True
    logging.getLogger("prophet").setLevel(logging.WARNING)


def _stats_factories() -> dict[str, Callable[[int], Any]]:
    from statsforecast.models import (
        ARIMA,
        AutoARIMA,
        AutoETS,
        AutoTheta,
        CrostonClassic,
        CrostonSBA,
        HistoricAverage,
        SeasonalNaive,
    )
    from statsforecast.models import TSB as _TSB
    from statsforecast.utils import ConformalIntervals

    def conformal(h: int) -> Any:
        return ConformalIntervals(h=h, n_windows=2)

    return {
        "seasonal_naive": lambda h: SeasonalNaive(season_length=SEASON, alias="seasonal_naive"),
        "theta": lambda h: AutoTheta(season_length=SEASON, alias="theta"),
        "ets": lambda h: AutoETS(season_length=SEASON, alias="ets"),
        # the "airline" model ARIMA(0,1,1)(0,1,1)12: on Stallion 24x faster than AutoARIMA's search and more
        # accurate (docs/benchmarks.md); AutoARIMA stays available for the classes a user opts into
        "arima": lambda h: ARIMA(order=(0, 1, 1), seasonal_order=(0, 1, 1), season_length=SEASON, alias="arima"),
        "auto_arima": lambda h: AutoARIMA(season_length=SEASON, alias="auto_arima"),
        # intermittent-demand models have no native intervals: conformal ones from their own errors
        "croston": lambda h: CrostonClassic(alias="croston", prediction_intervals=conformal(h)),
        "sba": lambda h: CrostonSBA(alias="sba", prediction_intervals=conformal(h)),
        "tsb": lambda h: _TSB(alpha_d=0.1, alpha_p=0.1, alias="tsb", prediction_intervals=conformal(h)),
        "historic_average": lambda h: HistoricAverage(alias="historic_average"),
    }


STATS_MODELS = ("seasonal_naive", "theta", "ets", "arima", "auto_arima", "croston", "sba", "tsb", "historic_average")
ARIMA_MIN_TRAIN = 2 * SEASON + 2  # seasonal and ordinary differencing need two years and a bit
NO_FORWARD = {"croston", "sba", "tsb"}  # statsforecast cannot reuse a fit across backtest windows for these
MODEL_LABELS = {
    "seasonal_naive": "seasonal naive", "theta": "Theta (auto)", "ets": "ETS (auto)",
    "arima": "ARIMA(0,1,1)(0,1,1)12 (airline)", "auto_arima": "ARIMA (auto)",
    "croston": "Croston", "sba": "Croston SBA", "tsb": "TSB", "historic_average": "historic average",
    "prophet": "Prophet", "combo": "mean of the best models", "family_profile": "family profile × own level",
    "zero": "zero (no recent demand)",
}


def future_months(last: pd.Timestamp, h: int) -> pd.DatetimeIndex:
    """The ``h`` months after ``last``."""
    return pd.date_range(last + pd.offsets.MonthBegin(1), periods=h, freq="MS")


def cutoffs_for(last: pd.Timestamp, cfg: EngineConfig) -> list[pd.Timestamp]:
    """Backtest origins: the last month of training data of each window, oldest first."""
    first = last - pd.DateOffset(months=cfg.bt_span)
    return [first + pd.DateOffset(months=i * cfg.bt_step) for i in range(cfg.bt_windows)]


def stats_tournament(
    train: pd.DataFrame, models: list[str], cfg: EngineConfig
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Backtest (rolling origin) and final forecast of statsforecast models for series that share a
    candidate list. Returns (cv, forecast) frames; cv has ``cutoff`` and ``y``."""
    from statsforecast import StatsForecast

    factories = _stats_factories()
    data = train[["unique_id", "ds", "y"]]
    levels = list(cfg.levels)
    refit = bool(set(models) & NO_FORWARD)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sf = StatsForecast(models=[factories[m](cfg.bt_horizon) for m in models], freq="MS", n_jobs=1)
        cv = sf.cross_validation(df=data, h=cfg.bt_horizon, n_windows=cfg.bt_windows, step_size=cfg.bt_step,
                                 level=levels, refit=refit)
        sf = StatsForecast(models=[factories[m](cfg.horizon) for m in models], freq="MS", n_jobs=1)
        fc = sf.forecast(df=data, h=cfg.horizon, level=levels)
    return _tidy(cv), _tidy(fc)


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reset_index() if "unique_id" not in frame.columns else frame
    num = [c for c in frame.columns if c not in ("unique_id", "ds", "cutoff", "y")]
    frame[num] = frame[num].clip(lower=0)  # demand is never negative
    return frame


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


def _prophet_fit_predict(
    train: pd.DataFrame, future: pd.DataFrame, cfg: EngineConfig, uid: str
) -> pd.DataFrame:
    from prophet import Prophet

    exog = [c for c in cfg.exog if c in train.columns and train[c].abs().sum() > 0 and train[c].nunique() > 1]
    model = Prophet(yearly_seasonality=len(train) >= 2 * SEASON, weekly_seasonality=False,
                    daily_seasonality=False, uncertainty_samples=0)
    for col in exog:
        model.add_regressor(col)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(train[["ds", "y", *exog]], algorithm=cfg.prophet_algorithm)
        _remove_fit_files(model)
        point = model.predict(future[["ds", *exog]])["yhat"].to_numpy()
        out = pd.DataFrame({"unique_id": uid, "ds": future["ds"].to_numpy(), "prophet": point})
        if cfg.prophet_uncertainty_samples > 0:
            model.uncertainty_samples = cfg.prophet_uncertainty_samples
            np.random.seed(_seed(uid))
            samples = model.predictive_samples(future[["ds", *exog]])["yhat"]
            for lv in cfg.levels:
                out[f"prophet-lo-{lv}"] = np.percentile(samples, 50 - lv / 2, axis=1)
                out[f"prophet-hi-{lv}"] = np.percentile(samples, 50 + lv / 2, axis=1)
    return out


def prophet_tournament(
    train: pd.DataFrame, future: pd.DataFrame, cfg: EngineConfig
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Prophet per series: one fit per backtest origin and a final fit; regressors from ``cfg.exog``."""
    quiet_cmdstan()
    cvs, fcs = [], []
    fut = dict(tuple(future.groupby("unique_id", sort=False)))
    for uid, g in train.groupby("unique_id", sort=False):
        g = g.sort_values("ds")
        for cutoff in cutoffs_for(g["ds"].max(), cfg):
            fit_on = g[g["ds"] <= cutoff]
            test = g[(g["ds"] > cutoff) & (g["ds"] <= cutoff + pd.DateOffset(months=cfg.bt_horizon))]
            pred = _prophet_fit_predict(fit_on, test, cfg, uid)
            cvs.append(pred.assign(cutoff=cutoff, y=test["y"].to_numpy()))
        fcs.append(_prophet_fit_predict(g, fut[uid], cfg, uid))
    return _tidy(pd.concat(cvs, ignore_index=True)), _tidy(pd.concat(fcs, ignore_index=True))
