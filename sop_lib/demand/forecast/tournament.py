"""One batch of series through its candidates' backtests and final fits. This is the unit of parallel
work: the local process pool and a Dask cluster both map ``run_batch`` over batches."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sop_lib.demand.forecast.models import STATS_MODELS, EngineConfig, prophet_tournament, stats_tournament


@dataclass
class BatchTask:
    train: pd.DataFrame  # unique_id, ds, y (+ exog columns)
    future: pd.DataFrame  # unique_id, ds (+ exog columns) over the horizon
    candidates: dict[str, tuple[str, ...]]  # unique_id → models that compete for it
    cfg: EngineConfig


def _merge(frames: list[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame(columns=keys)
    # each frame holds some models' columns for some series: one row per key with every model's value
    return pd.concat(frames, ignore_index=True).groupby(keys, sort=False, as_index=False).first()


def run_batch(task: BatchTask) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Backtest and final forecasts of every fitted candidate for the series of one batch.

    Returns (cv, forecast): cv keyed by ``unique_id``, ``cutoff``, ``ds`` with the actual ``y``; forecast
    keyed by ``unique_id``, ``ds``. A model that fails on a group of series is retried series by series,
    and a series it still fails on simply has no value for that model (it then cannot win).
    """
    cvs: list[pd.DataFrame] = []
    fcs: list[pd.DataFrame] = []
    groups: dict[tuple[str, ...], list[str]] = {}
    for uid, models in task.candidates.items():
        stats = tuple(m for m in models if m in STATS_MODELS)
        if stats:
            groups.setdefault(stats, []).append(uid)
    for models, uids in groups.items():
        train = task.train[task.train["unique_id"].isin(uids)]
        try:
            cv, fc = stats_tournament(train, list(models), task.cfg)
            cvs.append(cv)
            fcs.append(fc)
        except Exception:  # one odd series must not sink the batch: retry one by one, model by model
            for uid in uids:
                for model in models:
                    try:
                        cv, fc = stats_tournament(train[train["unique_id"] == uid], [model], task.cfg)
                        cvs.append(cv)
                        fcs.append(fc)
                    except Exception:
                        continue
    prophet_ids = [uid for uid, models in task.candidates.items() if "prophet" in models]
    if prophet_ids:
        cv, fc = prophet_tournament(task.train[task.train["unique_id"].isin(prophet_ids)],
                                    task.future[task.future["unique_id"].isin(prophet_ids)], task.cfg)
        cvs.append(cv)
        fcs.append(fc)
    return _merge(cvs, ["unique_id", "cutoff", "ds"]), _merge(fcs, ["unique_id", "ds"])
