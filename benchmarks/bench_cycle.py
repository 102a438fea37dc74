"""Time a full demo cycle and split it: snapshot, each notebook (kernel start + papermill overhead vs the
work in its cells), rendering, and the pack's size.

    .venv/bin/python benchmarks/bench_cycle.py [--skus 56] [--cycles 2026-09,2026-10,2026-11]

Runs in a temporary project folder (your data/ and reports/ are not touched) and prints a Markdown table;
with --json PATH it also writes the figures. Numbers go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import nbformat

from sop_lib.data.store import Store
from sop_lib.demo import write_demo_inputs
from sop_lib.demo.project import ensure_demo_project
from sop_lib.pack.run import run_cycle

PROJECT = Path(__file__).resolve().parent.parent


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skus", type=int, default=56)
    ap.add_argument("--cycles", default="2026-09,2026-10,2026-11")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="sop-bench-"))
    ensure_demo_project(tmp)
    store = Store(tmp)
    rows = []
    try:
        for cycle in args.cycles.split(","):
            write_demo_inputs(cycle, store.inputs_dir, n_skus=args.skus)
            t0 = time.perf_counter()
            outcome = run_cycle(store, cycle, force=True, fresh_snapshot=True, echo=lambda _m: None)
            total = time.perf_counter() - t0
            row = {"cycle": cycle, "total_s": total, "snapshot_s": outcome.timings["snapshot"],
                   "render_s": outcome.timings["render"]}
            for step in outcome.steps:
                nb = nbformat.read(outcome.run_dir / f"{step.name}.ipynb", as_version=4)
                cells = sum(float(c.metadata.get("papermill", {}).get("duration") or 0) for c in nb.cells)
                row[f"{step.name}_s"] = step.seconds
                row[f"{step.name}_cells_s"] = cells
                row[f"{step.name}_overhead_s"] = (step.seconds or 0) - cells
            pack = outcome.report_dir
            row["pack_bytes"] = folder_size(pack)
            row["pages_bytes"] = sum(p.stat().st_size for p in pack.glob("*.html"))
            row["plotly_js_bytes"] = (pack / "assets" / "plotly.min.js").stat().st_size
            row["series"] = int(len(store.read_result(cycle, outcome.run_dir, "forecast_selection")))
            rows.append(row)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nMachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"demo company with {args.skus} SKUs ({rows[0]['series']} SKU × region series)\n")
    steps = ["01_demand_forecast", "02_capacity_review", "03_financial_reconciliation", "04_post_cycle_variance"]
    head = ["cycle", "total", "snapshot"] + [s.split("_", 1)[0] + " (kernel+overhead / cells)" for s in steps]
    head += ["render", "pack size (pages + plotly.js)"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        cells = [r["cycle"], f"{r['total_s']:.1f} s", f"{r['snapshot_s']:.2f} s"]
        cells += [f"{r[s + '_s']:.1f} s ({r[s + '_overhead_s']:.1f} / {r[s + '_cells_s']:.1f})" for s in steps]
        cells += [f"{r['render_s']:.2f} s",
                  f"{r['pack_bytes'] / 1e6:.1f} MB ({r['pages_bytes'] / 1e6:.2f} MB + {r['plotly_js_bytes'] / 1e6:.1f} MB)"]
        print("| " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
