"""The board PDF: `sop run` adds it to the published pack when Chromium is there, `sop pdf` prints it again; its
pages, footer (company, cycle, snapshot, "Page n of N"), bookmarks, and no navigation bar. Reuses the session's
published demo cycles (tests/conftest.py), no new notebook run."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from sop_lib.pack.pdf import BOARD_PAGES, find_chromium
from tests.conftest import sop

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture(scope="module")
def chromium() -> str:
    found = find_chromium()
    if not found:
        if os.environ.get("SOP_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed (apt-get install -y chromium)")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    return found


def _fingerprint(pack: Path) -> str:
    return str(json.loads((pack / "snapshot-manifest.json").read_text())["fingerprint"])[:12]


def test_published_pack_holds_the_board_pdf(chromium: str, demo_root: Path) -> None:
    from pypdf import PdfReader

    pack = demo_root / "reports" / "2026-11"
    reader = PdfReader(pack / "sop_2026-11.pdf")
    n = len(reader.pages)
    assert n > len(BOARD_PAGES)  # every part printed, most on several pages
    assert (pack / "sop_2026-11.pdf").stat().st_size < 25_000 * n  # drawings compressed after the footer merge
    texts = [page.extract_text() for page in reader.pages]
    fingerprint = _fingerprint(pack)
    assert len(fingerprint) == 12
    for i, text in enumerate(texts, start=1):  # the footer of every page: cycle, snapshot, page n of N
        assert f"Page {i} of {n}" in text
        assert "cycle 2026-11" in text and f"snapshot {fingerprint}" in text
        # and something above it: a chart whose old CSS height outlived its print size once left blank sheets
        body = [line for line in text.splitlines() if line.strip() and f"snapshot {fingerprint}" not in line
                and f"Page {i} of {n}" not in line]
        assert body, f"page {i} is blank but for its footer"
    assert "S&OP pack — cycle 2026-11" in texts[0]  # page 1 is the executive summary
    whole = "\n".join(texts)
    # the navigation bar is not printed (its links' text is found nowhere else)
    assert "Executive summary · Demand forecast" not in whole and "Decisions · Data quality" not in whole
    # one bookmark per part, in the pack's order, each at the page its part starts on
    outline = [(item.title, reader.get_destination_page_number(item) + 1) for item in reader.outline]
    assert [t for t, _ in outline] == [t for _, t in BOARD_PAGES]
    starts = [p for _, p in outline]
    assert starts[0] == 1 and starts == sorted(set(starts))
    for title, first in outline:
        assert f"· {title}" in texts[first - 1]  # the footer names the part
    assert "Data quality" not in [t for t, _ in outline]
    assert not list(pack.glob(".*.partial"))
    # the index page links it (its placeholder replaced once the PDF existed), with its page count
    index = (pack / "index.html").read_text(encoding="utf-8")
    assert '<a href="sop_2026-11.pdf">The board PDF</a>' in index and f"{n} pages" in index
    assert "<!--board-pdf-->" not in index


def test_charts_are_printed_as_drawings(chromium: str, demo_root: Path) -> None:
    """The capacity heatmap is in the PDF as an image and the charts' axis labels as text (plotly drew them before
    printing): the capacity part has a page with an image and the month labels of an axis."""
    from pypdf import PdfReader

    reader = PdfReader(demo_root / "reports" / "2026-11" / "sop_2026-11.pdf")
    parts = {item.title: reader.get_destination_page_number(item) for item in reader.outline}
    capacity = range(parts["Capacity review"], parts["Financial reconciliation"])
    images = sum(len(reader.pages[i].images) for i in capacity)
    assert images >= 1
    assert any(re.search(r"\b(Jan|Mar|May|Jul|Sep|Nov) 20\d\d", reader.pages[i].extract_text()) for i in capacity)


def test_sop_pdf_prints_a_cycle_again(chromium: str, demo_root: Path) -> None:
    from pypdf import PdfReader

    pack = demo_root / "reports" / "2026-10"
    target = pack / "sop_2026-10.pdf"
    before = target.stat().st_mtime_ns if target.exists() else None
    proc = sop("pdf", "--cycle", "2026-10", "--root", str(demo_root))
    assert proc.returncode == 0, proc.stderr
    assert "Board PDF of cycle 2026-10" in proc.stdout and "Executive summary p. 1" in proc.stdout
    assert target.stat().st_mtime_ns != before
    reader = PdfReader(target)
    n = len(reader.pages)
    assert f"Page {n} of {n}" in reader.pages[-1].extract_text()
    assert f"snapshot {_fingerprint(pack)}" in reader.pages[0].extract_text()


def test_sop_pdf_without_a_pack_or_without_chromium_says_what_to_do(demo_root: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    proc = sop("pdf", "--cycle", "2027-05", "--root", str(demo_root))
    assert proc.returncode == 2
    assert "no published pack" in proc.stderr and "sop run --cycle 2027-05" in proc.stderr
    assert "Traceback" not in proc.stderr

    monkeypatch.setenv("SOP_CHROMIUM", str(tmp_path / "no-such-chromium"))  # sop() passes the environment on
    proc = sop("pdf", "--cycle", "2026-11", "--root", str(demo_root))
    assert proc.returncode == 6
    assert "No Chromium was found" in proc.stderr and "apt-get install -y chromium" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert (demo_root / "reports" / "2026-11" / "sop_2026-11.pdf").exists()  # the published one is untouched


def test_print_script_scales_a_table_wider_than_the_sheet(chromium: str, tmp_path: Path) -> None:
    """A table that cannot wrap down to the sheet's width (24 columns of numbers) is scaled to fit, not cut."""
    from sop_lib.pack.assets import PACK_TEMPLATES
    from sop_lib.pack.pdf import chromium as launch

    row = "".join(f"<td>{1_000_000 + i:,}</td>" for i in range(24))
    (tmp_path / "wide.html").write_text(f"<html><body><table class='plain'><tr>{row}</tr></table></body></html>")
    with launch() as browser:
        page = browser.new_page(viewport={"width": 1031, "height": 700})
        page.goto((tmp_path / "wide.html").as_uri())
        page.add_style_tag(path=str(PACK_TEMPLATES / "pack.css"))
        page.add_script_tag(path=str(PACK_TEMPLATES / "print.js"))
        page.emulate_media(media="print")
        before = page.evaluate("() => document.querySelector('table').getBoundingClientRect().right")
        page.evaluate("() => window.sopFitChartsForPrint()")
        after = page.evaluate("() => document.querySelector('table').getBoundingClientRect().right")
        page.evaluate("() => window.sopRestoreCharts()")
        restored = page.evaluate("() => document.querySelector('table').getBoundingClientRect().right")
        page.close()
    assert before > 1031 >= after > 900
    assert restored == before
