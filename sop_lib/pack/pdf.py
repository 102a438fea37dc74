"""The board PDF of a cycle: the pack's pages printed by headless Chromium into one ``sop_<cycle>.pdf``.

The pages a board reads go in, in the pack's order: the executive summary, the four workbook pages, the KPI
scorecard and the decisions page (the meeting's decisions and their follow-through). The data-quality page
stays in the HTML pack only: row counts and checksums are for the analysts, and the summary already lists the
defaults the data made the pack take.

Each page is opened from disk (offline), every chart is waited for until plotly has drawn it, the charts are
redrawn at the sheet's width (``assets/print.js``), and the page is printed with the print stylesheet of
``pack.css`` (A4 landscape, no navigation, a new page per section). The parts are joined with pypdf, one
bookmark per part. Chromium numbers the pages of each print on its own, so the footer (company, cycle, snapshot
fingerprint, part, "Page n of N" over the whole document) is printed as a second, transparent document once the
page count is known and laid over every page. The PDF is written to a temporary file and renamed: nothing
half-written is left under the final name.

Chromium is driven by Playwright with the system's browser (``apt-get install -y chromium``): Playwright's own
browser download does not work without internet.
"""

from __future__ import annotations

import html
import io
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sop_lib.core.errors import PrintFailed
from sop_lib.core.files import replacing

# the arguments that make Chromium run headless on a server without a sandbox, a GPU or any network chatter
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
BOARD_PAGES: list[tuple[str, str]] = [
    ("index.html", "Executive summary"),
    ("01_demand_forecast.html", "Demand forecast"),
    ("02_capacity_review.html", "Capacity review"),
    ("03_financial_reconciliation.html", "Financial reconciliation"),
    ("04_post_cycle_variance.html", "Post-cycle variance"),
    ("scorecard.html", "KPI scorecard"),
    ("decisions.html", "Decisions"),
]
INSTALL_HINT = ("Install Chromium (Debian/Ubuntu: `apt-get install -y chromium`), or set SOP_CHROMIUM to the path of "
                "a Chromium or Chrome executable.")
# the sheet's width in CSS pixels inside pack.css's @page margins: charts are laid out for it before printing
VIEWPORT = {"width": 1040, "height": 740}
CHART_TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class BoardPdf:
    path: Path
    pages: int
    parts: list[tuple[str, int]]  # (title, first page), in order


def find_chromium() -> str | None:
    """The Chromium to print with: ``$SOP_CHROMIUM``, else ``chromium``, ``chromium-browser`` or
    ``google-chrome`` on the PATH; ``None`` if there is none."""
    given = os.environ.get("SOP_CHROMIUM")
    if given:
        return given if Path(given).is_file() else shutil.which(given)
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


def chromium_missing() -> str:
    """Why no PDF can be printed here, or ``""`` when a Chromium and Playwright are both available."""
    if find_chromium() is None:
        return "no Chromium was found to print the PDF with. " + INSTALL_HINT
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install playwright)."
    return ""


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium (a Playwright ``Browser``) from the system, closed on exit. Raises ``PrintFailed``
    saying how to install it when there is none."""
    missing = chromium_missing()
    if missing:
        raise PrintFailed(missing[0].upper() + missing[1:])
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        except Error as exc:
            raise PrintFailed(f"Chromium ({find_chromium()}) did not start: {str(exc).splitlines()[0]}. "
                              + INSTALL_HINT) from None
        try:
            yield browser
        finally:
            browser.close()


def print_page(browser: Any, page_file: Path) -> bytes:
    """One page of the pack as PDF bytes, after every chart on it was drawn and fitted to the sheet."""
    page = browser.new_page(viewport=VIEWPORT)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(page_file.resolve().as_uri(), wait_until="load")
        try:  # every plot div has plotly's SVG: the chart was drawn
            page.wait_for_function("() => Array.from(document.querySelectorAll('.plotly-graph-div'))"
                                   ".every(d => d.querySelector('.main-svg'))", timeout=CHART_TIMEOUT_MS)
        except Exception:
            detail = f" (script error: {errors[0]})" if errors else ""
            raise PrintFailed(f"The charts of {page_file.name} did not draw within {CHART_TIMEOUT_MS // 1000} s"
                              f"{detail}; the PDF was not written.") from None
        page.emulate_media(media="print")
        page.evaluate("() => window.sopFitChartsForPrint ? window.sopFitChartsForPrint() : 0")
        return bytes(page.pdf(format="A4", landscape=True, print_background=True, prefer_css_page_size=True,
                              display_header_footer=False))
    finally:
        page.close()


def _footer_document(total: int, parts: list[tuple[str, int]], company: str, cycle: str, fingerprint: str) -> str:
    """An HTML document of ``total`` blank A4 landscape sheets, each with the footer of its page of the PDF."""
    ident = html.escape(f"{company} · S&OP pack, cycle {cycle} · snapshot {fingerprint}")
    sheets = []
    for n in range(1, total + 1):
        title = [t for t, first in parts if first <= n][-1]
        sheets.append(f'<div class="sheet"><div class="footer"><span>{ident} · {html.escape(title)}</span>'
                      f"<span>Page {n} of {total}</span></div></div>")
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><style>"
            "@page { size: A4 landscape; margin: 0; } html, body { margin: 0; background: transparent; }"
            ".sheet { position: relative; width: 297mm; height: 209.9mm; overflow: hidden; break-after: page; }"
            ".sheet:last-child { break-after: auto; }"
            ".footer { position: absolute; left: 12mm; right: 12mm; bottom: 5mm; display: flex;"
            " justify-content: space-between; font: 8pt system-ui, sans-serif; color: #52606d; }"
            "</style></head><body>" + "".join(sheets) + "</body></html>")


def _print_footers(browser: Any, document: str) -> bytes:
    page = browser.new_page()
    try:
        page.set_content(document)
        return bytes(page.pdf(format="A4", landscape=True, prefer_css_page_size=True, print_background=False))
    finally:
        page.close()


def render_board_pdf(pack_dir: Path, out: Path, cycle: str, fingerprint: str, company: str,
                     echo: Callable[[str], None] = print) -> BoardPdf:
    """Print the board's pages of the pack in ``pack_dir`` (those of :data:`BOARD_PAGES` it has) into ``out``.

    Raises ``PrintFailed`` without Chromium, or when a page's charts do not draw; ``out`` is then untouched.
    """
    from pypdf import PdfReader, PdfWriter

    present = [(name, title) for name, title in BOARD_PAGES if (pack_dir / name).exists()]
    if not present:
        raise PrintFailed(f"{pack_dir} holds none of the pack's pages ({BOARD_PAGES[0][0]} …): nothing to print.")
    writer = PdfWriter()
    parts: list[tuple[str, int]] = []
    with chromium() as browser:
        for name, title in present:
            echo(f"  printing {name} …")
            reader = PdfReader(io.BytesIO(print_page(browser, pack_dir / name)))
            parts.append((title, len(writer.pages) + 1))
            writer.append(reader, outline_item=title)
        total = len(writer.pages)
        footers = PdfReader(io.BytesIO(_print_footers(browser, _footer_document(total, parts, company, cycle,
                                                                                 fingerprint))))
    if len(footers.pages) != total:
        raise PrintFailed(f"The footer sheets came out as {len(footers.pages)} pages for {total}; the PDF was not "
                          "written. This is a bug: please report it.")
    for page, footer in zip(writer.pages, footers.pages, strict=True):
        page.merge_page(footer)
        page.compress_content_streams()  # merging leaves the page's drawing uncompressed: 3× the size
    writer.add_metadata({"/Title": f"S&OP pack {cycle} · {company}", "/Subject": f"snapshot {fingerprint}"})
    out.parent.mkdir(parents=True, exist_ok=True)
    with replacing(out, suffix=".partial") as partial, partial.open("wb") as fh:
        writer.write(fh)
    return BoardPdf(out, total, parts)


def pdf_name(cycle: str) -> str:
    """The PDF's name in the pack: ``sop_<cycle>.pdf``."""
    return f"sop_{cycle}.pdf"


def print_pack(pack_dir: Path, cycle: str, company: str, echo: Callable[[str], None] = print) -> BoardPdf:
    """The board PDF of the pack in ``pack_dir``, written beside its pages as ``sop_<cycle>.pdf``; the snapshot's
    fingerprint is the one of the pack's ``snapshot-manifest.json``."""
    manifest = pack_dir / "snapshot-manifest.json"
    try:
        fingerprint = str(json.loads(manifest.read_text(encoding="utf-8"))["fingerprint"])[:12]
    except (OSError, ValueError, KeyError, TypeError):
        raise PrintFailed(f"{manifest} is missing or damaged: the PDF's footer could not name the snapshot. "
                          f"Re-run the cycle (`sop run --cycle {cycle} --force`).") from None
    return render_board_pdf(pack_dir, pack_dir / pdf_name(cycle), cycle, fingerprint, company, echo)


def add_board_pdf(pack_dir: Path, cycle: str, company: str, echo: Callable[[str], None] = print,
                  enabled: bool = True) -> BoardPdf | None:
    """For ``sop run``: the board PDF into the pack about to be published, or one line saying why there is none
    (``run.board_pdf`` off, no Chromium, a page that did not draw). The HTML pack is published either way."""
    if not enabled:
        echo(f"Board PDF not printed (run.board_pdf: false): `sop pdf --cycle {cycle}` prints it.")
        return None
    missing = chromium_missing()
    if missing:
        echo(f"Board PDF skipped: {missing} `sop pdf --cycle {cycle}` prints it once Chromium is there.")
        return None
    try:
        made = print_pack(pack_dir, cycle, company, echo=lambda _: None)
    except PrintFailed as exc:
        echo(f"Board PDF skipped: {exc}")
        return None
    echo(f"Board PDF: {made.path.name}, {made.pages} pages")
    link_from_index(pack_dir, made)
    return made


PDF_MARK = "<!--board-pdf-->"


def link_from_index(pack_dir: Path, made: BoardPdf) -> None:
    """The index page's placeholder becomes a link to the PDF just printed (the page was rendered before it
    existed; a pack without a PDF keeps only the invisible placeholder, never a dead link)."""
    index = pack_dir / "index.html"
    if not index.exists():
        return
    text = index.read_text(encoding="utf-8")
    link = (f'<p class="download"><a href="{made.path.name}">The board PDF</a> <span class="muted">'
            f"({made.path.name}: {made.pages} pages, A4 landscape — the summary, the four workbooks, the scorecard "
            "and the decisions)</span></p>")
    index.write_text(text.replace(PDF_MARK, link, 1), encoding="utf-8")
