"""Forecasts for series too short for any model: new items get their family's seasonal profile, scaled
to their own recent level; series with no recent demand get zero."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd


def family_indices(series: pd.DataFrame, family: pd.Series, months: int = 36) -> pd.DataFrame:
    """Seasonal index per family and calendar month (mean of the month / mean of all months) from the
    family's total over its last ``months`` months. Columns ``family``, ``month``, ``index``."""
    fam = series.assign(family=series["unique_id"].map(family))
    total = fam.groupby(["family", "ds"], as_index=False)["y"].sum()
    rows = []
    for name, g in total.groupby("family"):
        g = g[g["ds"] > g["ds"].max() - pd.DateOffset(months=months)]
        by_month = g.groupby(g["ds"].dt.month)["y"].mean()
        base = g["y"].mean()
        for m in range(1, 13):
            idx = by_month.get(m, np.nan) / base if base > 0 else np.nan
            rows.append({"family": name, "month": m, "index": 1.0 if not np.isfinite(idx) or idx <= 0 else idx})
    return pd.DataFrame(rows, columns=["family", "month", "index"])


def family_profile(
    new: pd.DataFrame, future: pd.DataFrame, family: pd.Series, indices: pd.DataFrame, levels: tuple[int, ...]
) -> pd.DataFrame:
    """Forecast = own level × family index of the month. Level = mean of the last (up to) three months
    divided by their indices. Interval: ± z × the deseasonalised history's relative spread (50 % when
    there are fewer than three months). Vectorised over the series (thousands of new items take a second)."""
    if new.empty or future.empty:
        return pd.DataFrame(columns=["unique_id", "ds", "family_profile"])
    idx = indices.set_index(["family", "month"])["index"]

    def index_of(frame: pd.DataFrame) -> np.ndarray:
        keys = pd.MultiIndex.from_arrays([frame["unique_id"].map(family), frame["ds"].dt.month])
        return idx.reindex(keys).fillna(1.0).to_numpy(dtype=float)

    hist = new.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    hist["deseason"] = hist["y"].to_numpy(dtype=float) / index_of(hist)
    by_series = hist.groupby("unique_id", sort=False)["deseason"]
    level = by_series.apply(lambda d: float(d.iloc[-3:].mean()))
    n = by_series.size()
    std = by_series.std(ddof=1)
    spread = pd.Series(np.where((n >= 3) & (level > 0), std / level.where(level > 0), 0.5), index=level.index)
    f = future[future["unique_id"].isin(level.index)].reset_index(drop=True)
    point = f["unique_id"].map(level).to_numpy(dtype=float) * index_of(f)
    out = pd.DataFrame({"unique_id": f["unique_id"].to_numpy(), "ds": f["ds"].to_numpy(), "family_profile": point})
    rel = f["unique_id"].map(spread).to_numpy(dtype=float)
    for lv in levels:
        z = NormalDist().inv_cdf(0.5 + lv / 200)
        out[f"family_profile-lo-{lv}"] = np.clip(point * (1 - z * rel), 0, None)
        out[f"family_profile-hi-{lv}"] = point * (1 + z * rel)
    return out


def zero_forecast(future: pd.DataFrame, levels: tuple[int, ...]) -> pd.DataFrame:
    out = future[["unique_id", "ds"]].copy()
    out["zero"] = 0.0
    for lv in levels:
        out[f"zero-lo-{lv}"] = 0.0
        out[f"zero-hi-{lv}"] = 0.0
    return out
