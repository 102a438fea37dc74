"""HTML for tables and page banners. Every user-supplied string is escaped."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

import pandas as pd
from IPython.display import HTML


def banner(cycle: str, fingerprint: str, captured_at: str, company: str, title: str) -> HTML:
    """The line every workbook opens with: which cycle, which snapshot."""
    return HTML(
        f'<div class="sop-banner" style="padding:6px 10px;border-left:4px solid #1f77b4;background:#f3f6fa">'
        f"<b>{html.escape(title)}</b> · {html.escape(company)} · cycle <b>{html.escape(cycle)}</b> · snapshot "
        f'<code class="sop-fingerprint">{html.escape(fingerprint[:12])}</code> (captured {html.escape(captured_at)})</div>'
    )


_NUMBER = {"pct": "{:.1%}", "pct100": "{:+.1f} %", "int": "{:,.0f}", "money": "{:,.0f}", "num2": "{:,.2f}"}


def _fmt(value: Any, kind: str) -> str:
    """One cell as text: a number in its column's format (``_NUMBER``), a month as ``YYYY-MM``, missing as ``–``."""
    if value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if kind in _NUMBER:
        return _NUMBER[kind].format(float(value))
    if kind == "month":
        return pd.Timestamp(value).strftime("%Y-%m")
    return str(value)


def show_table(
    frame: pd.DataFrame,
    formats: dict[str, str] | None = None,
    highlight: str | None = None,
    caption: str = "",
    max_rows: int = 60,
    hide: Iterable[str] = (),
) -> HTML:
    """A readable HTML table: numbers formatted per column (``pct``, ``pct100``, ``int``, ``money``,
    ``num2``, ``month``), rows where the boolean column ``highlight`` is true shaded, text escaped."""
    # Written by hand, not with pandas' Styler: Styler puts cell styles in a <style> block keyed by per-cell ids
    # (no inline styles), so the tables would not look the same in the pack, the widgets and tests that read them.
    formats = formats or {}
    cols = [c for c in frame.columns if c not in set(hide) and c != highlight]
    shown = frame.head(max_rows)
    head = "".join(f"<th>{html.escape(str(c).replace('_', ' '))}</th>" for c in cols)
    body = []
    for _, row in shown.iterrows():
        flagged = bool(highlight and row.get(highlight))
        style = ' style="background:#fde2e1"' if flagged else ""
        cells = []
        for c in cols:
            kind = formats.get(c, "month" if pd.api.types.is_datetime64_any_dtype(frame[c]) else "")
            text = html.escape(_fmt(row[c], kind))
            align = "right" if kind in _NUMBER else "left"
            # numbers and codes stay on one line; free text (reasons, descriptions) wraps
            wrap = "white-space:normal;min-width:16em" if len(text) > 40 else "white-space:nowrap"
            cells.append(f'<td style="text-align:{align};{wrap}">{text}</td>')
        body.append(f"<tr{style}>{''.join(cells)}</tr>")
    more = f"<p><i>{len(frame) - max_rows} more rows in the results table.</i></p>" if len(frame) > max_rows else ""
    cap = f"<caption style='caption-side:top;text-align:left'>{html.escape(caption)}</caption>" if caption else ""
    return HTML(
        f'<table class="sop-table dataframe">{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>{more}'
    )
