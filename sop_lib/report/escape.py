"""Text from parameters or data on its way into a page. HTML tables and the pack's own pages escape it already
(``tables.show_table``, Jinja's autoescape); Markdown and plotly do not: Markdown passes HTML through, and plotly
reads a subset of HTML in every title, label and hover text (``<b>``, ``<a href>``, ``<span style>``).
"""

from __future__ import annotations

import html
import re

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def md_escape(value: object) -> str:
    """``value`` as text to put into Markdown: shown as typed, never markup. HTML is escaped (``<`` → ``&lt;``),
    Markdown's own punctuation gets a backslash (``*``, ``_``, ``[``, `````, ``#``…), and line breaks become
    spaces (a value cannot start a heading or a list)."""
    text = " ".join(str(value).split())
    return html.escape(_MARKDOWN.sub(r"\\\1", text), quote=False)


def plot_text(value: object) -> str:
    """``value`` as text for a plotly title, label, category or hover text: ``&``, ``<`` and ``>`` escaped, which
    plotly shows as the characters (it would not show ``&quot;`` as a quote, so quotes are left alone)."""
    return html.escape(str(value), quote=False)
