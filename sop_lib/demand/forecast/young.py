"""Young series: too short for the main backtest (fewer than ``min_history_months``), long enough for a short
one of their own (``young_min_months`` or more). Before this tier every such series took its family's profile,
so an extract of 13 months — a whole company's — was forecast without any model being measured.

The young series get their own rolling-origin backtest: ``WINDOWS`` origins ``STEP`` month apart, ``HORIZON``
months scored at each (each origin forecast to the data's end, as the main backtest's are), on which simple
candidates compete (``segment.young_candidates``): the naive (last month), simple exponential smoothing, the
historic average and the family profile for smooth and erratic demand, the seasonal naive too where a year of
history precedes the first origin (17+ months); Croston, SBA, TSB, the historic average and the family profile
for intermittent and lumpy demand. The default start, 17 months, is that year: below it (only if
``young_min_months`` is set lower) the backtest sees no season, and the profile, whose indices at those origins
lack the months not yet seen, is judged unfairly against the flat methods. With so few points per series a per-series pick would mostly pick luck, so
**one method per group** (``GROUPS``) is kept: the lowest WAPE over every young series of the group and every
origin (the evidence rows join the strategy table). Its intervals are conformal by horizon step from the same
backtest (``conformal.py``), not the profile's normal approximation.
"""

from __future__ import annotations

import pandas as pd

from sop_lib.core import metrics
from sop_lib.data.params import ForecastParams
from sop_lib.demand.forecast.conformal import conformal_intervals, forecast_steps
from sop_lib.demand.forecast.models import MODEL_LABELS
from sop_lib.demand.forecast.profile import family_indices, family_profile
from sop_lib.demand.forecast.segment import YOUNG_SEASONAL_MIN, young_candidates
from sop_lib.demand.forecast.strategy import EVIDENCE_COLUMNS
from sop_lib.demand.forecast.tournament import BatchTask, cutoffs_for, merge_frames, reach, run_batch, scored

WINDOWS, STEP, HORIZON = 3, 1, 3  # origins, months between them, months scored: the last 5 months are scored
STATS = {"seasonal_naive", "naive", "ses", "historic_average", "croston", "sba", "tsb"}  # run by statsforecast
GROUPS = {  # the group a method is chosen for → (a Syntetos–Boylan class, months of history) of its candidates
    "young intermittent": ("intermittent", 0),
    f"young smooth, {YOUNG_SEASONAL_MIN}+ months": ("smooth", YOUNG_SEASONAL_MIN),
    "young smooth": ("smooth", 0),
}


def young_params(params: ForecastParams) -> ForecastParams:
    """The young series' backtest design (``WINDOWS`` × ``HORIZON`` months, ``STEP`` apart), the rest as set."""
    return params.model_copy(update={"backtest_windows": WINDOWS, "backtest_step": STEP, "backtest_horizon": HORIZON})


def young_group(sb_class: str, history_months: int) -> str:
    """The group a method is chosen for: intermittent and lumpy demand; smooth and erratic with a year of
    history before the first origin (the seasonal naive competes); the other smooth and erratic."""
    if sb_class in ("intermittent", "lumpy"):
        return "young intermittent"
    return f"young smooth, {YOUNG_SEASONAL_MIN}+ months" if history_months >= YOUNG_SEASONAL_MIN else "young smooth"


def _profile_backtest(
    young: pd.DataFrame, established: pd.DataFrame, family: pd.Series, params: ForecastParams, horizon: int
) -> pd.DataFrame:
    """The family profile at each origin, from the data up to it (the family's indices too), forecast
    :func:`tournament.reach` months or to the data's end."""
    last = young["ds"].max()
    months = reach(params, horizon)
    frames = []
    for cutoff in cutoffs_for(last, params):
        hist = young[young["ds"] <= cutoff]
        test = young[(young["ds"] > cutoff) & (young["ds"] <= cutoff + pd.DateOffset(months=months))]
        base = established[established["ds"] <= cutoff] if len(established) else hist
        fc = family_profile(hist, test[["unique_id", "ds"]], family, family_indices(base, family), ())
        frames.append(fc.merge(test[["unique_id", "ds", "y"]], on=["unique_id", "ds"]).assign(cutoff=cutoff))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["unique_id", "cutoff", "ds"])


def _evidence(cv: pd.DataFrame, group_of: pd.Series, scale: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
    """Per group, every candidate's WAPE, mean MASE and bias over the scored rows where every candidate of the
    group has a value; the lowest WAPE is kept (ties: the earlier in the candidate list). Returns (evidence rows,
    method by group)."""
    rows, chosen = [], {}
    for group, ids in group_of.groupby(group_of):
        names = list(young_candidates(*GROUPS[str(group)]))
        g = cv[cv["unique_id"].isin(ids.index)]
        names = [m for m in names if m in g and g[m].notna().any()]
        g = g.dropna(subset=names)
        if g.empty or not names:
            continue
        wape = {m: metrics.wape(g["y"].to_numpy(), g[m].to_numpy(dtype=float)) for m in names}
        best = min(names, key=lambda m: (wape[m], names.index(m)))
        chosen[group] = best
        mase = metrics.mase_by(g, names, scale)
        for m in names:
            rows.append({"group": group, "strategy": m, "wape": wape[m], "mase": float(mase[m].mean()),
                         "bias_pct": metrics.bias_pct(g["y"].to_numpy(), g[m].to_numpy(dtype=float)),
                         "series": g["unique_id"].nunique(), "points": len(g), "wape_all_origins": wape[m],
                         "chosen": m == best,
                         "reason": f"young series: one method for the group, the lowest WAPE over {WINDOWS} origins "
                                   f"× {HORIZON} months of their own backtest"})
    return pd.DataFrame(rows, columns=EVIDENCE_COLUMNS), pd.Series(chosen, dtype=object)


def young_forecast(
    train: pd.DataFrame, future: pd.DataFrame, seg: pd.DataFrame, family: pd.Series, params: ForecastParams,
) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """Forecasts of the ``young`` series of ``seg``: (forecast frame with ``<method>`` and its conformal
    ``<method>-lo/hi-<L>`` columns, method by unique_id, evidence rows for the strategy table)."""
    empty = (pd.DataFrame(columns=["unique_id", "ds"]), pd.Series(dtype=object), pd.DataFrame(columns=EVIDENCE_COLUMNS))
    ids = seg.loc[seg["lifecycle"] == "young", "unique_id"]
    if ids.empty:
        return empty
    yp, levels = young_params(params), params.interval_levels
    horizon = int(future["ds"].nunique())
    young = train[train["unique_id"].isin(ids)]
    established = train[train["unique_id"].isin(seg.loc[seg["lifecycle"] == "established", "unique_id"])]
    rows = seg.set_index("unique_id").loc[ids]
    group_of = pd.Series([young_group(c, int(n)) for c, n in zip(rows["sb_class"], rows["history_months"],
                                                                  strict=True)], index=rows.index)
    fut = future[future["unique_id"].isin(ids)]
    stats = {uid: tuple(m for m in young_candidates(*GROUPS[g]) if m in STATS) for uid, g in group_of.items()}
    # run_batch: a model that fails on a series is retried series by series and then left without a value
    cv, _ = run_batch(BatchTask(young, fut, stats, yp, horizon, phase="backtest", own_intervals=False))
    cv = merge_frames([cv, _profile_backtest(young, established, family, yp, horizon)], ["unique_id", "cutoff", "ds"])
    first = cutoffs_for(young["ds"].max(), yp)[0]
    scale = metrics.mase_scale(young[young["ds"] <= first], 1)  # naive in-sample MAE: no year of history here
    evidence, method_of_group = _evidence(scored(cv, yp), group_of, scale)
    method_of = group_of.map(method_of_group).dropna()
    indices = family_indices(established if len(established) else young, family)
    frames = []
    for method, uids in method_of.groupby(method_of):
        hist, f = young[young["unique_id"].isin(uids.index)], fut[fut["unique_id"].isin(uids.index)]
        if method in STATS:
            fc = run_batch(BatchTask(hist, f, {u: (str(method),) for u in uids.index}, yp, horizon, phase="final",
                                     own_intervals=False))[1]
        else:
            fc = family_profile(hist, f, family, indices, ())
        fc, _ = conformal_intervals(cv[cv["unique_id"].isin(uids.index)], fc, str(method), forecast_steps(fc),
                                    pd.Series(dtype=object), levels, HORIZON, growth=params.interval_growth)
        frames.append(fc)
    fc = pd.concat(frames, ignore_index=True) if frames else empty[0]
    # a series its group's method could not forecast (a failed fit) takes the family profile, as a new item would
    done = fc.groupby("unique_id")["ds"].size() if len(fc) else pd.Series(dtype=int)
    bad = [u for u in ids if u not in method_of.index or done.get(u, 0) < horizon
           or fc.loc[fc["unique_id"] == u, str(method_of[u])].isna().any()]
    if bad:
        fc = fc[~fc["unique_id"].isin(bad)]
        fc = pd.concat([fc, family_profile(young[young["unique_id"].isin(bad)], fut[fut["unique_id"].isin(bad)],
                                           family, indices, levels)], ignore_index=True)
        method_of = pd.concat([method_of.drop(bad, errors="ignore"), pd.Series("family_profile", index=bad)])
    return fc, method_of, evidence


def young_reason(method: str, params: ForecastParams) -> str:
    """The selection table's reason for a young series kept on ``method``."""
    return (f"young series ({params.young_min_months}–{params.min_history_months - 1} months): "
            f"{MODEL_LABELS.get(method, method)}, the best of its group on the young series' own backtest "
            f"({WINDOWS} origins × {HORIZON} months)")

