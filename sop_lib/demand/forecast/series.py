"""The one place where the S&OP tables' ``sku`` / ``region`` / ``period`` meet the engine's ``unique_id`` /
``ds`` / ``y``: the tables as the engine's series, its results as tables.

A series is one SKU × region: ``unique_id`` = ``"<sku>|<region>"``, ``ds`` = ``period`` (month start),
``y`` = ``units`` (in the backtest, ``actual``). ``engine_input`` turns the tables into the engine's frames,
``to_sop`` and the ``sop_*`` functions turn its results back.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sop_lib.data.prices import prices_for
from sop_lib.demand.forecast.models import MODELS, PREFERENCE

TO_ENGINE = {"period": "ds", "units": "y"}
TO_SOP = {"ds": "period", "y": "actual"}


def future_months(last: pd.Timestamp, h: int) -> pd.DatetimeIndex:
    """The ``h`` months after ``last``."""
    return pd.date_range(last + pd.offsets.MonthBegin(1), periods=h, freq="MS")


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
    promo = promotions.rename(columns={**TO_ENGINE, "discount_pct": "promo"})[["sku", "region", "ds", "promo"]]
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


@dataclass
class EngineInput:
    """What ``forecast_core`` takes, made from the S&OP tables."""

    train: pd.DataFrame  # unique_id, ds, y, promo: the history
    future: pd.DataFrame  # unique_id, ds, promo: from the history's end to the horizon's
    family: pd.Series  # by unique_id
    revenue: pd.Series  # by unique_id: what ABC ranks by
    keys: pd.DataFrame  # unique_id, sku, region


def engine_input(sales: pd.DataFrame, promotions: pd.DataFrame, products: pd.DataFrame, prices: pd.DataFrame,
                 cycle_start: pd.Timestamp, horizon_months: int) -> EngineInput:
    """The S&OP tables as the engine's frames: ``horizon_months`` from the cycle month, plus the months a late
    extract misses before it (forecast too, dropped by :func:`sop_forecast`)."""
    series = prepare_series(sales, promotions, products, cycle_start)
    keys = series.drop_duplicates("unique_id")[["unique_id", "sku", "region"]]
    horizon = future_months(history_end(sales, cycle_start), horizon_months + _gap(sales, cycle_start))
    future = _with_promo(keys.merge(pd.DataFrame({"ds": horizon}), how="cross"), promotions)
    family = keys.set_index("unique_id")["sku"].map(products.set_index("sku")["family"])
    recent = series[series["ds"] >= cycle_start - pd.DateOffset(months=12)]
    return EngineInput(series[["unique_id", "ds", "y", "promo"]], future[["unique_id", "ds", "promo"]], family,
                       _abc_weights(recent, prices), keys)


def to_sop(frame: pd.DataFrame, keys: pd.DataFrame, products: pd.DataFrame | None = None) -> pd.DataFrame:
    """An engine frame in the suite's words: ``sku`` and ``region`` for ``unique_id`` (dropped), ``period`` for
    ``ds``, ``actual`` for ``y``; ``family`` too when ``products`` is given."""
    out = frame.merge(keys, on="unique_id").rename(columns=TO_SOP).drop(columns="unique_id")
    if products is not None:
        out["family"] = out["sku"].map(products.set_index("sku")["family"])
    return out


def sop_forecast(forecast: pd.DataFrame, selection: pd.DataFrame, keys: pd.DataFrame, products: pd.DataFrame,
                 cycle_start: pd.Timestamp, chosen: list[str]) -> pd.DataFrame:
    """The forecast table from the cycle month on: ``sku``, ``region``, ``family``, ``period``, ``model`` (from
    ``selection``), the ``chosen`` columns (``forecast`` and its bounds), every model's column; zero after a
    SKU's ``end_period``."""
    models = [c for c in forecast.columns if c in MODELS]
    fc = to_sop(forecast.merge(selection[["unique_id", "model"]], on="unique_id"), keys, products)
    end = fc["sku"].map(products.set_index("sku")["end_period"])
    fc.loc[end.notna() & (fc["period"] > end), models + chosen] = 0.0
    fc = fc[fc["period"] >= cycle_start]
    return fc[["sku", "region", "family", "period", "model", *chosen, *models]].sort_values(
        ["sku", "region", "period"], ignore_index=True)


def sop_backtest(backtest: pd.DataFrame, keys: pd.DataFrame, products: pd.DataFrame, chosen: list[str]) -> pd.DataFrame:
    """The backtest table: ``sku``, ``region``, ``family``, ``cutoff``, ``period``, ``actual``, the ``chosen``
    columns and each candidate's."""
    bt = to_sop(backtest, keys, products)
    models = [c for c in bt.columns if c in PREFERENCE]
    return bt[["sku", "region", "family", "cutoff", "period", "actual", *chosen, *models]].sort_values(
        ["sku", "region", "cutoff", "period"], ignore_index=True)


def sop_selection(selection: pd.DataFrame, keys: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """The selection table, one row per SKU × region: keys, segment, model kept and runner-up first."""
    sel = to_sop(selection, keys, products)
    first = ["sku", "region", "family", "segment", "model", "runner_up", "mase", "runner_up_mase", "wape", "bias_pct"]
    sel = sel[first + [c for c in sel.columns if c not in first]]
    return sel.sort_values(["family", "sku", "region"], ignore_index=True)
