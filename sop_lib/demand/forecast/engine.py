"""The forecasting engine: segment every series, run a tournament of the candidates its segment allows
on a rolling-origin backtest, keep the best, reconcile the hierarchy bottom-up.

Two entry points with one engine underneath:
- ``forecast_core``: any long frame (``unique_id``, ``ds``, ``y`` + regressors) — benchmarks and Python users;
- ``build_forecast``: the S&OP tables (sales, promotions, products, prices) — the demand workbook and the CLI.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from sop_lib.data.params import ForecastParams
from sop_lib.data.prices import prices_for
from sop_lib.demand.forecast.executors import map_batches
from sop_lib.demand.forecast.models import STATS_MODELS, EngineConfig, cutoffs_for, future_months
from sop_lib.demand.forecast.profile import family_indices, family_profile, zero_forecast
from sop_lib.demand.forecast.reconcile import aggregate_levels, level_accuracy
from sop_lib.demand.forecast.segment import candidates_for, segment_series
from sop_lib.demand.forecast.select import (
    add_combination,
    apply_calibration,
    calibration_factors,
    choose,
    coverage,
    mase_scale,
    pick_columns,
    score_models,
)
from sop_lib.demand.forecast.tournament import BatchTask, run_batch

# simpler first: on a tie the simpler model is kept
PREFERENCE = ["seasonal_naive", "historic_average", "croston", "sba", "tsb", "theta", "ets", "arima", "auto_arima",
              "prophet", "combo"]


@dataclass
class CoreResult:
    forecast: pd.DataFrame  # unique_id, ds, <model>…, forecast, forecast-lo/hi-<L>
    backtest: pd.DataFrame  # unique_id, cutoff, ds, y, <model>…, forecast, forecast-lo/hi-<L>
    selection: pd.DataFrame  # one row per series: segment, candidates, model, runner-up, errors, coverage
    scores: pd.DataFrame  # unique_id, model, mae, wape, mase, bias_pct
    calibration: pd.DataFrame  # model, level, factor, points: interval widening learnt on the backtest


def _batches(ids: list[str], size: int, workers: int) -> list[list[str]]:
    if not size:
        size = max(5, min(200, math.ceil(len(ids) / (max(workers, 1) * 4))))
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def forecast_core(
    train: pd.DataFrame,
    future: pd.DataFrame,
    family: pd.Series,
    revenue: pd.Series,
    cfg: EngineConfig,
    params: ForecastParams,
    progress: Callable[[int], None] | None = None,
    on_tasks: Callable[[int], None] | None = None,
) -> CoreResult:
    """Forecast every series of ``train`` over the months of ``future``.

    ``train``: ``unique_id``, ``ds`` (month start, complete months), ``y`` and the regressors named in
    ``cfg.exog``; ``future``: ``unique_id``, ``ds`` and the same regressors. ``family`` (by unique_id)
    groups series for new items' profiles; ``revenue`` (by unique_id) drives the ABC class.
    ``on_tasks(n)`` is told the number of series to fit before work starts; ``progress(k)`` is called as
    each batch of ``k`` series finishes (for a progress bar).
    """
    levels = cfg.levels
    seg = segment_series(train, revenue, params.min_history_months)
    seg["candidates"] = [
        candidates_for(r, params.prophet_classes, params.auto_arima_classes, int(r["history_months"]) - cfg.bt_span)
        for _, r in seg.iterrows()
    ]
    fitted = seg[seg["lifecycle"] == "established"]
    ids = fitted["unique_id"].tolist()
    workers = params.workers or os.cpu_count() or 1
    candidates = fitted.set_index("unique_id")["candidates"]
    tasks = [
        BatchTask(train[train["unique_id"].isin(b)], future[future["unique_id"].isin(b)],
                  {uid: candidates[uid] for uid in b}, cfg)
        for b in _batches(ids, params.batch_size, workers)
    ]
    if on_tasks:
        on_tasks(len(ids))
    results = map_batches(run_batch, tasks, params.executor, params.workers, params.scheduler, progress,
                          weights=[len(t.candidates) for t in tasks])
    cv = pd.concat([r[0] for r in results], ignore_index=True) if results else pd.DataFrame(
        columns=["unique_id", "cutoff", "ds", "y"])
    fc = pd.concat([r[1] for r in results], ignore_index=True) if results else pd.DataFrame(columns=["unique_id", "ds"])
    singles = [m for m in [*STATS_MODELS, "prophet"] if m in cv.columns]
    cv, fc = add_combination(cv, fc, singles, levels, params.combine_best, params.combine_method)
    models = singles + (["combo"] if "combo" in cv.columns and cv["combo"].notna().any() else [])

    first_cut = cutoffs_for(train["ds"].max(), cfg)[0]
    scores = score_models(cv, models, mase_scale(train, first_cut))
    chosen = choose(scores, PREFERENCE)

    # series that cannot be backtested: new items and those with no recent demand
    new = seg.loc[seg["lifecycle"] == "new", "unique_id"]
    idle = seg.loc[seg["lifecycle"] == "inactive", "unique_id"]
    # families' profiles from their established series, else (a history too short for any) from every series
    established = train[train["unique_id"].isin(ids)] if ids else train
    extra = [
        family_profile(train[train["unique_id"].isin(new)], future[future["unique_id"].isin(new)], family,
                       family_indices(established, family), levels),
        zero_forecast(future[future["unique_id"].isin(idle)], levels),
    ]
    fc = pd.concat([f for f in (fc, *extra) if len(f)], ignore_index=True)
    model_of = pd.concat([chosen.set_index("unique_id")["model"], pd.Series("family_profile", index=new.to_numpy()),
                          pd.Series("zero", index=idle.to_numpy())])
    fc = pick_columns(fc, model_of, levels)
    cv = pick_columns(cv, model_of, levels)
    raw_coverage = coverage(cv, levels)
    factors = calibration_factors(cv, model_of, levels)
    if params.calibrate_intervals:
        fc = apply_calibration(fc, model_of, factors, levels)

    selection = seg.merge(chosen, on="unique_id", how="left")
    selection["model"] = selection["unique_id"].map(model_of)
    selection["candidates"] = selection["candidates"].map(", ".join)
    selection = selection.merge(raw_coverage, on="unique_id", how="left")
    selection["reason"] = np.select(
        [selection["lifecycle"] == "new", selection["lifecycle"] == "inactive"],
        [f"new item (< {params.min_history_months} months): family profile scaled to its level",
         "no demand in the last 24 months: zero"],
        default=f"lowest backtest error over {cfg.bt_windows} origins × {cfg.bt_horizon} months",
    )
    return CoreResult(fc, cv, selection, scores, factors)


@dataclass
class ForecastResult:
    """The statistical forecast of a cycle (see ``build_forecast``)."""

    forecast: pd.DataFrame
    selection: pd.DataFrame
    backtest: pd.DataFrame
    scores: pd.DataFrame
    levels: pd.DataFrame
    level_accuracy: pd.DataFrame
    calibration: pd.DataFrame
    level: int  # the interval level shown in charts


def history_end(sales: pd.DataFrame, cycle_start: pd.Timestamp) -> pd.Timestamp:
    """The last month the series run to: the month before the cycle, or the extract's last month when it ends
    earlier (a late extract the planner allowed with ``forecast.allow_stale_months``: its missing months are
    not demand, they are forecast)."""
    before = cycle_start - pd.offsets.MonthBegin(1)
    return min(before, pd.Timestamp(sales["period"].max())) if len(sales) else before


def _gap(sales: pd.DataFrame, cycle_start: pd.Timestamp) -> int:
    """Months between the extract's end and the cycle (only with allow_stale_months): forecast, then dropped."""
    end = history_end(sales, cycle_start)
    return (cycle_start.year - end.year) * 12 + cycle_start.month - end.month - 1


def prepare_series(
    sales: pd.DataFrame, promotions: pd.DataFrame, products: pd.DataFrame, cycle_start: pd.Timestamp
) -> pd.DataFrame:
    """Monthly series per SKU × region from its first recorded month to :func:`history_end`; months without a
    row are zero demand. SKUs discontinued before the cycle are dropped.
    Columns ``unique_id`` (``sku|region``), ``sku``, ``region``, ``ds``, ``y``, ``promo`` (discount %, 0 if none)."""
    ended = products.loc[products["end_period"].notna() & (products["end_period"] < cycle_start), "sku"]
    sales = sales[~sales["sku"].isin(set(ended))]
    last = history_end(sales, cycle_start)
    frames = []
    for (sku, region), g in sales.groupby(["sku", "region"], sort=True):
        months = pd.date_range(g["period"].min(), last, freq="MS")
        y = g.set_index("period")["units"].reindex(months, fill_value=0.0)
        frames.append(pd.DataFrame({"sku": sku, "region": region, "ds": months, "y": y.to_numpy(dtype=float)}))
    series = pd.concat(frames, ignore_index=True)
    series["unique_id"] = series["sku"] + "|" + series["region"]
    return _with_promo(series, promotions)[["unique_id", "sku", "region", "ds", "y", "promo"]]


def _with_promo(frame: pd.DataFrame, promotions: pd.DataFrame) -> pd.DataFrame:
    promo = promotions.rename(columns={"period": "ds", "discount_pct": "promo"})[["sku", "region", "ds", "promo"]]
    out = frame.merge(promo, on=["sku", "region", "ds"], how="left")
    out["promo"] = out["promo"].fillna(0.0).astype(float)
    return out


def _abc_weights(recent: pd.DataFrame, prices: pd.DataFrame) -> pd.Series:
    """What ABC ranks the series by: revenue of the last twelve months, or their units when the data has no
    price list (the data-quality page lists that default)."""
    if prices.empty or prices["unit_price"].isna().all():
        return recent.groupby("unique_id")["y"].sum()
    priced = prices_for(recent.rename(columns={"ds": "period"})[["sku", "period"]], prices)
    revenue = recent["y"].to_numpy() * priced["unit_price"].to_numpy()
    return pd.Series(revenue, index=recent.index).groupby(recent["unique_id"]).sum()


def engine_config(params: ForecastParams, exog: tuple[str, ...] = ()) -> EngineConfig:
    return EngineConfig(
        horizon=params.horizon_months, levels=tuple(params.interval_levels), bt_horizon=params.backtest_horizon,
        bt_windows=params.backtest_windows, bt_step=params.backtest_step, prophet_algorithm=params.prophet_algorithm,
        prophet_uncertainty_samples=params.prophet_uncertainty_samples, exog=exog,
    )


def build_forecast(
    sales: pd.DataFrame,
    promotions: pd.DataFrame,
    products: pd.DataFrame,
    prices: pd.DataFrame,
    cycle_start: pd.Timestamp,
    params: ForecastParams,
    progress: bool = False,
) -> ForecastResult:
    """The statistical forecast of every SKU × region for ``params.horizon_months`` from the cycle month.

    Segments (ABC on the last twelve months' revenue — units without a price list —, XYZ, Syntetos–Boylan,
    lifecycle) decide the
    candidates; each is backtested on ``backtest_windows`` rolling origins and the lowest error wins
    (ties: the simpler model). Promotions are a Prophet regressor. Months after a SKU's ``end_period``
    are zero. Family, region and total forecasts are bottom-up sums (coherent at every month).
    ``progress`` shows a tqdm bar over the parallel tasks (terminal or JupyterLab).
    """
    series = prepare_series(sales, promotions, products, cycle_start)
    keys = series.drop_duplicates("unique_id")[["unique_id", "sku", "region"]]
    horizon = future_months(history_end(sales, cycle_start), params.horizon_months + _gap(sales, cycle_start))
    future = _with_promo(keys.merge(pd.DataFrame({"ds": horizon}), how="cross"), promotions)
    family_of_sku = products.set_index("sku")["family"]
    family = keys.set_index("unique_id")["sku"].map(family_of_sku)
    recent = series[series["ds"] >= cycle_start - pd.DateOffset(months=12)]
    revenue = _abc_weights(recent, prices)

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=0, desc="forecast", unit="series")

    def _total(n: int) -> None:
        if bar is not None:
            bar.total = n
            bar.refresh()

    try:
        core = forecast_core(series[["unique_id", "ds", "y", "promo"]], future[["unique_id", "ds", "promo"]], family,
                             revenue, replace(engine_config(params, exog=("promo",)),
                                              horizon=len(horizon)), params,
                             progress=bar.update if bar is not None else None, on_tasks=_total)
    finally:
        if bar is not None:
            bar.close()

    lv = params.interval_levels
    model_cols = [c for c in core.forecast.columns if c in [*PREFERENCE, "family_profile", "zero"]]
    chosen_cols = ["forecast"] + [f"forecast-{s}-{lvl}" for lvl in lv for s in ("lo", "hi")]
    fc = core.forecast.merge(keys, on="unique_id").merge(core.selection[["unique_id", "model"]], on="unique_id")
    end = fc["sku"].map(products.set_index("sku")["end_period"])
    fc.loc[end.notna() & (fc["ds"] > end), model_cols + chosen_cols] = 0.0
    fc = fc[fc["ds"] >= cycle_start].copy()
    fc["family"] = fc["sku"].map(family_of_sku)
    forecast = (fc.rename(columns={"ds": "period"})[["sku", "region", "family", "period", "model", *chosen_cols, *model_cols]]
                .sort_values(["sku", "region", "period"], ignore_index=True))

    bt = core.backtest.merge(keys, on="unique_id").rename(columns={"ds": "period", "y": "actual"})
    bt["family"] = bt["sku"].map(family_of_sku)
    bt_cols = [c for c in bt.columns if c in PREFERENCE]
    backtest = bt[["sku", "region", "family", "cutoff", "period", "actual", *chosen_cols, *bt_cols]].sort_values(
        ["sku", "region", "cutoff", "period"], ignore_index=True)
    selection = core.selection.merge(keys, on="unique_id")
    selection["family"] = selection["sku"].map(family_of_sku)
    selection = selection.drop(columns="unique_id")
    first = ["sku", "region", "family", "segment", "model", "runner_up", "mase", "runner_up_mase", "wape", "bias_pct"]
    selection = selection[first + [c for c in selection.columns if c not in first]]
    scores = core.scores.merge(keys, on="unique_id").drop(columns="unique_id")
    return ForecastResult(
        forecast=forecast,
        selection=selection.sort_values(["family", "sku", "region"], ignore_index=True),
        backtest=backtest,
        scores=scores,
        levels=aggregate_levels(forecast, ["forecast"], ["period"]),
        level_accuracy=level_accuracy(backtest.dropna(subset=["forecast"])),
        calibration=core.calibration,
        level=params.interval_level,
    )
