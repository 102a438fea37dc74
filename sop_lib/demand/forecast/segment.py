"""Demand segmentation: ABC (revenue share), XYZ (variability), Syntetos–Boylan class, lifecycle.

The segment decides which models compete for a series (see ``candidates_for``). Formulas as in
docs/formulas.md: ADI = mean interval between non-zero demands; CV² of the non-zero demand sizes;
smooth (ADI < 1.32, CV² < 0.49), erratic (ADI < 1.32, CV² ≥ 0.49), intermittent (ADI ≥ 1.32, CV² < 0.49),
lumpy (both high).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ADI_CUT = 1.32
CV2_CUT = 0.49
RECENT_MONTHS = 24  # variability and "inactive" are judged on the last this many months


def intermittency(y: np.ndarray) -> tuple[float, float]:
    """(ADI, CV²) of a demand history. ADI = periods / non-zero periods (the mean interval between
    non-zero demands); CV² = (std / mean)² of the non-zero sizes. No demand at all → (inf, nan)."""
    nz = y[y > 0]
    if len(nz) == 0:
        return float("inf"), float("nan")
    adi = len(y) / len(nz)
    cv2 = float((nz.std(ddof=0) / nz.mean()) ** 2) if len(nz) > 1 else 0.0
    return float(adi), cv2


def sb_class(adi: float, cv2: float) -> str:
    if not np.isfinite(adi):
        return "no demand"
    if adi < ADI_CUT:
        return "smooth" if cv2 < CV2_CUT else "erratic"
    return "intermittent" if cv2 < CV2_CUT else "lumpy"


def abc_classes(revenue: pd.Series, a_share: float = 0.80, b_share: float = 0.95) -> pd.Series:
    """A: the largest series making up the first ``a_share`` of revenue, B: up to ``b_share``, C: the rest.
    A series is A if the cumulative share *before* it is below ``a_share`` (the one crossing 80 % is A)."""
    order = revenue.sort_values(ascending=False)
    total = order.sum()
    before = (order.cumsum() - order) / total if total > 0 else pd.Series(1.0, index=order.index)
    cls = np.where(before < a_share, "A", np.where(before < b_share, "B", "C"))
    return pd.Series(cls, index=order.index).reindex(revenue.index)


def xyz_class(cv: float, x_cut: float = 0.5, y_cut: float = 1.0) -> str:
    if not np.isfinite(cv):
        return "Z"
    return "X" if cv < x_cut else ("Y" if cv < y_cut else "Z")


def segment_series(
    series: pd.DataFrame, revenue: pd.Series, min_history: int, recent_months: int = RECENT_MONTHS,
    young_min: int | None = None,
) -> pd.DataFrame:
    """One row per series: ``unique_id``, ``history_months``, ``abc``, ``xyz``, ``cv``, ``adi``, ``cv2``,
    ``sb_class``, ``lifecycle`` (new / young / established / inactive), ``segment``.

    ``series``: ``unique_id``, ``ds``, ``y`` (complete months). ``revenue``: by unique_id, e.g. the last
    twelve months' units × price. Variability is measured on the last ``recent_months`` months; a series
    with fewer than ``min_history`` months is "young" from ``young_min`` months on (its own short backtest,
    ``young.py``), else "new"; one with no demand in its recent months "inactive".
    """
    rows = []
    for uid, g in series.groupby("unique_id", sort=False):
        y = g.sort_values("ds")["y"].to_numpy(dtype=float)
        recent = y[-recent_months:]
        adi, cv2 = intermittency(recent)
        mean = recent.mean()
        cv = float(recent.std(ddof=0) / mean) if mean > 0 else float("inf")
        short = "young" if young_min is not None and len(y) >= young_min else "new"
        lifecycle = "inactive" if recent.sum() == 0 else (short if len(y) < min_history else "established")
        rows.append({"unique_id": uid, "history_months": len(y), "cv": cv, "adi": adi, "cv2": cv2,
                     "sb_class": sb_class(adi, cv2), "xyz": xyz_class(cv), "lifecycle": lifecycle})
    out = pd.DataFrame(rows)
    out["abc"] = out["unique_id"].map(abc_classes(revenue.reindex(out["unique_id"]).fillna(0.0)))
    out["segment"] = np.where(
        out["lifecycle"] == "established", out["abc"] + out["xyz"] + " " + out["sb_class"], out["lifecycle"]
    )
    return out[["unique_id", "history_months", "abc", "xyz", "cv", "adi", "cv2", "sb_class", "lifecycle", "segment"]]


SMOOTH_MODELS = ("seasonal_naive", "theta", "dyn_theta", "ets", "ces", "arima")
# young series (young.py): too short for a fitted season; the family profile competes too, and the seasonal naive
# where a year of history precedes the young backtest's first origin (its 3 origins × 3 months span 5 months)
YOUNG_SMOOTH = ("naive", "ses", "historic_average", "family_profile")
YOUNG_SEASONAL = ("seasonal_naive", *YOUNG_SMOOTH)
YOUNG_SEASONAL_MIN = 12 + 5
YOUNG_INTERMITTENT = ("croston", "sba", "tsb", "historic_average", "family_profile")


def young_candidates(sb_class: str, history_months: int) -> tuple[str, ...]:
    """The candidates of a young series: by its Syntetos–Boylan class and whether a year precedes its backtest."""
    if sb_class in ("intermittent", "lumpy"):
        return YOUNG_INTERMITTENT
    return YOUNG_SEASONAL if history_months >= YOUNG_SEASONAL_MIN else YOUNG_SMOOTH


def candidates_for(
    seg: pd.Series, prophet_classes: tuple[str, ...], auto_arima_classes: tuple[str, ...], first_train: int,
    smooth_models: tuple[str, ...] = SMOOTH_MODELS,
) -> tuple[str, ...]:
    """The models that compete for one series (a row of ``segment_series``). ``first_train`` is the number
    of months before the first backtest origin: the airline ARIMA competes only where it can be fitted.
    Smooth and erratic series get ``smooth_models`` (``ForecastParams.smooth_models``)."""
    from sop_lib.demand.forecast.models import ARIMA_MIN_TRAIN

    if seg["lifecycle"] == "inactive":
        return ("zero",)
    if seg["lifecycle"] == "new":
        return ("family_profile",)
    if seg["lifecycle"] == "young":
        return young_candidates(seg["sb_class"], int(seg["history_months"]))
    if seg["sb_class"] in ("intermittent", "lumpy"):
        return ("croston", "sba", "tsb", "historic_average")
    models = [m for m in smooth_models if m != "arima" or first_train >= ARIMA_MIN_TRAIN]
    if seg["abc"] in auto_arima_classes:
        models.append("auto_arima")
    if seg["abc"] in prophet_classes:
        models.append("prophet")
    return tuple(models)
