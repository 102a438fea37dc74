"""Forecast models. Each takes long training data and returns long forecasts with interval columns.

Training frames have ``unique_id``, ``ds`` (month start), ``y`` and optionally ``promo``; outputs have
``unique_id``, ``ds``, ``<model>``, ``<model>-lo-<level>``, ``<model>-hi-<level>`` (statsforecast's naming).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

SEASON = 12  # monthly data, yearly season


@dataclass(frozen=True)
class ProphetSettings:
    level: int = 80
    algorithm: str = "LBFGS"
    uncertainty_samples: int = 300


def quiet_cmdstan() -> None:
    """CmdStan's INFO lines otherwise land in notebooks and the pack (setting a level does not stick)."""
    logging.getLogger("cmdstanpy").disabled = True
    logging.getLogger("prophet").setLevel(logging.WARNING)


def future_months(last: pd.Timestamp, h: int) -> pd.DatetimeIndex:
    return pd.date_range(last + pd.offsets.MonthBegin(1), periods=h, freq="MS")


def seasonal_naive(train: pd.DataFrame, h: int, level: int) -> pd.DataFrame:
    """Last year's same month, with statsforecast's intervals. Series need ≥ 12 months."""
    from statsforecast import StatsForecast
    from statsforecast.models import SeasonalNaive

    sf = StatsForecast(models=[SeasonalNaive(season_length=SEASON)], freq="MS", n_jobs=1)
    out = sf.forecast(df=train[["unique_id", "ds", "y"]], h=h, level=[level])
    out = out.rename(columns=lambda c: c.replace("SeasonalNaive", "seasonal_naive"))
    return _clip(out.reset_index(drop="unique_id" in out.columns))


def recent_mean(train: pd.DataFrame, h: int, level: int) -> pd.DataFrame:
    """Mean of the last three months (for series too short for anything seasonal); the interval is the
    normal approximation with the series' month-to-month standard deviation."""
    z = NormalDist().inv_cdf(0.5 + level / 200)
    rows = []
    for uid, g in train.groupby("unique_id", sort=False):
        y = g.sort_values("ds")["y"].to_numpy(dtype=float)
        mean = float(y[-3:].mean())
        sd = float(y.std(ddof=1)) if len(y) > 1 else mean * 0.5
        for ds in future_months(g["ds"].max(), h):
            rows.append((uid, ds, mean, mean - z * sd, mean + z * sd))
    out = pd.DataFrame(rows, columns=["unique_id", "ds", "recent_mean", f"recent_mean-lo-{level}",
                                      f"recent_mean-hi-{level}"])
    return _clip(out)


def _prophet_one(task: tuple[str, pd.DataFrame, pd.DataFrame, ProphetSettings]) -> pd.DataFrame:
    """Fit Prophet on one series and forecast the given future months (runs in a worker process)."""
    from prophet import Prophet

    quiet_cmdstan()
    uid, train, future, settings = task
    use_promo = "promo" in train and train["promo"].abs().sum() > 0
    model = Prophet(
        yearly_seasonality=len(train) >= 2 * SEASON,
        weekly_seasonality=False,
        daily_seasonality=False,
        interval_width=settings.level / 100,
        uncertainty_samples=settings.uncertainty_samples,
    )
    if use_promo:
        model.add_regressor("promo")
    cols = ["ds", "y", "promo"] if use_promo else ["ds", "y"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(train[cols], algorithm=settings.algorithm)
        pred = model.predict(future[["ds", "promo"]] if use_promo else future[["ds"]])
    lv = settings.level
    out = pd.DataFrame({
        "unique_id": uid,
        "ds": pred["ds"].to_numpy(),
        "prophet": pred["yhat"].to_numpy(),
        f"prophet-lo-{lv}": pred.get("yhat_lower", pred["yhat"]).to_numpy(),
        f"prophet-hi-{lv}": pred.get("yhat_upper", pred["yhat"]).to_numpy(),
    })
    return _clip(out)


def prophet(
    train: pd.DataFrame,
    future: pd.DataFrame,
    settings: ProphetSettings,
    workers: int = 0,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Prophet per series, in parallel over processes. ``future`` has ``unique_id``, ``ds`` (and ``promo``)."""
    import prophet as _prophet  # noqa: F401  # imported before the pool: forked workers then clean up CmdStan's temp dirs

    quiet_cmdstan()
    fut = dict(tuple(future.groupby("unique_id", sort=False)))
    tasks = [(uid, g, fut[uid], settings) for uid, g in train.groupby("unique_id", sort=False) if uid in fut]
    if not tasks:
        return pd.DataFrame(columns=["unique_id", "ds", "prophet"])
    n = workers or os.cpu_count() or 1
    results: list[pd.DataFrame] = []
    if n == 1 or len(tasks) < 4:
        for task in tasks:
            results.append(_prophet_one(task))
            if progress:
                progress(1)
    else:
        import multiprocessing as mp

        ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
        with ProcessPoolExecutor(max_workers=n, mp_context=ctx) as pool:
            for res in pool.map(_prophet_one, tasks, chunksize=max(1, len(tasks) // (4 * n))):
                results.append(res)
                if progress:
                    progress(1)
    return pd.concat(results, ignore_index=True)


def _clip(frame: pd.DataFrame) -> pd.DataFrame:
    """Demand is never negative: clip point forecasts and bounds at zero."""
    num = frame.select_dtypes(include=[np.number]).columns
    frame[num] = frame[num].clip(lower=0)
    return frame
