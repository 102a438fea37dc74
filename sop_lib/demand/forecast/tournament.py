"""The tournament: every candidate model of a batch of series through a rolling-origin backtest, then a final
fit of only the models each series' forecast uses. This is the unit of parallel work: the local process pool
and a Dask cluster both map ``run_batch`` over batches, once per phase. (The models themselves are in
``models.py``; scoring the backtest and keeping the best in ``select.py``.)

Why two phases: statsforecast fits a model once for the whole backtest (later origins reuse it with
``forward``), so the final fit costs as much as the backtest. Once the strategy is chosen most candidates are
not needed any more: fitting only the needed ones saved a third of the tournament's time (docs/benchmarks.md)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from sop_lib.data.params import ForecastParams
from sop_lib.demand.forecast.conformal import months_between
from sop_lib.demand.forecast.models import (
    NO_FORWARD,
    REPLACED_INTERVALS,
    STATS_MODELS,
    prophet_fit_predict,
    quiet_cmdstan,
    stats_models,
)

Phase = Literal["backtest", "final", "both"]


@dataclass
class BatchTask:
    train: pd.DataFrame  # unique_id, ds, y (+ exog columns)
    future: pd.DataFrame  # unique_id, ds (+ exog columns) over the horizon
    candidates: dict[str, tuple[str, ...]]  # unique_id → models that compete for it
    params: ForecastParams
    horizon: int  # months forecast after the history (the months of ``future``)
    exog: tuple[str, ...] = ()  # regressor columns (Prophet), present in train and future
    phase: Phase = "both"  # the backtest, the final fit, or both
    own_intervals: bool = True  # False: no model's own intervals (the caller makes conformal ones: young.py)


def cutoffs_for(last: pd.Timestamp, params: ForecastParams) -> list[pd.Timestamp]:
    """Backtest origins: the last month of training data of each window, oldest first."""
    first = last - pd.DateOffset(months=params.backtest_span)
    return [first + pd.DateOffset(months=i * params.backtest_step) for i in range(params.backtest_windows)]


def reach(params: ForecastParams, horizon: int) -> int:
    """Months each backtest origin forecasts: the backtest horizon (scored), and beyond it as far as the data
    allow (the first origin has ``backtest_span`` months after it) up to the forecast's ``horizon``. The steps
    beyond the scored ones only teach the intervals how errors grow (``conformal.py``)."""
    return max(params.backtest_horizon, min(horizon, params.backtest_span))


def scored(cv: pd.DataFrame, params: ForecastParams) -> pd.DataFrame:
    """The backtest rows within the backtest horizon of their origin: those every choice is scored on (the rows
    beyond it, :func:`reach`, only teach the intervals)."""
    return cv[months_between(cv["ds"], cv["cutoff"]) <= params.backtest_horizon].reset_index(drop=True)


def _padded(data: pd.DataFrame, months: int) -> tuple[pd.DataFrame, pd.Series]:
    """``data`` with ``months`` placeholder months after each series' end (its last value), and each series'
    last real month. statsforecast's cross-validation forecasts every origin the same number of months and ends
    the last window at the data's end; padding lets the earlier origins run to the real end while the later
    ones, whose extra months are the placeholders, are cut back. A model never sees a month after its origin,
    so the placeholders only fill actuals that are dropped."""
    last = data.groupby("unique_id", sort=False).tail(1)
    pads = [last.assign(ds=last["ds"] + pd.DateOffset(months=i)) for i in range(1, months + 1)]
    padded = pd.concat([data, *pads], ignore_index=True).sort_values(["unique_id", "ds"], kind="stable")
    return padded, last.set_index("unique_id")["ds"]


def stats_tournament(
    train: pd.DataFrame, models: list[str], params: ForecastParams, horizon: int, phase: Phase = "both",
    own_intervals: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Backtest (rolling origin, each origin forecast :func:`reach` months or to the data's end) and/or final
    forecast of statsforecast models for series that share a candidate list (``own_intervals``: see
    :func:`_interval_runs`). Returns (cv, forecast) frames (empty for the phase not run); cv has ``cutoff``
    and ``y``."""
    from statsforecast import StatsForecast

    data = train[["unique_id", "ds", "y"]]
    refit = bool(set(models) & NO_FORWARD)
    bt_h = reach(params, horizon)
    pad = bt_h - params.backtest_horizon
    cvs, fcs = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for names, levels in _interval_runs(models, params, own_intervals):
            if phase != "final":
                padded, last = _padded(data, pad)
                sf = StatsForecast(models=stats_models(names, bt_h, levels is not None), freq="MS", n_jobs=1)
                cv = _tidy(sf.cross_validation(df=padded, h=bt_h, n_windows=params.backtest_windows,
                                               step_size=params.backtest_step, level=levels, refit=refit))
                cvs.append(cv[cv["ds"] <= cv["unique_id"].map(last)])
            if phase != "backtest":
                sf = StatsForecast(models=stats_models(names, horizon, levels is not None), freq="MS", n_jobs=1)
                fcs.append(_tidy(sf.forecast(df=data, h=horizon, level=levels)))
    return merge_frames(cvs, ["unique_id", "cutoff", "ds"]), merge_frames(fcs, ["unique_id", "ds"])


def _interval_runs(
    models: list[str], params: ForecastParams, own_intervals: bool = True
) -> list[tuple[list[str], list[int] | None]]:
    """The models split by whether their own intervals are asked for. With conformal intervals (the default)
    the forecast's intervals come from the backtest errors, and a model's own are only reported (the backtest's
    coverage table); those of ``REPLACED_INTERVALS`` are then skipped: CES simulates 5,000 paths in a Python
    loop for each forecast, 95 % of its cost (tourism, 100 series: 13.5 s against 0.7 s; its backtest 40 s
    against 0.8 s, docs/benchmarks.md); the intermittent models' own need twice the horizon of history.
    ``own_intervals`` False: no model's (the last retry of a series a model failed on)."""
    levels = list(params.interval_levels)
    skip = params.interval_method == "conformal" and params.calibrate_intervals
    plain = [m for m in models if not own_intervals or (skip and m in REPLACED_INTERVALS)]
    runs = [([m for m in models if m not in plain], levels), (plain, None)]
    return [(names, lv) for names, lv in runs if names]


def prophet_tournament(
    train: pd.DataFrame, future: pd.DataFrame, params: ForecastParams, exog: tuple[str, ...] = (),
    phase: Phase = "both",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Prophet per series: one fit per backtest origin (forecast :func:`reach` months or to the data's end) and/or
    a final fit; regressors from ``exog``."""
    # prophet.diagnostics.cross_validation refits at each cutoff too (measured on a 48-month series, 3 origins +
    # the final fit: the same forecasts, 0.40 s against this loop's 0.37 s), but takes the horizon as a Timedelta
    # (6 months are 181-184 days: no one value fits every origin), gives every cutoff the full history's
    # seasonalities and one unseeded interval: this loop stays
    quiet_cmdstan()
    months = reach(params, future["ds"].nunique())
    cvs, fcs = [], []
    fut = dict(tuple(future.groupby("unique_id", sort=False)))
    for uid, g in train.groupby("unique_id", sort=False):
        g = g.sort_values("ds")
        for cutoff in cutoffs_for(g["ds"].max(), params) if phase != "final" else []:
            fit_on = g[g["ds"] <= cutoff]
            test = g[(g["ds"] > cutoff) & (g["ds"] <= cutoff + pd.DateOffset(months=months))]
            pred = prophet_fit_predict(fit_on, test, params, str(uid), exog)
            cvs.append(pred.assign(cutoff=cutoff, y=test["y"].to_numpy()))
        if phase != "backtest":
            fcs.append(prophet_fit_predict(g, fut[uid], params, str(uid), exog))
    empty = pd.DataFrame(columns=["unique_id", "ds"])
    return (_tidy(pd.concat(cvs, ignore_index=True)) if cvs else empty,
            _tidy(pd.concat(fcs, ignore_index=True)) if fcs else empty)


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reset_index() if "unique_id" not in frame.columns else frame
    num = [c for c in frame.columns if c not in ("unique_id", "ds", "cutoff", "y")]
    if num:
        frame[num] = frame[num].clip(lower=0)  # demand is never negative
    return frame


def merge_frames(frames: list[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=keys)
    # each frame holds some models' columns for some series: one row per key with every model's value
    return pd.concat(frames, ignore_index=True).groupby(keys, sort=False, as_index=False).first()


def _stats_runs(task: BatchTask) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """statsforecast's candidates, one run per distinct candidate list. A model that fails on a group of series
    is retried series by series, and a series it still fails on simply has no value for that model."""
    runs = []
    groups: dict[tuple[str, ...], list[str]] = {}
    for uid, models in task.candidates.items():
        stats = tuple(m for m in models if m in STATS_MODELS)
        if stats:
            groups.setdefault(stats, []).append(uid)
    for models, uids in groups.items():
        train = task.train[task.train["unique_id"].isin(uids)]
        try:
            runs.append(stats_tournament(train, list(models), task.params, task.horizon, task.phase,
                                         task.own_intervals))
        except Exception:  # one odd series must not sink the batch: retry one by one, model by model
            for uid in uids:
                for model in models:
                    runs.extend(_one_model(train[train["unique_id"] == uid], model, task))
    return runs


def _one_model(train: pd.DataFrame, model: str, task: BatchTask) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """One model on one series: with its own intervals, else without (e.g. a history too short for an
    intermittent model's own conformal intervals), else nothing."""
    for own in (True, False) if task.own_intervals else (False,):
        try:
            return [stats_tournament(train, [model], task.params, task.horizon, task.phase, own)]
        except Exception:
            continue
    return []


def run_batch(task: BatchTask) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Backtest and/or final forecasts (``task.phase``) of every model listed for the series of one batch.

    Returns (cv, forecast): cv keyed by ``unique_id``, ``cutoff``, ``ds`` with the actual ``y``; forecast
    keyed by ``unique_id``, ``ds``. A series a model fails on has no value for it (it then cannot win).
    """
    runs = _stats_runs(task)
    prophet_ids = [uid for uid, models in task.candidates.items() if "prophet" in models]
    if prophet_ids:
        runs.append(prophet_tournament(task.train[task.train["unique_id"].isin(prophet_ids)],
                                       task.future[task.future["unique_id"].isin(prophet_ids)], task.params,
                                       task.exog, task.phase))
    return merge_frames([cv for cv, _ in runs], ["unique_id", "cutoff", "ds"]), merge_frames([fc for _, fc in runs],
                                                                               ["unique_id", "ds"])
