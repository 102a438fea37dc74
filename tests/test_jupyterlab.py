"""The JupyterLab path a demand planner takes: open a workbook in a real JupyterLab server (headless
Chromium), run all cells, and see the ipywidgets panel draw (the widgets extension installed, the kernel's
comms working). Slow-ish (≈ 30 s): marked browser and e2e."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_browser import ARGS, CHROMIUM

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(not CHROMIUM, reason="chromium is not installed (apt-get install -y chromium)")
def test_what_if_panel_draws_in_jupyterlab(demo_root: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    nb_dir = demo_root / "notebooks"
    if not nb_dir.exists():
        shutil.copytree(Path(__file__).resolve().parent.parent / "notebooks", nb_dir)
    port = _free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt")}
    env.pop("SOP_HOME", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.token=sop",
         "--ServerApp.ip=127.0.0.1", f"--ServerApp.root_dir={demo_root}", "--allow-root"],
        stdout=subprocess.DEVNULL, stderr=open(tmp_path / "server.log", "w"), env=env)  # noqa: SIM115
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            url = f"http://127.0.0.1:{port}/lab/tree/notebooks/03_financial_reconciliation.ipynb?reset&token=sop"
            for _ in range(60):  # the server takes a few seconds to listen
                try:
                    page.goto(url)
                    break
                except Exception:
                    time.sleep(1)
            page.wait_for_selector(".jp-NotebookPanel .jp-Notebook", timeout=90_000)
            time.sleep(3)
            page.keyboard.press("Escape")
            page.keyboard.press("Control+Shift+C")  # command palette
            page.keyboard.type("Run All Cells")
            page.keyboard.press("Enter")
            page.wait_for_selector(".widget-hslider, .jupyter-widget-hslider", timeout=240_000)
            sliders = page.locator(".widget-hslider, .jupyter-widget-hslider").count()
            text = page.locator(".jp-Notebook").inner_text()
            page.screenshot(path=str(tmp_path / "lab.png"))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert sliders >= 2 + 5  # demand, price and one per resource
    assert "What-if" in text and "baseline" in text
    assert errors == []
