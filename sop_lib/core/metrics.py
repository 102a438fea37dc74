"""Forecast accuracy metrics, their one home: WAPE, accuracy, MAE, MASE, bias %, absolute error, interval
coverage, tracking signal.

The engine's backtest, the hierarchy, the post-cycle review, the KPIs and the headlines all score here. Each
metric comes in two forms:

- per group, on a long frame (statsforecast's layout: ``unique_id``, ``y`` and one column per model):
  ``wape_by(frame, ["ets", "theta"])`` gives one row per group (the index) and one column per model;
- scalar, on two aligned arrays: ``wape(actual, forecast)`` gives a float. It is the per-group form on a
  single group, so the two cannot disagree.

Built on ``utilsforecast.losses`` (installed with statsforecast) where it has the metric as defined here:
WAPE, MAE, the summed error and the summed absolute error, interval coverage. By hand, with the reason next to
each, what it lacks or defines otherwise: bias %, the tracking signal, MASE's scale. Missing values are skipped
(as pandas sums skip them); a ratio whose denominator is zero is NaN, never a division error.

Definitions (docs/formulas.md): WAPE = Σ|A − F| / Σ|A|; accuracy = 1 − WAPE, floored at 0;
bias % = Σ(F − A) / ΣA × 100 (positive: over-forecast); MAE = mean |A − F|; MASE = MAE / the in-sample
seasonal-naive MAE; tracking signal = Σ(A − F) / mean |A − F| (0 when every error is 0).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
import utilsforecast.losses as losses

ID = "unique_id"
Y = "y"

PerGroup = Callable[..., pd.DataFrame]
ArrayLike = npt.ArrayLike  # a Series, a numpy array, a list


def _groups(frame: pd.DataFrame, id_col: str) -> pd.Index:
    """The groups of a long frame, sorted (utilsforecast's order)."""
    return pd.Index(frame[id_col].drop_duplicates()).sort_values().rename(id_col)


def _loss(loss: Callable[..., pd.DataFrame], frame: pd.DataFrame, models: Sequence[str], id_col: str,
          target_col: str) -> pd.DataFrame:
    """``loss`` of utilsforecast per ``id_col`` group, over every row of a group (only the columns it needs are
    passed, so a ``cutoff`` column never splits a group), as a frame indexed by group."""
    if not models:  # nothing to score: the groups, no column
        return pd.DataFrame(index=_groups(frame, id_col))
    cols = list(dict.fromkeys([id_col, target_col, *models]))
    out = loss(frame[cols], list(models), id_col=id_col, target_col=target_col)
    return out.set_index(id_col)[list(models)].astype(float)


# --- per group ---------------------------------------------------------------------------------------------


def wape_by(frame: pd.DataFrame, models: Sequence[str], id_col: str = ID, target_col: str = Y) -> pd.DataFrame:
    """WAPE = Σ|A − F| / Σ|A| per group; NaN where there is no actual demand (utilsforecast's ``wape``)."""
    return _loss(losses.wape, frame, models, id_col, target_col)


def mae_by(frame: pd.DataFrame, models: Sequence[str], id_col: str = ID, target_col: str = Y) -> pd.DataFrame:
    """MAE = mean |A − F| per group (utilsforecast's ``mae``)."""
    return _loss(losses.mae, frame, models, id_col, target_col)


def abs_error_by(frame: pd.DataFrame, models: Sequence[str], id_col: str = ID, target_col: str = Y) -> pd.DataFrame:
    """Σ|A − F| per group, in units (utilsforecast calls it ``pis``)."""
    return _loss(losses.pis, frame, models, id_col, target_col)


def _error_sum_by(frame: pd.DataFrame, models: Sequence[str], id_col: str, target_col: str) -> pd.DataFrame:
    """Σ(F − A) per group (utilsforecast's cumulative forecast error, ``cfe``)."""
    return _loss(losses.cfe, frame, models, id_col, target_col)


def bias_pct_by(frame: pd.DataFrame, models: Sequence[str], id_col: str = ID, target_col: str = Y) -> pd.DataFrame:
    """Bias % = Σ(F − A) / ΣA × 100 per group; positive = over-forecast, NaN where ΣA = 0."""
    # by hand: utilsforecast's ``bias`` is the mean error in units; ours divides the summed error by the summed
    # actuals (not their absolute values, so a return month lowers the base)
    base = frame.groupby(id_col)[target_col].sum()
    base = base.where(base != 0)
    return _error_sum_by(frame, models, id_col, target_col).div(base, axis=0) * 100


def accuracy_by(frame: pd.DataFrame, models: Sequence[str], id_col: str = ID, target_col: str = Y) -> pd.DataFrame:
    """Forecast accuracy = 1 − WAPE per group, floored at 0 (NaN stays NaN)."""
    return (1 - wape_by(frame, models, id_col, target_col)).clip(lower=0.0)


def tracking_signal_by(
    frame: pd.DataFrame, models: Sequence[str], id_col: str = ID, target_col: str = Y
) -> pd.DataFrame:
    """Tracking signal = Σ(A − F) / MAD per group, MAD = mean |A − F|; 0 where MAD is 0. Alarm outside ±4."""
    # by hand: utilsforecast has no tracking signal; it is its summed error (sign turned) over its MAE
    mad = mae_by(frame, models, id_col, target_col)
    signal = -_error_sum_by(frame, models, id_col, target_col) / mad.where(mad > 0)
    return signal.where(mad > 0, 0.0)


def mase_scale(history: pd.DataFrame, season: int, id_col: str = ID, target_col: str = Y,
               time_col: str = "ds") -> pd.Series:
    """MASE's scale per series: the in-sample seasonal-naive MAE, mean |y_t − y_{t−season}| over ``history``
    (lag 1 for a series with ``season`` months or fewer); NaN where it is 0 or there is nothing to difference."""
    # by hand: utilsforecast's ``mase`` uses one fixed season for every series and divides by a zero scale
    h = history.sort_values([id_col, time_col], kind="stable")
    y = h[target_col].astype(float)
    g = y.groupby(h[id_col], sort=False)
    lag = np.where(g.transform("size") > season, season, 1)
    diff = (y - g.shift(season)).where(lag == season, y - g.shift(1)).abs()
    scale = diff.groupby(h[id_col], sort=False).mean()
    return scale.where(scale > 0).astype(float)


def mase_by(frame: pd.DataFrame, models: Sequence[str], scale: pd.Series, id_col: str = ID,
            target_col: str = Y) -> pd.DataFrame:
    """MASE = MAE / ``scale`` per group (``scale`` by group, e.g. :func:`mase_scale`); NaN without a scale."""
    mae = mae_by(frame, models, id_col, target_col)
    return mae.div(scale.reindex(mae.index), axis=0)


def coverage_by(frame: pd.DataFrame, models: Sequence[str], level: int, id_col: str = ID,
                target_col: str = Y) -> pd.DataFrame:
    """Share of actuals inside ``<model>-lo-<level>`` … ``<model>-hi-<level>`` (bounds included) per group,
    over the points that have both bounds; NaN for a group with none (utilsforecast's ``coverage``)."""
    out = pd.DataFrame(index=_groups(frame, id_col))
    for m in models:
        lo, hi = f"{m}-lo-{level}", f"{m}-hi-{level}"
        # utilsforecast counts a point with a missing bound as outside: here it is left out instead
        bounded = frame.loc[frame[lo].notna() & frame[hi].notna(), [id_col, target_col, lo, hi]]
        inside = losses.coverage(bounded, [m], level=level, id_col=id_col, target_col=target_col)
        out[m] = inside.set_index(id_col)[m]
    return out.astype(float)


# --- scalar: one group ---------------------------------------------------------------------------------------


def _one(per_group: PerGroup, actual: ArrayLike, forecast: ArrayLike, empty: float = float("nan")) -> float:
    a = np.asarray(actual, dtype=float)
    if not len(a):
        return empty
    frame = pd.DataFrame({ID: 0, Y: a, "forecast": np.asarray(forecast, dtype=float)})
    return float(per_group(frame, ["forecast"]).iloc[0, 0])


def wape(actual: ArrayLike, forecast: ArrayLike) -> float:
    """WAPE = Σ|A − F| / Σ|A|; NaN when there is no actual demand."""
    return _one(wape_by, actual, forecast)


def accuracy(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Forecast accuracy = 1 − WAPE, floored at 0."""
    return _one(accuracy_by, actual, forecast)


def bias_pct(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Bias % = Σ(F − A) / ΣA × 100; positive = over-forecast."""
    return _one(bias_pct_by, actual, forecast)


def mae(actual: ArrayLike, forecast: ArrayLike) -> float:
    """MAE = mean |A − F|."""
    return _one(mae_by, actual, forecast)


def abs_error(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Σ|A − F| in units (0 for no points)."""
    return _one(abs_error_by, actual, forecast, empty=0.0)


def tracking_signal(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Tracking signal = Σ(A − F) / MAD with MAD = mean |A − F| (docs/formulas.md); alarm outside ±4. 0 when MAD is 0."""
    return _one(tracking_signal_by, actual, forecast, empty=0.0)


def coverage(actual: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> float:
    """Share of actuals inside [lower, upper], over the points that have both bounds; NaN when none has."""
    a = np.asarray(actual, dtype=float)
    frame = pd.DataFrame({ID: 0, Y: a, "f-lo-0": np.asarray(lower, dtype=float),
                          "f-hi-0": np.asarray(upper, dtype=float)})
    out = coverage_by(frame, ["f"], 0)
    return float(out.iloc[0, 0]) if len(out) else float("nan")
