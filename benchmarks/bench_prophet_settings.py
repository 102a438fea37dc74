"""Prophet's optimiser and uncertainty sampling on real data (Stallion), to choose defaults by evidence.

    .venv/bin/python benchmarks/bench_prophet_settings.py [--series 80]

For a sample of Stallion agency × SKU series (the largest by volume), hold out the last 12 months, fit
Prophet with each setting one series after another, and report fit+predict time per series, WAPE and the
median difference between the settings' forecasts. Prints a Markdown table (figures in docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "stallion.parquet"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", type=int, default=80)
    args = ap.parse_args()
    from prophet import Prophet

    logging.getLogger("cmdstanpy").disabled = True
    logging.getLogger("prophet").setLevel(logging.WARNING)
    df = pd.read_parquet(DATA)
    df["uid"] = df["agency"].astype(str) + "|" + df["sku"].astype(str)
    top = df.groupby("uid")["volume"].sum().nlargest(args.series).index
    df = df[df["uid"].isin(top)].rename(columns={"date": "ds", "volume": "y"})[["uid", "ds", "y"]]
    cutoff = df["ds"].max() - pd.DateOffset(months=11)
    settings = {
        "Newton, 1000 samples (Prophet's default on < 100 rows)": ("Newton", 1000),
        "LBFGS, 1000 samples": ("LBFGS", 1000),
        "LBFGS, 300 samples (suite default)": ("LBFGS", 300),
        "LBFGS, 0 samples (no interval)": ("LBFGS", 0),
    }
    preds: dict[str, list[np.ndarray]] = {k: [] for k in settings}
    times = dict.fromkeys(settings, 0.0)
    actual = []
    for _uid, g in df.groupby("uid"):
        train, test = g[g["ds"] < cutoff], g[g["ds"] >= cutoff]
        actual.append(test["y"].to_numpy())
        for name, (algo, samples) in settings.items():
            t0 = time.perf_counter()
            m = Prophet(weekly_seasonality=False, daily_seasonality=False, uncertainty_samples=samples)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m.fit(train[["ds", "y"]], algorithm=algo)
                yhat = m.predict(test[["ds"]])["yhat"].clip(lower=0).to_numpy()
            times[name] += time.perf_counter() - t0
            preds[name].append(yhat)
    a = np.concatenate(actual)
    ref = np.concatenate(preds[next(iter(settings))])
    print(f"\nStallion, {args.series} largest series, 12-month hold-out, one series after another\n")
    print("| setting | fit + predict per series | WAPE | median |Δ| vs Newton |")
    print("|---|---|---|---|")
    for name in settings:
        f = np.concatenate(preds[name])
        wape = np.abs(a - f).sum() / np.abs(a).sum()
        diff = np.median(np.abs(f - ref) / np.maximum(np.abs(ref), 1e-9))
        print(f"| {name} | {times[name] / args.series * 1000:.0f} ms | {wape:.1%} | {diff:.2%} |")


if __name__ == "__main__":
    main()
