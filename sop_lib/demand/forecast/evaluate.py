"""Summaries of a forecast run for the demand workbook."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sop_lib.core import metrics
from sop_lib.demand.forecast.models import MODEL_LABELS


def model_counts(selection: pd.DataFrame) -> pd.DataFrame:
    """How many series each model won, their median backtest MASE and how often each was runner-up."""
    wins = selection.groupby("model").agg(series=("model", "size"), median_mase=("mase", "median"))
    runner = selection["runner_up"].value_counts().rename("runner_up_of")
    out = wins.join(runner, how="left").fillna({"runner_up_of": 0}).reset_index()
    out["method"] = out["model"].map(MODEL_LABELS).fillna(out["model"])
    out["runner_up_of"] = out["runner_up_of"].astype(int)
    return out[["model", "method", "series", "median_mase", "runner_up_of"]].sort_values(
        "series", ascending=False, ignore_index=True)


def segment_summary(selection: pd.DataFrame, levels: tuple[int, ...]) -> pd.DataFrame:
    """Per ABC class × Syntetos–Boylan class (and lifecycle): series, the models kept, backtest errors and
    interval coverage."""
    sel = selection.assign(group=np.where(selection["lifecycle"] == "established",
                                          selection["abc"] + " · " + selection["sb_class"], selection["lifecycle"]))
    agg: dict[str, tuple[str, str]] = {"series": ("model", "size"), "median_mase": ("mase", "median"),
                                       "median_wape": ("wape", "median")}
    for lv in levels:
        agg[f"coverage_{lv}"] = (f"coverage_{lv}", "mean")
    out = sel.groupby("group").agg(**agg)
    out["models_kept"] = sel.groupby("group")["model"].agg(lambda s: ", ".join(
        f"{m} {n}" for m, n in s.value_counts().items()))
    return out.reset_index().rename(columns={"group": "segment"})


def coverage_summary(backtest: pd.DataFrame, levels: tuple[int, ...]) -> pd.DataFrame:
    """Empirical coverage of the chosen models' intervals over all backtest points, against the nominal level."""
    rows = []
    for lv in levels:
        lo, hi = backtest[f"forecast-lo-{lv}"], backtest[f"forecast-hi-{lv}"]
        rows.append({"interval": f"{lv} %", "nominal": lv / 100,
                     "empirical": metrics.coverage(backtest["actual"], lo, hi),
                     "points": int((lo.notna() & hi.notna()).sum())})
    return pd.DataFrame(rows)


def largest_skus(sales: pd.DataFrame, n: int, months: int = 12) -> list[str]:
    """The ``n`` SKUs with the most units over the last ``months`` months of history."""
    recent = sales[sales["period"] > sales["period"].max() - pd.DateOffset(months=months)]
    return recent.groupby("sku")["units"].sum().nlargest(n).index.tolist()
