"""Tables and plotly figures for the workbooks and the pack's index page.

Importing this package registers the ``sop`` plotly renderer and makes it the default: a figure left
as a cell's value then carries both plotly's own mimetype (drawn by JupyterLab) and a plain HTML
``<div>`` + ``Plotly.newPlot`` script (drawn in the pack by the one ``assets/plotly.min.js`` the page
template loads). Neither needs the network.
"""

from __future__ import annotations

import plotly.io as pio
from plotly.io.base_renderers import MimetypeRenderer

from sop_lib.report.charts import (
    budget_chart,
    capacity_heatmap,
    capacity_lines,
    demand_chart,
    kpi_trend_chart,
    scenario_chart,
    variance_chart,
    waterfall_chart,
)
from sop_lib.report.escape import md_escape, plot_text
from sop_lib.report.headlines import compute_headlines, plan_changes
from sop_lib.report.sentences import (
    capacity_sentence,
    consensus_sentence,
    finance_sentence,
    forecast_sentence,
    note,
    supply_sentence,
)
from sop_lib.report.tables import banner, show_table


def lean_figure(fig_dict: dict) -> dict:
    """The figure with its layout template's trace styles kept only for the trace types it draws. plotly puts the
    whole template in every figure, with styles for some 40 trace types (≈ 6.5 KB); those of types the figure
    does not draw change nothing on it, and dropping them keeps the pages and the audit notebooks lighter."""
    layout = fig_dict.get("layout") or {}
    template = layout.get("template") or {}
    if not isinstance(template, dict) or not template.get("data"):
        return fig_dict
    used = {str(trace.get("type", "scatter")) for trace in fig_dict.get("data") or []}
    data = {kind: styles for kind, styles in template["data"].items() if kind in used}
    return {**fig_dict, "layout": {**layout, "template": {**template, "data": data}}}


class PackRenderer(MimetypeRenderer):
    """Plotly's JSON for JupyterLab plus an HTML fragment (no plotly.js inside) for nbconvert."""

    def to_mimebundle(self, fig_dict: dict) -> dict:
        import json

        from plotly.io import to_html, to_json

        fig_dict = lean_figure(fig_dict)
        html = to_html(fig_dict, include_plotlyjs=False, full_html=False, validate=False,
                       config={"displaylogo": False, "responsive": True})
        return {
            "application/vnd.plotly.v1+json": json.loads(to_json(fig_dict, validate=False)),
            "text/html": html,
        }


pio.renderers["sop"] = PackRenderer()
pio.renderers.default = "sop"

__all__ = [
    "banner", "budget_chart", "lean_figure", "capacity_heatmap", "capacity_lines", "capacity_sentence", "compute_headlines",
    "consensus_sentence", "demand_chart", "finance_sentence", "forecast_sentence", "kpi_trend_chart", "md_escape", "note",
    "plan_changes", "plot_text", "scenario_chart", "show_table", "supply_sentence", "variance_chart", "waterfall_chart",
]
