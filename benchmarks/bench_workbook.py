"""Time the plan's Excel workbook (``pack.workbook.write_plan_workbook``) on a synthetic plan.

    .venv/bin/python benchmarks/bench_workbook.py [--skus 1000] [--months 18] [--out /tmp/bench.xlsx]

One region, ``--skus`` SKUs in 10 families, ``--months`` months: the Demand sheet (SKU × region × month with the
statistical forecast and its 80 % interval), the Supply plan (SKU × month) and Plan financials (SKU × month,
priced, no unit costs) hold the rows; capacity, budget and decisions are absent (their sheets say so). Prints the
wall and CPU time of writing, the file's size and the process's peak memory. Data generation is not timed. Run it
alone: the peak memory is the process's.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sop_lib.pack.workbook import WorkbookInfo, build_sheets, write_plan_workbook


def synthetic_tables(n_skus: int, months: int) -> dict[str, pd.DataFrame | None]:
    periods = pd.date_range("2027-01-01", periods=months, freq="MS")
    sku = np.repeat([f"SKU-{i:05d}" for i in range(n_skus)], months)
    family = np.repeat([f"F{i % 10}" for i in range(n_skus)], months)
    per = np.tile(periods, n_skus)
    units = np.random.default_rng(20261101).random(len(sku)) * 100
    consensus = pd.DataFrame({"sku": sku, "region": "UK", "family": family, "period": per, "statistical": units,
                              "adjustment": 0.0, "consensus": units})
    forecast = consensus[["sku", "region", "family", "period"]].assign(
        forecast=units, **{"forecast-lo-80": units * 0.8, "forecast-hi-80": units * 1.2})
    supply = pd.DataFrame({"sku": sku, "period": per, "demand": units, "opening_stock": 0.0, "production": units,
                           "served": units, "unmet": 0.0, "closing_stock": 0.0, "safety_stock": 0.0})
    financials = pd.DataFrame({"family": family, "sku": sku, "period": per, "units": units, "unit_price": 2.0,
                               "unit_cost": np.nan, "revenue": 2 * units, "cogs": np.nan, "gross_margin": np.nan})
    return {"products": consensus[["sku", "family"]].drop_duplicates(), "consensus": consensus,
            "forecast": forecast, "supply_plan": supply, "plan_financials": financials,
            "supply_unmet": supply.head(0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=1000)
    parser.add_argument("--months", type=int, default=18)
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench_workbook.xlsx"))
    args = parser.parse_args()
    tables = synthetic_tables(args.skus, args.months)
    info = WorkbookInfo(cycle="2026-12", company="Bench", currency="EUR", fingerprint="0" * 64, captured_at="",
                        costed=False, capacity=False, budgeted=False)
    cells = sum(s.rows * s.frame.shape[1] for s in build_sheets(tables, info) if s.frame is not None)
    wall, cpu = time.perf_counter(), time.process_time()
    path = write_plan_workbook(args.out, tables, info)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    print(f"| {args.skus:,} × {args.months} | ≈ {cells / 1e6:.1f} M | {wall:.1f} s | {cpu:.1f} s | "
          f"{path.stat().st_size / 1e6:.1f} MB | {peak:,.0f} MB |")


if __name__ == "__main__":
    main()
