"""The archive index, ``reports/index.html``: every published cycle, monthly and quarterly in one list ordered in
time (newest first), with the headline KPIs its pack recorded (``headlines.json``) and a trend chart across
cycles."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from sop_lib.core.errors import SopError
from sop_lib.data.store import Store

# the headline KPIs per cycle: (column, label, path in headlines.json); ratios are shown in %
HEADLINE_KPIS: tuple[tuple[str, str, tuple[str, str]], ...] = (
    ("accuracy", "forecast accuracy (%)", ("accuracy", "accuracy")),
    ("bias_pct", "bias (%)", ("accuracy", "bias_pct")),
    ("revenue_vs_budget", "plan revenue vs budget (%)", ("budget", "revenue_gap_pct")),
    ("demand_change", "next 12 m vs last 12 m units (%)", ("demand", "change_pct")),
    ("peak_utilisation", "peak utilisation (%)", ("capacity", "peak_utilisation")),
)
_RATIOS = {"accuracy", "peak_utilisation"}  # ratios in headlines.json (bias and gaps are in % already)


def read_headlines(path: Path) -> dict[str, Any]:
    """A pack's ``headlines.json`` (empty when missing or unreadable: the index shows "—")."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def headline_kpis(headlines: dict[str, Any]) -> dict[str, float | None]:
    """``HEADLINE_KPIS`` of one pack's headlines, in % (``None``: not in the pack, e.g. no budget or no earlier
    plan to score)."""
    out: dict[str, float | None] = {}
    for col, _, (section, key) in HEADLINE_KPIS:
        part = headlines.get(section)
        value = part.get(key) if isinstance(part, dict) else None
        number = float(value) if isinstance(value, int | float) and pd.notna(value) else None
        out[col] = number * 100 if number is not None and col in _RATIOS else number
    return out


def archive_rows(store: Store) -> list[dict[str, Any]]:
    """One row per published cycle, newest first: ``cycle``, ``cadence``, ``fingerprint``, ``published_at``,
    ``accuracy_month`` (the month(s) the accuracy scores) and the ``HEADLINE_KPIS`` columns."""
    from sop_lib.core.cycle import Cycle

    rows: list[dict[str, Any]] = []
    for cycle in reversed(store.published_cycles()):
        try:
            info = store.published_info(cycle)
        except SopError:
            info = {"fingerprint": "(damaged record)"}
        headlines = read_headlines(store.report_dir(cycle) / "headlines.json")
        accuracy = headlines.get("accuracy") if isinstance(headlines.get("accuracy"), dict) else {}
        rows.append({"cycle": cycle, "cadence": Cycle.parse(cycle).cadence,
                     "fingerprint": str(info.get("fingerprint", ""))[:12], "published_at": info.get("published_at", ""),
                     "accuracy_month": str((accuracy or {}).get("month", "")), **headline_kpis(headlines)})
    return rows


def trend_chart_html(rows: list[dict[str, Any]]) -> str:
    """The headline KPIs across cycles (oldest left), one line each, as an HTML fragment without plotly.js;
    empty when fewer than two cycles have a value."""
    from sop_lib.report.charts import archive_trend_chart

    frame = pd.DataFrame(list(reversed(rows)))
    labels = {col: label for col, label, _ in HEADLINE_KPIS}
    present = [c for c in labels if c in frame and frame[c].notna().sum() >= 2]
    if not present:
        return ""
    fig = archive_trend_chart(frame, {c: labels[c] for c in present})
    return str(fig.to_html(include_plotlyjs=False, full_html=False, config={"displaylogo": False}))


def copy_plotly_asset(store: Store, rows: list[dict[str, Any]]) -> str:
    """``reports/assets/plotly.min.js``, copied from the newest pack that has one (the packs ship the bundle the
    charts need); its path relative to ``reports/``, or empty when no pack has it."""
    for row in rows:
        source = store.report_dir(row["cycle"]) / "assets" / "plotly.min.js"
        if source.exists():
            target = store.reports_dir / "assets" / "plotly.min.js"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
            return "assets/plotly.min.js"
    return ""


def write_index(store: Store, templates: Path) -> Path:
    """``reports/index.html`` from ``templates/cycles.html.j2``: every published pack, newest first, with its
    headline KPIs and their trend."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(str(templates)), autoescape=select_autoescape(["html", "j2"]))
    rows = archive_rows(store)
    chart = trend_chart_html(rows)
    plotly_js = copy_plotly_asset(store, rows) if chart else ""
    path = store.reports_dir / "index.html"
    newest = rows[0]["cycle"] if rows else ""
    path.write_text(env.get_template("cycles.html.j2").render(
        cycles=rows, css=f"{newest}/assets/pack.css", kpis=HEADLINE_KPIS, chart=chart if plotly_js else "",
        plotly_js=plotly_js), encoding="utf-8")
    return path
