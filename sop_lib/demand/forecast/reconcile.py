"""Coherent forecasts across the hierarchy, bottom-up: family, region and total numbers are sums of the
SKU × region forecasts, so every level adds up exactly at every month."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sop_lib.core import metrics
from sop_lib.demand.forecast.conformal import conformal_intervals, months_between

LEVELS: dict[str, list[str]] = {
    "total": [],
    "family": ["family"],
    "region": ["region"],
    "family × region": ["family", "region"],
    "sku": ["sku"],
    "sku × region": ["sku", "region"],
}


def aggregate_levels(frame: pd.DataFrame, values: list[str], time: list[str]) -> pd.DataFrame:
    """Sum ``values`` to every level of ``LEVELS``. ``frame`` has ``sku``, ``region``, ``family`` and the
    ``time`` keys. Returns ``level``, ``key`` (e.g. ``"Juice | North"``; ``"total"``), time keys, values."""
    out = []
    for level, keys in LEVELS.items():
        g = frame.groupby(keys + time, as_index=False)[values].sum() if keys else (
            frame.groupby(time, as_index=False)[values].sum())
        if keys and len(g):
            g["key"] = g[keys].astype(str).agg(" | ".join, axis=1)
        else:  # the total, or no rows at all (nothing was backtested)
            g["key"] = "total" if not keys else pd.Series(dtype=object)
        g.insert(0, "level", level)
        out.append(g[["level", "key", *time, *values]])
    return pd.concat(out, ignore_index=True)


def level_accuracy(backtest: pd.DataFrame) -> pd.DataFrame:
    """WAPE of the chosen forecast over the backtest at each level (actuals and forecasts summed to the
    level first, per origin and month). Columns ``level``, ``series``, ``wape``. (Bias is the same at every
    level: the sums are.)"""
    agg = aggregate_levels(backtest, ["actual", "forecast"], ["cutoff", "period"])
    levels = pd.Index(list(LEVELS), name="level")
    series = agg.groupby("level")["key"].nunique().reindex(levels, fill_value=0).astype(int)
    wape = metrics.wape_by(agg, ["forecast"], id_col="level", target_col="actual")["forecast"].reindex(levels)
    return pd.DataFrame({"level": levels, "series": series.to_numpy(), "wape": wape.to_numpy(dtype=float)})


def _as_series(agg: pd.DataFrame) -> pd.DataFrame:
    """Aggregated rows (``level``, ``key``, ``period``, ``actual`` …) in the engine's words, one series per
    level × key: ``unique_id`` = ``"<level>: <key>"``, ``ds``, ``y``."""
    out = agg.rename(columns={"period": "ds", "actual": "y"})
    out.insert(0, "unique_id", out["level"] + ": " + out["key"].astype(str))
    return out


def level_intervals(
    backtest: pd.DataFrame, forecast: pd.DataFrame, levels: tuple[int, ...], max_step: int, growth: str = "flat"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every level's forecast with intervals from **that level's own backtest errors** (conformal by horizon
    step, ``conformal.py``; pooled over the keys of a level, never across levels), not summed bounds; and per
    level the held-out coverage: bounds learnt on the backtest's earlier origins, scored on its last one, next
    to the coverage summed SKU × region bounds would have had there. A key without a backtest keeps its summed
    bounds (``interval_source``); beyond the backtest's steps the width follows ``growth`` (``interval_growth``).
    Returns (levels frame with ``forecast-lo/hi-<L>``, coverage frame ``level``,
    ``coverage_<L>``, ``coverage_<L>_summed``)."""
    bounds = [f"forecast-{s}-{lv}" for lv in levels for s in ("lo", "hi")]
    cv = _as_series(aggregate_levels(backtest, ["actual", "forecast", *bounds], ["cutoff", "period"]))
    fc = _as_series(aggregate_levels(forecast, ["forecast", *[b for b in bounds if b in forecast]], ["period"]))
    pool = cv.drop_duplicates("unique_id").set_index("unique_id")["level"]
    steps = fc.groupby("unique_id")["ds"].rank(method="dense").astype(int).to_numpy()
    out, _ = conformal_intervals(cv, fc, "forecast", steps, pool, levels, max_step, min_points=1, growth=growth)
    # a key without a backtest (only new items under it) keeps its summed bounds, and says so
    out["interval_source"] = np.where(out["unique_id"].isin(set(cv["unique_id"])), "own backtest", "summed bounds")
    return out.drop(columns="unique_id").rename(columns={"ds": "period"}), _held_out_coverage(cv, pool, levels,
                                                                                             max_step)


def _held_out_coverage(cv: pd.DataFrame, pool: pd.Series, levels: tuple[int, ...], max_step: int) -> pd.DataFrame:
    """Per level: coverage on the last origin of bounds learnt on the earlier ones, and of the summed bounds."""
    names = pd.Index(list(LEVELS), name="level")
    out = pd.DataFrame(index=names)
    if cv.empty or cv["cutoff"].nunique() < 2:
        return out.reset_index()
    last = cv["cutoff"].max()
    early, held = cv[cv["cutoff"] < last], cv[cv["cutoff"] == last]
    own = held.drop(columns=[c for c in held if c.startswith("forecast-")])
    own, _ = conformal_intervals(early, own, "forecast", months_between(held["ds"], held["cutoff"]), pool, levels,
                                 max_step, min_points=1)
    for lv in levels:
        for name, frame in ((f"coverage_{lv}", own), (f"coverage_{lv}_summed", held)):
            inside = (frame["y"] >= frame[f"forecast-lo-{lv}"]) & (frame["y"] <= frame[f"forecast-hi-{lv}"])
            valid = frame[f"forecast-lo-{lv}"].notna() & frame[f"forecast-hi-{lv}"].notna()
            out[name] = inside[valid].groupby(frame.loc[valid, "level"]).mean().reindex(names)
    return out.reset_index()
