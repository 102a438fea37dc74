"""Plotly figures. Each takes result tables (long format) and returns a ``go.Figure``. Names from data or
parameters (families, SKUs, resources, owners, scenarios, the currency) go through ``plot_text``: plotly reads a
subset of HTML in titles, labels and hover text."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sop_lib.core.cycle import cycle_rank
from sop_lib.report.escape import plot_text

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
# The utilisation bands' colours, lightest to darkest (the heatmap shades within a band; the Excel workbook
# fills each band with its first colour): ok up to capacity.warn_utilisation, tight up to max_utilisation, over.
UTILISATION_COLOURS = {"ok": ("#eef4fa", "#9ecae1"), "tight": ("#fff1a8", "#fdd870"),
                       "over capacity": ("#fc8d59", "#b30000")}


def _grid(n: int, cols: int = 2) -> tuple[int, int]:
    return max(1, math.ceil(n / cols)), min(cols, max(1, n))


def demand_chart(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    by: str,
    level: int,
    keys: list[str] | None = None,
    history_months: int = 36,
    title: str = "",
) -> go.Figure:
    """Actuals and forecast with its interval, one panel per value of ``by`` (e.g. family or sku).

    ``history``: ``by``, ``period``, ``units``; ``forecast``: ``by``, ``period``, ``forecast``,
    ``forecast-lo-<level>``, ``forecast-hi-<level>``, summed over anything finer than ``by``. Summed bounds are
    far wider than the interval of the sum: for a family, region or the total pass the level's own interval
    (:func:`sop_lib.demand.consensus.level_plan` on ``forecast_levels``: one row per ``by`` × period).
    """
    lo, hi = f"forecast-lo-{level}", f"forecast-hi-{level}"
    keys = keys or sorted(forecast[by].unique())
    rows, cols = _grid(len(keys))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[plot_text(k) for k in keys], shared_xaxes=False,
                        vertical_spacing=0.12 / max(1, rows / 2))
    hist = history.groupby([by, "period"], as_index=False)["units"].sum()
    start = hist["period"].max() - pd.DateOffset(months=history_months - 1) if len(hist) else None
    fc = forecast.groupby([by, "period"], as_index=False)[["forecast", lo, hi]].sum()
    for i, key in enumerate(keys):
        r, c = i // cols + 1, i % cols + 1
        h = hist[(hist[by] == key) & (hist["period"] >= start)] if start is not None else hist.iloc[:0]
        f = fc[fc[by] == key]
        first = i == 0
        fig.add_trace(go.Scatter(x=f["period"], y=f[hi], mode="lines", line={"width": 0}, showlegend=False,
                                 hoverinfo="skip"), row=r, col=c)
        fig.add_trace(go.Scatter(x=f["period"], y=f[lo], mode="lines", line={"width": 0}, fill="tonexty",
                                 fillcolor="rgba(31,119,180,0.18)", name=f"{level} % interval", showlegend=first,
                                 legendgroup="band"), row=r, col=c)
        fig.add_trace(go.Scatter(x=h["period"], y=h["units"], mode="lines", line={"color": "#444"}, name="actual",
                                 showlegend=first, legendgroup="actual"), row=r, col=c)
        fig.add_trace(go.Scatter(x=f["period"], y=f["forecast"], mode="lines", line={"color": PALETTE[0]},
                                 name="forecast", showlegend=first, legendgroup="forecast"), row=r, col=c)
    height = 260 * rows + 100
    fig.update_layout(title=title, height=height, margin={"t": 100, "l": 40, "r": 20, "b": 30},
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1 + 45 / (height - 130), "x": 1,
                              "xanchor": "right"}, template="plotly_white")
    fig.update_yaxes(rangemode="tozero", tickformat="~s")
    return fig


def capacity_heatmap(review: pd.DataFrame, title: str = "Capacity utilisation, % of available hours",
                     warn: float = 0.9, over: float = 1.0) -> go.Figure:
    """Utilisation per resource (rows) and month (columns): blue below ``warn``, amber from ``warn`` (tight),
    orange to dark red above ``over`` (over capacity) — the bands of ``capacity.warn_utilisation`` and
    ``max_utilisation``, as the capacity table's status and the Excel workbook use them."""
    pivot = review.pivot_table(index="resource", columns="period", values="utilisation", aggfunc="first")
    months = [pd.Timestamp(c).strftime("%Y-%m") for c in pivot.columns]
    z = pivot.to_numpy() * 100
    ok, tight, hot = UTILISATION_COLOURS.values()
    text = [[("" if pd.isna(v) else f"{v:.0f}") for v in row] for row in z]
    zmin, zmax = min(50.0, 100 * warn - 10), max(130.0, 100 * over + 30)
    w, o = ((100 * x - zmin) / (zmax - zmin) for x in (warn, over))
    fig = go.Figure(go.Heatmap(
        z=z, x=months, y=[plot_text(r) for r in pivot.index], text=text, texttemplate="%{text}", zmin=zmin, zmax=zmax,
        colorscale=[[0, ok[0]], [w, ok[1]], [w, tight[0]], [o, tight[1]], [o, hot[0]], [1, hot[1]]],
        colorbar={"title": "% used"}, hovertemplate="%{y} %{x}: %{z:.0f} %<extra></extra>",
    ))
    fig.update_layout(title=title, height=140 + 45 * len(pivot),
                      margin={"t": 50, "l": 90, "r": 20, "b": 40}, template="plotly_white")
    return fig


def _bars_against_a_line(frame: pd.DataFrame, by: str, bars: tuple[str, str, str], line: tuple[str, str],
                         mode: str = "lines") -> tuple[go.Figure, int]:
    """One panel per value of ``by``: bars ``bars = (column, name, flag column)`` red where the flag is set,
    against a line ``line = (column, name)``. Returns the figure and its number of rows."""
    keys = sorted(frame[by].unique())
    rows, cols = _grid(len(keys))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[plot_text(k) for k in keys])
    (bar, bar_name, flag), (level, level_name) = bars, line
    for i, key in enumerate(keys):
        g = frame[frame[by] == key]
        r, c = i // cols + 1, i % cols + 1
        fig.add_trace(go.Bar(x=g["period"], y=g[bar], name=bar_name, showlegend=i == 0,
                             marker_color=["#d62728" if f else PALETTE[0] for f in g[flag]]), row=r, col=c)
        fig.add_trace(go.Scatter(x=g["period"], y=g[level], name=level_name, mode=mode, showlegend=i == 0,
                                 line={"color": "#222", "shape": "hv"} if mode == "lines" else {"color": "#222"}),
                      row=r, col=c)
    return fig, rows


def capacity_lines(review: pd.DataFrame) -> go.Figure:
    """Required against available hours, one panel per resource."""
    fig, rows = _bars_against_a_line(review, "resource", ("required_hours", "required", "over_capacity"),
                                     ("available_hours", "available"))
    fig.update_layout(title="Required vs available hours (red: over capacity)", height=260 * rows + 60,
                      template="plotly_white", margin={"t": 70, "l": 40, "r": 20, "b": 30})
    return fig


def budget_chart(gap: pd.DataFrame, currency: str) -> go.Figure:
    """Plan and budget revenue per family and month."""
    fig, rows = _bars_against_a_line(gap, "family", ("plan_revenue", "plan", "flag"), ("budget_revenue", "budget"),
                                     mode="lines+markers")
    fig.update_layout(title=f"Plan vs budget revenue ({plot_text(currency)}; red: gap beyond threshold)",
                      height=260 * rows + 60, template="plotly_white", margin={"t": 70, "l": 40, "r": 20, "b": 30})
    fig.update_yaxes(tickformat="~s")
    return fig


def variance_chart(pva: pd.DataFrame) -> go.Figure:
    """Planned vs actual units per family, one bar group per plan cycle and closed month."""
    g = pva.groupby(["plan_cycle", "period", "family"], as_index=False)[["forecast", "actual"]].sum()
    g["label"] = g["plan_cycle"] + " plan → " + g["period"].dt.strftime("%Y-%m")
    g["family"] = g["family"].map(plot_text)
    fig = go.Figure()
    fig.add_trace(go.Bar(x=[g["family"], g["label"]], y=g["forecast"], name="plan", marker_color=PALETTE[0]))
    fig.add_trace(go.Bar(x=[g["family"], g["label"]], y=g["actual"], name="actual", marker_color="#444"))
    fig.update_layout(title="Plan as published vs actual units, by family", barmode="group", height=420,
                      template="plotly_white", margin={"t": 60, "l": 40, "r": 20, "b": 80})
    return fig


def scenario_chart(comparison: pd.DataFrame, currency: str) -> go.Figure:
    """Scenarios side by side: revenue, gross margin and lost revenue of unmet demand (left), and the peak
    utilisation of each scenario's unconstrained demand (right; red above 100 %).

    ``comparison`` is ``scenarios.compare_scenarios``' output: ``scenario``, ``revenue``, ``gross_margin``,
    ``unmet_revenue``, ``peak_utilisation`` (a share, 1.0 = 100 %).
    """
    names = [plot_text(n) for n in comparison["scenario"]]
    currency = plot_text(currency)
    fig = make_subplots(rows=1, cols=2, column_widths=[0.68, 0.32], horizontal_spacing=0.1, subplot_titles=[
        f"Revenue and gross margin of served units, lost revenue ({currency})",
        "Peak utilisation of demand, % of available hours"])
    bars = [("revenue", "revenue", PALETTE[0]), ("gross_margin", "gross margin", PALETTE[2]),
            ("unmet_revenue", "lost revenue (unmet demand)", PALETTE[3])]
    for col, label, colour in bars:
        fig.add_trace(go.Bar(x=names, y=comparison[col], name=label, marker_color=colour,
                             hovertemplate=f"%{{x}}: %{{y:,.0f}} {currency}<extra>{label}</extra>"), row=1, col=1)
    peak = comparison["peak_utilisation"] * 100
    fig.add_trace(go.Bar(x=names, y=peak, name="peak utilisation", showlegend=False,
                         marker_color=["#d62728" if p > 100 else "#7f7f7f" for p in peak],
                         text=["–" if pd.isna(p) else f"{p:.0f} %" for p in peak], textposition="outside",
                         hovertemplate="%{x}: %{y:.0f} % of available hours<extra></extra>"), row=1, col=2)
    fig.add_hline(y=100, line={"color": "#222", "dash": "dot", "width": 1}, row=1, col=2)
    fig.update_layout(title="Scenarios compared with the baseline (consensus plan)", barmode="group", height=440,
                      template="plotly_white", margin={"t": 90, "l": 60, "r": 20, "b": 60},
                      legend={"orientation": "h", "yanchor": "top", "y": -0.15, "x": 0})
    fig.update_yaxes(title_text=currency, tickformat="~s", row=1, col=1)
    fig.update_yaxes(title_text="% of available hours", rangemode="tozero", range=[0, max(110.0, peak.max() * 1.15)],
                     row=1, col=2)
    return fig


def waterfall_chart(
    waterfall: pd.DataFrame,
    by: str = "family",
    title: str = "From statistical forecast to consensus: units over the horizon",
) -> go.Figure:
    """Statistical forecast, each owner's overrides and the consensus as a waterfall, one panel per group.

    ``waterfall``: ``by``, ``step``, ``units``, ``kind`` (``total`` or ``delta``), as made by
    ``consensus.consensus_waterfall``; panels in the frame's order. Each panel's axis is zoomed to the
    range the bars move in (it does not start at zero), so a 2 % override stays visible.
    """
    groups = list(dict.fromkeys(waterfall[by]))
    rows, cols = _grid(len(groups))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[plot_text(g) for g in groups],
                        vertical_spacing=0.2 / max(1, rows / 2))
    for i, group in enumerate(groups):
        w = waterfall[waterfall[by] == group]
        steps = [plot_text(s) for s in w["step"]]  # owners are free text
        labels = [s.replace(" (", "<br>(", 1) for s in steps]  # "Anna Berg<br>(sales North)": no slanted labels
        units = w["units"].to_numpy(dtype=float)
        totals = (w["kind"] == "total").to_numpy()
        text = [f"{u:,.0f}" if t else f"{u:+,.0f}" for u, t in zip(units, totals, strict=True)]
        hover = [f"<b>{s}</b><br>{plot_text(group)}: {x} units" + ("" if t else " (override)")
                 for s, x, t in zip(steps, text, totals, strict=True)]
        fig.add_trace(go.Waterfall(
            x=labels, y=units, measure=["absolute" if t else "relative" for t in totals], text=text,
            textposition="outside", hovertext=hover, hoverinfo="text", showlegend=False,
            increasing={"marker": {"color": "#2ca02c"}}, decreasing={"marker": {"color": "#d62728"}},
            totals={"marker": {"color": PALETTE[0]}}, connector={"line": {"color": "#999", "width": 1}},
        ), row=i // cols + 1, col=i % cols + 1)
        level, levels = 0.0, []
        for u, t in zip(units, totals, strict=True):
            level = u if t else level + u
            levels.append(level)
        lo, hi = min(levels, default=0.0), max(levels, default=0.0)
        span = max(hi - lo, 0.02 * abs(hi), 1.0)
        fig.update_yaxes(range=[max(0.0, lo - 0.8 * span), hi + 0.4 * span], row=i // cols + 1, col=i % cols + 1)
    fig.update_layout(title=title, height=320 * rows + 90, template="plotly_white",
                      margin={"t": 80, "l": 50, "r": 20, "b": 40})
    fig.update_yaxes(tickformat="~s")
    fig.update_xaxes(tickangle=0)
    return fig


def kpi_trend_chart(trend: pd.DataFrame) -> go.Figure:
    """The company-level value of each rated KPI over the cycles in ``trend`` (``kpi.kpi_trend`` output), one
    small panel per KPI, each point coloured by its status."""
    colours = {"good": "#1a7f37", "watch": "#d4a72c", "act": "#b30000", "": "#6b7785"}
    total = trend[(trend["scope"] == "") & (trend["good"].notna())]
    kpis = list(dict.fromkeys(total["kpi"]))
    rows, cols = _grid(len(kpis), cols=4) if kpis else (1, 1)
    labels = [str(total.loc[total["kpi"] == k, "label"].iloc[0]) for k in kpis]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=labels, vertical_spacing=0.25)
    for i, k in enumerate(kpis):
        g = total[total["kpi"] == k].sort_values("cycle", key=lambda s: s.map(cycle_rank))
        scale = 100.0 if g["unit"].iloc[0] == "ratio" else 1.0
        fig.add_trace(go.Scatter(x=g["cycle"], y=g["value"] * scale, mode="lines+markers", showlegend=False,
                                 line={"color": "#8896a5"}, name=labels[i],
                                 marker={"size": 10, "color": [colours.get(s, "#6b7785") for s in g["status"]]},
                                 hovertemplate="%{x}: %{y:.1f}<extra>" + labels[i] + "</extra>"),
                      row=i // cols + 1, col=i % cols + 1)
    fig.update_xaxes(type="category")
    fig.update_layout(title="Trend over cycles (company level; ratios in %; green good, amber watch, red act)",
                      height=230 * rows + 90, margin={"t": 90, "l": 40, "r": 20, "b": 30}, template="plotly_white")
    return fig


def archive_trend_chart(cycles: pd.DataFrame, kpis: dict[str, str]) -> go.Figure:
    """The archive's headline KPIs across published cycles: one small panel per column of ``kpis`` (column →
    label), each on its own scale (a peak utilisation of 240 % would flatten a bias of 2 %), every value in %;
    ``cycles`` has ``cycle`` (oldest first, months and quarters in one axis) and those columns. A cycle without
    a value leaves a gap."""
    rows, cols = _grid(len(kpis), cols=3) if kpis else (1, 1)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[plot_text(v) for v in kpis.values()],
                        vertical_spacing=0.3 if rows > 1 else 0.1)
    for i, (col, label) in enumerate(kpis.items()):
        values = [None if pd.isna(v) else float(v) for v in cycles[col]]  # a list: readable in the page's source
        fig.add_trace(go.Scatter(x=cycles["cycle"].tolist(), y=values, mode="lines+markers", name=plot_text(label),
                                 connectgaps=False, showlegend=False, line={"color": PALETTE[0]},
                                 hovertemplate="%{x}: %{y:.1f} %<extra>" + plot_text(label) + "</extra>"),
                      row=i // cols + 1, col=i % cols + 1)
    fig.update_xaxes(type="category")
    fig.update_layout(title="Headline KPIs across cycles (%; each on its own scale)", height=230 * rows + 90,
                      template="plotly_white", margin={"t": 90, "l": 40, "r": 20, "b": 30})
    return fig
