"""The files every page of the pack shares, in ``assets/``: the pack's stylesheet (screen and print), JupyterLab's
for the workbook pages (once, not inlined in each), the print script, and a partial plotly.js holding only the
trace types the pack draws.

The full ``plotly.min.js`` is 4.8 MB; the partial bundle (``templates/pack/plotly-partial.min.js``, built by
``tools/plotly_bundle/build.mjs`` from the plotly.js version of the installed plotly package) is about 1 MB. Its
banner lists the trace types it holds; :func:`bundle_traces` reads them, and the tests check that every chart the
pack draws uses one of them (a trace type missing from the bundle would leave its chart blank in the pack).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

PACK_TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "pack"
PLOTLY_BUNDLE = PACK_TEMPLATES / "plotly-partial.min.js"
_BANNER = re.compile(r"plotly\.js \(partial bundle[^)]*\) v(?P<version>[\w.\-]+)\s*\*\s*traces: (?P<traces>[a-z0-9, ]+)")
_NEW_PLOT = re.compile(r"Plotly\.newPlot\(\s*\"[^\"]*\",\s*")


def _banner() -> re.Match[str]:
    with PLOTLY_BUNDLE.open(encoding="utf-8") as fh:
        head = fh.read(600)
    found = _BANNER.search(head)
    if found is None:
        raise ValueError(f"{PLOTLY_BUNDLE} has no banner naming its plotly.js version and trace types")
    return found


def bundle_traces() -> frozenset[str]:
    """The trace types the shipped plotly.js can draw (from its banner)."""
    return frozenset(t.strip() for t in _banner()["traces"].split(",") if t.strip())


def bundle_version() -> str:
    """The plotly.js version the shipped bundle was built from."""
    return _banner()["version"]


def copy_assets(assets: Path) -> None:
    """Write the shared files into a pack's ``assets`` folder (made if missing). The bundle keeps the name
    ``plotly.min.js`` the page templates load; its licence goes beside it."""
    assets.mkdir(parents=True, exist_ok=True)
    shutil.copy(PLOTLY_BUNDLE, assets / "plotly.min.js")
    shutil.copy(PACK_TEMPLATES / "plotly.js-LICENSE.txt", assets / "plotly.js-LICENSE.txt")
    shutil.copy(PACK_TEMPLATES / "pack.css", assets / "pack.css")
    shutil.copy(PACK_TEMPLATES / "print.js", assets / "print.js")
    (assets / "notebook.css").write_text(notebook_css(), encoding="utf-8")


# what nbconvert's lab template adds inline after JupyterLab's stylesheet, for pages without code
_LAB_EXTRA_CSS = """
a.anchor-link { display: none; }
.jp-Collapser { display: none; }
.jp-OutputArea-output pre { line-height: inherit; font-family: inherit; }
.jp-RenderedText pre { color: var(--jp-content-font-color1); font-size: var(--jp-code-font-size); }
"""


def notebook_css() -> str:
    """The stylesheet of the workbook pages: JupyterLab's (from nbconvert's ``lab`` template, light theme) as that
    template would inline it in each page."""
    from jupyter_core.paths import jupyter_path

    for folder in jupyter_path("nbconvert", "templates"):
        static = Path(folder) / "lab" / "static"
        if (static / "index.css").exists():
            parts = [(static / name).read_text(encoding="utf-8") for name in ("index.css", "theme-light.css")]
            return "\n".join([*parts, _LAB_EXTRA_CSS])
    raise FileNotFoundError("nbconvert's lab template (lab/static/index.css) was not found: reinstall nbconvert")


def page_trace_types(html: str) -> set[str]:
    """The trace types of every chart in a rendered page: the ``type`` of each trace in the data argument of its
    ``Plotly.newPlot`` calls (not the layout template's, which names every type plotly knows)."""
    decoder = json.JSONDecoder()
    types: set[str] = set()
    for call in _NEW_PLOT.finditer(html):
        data, _ = decoder.raw_decode(html, call.end())
        types.update(str(trace.get("type", "scatter")) for trace in data)
    return types
