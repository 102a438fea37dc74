"""Which candidate models earn their cost, measured on a sample before the whole portfolio is backtested.

A large portfolio first backtests every candidate on a systematic sample of its series (every k-th by revenue,
so A, B and C items are all in it). Then, dearest model first (``COST_ORDER``), each model is left out if the
strategy chosen without it scores, on the held-out last origin, within ``screen_tolerance_pct`` of the score
with every candidate — the tolerance is counted against the full set, so all models left out together cost at
most that much. The rest of the portfolio is backtested without the models left out; the sample's series lose
them too, so every series competes among the same models. The table of what was tried is shown on the forecast
page. A small portfolio (the sample would be a third of it or more) is not screened: there is little to save.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sop_lib.data.params import ForecastParams
from sop_lib.demand.forecast.select import drop_wild
from sop_lib.demand.forecast.strategy import add_fixed, choose_strategy

# dearest first, by CPU per series measured in one process (tourism, 100 series of ≈ 275 months, backtest + final
# fit): Prophet ≈ 0.3 s (four fits), AutoARIMA ≈ 0.5 s, AutoETS 0.45 s, airline ARIMA 0.2 s, AutoTheta 0.13 s,
# CES 0.015 s without its own intervals, DynamicOptimizedTheta 0.06 s. Seasonal naive and the intermittent-demand
# models cost next to nothing and are never left out.
COST_ORDER = ("prophet", "auto_arima", "ets", "arima", "theta", "dyn_theta", "ces")
SCREENING_COLUMNS = ["model", "score_all", "score_without", "change_pct", "decision", "sample", "series"]


def screening_sample(revenue_rank: pd.Series, params: ForecastParams) -> list[str]:
    """The series to screen on: every k-th of ``revenue_rank`` (unique_id → rank, 1 = largest), at least
    ``screen_min_series`` and ``screen_share`` of them; empty when screening is off or would not pay (the sample
    would be a third of the portfolio or more)."""
    n = len(revenue_rank)
    size = max(params.screen_min_series, math.ceil(params.screen_share * n))
    if not params.screen_candidates or size * 3 > n:
        return []
    ordered = revenue_rank.sort_values(kind="stable").index
    picks = np.unique(np.linspace(0, n - 1, size).round().astype(int))
    return [str(u) for u in ordered[picks]]


def held_out_score(
    cv: pd.DataFrame, train: pd.DataFrame, groups: pd.Series, singles: list[str], scale: pd.Series,
    params: ForecastParams,
) -> float:
    """The chosen strategies' error on the held-out last origin (``params.strategy_metric``), the groups'
    scores weighted by their points, with the candidates ``singles`` only."""
    cv = drop_wild(cv, train, singles)
    cv, _ = add_fixed(cv, cv.iloc[:0], params.combinations, ())
    evidence, _ = choose_strategy(cv, groups, singles, scale, params)
    chosen = evidence[evidence["chosen"]]
    metric = chosen[params.strategy_metric].to_numpy(dtype=float)
    points = chosen["points"].to_numpy(dtype=float)
    ok = np.isfinite(metric) & (points > 0)
    return float(np.average(metric[ok], weights=points[ok])) if ok.any() else float("nan")


def _sole_candidate(cv: pd.DataFrame, model: str, singles: list[str]) -> bool:
    """Whether some series has a value for ``model`` and for no other candidate (it must keep a forecast)."""
    others = [m for m in singles if m != model and m in cv]
    has_model = cv.groupby("unique_id")[model].apply(lambda s: s.notna().any())
    has_other = (cv.groupby("unique_id")[others].apply(lambda g: g.notna().any().any()) if others
                 else pd.Series(False, index=has_model.index))
    return bool((has_model & ~has_other.reindex(has_model.index, fill_value=False)).any())


def screen(
    cv: pd.DataFrame, train: pd.DataFrame, groups: pd.Series, singles: list[str], scale: pd.Series,
    params: ForecastParams, portfolio: int,
) -> tuple[list[str], pd.DataFrame]:
    """The models to leave out, and the evidence (``SCREENING_COLUMNS``: each model tried, the held-out score
    with every candidate and without it and the rest already left out, the decision) on the sample ``cv``."""
    full = held_out_score(cv, train, groups, singles, scale, params)
    keep, dropped, rows = list(singles), [], []
    limit = full * (1 + params.screen_tolerance_pct / 100)
    n = int(cv["unique_id"].nunique())
    for model in [m for m in COST_ORDER if m in keep]:
        trial = [m for m in keep if m != model]
        if _sole_candidate(cv[["unique_id", *keep]], model, keep):
            rows.append({"model": model, "score_all": full, "score_without": np.nan, "change_pct": np.nan,
                         "decision": "kept: the only candidate of some series"})
            continue
        part = cv.drop(columns=[c for c in cv.columns if c == model or c.startswith(f"{model}-")])
        score = held_out_score(part, train, groups, trial, scale, params)
        out = bool(np.isfinite(score) and np.isfinite(full) and score <= limit)
        rows.append({"model": model, "score_all": full, "score_without": score,
                     "change_pct": 100 * (score / full - 1) if full else np.nan,
                     "decision": "left out" if out else "kept"})
        if out:
            keep, cv = trial, part
            dropped.append(model)
    table = pd.DataFrame(rows, columns=SCREENING_COLUMNS[:5]).assign(sample=n, series=portfolio)
    return dropped, table
