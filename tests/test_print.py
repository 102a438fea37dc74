"""The lighter, printable pack: the partial plotly.js covers every trace type the pack draws, and the print
stylesheet holds the rules a printed page needs. No kernel, no browser (the browser checks are in test_browser.py
and test_pdf.py)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from sop_lib.pack.assets import PACK_TEMPLATES, bundle_traces, bundle_version, page_trace_types

PROJECT = Path(__file__).resolve().parent.parent
GO_CALL = re.compile(r"\bgo\.([A-Z]\w*)\(")
PX_CALL = re.compile(r"\bpx\.(\w+)\(")
TYPE_KEY = re.compile(r"""["']type["']\s*:\s*["'](\w+)["']|\btype\s*=\s*["'](\w+)["']""")


def traces_in_source(text: str) -> set[str]:
    """Trace types a piece of code builds: ``go.<Trace>(`` calls (their plotly type), and any ``px.`` call as
    ``px.<function>`` (the pack builds its figures with graph objects; an express chart must be looked at)."""
    import plotly.graph_objects as go
    from plotly.basedatatypes import BaseTraceType

    found: set[str] = set()
    for name in GO_CALL.findall(text):
        cls = getattr(go, name, None)
        if isinstance(cls, type) and issubclass(cls, BaseTraceType):
            found.add(cls().type)
    found.update(f"px.{f}" for f in PX_CALL.findall(text))
    return found


def test_the_scan_finds_trace_types_and_express_calls() -> None:
    code = "fig.add_trace(go.Pie(values=[1]))\nfig = go.Figure(go.Scatter())\npx.line(df)\ngo.Layout()"
    assert traces_in_source(code) == {"pie", "scatter", "px.line"}


def test_bundle_is_the_installed_plotly_version_and_names_its_traces() -> None:
    import plotly.offline

    assert bundle_version() == plotly.offline.get_plotlyjs_version()
    assert bundle_traces() == {"scatter", "bar", "heatmap", "waterfall"}
    assert (PACK_TEMPLATES / "plotly.js-LICENSE.txt").read_text().startswith("MIT License")
    assert (PACK_TEMPLATES / "plotly-partial.min.js").stat().st_size < 1_200_000


def test_every_chart_in_the_code_uses_a_bundled_trace_type() -> None:
    """A chart whose trace type the bundle lacks would be blank in the pack: add the type to the bundle
    (tools/plotly_bundle) before using it."""
    used: dict[str, set[str]] = {}
    sources = [*sorted((PROJECT / "sop_lib").rglob("*.py")), *sorted((PROJECT / "notebooks").glob("*.ipynb"))]
    for path in sources:
        if path.suffix == ".ipynb":
            text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
        else:
            text = path.read_text(encoding="utf-8")
        for trace in traces_in_source(text):
            used.setdefault(trace, set()).add(path.name)
    assert {"scatter", "bar", "heatmap", "waterfall"} <= set(used)  # the scan sees the charts it should
    missing = {t: sorted(files) for t, files in used.items() if t not in bundle_traces()}
    assert missing == {}


def test_page_trace_types_reads_the_data_not_the_template() -> None:
    html = ('<script>Plotly.newPlot( "abc", [{"type":"bar","x":[1]},{"x":[2]}], {"template":{"data":'
            '{"pie":[{"type":"pie"}]}}}, {"responsive": true})</script>'
            '<script>Plotly.newPlot("d", [{"type": "waterfall"}], {})</script>')
    assert page_trace_types(html) == {"bar", "scatter", "waterfall"}


def _print_block(css: str) -> str:
    start = css.index("@media print {")
    depth, i = 0, start
    while True:
        depth += {"{": 1, "}": -1}.get(css[i], 0)
        i += 1
        if depth == 0 and css[i - 1] == "}":
            return css[start:i]


@pytest.mark.parametrize("rule", [
    r"\.sop-nav[^{]*\{[^}]*display:\s*none",
    r"\.modebar[^{]*\{[^}]*display:\s*none",
    r"\bh2\s*\{[^}]*break-before:\s*page",
    r"\btr,[^{]*\{[^}]*break-inside:\s*avoid",
    r"\.js-plotly-plot[^{]*\{[^}]*break-inside:\s*avoid",
    r"\bthead\s*\{[^}]*display:\s*table-header-group",
])
def test_print_stylesheet_has_the_rule(rule: str) -> None:
    css = (PACK_TEMPLATES / "pack.css").read_text(encoding="utf-8")
    assert re.search(rule, _print_block(css))


def test_print_stylesheet_sets_a4_landscape() -> None:
    css = (PACK_TEMPLATES / "pack.css").read_text(encoding="utf-8")
    assert re.search(r"@page\s*\{[^}]*size:\s*A4 landscape", css)


def test_workbook_page_links_the_shared_stylesheets_in_order(tmp_path: Path) -> None:
    """A workbook page loads JupyterLab's stylesheet from assets/ (not 260 KB inlined in each page), then pack.css
    (whose print rules must come last to win), then the print script; nothing from the network."""
    from nbconvert import HTMLExporter

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title\n\n## A section")])
    exporter = HTMLExporter(template_name="sop_page", extra_template_basedirs=[str(PROJECT / "sop_lib/templates/nbconvert")],
                            exclude_input=True)
    resources = {"sop": {"cycle": "2026-11", "fingerprint": "abc", "company": "X", "pages": [], "current": "",
                         "status": "ok"}, "metadata": {"name": "t"}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    assert len(body) < 30_000
    links = re.findall(r'<(?:link[^>]*?href|script[^>]*?src)="([^"]+)"', body)
    assert links == ["assets/plotly.min.js", "assets/print.js", "assets/notebook.css", "assets/pack.css"]
    assert "http" not in "".join(links)


def test_copy_assets_writes_the_shared_files(tmp_path: Path) -> None:
    from sop_lib.pack.assets import copy_assets

    copy_assets(tmp_path / "assets")
    names = sorted(p.name for p in (tmp_path / "assets").iterdir())
    assert names == ["notebook.css", "pack.css", "plotly.js-LICENSE.txt", "plotly.min.js", "print.js"]
    assert ".jp-OutputArea" in (tmp_path / "assets" / "notebook.css").read_text(encoding="utf-8")
    assert (tmp_path / "assets" / "plotly.min.js").read_bytes()[:200].count(b"partial bundle") == 1


def test_run_without_chromium_publishes_without_the_pdf_and_says_why(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from sop_lib.pack.pdf import add_board_pdf

    monkeypatch.setenv("SOP_CHROMIUM", str(tmp_path / "no-such-chromium"))
    said: list[str] = []
    assert add_board_pdf(tmp_path, "2026-11", "Acme", said.append) is None
    assert len(said) == 1 and said[0].startswith("Board PDF skipped: no Chromium was found")
    assert "apt-get install -y chromium" in said[0] and "sop pdf --cycle 2026-11" in said[0]
    assert list(tmp_path.iterdir()) == []


def test_footer_sheets_number_the_whole_document_and_name_each_part() -> None:
    from sop_lib.pack.pdf import _footer_document

    doc = _footer_document(3, [("Executive summary", 1), ("Demand forecast", 3)], "A<b>&B", "2026-11", "abc123")
    footers = re.findall(r'<div class="footer">(.*?)</div>', doc)
    assert len(footers) == 3
    assert "Executive summary</span><span>Page 2 of 3" in footers[1]
    assert "Demand forecast</span><span>Page 3 of 3" in footers[2]
    assert footers[0].startswith("<span>A&lt;b&gt;&amp;B · S&amp;OP pack, cycle 2026-11 · snapshot abc123")


def test_figures_carry_only_the_template_styles_of_the_trace_types_they_draw() -> None:
    import plotly.graph_objects as go

    from sop_lib.report import PackRenderer, lean_figure

    fig = go.Figure([go.Bar(x=[1, 2], y=[3, 4]), go.Scatter(x=[1, 2], y=[2, 1])],
                    layout={"template": "plotly_white", "title": "t"})
    full = fig.to_dict()
    assert len(full["layout"]["template"]["data"]) > 20  # plotly's template styles every trace type
    lean = lean_figure(full)
    assert set(lean["layout"]["template"]["data"]) == {"bar", "scatter"}
    assert lean["layout"]["template"]["layout"] == full["layout"]["template"]["layout"]  # colours, fonts, axes kept
    assert lean["data"] == full["data"] and lean["layout"]["title"] == full["layout"]["title"]
    assert len(full["layout"]["template"]["data"]) > 20  # the figure given is not changed
    bundle = PackRenderer().to_mimebundle(full)
    assert '"histogram2dcontour"' not in bundle["text/html"] and '"bar"' in bundle["text/html"]
    assert set(bundle["application/vnd.plotly.v1+json"]["layout"]["template"]["data"]) == {"bar", "scatter"}
