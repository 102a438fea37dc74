"""Time the worked examples from the raw file to a published pack, as a new user runs them: `sop init`,
`sop import` with the example's mapping file, `sop run`. Prints rows read, written and forecast, and the
wall time of each step (each step a real `sop` process, as on the command line).

    .venv/bin/python benchmarks/bench_examples.py [--only stallion]

Reads the public data in ../shared/data/ (beside the checkout); runs in a temporary folder. Numbers go in
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

PROJECT = Path(__file__).resolve().parent.parent
EXAMPLES = {  # name: (company, currency, cycle)
    "stallion": ("Stallion (public data)", "(currency not stated)", "2018-01"),
    "online_retail": ("Online retailer", "GBP", "2011-12"),
}


def sop(*args: str) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "sop_lib", *args], capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"sop {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return seconds, proc.stdout


def run_example(name: str, base: Path) -> dict[str, object]:
    company, currency, cycle = EXAMPLES[name]
    root = base / name
    init_s, _ = sop("init", str(root), "--company", company, "--currency", currency)
    import_s, out = sop("import", "--root", str(root), "--map", str(PROJECT / "examples" / name / "mapping.yaml"),
                        "--cycle", cycle)
    run_s, log = sop("run", "--root", str(root), "--cycle", cycle)
    read = max(int(n.replace(",", "")) for n in re.findall(r"([\d,]+) rows read", out))
    sales = pd.read_csv(root / "inputs" / "sales_history.csv")
    steps = dict(re.findall(r"running (\S+) …\n\s+ok in ([\d.]+) s", log))
    forecast = pd.read_parquet(root / "data" / "cycles" / cycle / "published" / "forecast.parquet")
    return {"example": name, "cycle": cycle, "rows_read": read, "sales_rows": len(sales),
            "series": int(forecast.groupby(["sku", "region"]).ngroups), "init_s": init_s, "import_s": import_s,
            "run_s": run_s, "demand_s": float(steps.get("01_demand_forecast", "nan")),
            "total_s": init_s + import_s + run_s}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=sorted(EXAMPLES))
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="sop-examples-") as tmp:
        for name in [args.only] if args.only else list(EXAMPLES):
            rows.append(run_example(name, Path(tmp)))
    print(f"{platform.machine()}, {len(__import__('os').sched_getaffinity(0))} cores, Python {platform.python_version()}\n")
    print("| example | cycle | rows read | sales_history rows | series | init | import | run (of which 01) | raw file → pack |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['example']} | {r['cycle']} | {r['rows_read']:,} | {r['sales_rows']:,} | {r['series']:,} | "
              f"{r['init_s']:.1f} s | {r['import_s']:.1f} s | {r['run_s']:.1f} s ({r['demand_s']:.1f} s) | "
              f"{r['total_s']:.1f} s |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
