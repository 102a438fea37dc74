"""The statistical forecast: per SKU × region, candidates backtested on the last months, best kept.

One function, ``build_forecast``, serves the demand workbook, the CLI and Python users alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..params import ForecastParams
from . import models
from .models import SEASON, ProphetSettings


@dataclass
class ForecastResult:
    """``forecast``: one row per sku, region, period (cycle month on), with ``model``, ``forecast``,
    ``forecast-lo-<L>``, ``forecast-hi-<L>`` and one column (+ interval) per candidate model.
    ``selection``: one row per series with the model kept, why, and each candidate's backtest WAPE.
    ``backtest``: the held-out months with actuals and each candidate's backtest forecast."""

    forecast: pd.DataFrame
    selection: pd.DataFrame
    backtest: pd.DataFrame
    level: int


def prepare_series(
    sales: pd.DataFrame, promotions: pd.DataFrame, products: pd.DataFrame, cycle_start: pd.Timestamp
) -> pd.DataFrame:
    """Monthly series per SKU × region from its first recorded month to the month before the cycle;
    months without a row are zero demand. Series of SKUs discontinued before the cycle are dropped.

    Returns columns ``unique_id``, ``sku``, ``region``, ``ds``, ``y``, ``promo`` (discount %, 0 if none).
    """
    ended = products.loc[products["end_period"].notna() & (products["end_period"] < cycle_start), "sku"]
    sales = sales[~sales["sku"].isin(set(ended))]
    last = cycle_start - pd.offsets.MonthBegin(1)
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


def _abs_error(bt: pd.DataFrame, model: str) -> pd.Series:
    return (bt["y"] - bt[model]).abs().groupby(bt["unique_id"]).sum()


def build_forecast(
    sales: pd.DataFrame,
    promotions: pd.DataFrame,
    products: pd.DataFrame,
    cycle_start: pd.Timestamp,
    params: ForecastParams,
    progress: Callable[[int], None] | None = None,
) -> ForecastResult:
    """Forecast every SKU × region for ``params.horizon_months`` from the cycle month.

    Series with at least 12 + ``backtest_months`` months are backtested: each candidate is fitted on
    the history before the last ``backtest_months`` and scored on them; the candidate with the lowest
    absolute error (equivalently WAPE) is refitted on all history. Shorter series get the mean of their
    last three months (``recent_mean``). Months after a SKU's ``end_period`` are forecast as zero.
    """
    level, h, bt = params.interval_level, params.horizon_months, params.backtest_months
    series = prepare_series(sales, promotions, products, cycle_start)
    n_obs = series.groupby("unique_id").size()
    bt_ids = set(n_obs[n_obs >= SEASON + bt].index)
    cutoff = cycle_start - pd.DateOffset(months=bt)
    use_prophet = "prophet" in params.models
    use_snaive = "seasonal_naive" in params.models

    horizon = models.future_months(cycle_start - pd.offsets.MonthBegin(1), h)
    keys = series.drop_duplicates("unique_id")[["unique_id", "sku", "region"]]
    future = _with_promo(keys.merge(pd.DataFrame({"ds": horizon}), how="cross"), promotions)

    bt_train = series[series["unique_id"].isin(bt_ids) & (series["ds"] < cutoff)]
    bt_hold = series[series["unique_id"].isin(bt_ids) & (series["ds"] >= cutoff)]
    backtest = bt_hold[["unique_id", "sku", "region", "ds", "y"]].copy()
    final = future[["unique_id", "sku", "region", "ds"]].copy()
    candidates: list[str] = []

    if use_snaive and bt_ids:
        candidates.append("seasonal_naive")
        backtest = backtest.merge(models.seasonal_naive(bt_train, bt, level)[["unique_id", "ds", "seasonal_naive"]],
                                  on=["unique_id", "ds"], how="left")
        long_enough = series[series["unique_id"].isin(n_obs[n_obs >= SEASON].index)]
        final = final.merge(models.seasonal_naive(long_enough, h, level), on=["unique_id", "ds"], how="left")
    if use_prophet and bt_ids:
        candidates.append("prophet")
        settings = ProphetSettings(level, params.prophet_algorithm, params.prophet_uncertainty_samples)
        # one pool for backtest and final fits: ids are prefixed so both come back from one call
        train = pd.concat([bt_train.assign(unique_id="bt|" + bt_train["unique_id"]),
                           series[series["unique_id"].isin(bt_ids)].assign(unique_id="fc|" + series["unique_id"])])
        fut = pd.concat([bt_hold.assign(unique_id="bt|" + bt_hold["unique_id"]),
                         future[future["unique_id"].isin(bt_ids)].assign(unique_id="fc|" + future["unique_id"])])
        out = models.prophet(train, fut, settings, workers=params.workers, progress=progress)
        stage = out["unique_id"].str[:2]
        out["unique_id"] = out["unique_id"].str[3:]
        backtest = backtest.merge(out.loc[stage == "bt", ["unique_id", "ds", "prophet"]], on=["unique_id", "ds"], how="left")
        final = final.merge(out[stage == "fc"], on=["unique_id", "ds"], how="left")
    final = final.merge(models.recent_mean(series, h, level), on=["unique_id", "ds"], how="left")

    selection = _select(keys, n_obs, backtest, candidates, bt)
    forecast = _assemble(final, selection, products, level)
    backtest = backtest.rename(columns={"ds": "period", "y": "actual"}).drop(columns="unique_id")
    return ForecastResult(forecast, selection.drop(columns="unique_id"), backtest, level)


def _select(keys: pd.DataFrame, n_obs: pd.Series, backtest: pd.DataFrame, candidates: list[str], bt: int) -> pd.DataFrame:
    sel = keys.copy()
    sel["history_months"] = sel["unique_id"].map(n_obs).astype(int)
    actual = backtest.groupby("unique_id")["y"].sum()
    sel["backtest_units"] = sel["unique_id"].map(actual)
    errors = pd.DataFrame({m: _abs_error(backtest, m) for m in candidates}) if candidates else pd.DataFrame()
    for m in candidates:
        sel[f"wape_{m}"] = sel["unique_id"].map(errors[m] / actual.replace(0, np.nan))
    if candidates:
        # lowest absolute error wins; on a tie the simpler model (listed first) is kept
        best = errors[candidates].idxmin(axis=1)
        sel["model"] = sel["unique_id"].map(best)
    else:
        sel["model"] = np.nan
    has_bt = sel["unique_id"].isin(errors.index)
    sel["reason"] = np.where(has_bt, f"lowest error over the last {bt} months",
                             f"history shorter than {SEASON + bt} months: mean of the last 3 months")
    sel["model"] = sel["model"].where(has_bt, "recent_mean")
    sel["wape_chosen"] = [row.get(f"wape_{row['model']}", np.nan) for _, row in sel.iterrows()]
    return sel


def _assemble(final: pd.DataFrame, selection: pd.DataFrame, products: pd.DataFrame, level: int) -> pd.DataFrame:
    out = final.merge(selection[["unique_id", "model"]], on="unique_id", how="left")
    lo, hi = f"-lo-{level}", f"-hi-{level}"
    out["forecast"] = np.nan
    out["forecast" + lo] = np.nan
    out["forecast" + hi] = np.nan
    for model in out["model"].unique():
        rows = out["model"] == model
        out.loc[rows, "forecast"] = out.loc[rows, model]
        out.loc[rows, "forecast" + lo] = out.loc[rows, model + lo]
        out.loc[rows, "forecast" + hi] = out.loc[rows, model + hi]
    end = out["sku"].map(products.set_index("sku")["end_period"])
    stopped = end.notna() & (out["ds"] > end)
    num = [c for c in out.columns if c not in ("unique_id", "sku", "region", "ds", "model")]
    out.loc[stopped, num] = 0.0
    out = out.rename(columns={"ds": "period"}).drop(columns="unique_id")
    first = ["sku", "region", "period", "model", "forecast", "forecast" + lo, "forecast" + hi]
    return out[first + [c for c in out.columns if c not in first]].sort_values(["sku", "region", "period"],
                                                                                 ignore_index=True)
