"""Coherent forecasts across the hierarchy, bottom-up: family, region and total numbers are sums of the
SKU × region forecasts, so every level adds up exactly at every month."""

from __future__ import annotations

import pandas as pd

from sop_lib.core import metrics

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
