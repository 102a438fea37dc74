"""The forecasting engine: segment every series, run a tournament of the candidates its segment allows
on a rolling-origin backtest, form each forecast by the strategy that measured best (per-series choice or a
combination), give it conformal intervals by horizon step, reconcile the hierarchy bottom-up.

Two entry points with one engine underneath, both set by one ``ForecastParams``:
- ``forecast_core``: any long frame (``unique_id``, ``ds``, ``y`` + regressors) — benchmarks and Python users;
- ``build_forecast``: the S&OP tables (sales, promotions, products, prices) — the demand workbook and the CLI
  (``series.py`` turns the tables into the engine's frames and back).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sop_lib.data.params import ForecastParams
from sop_lib.demand.forecast.conformal import conformal_intervals, forecast_steps, widen
from sop_lib.demand.forecast.executors import map_batches
from sop_lib.demand.forecast.models import PREFERENCE, STATS_MODELS
from sop_lib.demand.forecast.profile import family_indices, family_profile, zero_forecast
from sop_lib.demand.forecast.reconcile import level_accuracy, level_intervals
from sop_lib.demand.forecast.screen import SCREENING_COLUMNS, screen, screening_sample, without_models
from sop_lib.demand.forecast.segment import RECENT_MONTHS, candidates_for, segment_series
from sop_lib.demand.forecast.select import (
    add_combination,
    apply_calibration,
    best_models,
    calibration_factors,
    choose,
    coverage,
    drop_wild,
    mase_scale,
    pick_columns,
    score_models,
)
from sop_lib.demand.forecast.series import engine_input, sop_backtest, sop_forecast, sop_selection, to_sop
from sop_lib.demand.forecast.strategy import add_fixed, choose_strategy, final_models, members, widening_of
from sop_lib.demand.forecast.tournament import BatchTask, Phase, cutoffs_for, merge_frames, run_batch, scored
from sop_lib.demand.forecast.young import young_forecast, young_reason

ProgressFn = Callable[[int], None]


@dataclass
class CoreResult:
    forecast: pd.DataFrame  # unique_id, ds, <model>…, forecast, forecast-lo/hi-<L>
    backtest: pd.DataFrame  # unique_id, cutoff, ds, y, <model>…, forecast, forecast-lo/hi-<L>
    selection: pd.DataFrame  # one row per series: segment, candidates, model, runner-up, errors, coverage
    scores: pd.DataFrame  # unique_id, model, mae, wape, mase, bias_pct
    calibration: pd.DataFrame  # model, level, factor, points: interval widening learnt on the backtest
    strategy: pd.DataFrame  # evidence: group × strategy, held-out WAPE/MASE/bias/coverage, which was chosen, why
    conformal: pd.DataFrame  # pool, step, level, q, points: the conformal quantiles the intervals use
    screening: pd.DataFrame  # the candidates tried on a sample and left out or kept (``screen.py``); empty if none
    # the backtest with every origin forecast to the data's end (``tournament.reach``), the chosen ``forecast``
    # column included: what the conformal intervals learn from (``backtest`` keeps the scored steps only)
    interval_backtest: pd.DataFrame


def _batches(ids: list[str], size: int, workers: int) -> list[list[str]]:
    if not size:
        size = max(5, min(200, math.ceil(len(ids) / (max(workers, 1) * 4))))
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _segments(train: pd.DataFrame, revenue: pd.Series, params: ForecastParams) -> pd.DataFrame:
    """``segment_series`` with each series' ``candidates``."""
    seg = segment_series(train, revenue, params.min_history_months, young_min=params.young_min_months)
    seg["candidates"] = [
        candidates_for(r, params.prophet_classes, params.auto_arima_classes,
                       int(r["history_months"]) - params.backtest_span, params.smooth_models)
        for _, r in seg.iterrows()
    ]
    return seg


def _run_tournament(
    train: pd.DataFrame, future: pd.DataFrame, models_of: pd.Series, params: ForecastParams,
    exog: tuple[str, ...], phase: Phase, progress: ProgressFn | None, on_tasks: ProgressFn | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The models ``models_of`` lists per series (unique_id → tuple), backtested and/or fitted (``phase``) in
    parallel batches: (cv, forecast)."""
    ids = models_of.index.tolist()
    workers = params.workers or os.cpu_count() or 1
    horizon = int(future["ds"].nunique())
    tasks = [
        BatchTask(train[train["unique_id"].isin(b)], future[future["unique_id"].isin(b)],
                  {uid: tuple(models_of[uid]) for uid in b}, params, horizon, exog, phase)
        for b in _batches(ids, params.batch_size, workers)
    ]
    if on_tasks:
        on_tasks(len(ids))
    results = map_batches(run_batch, tasks, params.executor, params.workers, params.scheduler, progress,
                          weights=[len(t.candidates) for t in tasks])
    cv = pd.concat([r[0] for r in results], ignore_index=True) if results else pd.DataFrame(
        columns=["unique_id", "cutoff", "ds", "y"])
    fc = pd.concat([r[1] for r in results], ignore_index=True) if results else pd.DataFrame(columns=["unique_id", "ds"])
    return cv, fc


def _groups(seg: pd.DataFrame, ids: pd.Index, params: ForecastParams) -> pd.Series:
    """By unique_id, the group a strategy is chosen for: the Syntetos–Boylan class, or the whole portfolio."""
    return (seg.set_index("unique_id")["sb_class"].reindex(ids) if params.strategy_scope == "segment"
            else pd.Series("portfolio", index=ids))


def _backtest(
    train: pd.DataFrame, future: pd.DataFrame, seg: pd.DataFrame, fitted: pd.Series, revenue: pd.Series,
    params: ForecastParams, exog: tuple[str, ...], progress: ProgressFn | None, on_tasks: ProgressFn | None,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Every series' candidates on the backtest. A large portfolio is screened first (``screen.py``): all its
    candidates on a sample, then the rest without the models the sample's held-out score did not need (on the
    scored steps). Returns (cv without the models left out — every origin to the data's end —, the screening
    evidence, the models left out)."""
    rank = revenue.reindex(fitted.index).fillna(0).rank(ascending=False, method="first")
    sample = screening_sample(rank, params)
    if not sample:
        cv, _ = _run_tournament(train, future, fitted, params, exog, "backtest", progress, on_tasks)
        return cv, pd.DataFrame(columns=SCREENING_COLUMNS), []
    first, _ = _run_tournament(train, future, fitted[sample], params, exog, "backtest", progress, on_tasks)
    singles = [m for m in [*STATS_MODELS, "prophet"] if m in first.columns]
    ids = pd.Index(first["unique_id"].unique())
    scale = mase_scale(train, cutoffs_for(train["ds"].max(), params)[0])
    dropped, evidence = screen(scored(first, params), train, _groups(seg, ids, params), singles, scale, params,
                               len(fitted))
    rest = fitted.drop(sample).map(lambda ms: tuple(m for m in ms if m not in dropped) or ms)
    cv, _ = _run_tournament(train, future, rest, params, exog, "backtest", progress, on_tasks)
    return merge_frames([without_models(first, dropped), cv], ["unique_id", "cutoff", "ds"]), evidence, dropped


def _decide(
    cv: pd.DataFrame, train: pd.DataFrame, seg: pd.DataFrame, params: ForecastParams
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.Series, pd.DataFrame]:
    """On the backtest alone: the best-k and fixed combinations added, every candidate scored, the best kept per
    series, the strategy chosen (``strategy.py``): (cv, scores, chosen, evidence, column of each series, the
    held-out widening of each series' intervals)."""
    levels = params.interval_levels
    singles = [m for m in [*STATS_MODELS, "prophet"] if m in cv.columns]
    cv = drop_wild(cv, train, singles)
    cv, _ = add_combination(cv, cv.iloc[:0], singles, levels, params.combine_best, params.combine_method)
    cv, _ = add_fixed(cv, cv.iloc[:0], params.combinations, levels)
    combos = [c for c in params.combinations if c in cv and cv[c].notna().any()]
    models = singles + (["combo"] if "combo" in cv.columns and cv["combo"].notna().any() else [])
    scale = mase_scale(train, cutoffs_for(train["ds"].max(), params)[0])
    scores = score_models(cv, models + combos, scale)
    chosen = choose(scores[scores["model"].isin(models)], list(PREFERENCE))
    ids = pd.Index(chosen["unique_id"])
    groups = _groups(seg, ids, params)
    evidence, strategy_of = choose_strategy(cv[cv["unique_id"].isin(ids)], groups, singles, scale, params)
    model_of = final_models(cv, strategy_of, chosen.set_index("unique_id")["model"], singles, combos)
    chosen = chosen.assign(strategy=chosen["unique_id"].map(strategy_of))
    return cv, scores, chosen, evidence, model_of, widening_of(evidence, groups, params.interval_levels)


def _combined(cv: pd.DataFrame, frame: pd.DataFrame, singles: list[str], params: ForecastParams) -> pd.DataFrame:
    """``frame`` (the final forecast, or the backtest to the data's end) with the best-k combination of each
    series' models as ranked on the scored backtest ``cv``, and the fixed combinations."""
    levels = params.interval_levels
    _, frame = add_combination(cv, frame, singles, levels, params.combine_best, params.combine_method)
    _, frame = add_fixed(cv.iloc[:0], frame, params.combinations, levels)
    return frame


def _interval_backtest(
    long: pd.DataFrame, cv: pd.DataFrame, train: pd.DataFrame, model_of: pd.Series, params: ForecastParams
) -> pd.DataFrame:
    """The backtest to the data's end with the chosen ``forecast`` column, made as the final forecast is: wild
    values dropped, the combinations (:func:`_combined`), then each series' column (``model_of``)."""
    singles = [m for m in [*STATS_MODELS, "prophet"] if m in long.columns]
    long = _combined(cv, drop_wild(long, train, singles), singles, params)
    return pick_columns(long, model_of, params.interval_levels)


def _usable(fc: pd.DataFrame, need: pd.Series) -> pd.Series:
    """Per series whether every model it needs has a final forecast at every month."""
    ok = {}
    for uid, rows in fc.groupby("unique_id", sort=False):
        ok[uid] = all(m in rows and bool(rows[m].notna().all()) for m in need.get(uid, ()))
    return pd.Series(ok, dtype=bool).reindex(need.index, fill_value=False)


def _final_fits(
    train: pd.DataFrame, future: pd.DataFrame, cv: pd.DataFrame, model_of: pd.Series, params: ForecastParams,
    exog: tuple[str, ...], progress: ProgressFn | None, on_tasks: ProgressFn | None,
) -> tuple[pd.DataFrame, pd.Series]:
    """The final forecasts of only the models each series' column needs (``members``). A series whose needed
    model failed or forecast wildly (``drop_wild``) falls back to its best single model on the backtest whose
    final forecast is usable, fitted in turn. Returns (forecast with the combinations, column of each series)."""
    singles = [m for m in [*STATS_MODELS, "prophet"] if m in cv.columns]
    need = members(model_of, cv, singles, params.combine_best)
    ranked = best_models(cv, singles, len(singles))
    model_of, fc = model_of.copy(), pd.DataFrame(columns=["unique_id", "ds"])
    tried: dict[str, set[str]] = {uid: set() for uid in need.index}
    for _ in range(len(singles) + 1):  # each pass fits what is missing; a model is fitted once per series
        todo = pd.Series({u: tuple(m for m in ms if m not in tried[u]) for u, ms in need.items()}, dtype=object)
        todo = todo[todo.map(len) > 0]
        if todo.empty:
            break
        fc = merge_frames([fc, _run_tournament(train, future, todo, params, exog, "final", progress, on_tasks)[1]],
                          ["unique_id", "ds"])
        for uid, ms in todo.items():
            tried[uid].update(ms)
        fc = drop_wild(fc, train, singles)
        for uid in need.index[~_usable(fc, need)]:
            ok = [m for m in ranked.get(uid, ()) if m not in tried[uid] or (m in fc and _usable(
                fc[fc["unique_id"] == uid], pd.Series({uid: (m,)})).all())]
            if ok:
                model_of[uid], need[uid] = ok[0], (ok[0],)
    return _combined(cv, fc, singles, params), model_of


def _fallbacks(
    train: pd.DataFrame, future: pd.DataFrame, seg: pd.DataFrame, family: pd.Series, levels: tuple[int, ...]
) -> tuple[list[pd.DataFrame], pd.Series]:
    """Forecasts of the series that cannot be backtested, and their model: new items get their family's
    profile (from the established series, else — a history too short for any — from every series), series
    without recent demand zero."""
    new = seg.loc[seg["lifecycle"] == "new", "unique_id"]
    idle = seg.loc[seg["lifecycle"] == "inactive", "unique_id"]
    ids = seg.loc[seg["lifecycle"] == "established", "unique_id"]
    established = train[train["unique_id"].isin(ids)] if len(ids) else train
    frames = [
        family_profile(train[train["unique_id"].isin(new)], future[future["unique_id"].isin(new)], family,
                       family_indices(established, family), levels),
        zero_forecast(future[future["unique_id"].isin(idle)], levels),
    ]
    model_of = pd.concat([pd.Series("family_profile", index=new.to_numpy()), pd.Series("zero", index=idle.to_numpy())])
    return frames, model_of


def _selection(
    seg: pd.DataFrame, chosen: pd.DataFrame, model_of: pd.Series, scores: pd.DataFrame, raw_coverage: pd.DataFrame,
    params: ForecastParams,
) -> pd.DataFrame:
    """One row per series: its segment, candidates, strategy, the model kept (and why), its backtest errors
    and interval coverage."""
    selection = seg.merge(chosen, on="unique_id", how="left")
    selection["model"] = selection["unique_id"].map(model_of)
    kept = scores.set_index(["unique_id", "model"])
    at = pd.MultiIndex.from_arrays([selection["unique_id"], selection["model"]])
    for col in ("mase", "wape", "bias_pct"):  # the errors of the model actually kept
        selection[col] = kept[col].reindex(at).to_numpy()
    selection["candidates"] = selection["candidates"].map(", ".join)
    selection = selection.merge(raw_coverage, on="unique_id", how="left")
    selection["reason"] = np.select(
        [selection["lifecycle"] == "young", selection["lifecycle"] == "new", selection["lifecycle"] == "inactive",
         selection["strategy"] != "select"],
        [selection["model"].map(lambda m: young_reason(str(m), params)),
         f"new item (< {min(params.young_min_months, params.min_history_months)} months): family profile scaled to "
         "its level",
         f"no demand in the last {RECENT_MONTHS} months: zero",
         "strategy " + selection["strategy"].astype(str) + " (forecast.strategy: " + params.strategy + ")"],
        default=f"lowest backtest error over {params.backtest_windows} origins × {params.backtest_horizon} months",
    )
    return selection


def forecast_core(
    train: pd.DataFrame,
    future: pd.DataFrame,
    family: pd.Series,
    revenue: pd.Series,
    params: ForecastParams,
    exog: tuple[str, ...] = (),
    progress: ProgressFn | None = None,
    on_tasks: ProgressFn | None = None,
) -> CoreResult:
    """Forecast every series of ``train`` over the months of ``future``.

    ``train``: ``unique_id``, ``ds`` (month start, complete months), ``y`` and the regressors named in
    ``exog`` (Prophet's); ``future``: ``unique_id``, ``ds`` and the same regressors. ``family`` (by unique_id)
    groups series for new items' profiles; ``revenue`` (by unique_id) drives the ABC class.
    ``on_tasks(n)`` is told the number of series to fit before work starts; ``progress(k)`` is called as
    each batch of ``k`` series finishes (for a progress bar).
    """
    levels = params.interval_levels
    seg = _segments(train, revenue, params)
    fitted = seg[seg["lifecycle"] == "established"].set_index("unique_id")["candidates"]
    long, screening, dropped = _backtest(train, future, seg, fitted, revenue, params, exog, progress, on_tasks)
    seg["candidates"] = seg["candidates"].map(lambda ms: tuple(m for m in ms if m not in dropped) or ms)
    cv, scores, chosen, evidence, est_model, widening = _decide(scored(long, params), train, seg, params)
    fc, est_model = _final_fits(train, future, cv, est_model, params, exog, progress, on_tasks)
    extra, fallback_of = _fallbacks(train, future, seg, family, levels)
    young_fc, young_of, young_evidence = young_forecast(train, future, seg, family, params)
    fc = pd.concat([f for f in (fc, *extra, young_fc) if len(f)], ignore_index=True)
    model_of = pd.concat([est_model, fallback_of, young_of])
    if len(young_evidence):  # the young groups' rows join the strategy evidence (an empty frame left out)
        evidence = pd.concat([f for f in (evidence, young_evidence) if len(f)], ignore_index=True)
    fc = pick_columns(fc, model_of, levels)
    cv = pick_columns(cv, model_of, levels)
    long = _interval_backtest(long, cv, train, model_of, params)
    factors = calibration_factors(cv, model_of, levels)
    table = pd.DataFrame(columns=["pool", "step", "level", "q", "points"])
    if params.calibrate_intervals and params.interval_method == "scaled":
        fc = apply_calibration(fc, model_of, factors, levels)
    elif params.calibrate_intervals and not cv.empty:
        fc, table = conformal_intervals(long, fc, "forecast", forecast_steps(fc), model_of, levels,
                                        params.backtest_horizon, growth=params.interval_growth)
        if params.interval_widening:
            fc = widen(fc, "forecast", widening, levels)
    selection = _selection(seg, chosen, model_of, scores, coverage(cv, levels), params)
    return CoreResult(fc, cv, selection, scores, factors, evidence, table, screening, long)


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
    strategy: pd.DataFrame  # evidence: group × strategy, held-out WAPE/MASE/bias/coverage, chosen, reason
    conformal: pd.DataFrame  # the conformal quantiles by pool, horizon step and level
    screening: pd.DataFrame  # the candidates tried on a sample and left out or kept (empty: not screened)


@contextmanager
def _progress_bar(show: bool) -> Iterator[tuple[ProgressFn | None, ProgressFn]]:
    """A tqdm bar over the series (when ``show``): yields (progress, on_tasks) for ``forecast_core``."""
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=0, desc="forecast", unit="series")

    def total(n: int) -> None:  # each phase adds its series (the backtest, then the final fits)
        if bar is not None:
            bar.total = (bar.total or 0) + n
            bar.refresh()

    try:
        yield (bar.update if bar is not None else None), total
    finally:
        if bar is not None:
            bar.close()


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
    lifecycle) decide the candidates; each is backtested on ``backtest_windows`` rolling origins; the strategy
    (per-series choice, a fixed or best-k combination) is the one with the lowest error on the last origin held
    out (``strategy.py``; evidence in ``result.strategy``); intervals are conformal by horizon step, at every
    level from that level's own backtest errors. Promotions are a Prophet regressor. Months after a SKU's
    ``end_period`` are zero. Family, region and total forecasts are bottom-up sums (coherent at every month).
    ``progress`` shows a tqdm bar over the parallel tasks (terminal or JupyterLab).
    """
    data = engine_input(sales, promotions, products, prices, cycle_start, params.horizon_months)
    with _progress_bar(progress) as (update, on_tasks):
        core = forecast_core(data.train, data.future, data.family, data.revenue, params, exog=("promo",),
                             progress=update, on_tasks=on_tasks)
    chosen = ["forecast"] + [f"forecast-{s}-{lv}" for lv in params.interval_levels for s in ("lo", "hi")]
    forecast = sop_forecast(core.forecast, core.selection, data.keys, products, cycle_start, chosen)
    backtest = sop_backtest(core.backtest, data.keys, products, chosen)
    to_end = sop_backtest(core.interval_backtest, data.keys, products, chosen).dropna(subset=["forecast"])
    levels, level_coverage = level_intervals(to_end, forecast, params.interval_levels, params.backtest_horizon,
                                             params.interval_growth)
    return ForecastResult(
        forecast=forecast,
        selection=sop_selection(core.selection, data.keys, products),
        backtest=backtest,
        scores=to_sop(core.scores, data.keys),
        levels=levels,
        level_accuracy=level_accuracy(backtest.dropna(subset=["forecast"])).merge(level_coverage, on="level",
                                                                                 how="left"),
        calibration=core.calibration,
        level=params.interval_level,
        strategy=core.strategy,
        conformal=core.conformal,
        screening=core.screening,
    )
