"""Headless Chromium opens the pack from disk: charts draw (plotly's SVG is in the DOM), no request leaves
the machine, no script error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sop_lib.pack.pdf import CHROMIUM_ARGS as ARGS
from sop_lib.pack.pdf import find_chromium

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

CHROMIUM = find_chromium()  # the launch the board PDF uses (sop_lib/pack/pdf.py); other tests import both names


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM:
        if os.environ.get("SOP_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed (apt-get install -y chromium)")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.mark.parametrize("page_name,min_plots", [("index.html", 2), ("01_demand_forecast.html", 3),
                                                  ("02_capacity_review.html", 2),
                                                  ("03_financial_reconciliation.html", 2), ("scorecard.html", 1)])
def test_page_draws_its_charts_offline(browser, demo_root: Path, tmp_path: Path, page_name: str, min_plots: int) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    remote: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: remote.append(r.url) if not r.url.startswith(("file:", "data:", "blob:")) else None)
    page.goto((demo_root / "reports" / "2026-11" / page_name).as_uri())
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=20_000)
    plots = page.locator(".js-plotly-plot").count()
    # traces plotly actually drew: line paths, heatmap images, bars
    drawn = page.evaluate("() => document.querySelectorAll('.scatterlayer path.js-line, "
                          ".heatmaplayer image, .barlayer .point path, .scatterlayer .point').length")
    title = page.title()
    page.screenshot(path=str(tmp_path / f"{page_name}.png"), full_page=True)
    page.close()
    assert errors == []
    assert remote == []
    assert title != "pwned"  # planner text (an override reason with a script) never runs
    assert plots >= min_plots
    assert drawn > 0, "plot areas exist but no trace was drawn"


def test_override_reason_with_a_script_shows_as_text(browser, demo_root: Path) -> None:
    from tests.conftest import HOSTILE

    page = browser.new_page()
    page.goto((demo_root / "reports" / "2026-11" / "01_demand_forecast.html").as_uri())
    assert page.title() != "pwned"
    assert HOSTILE in page.inner_text("body")  # shown to the reader exactly as the planner typed it
    page.close()


def test_the_partial_plotly_draws_every_trace_type_the_pack_uses(browser, demo_root: Path) -> None:
    """The pack ships a partial plotly.js (scatter, bar, heatmap, waterfall): the waterfall of the consensus and the
    capacity heatmap draw with it, and it registers exactly the trace types its banner names."""
    from sop_lib.pack.assets import bundle_traces

    pack = demo_root / "reports" / "2026-11"
    assert (pack / "assets" / "plotly.min.js").stat().st_size < 1_500_000  # not the 4.8 MB full bundle
    drawn = {}
    for page_name, selector in [("01_demand_forecast.html", ".waterfalllayer .point path"),
                                ("02_capacity_review.html", ".heatmaplayer image")]:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto((pack / page_name).as_uri())
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=20_000)
        drawn[selector] = page.locator(selector).count()
        registered = set(page.evaluate("() => Object.keys(Plotly.PlotSchema.get().traces)"))
        page.close()
    assert all(n > 0 for n in drawn.values()), drawn
    assert registered == set(bundle_traces())
