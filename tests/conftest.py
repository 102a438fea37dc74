"""Shared fixtures. The end-to-end fixture runs a small demo company (8 SKUs, two cycles) through the real
CLI once per test session; e2e and browser tests read the pack it publishes."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
SOP = [sys.executable, "-m", "sop_lib"]
SHARED_DATA = PROJECT.parent / "shared" / "data"
HOSTILE = """<script>document.title='pwned'</script><img src=x onerror="document.title='pwned'">"""


def make_root(base: Path, with_notebooks: bool = False) -> Path:
    """An empty project of the demo company: its parameters (and the repository's notebooks if asked)."""
    from sop_lib.demo.project import ensure_demo_project

    ensure_demo_project(base)
    if with_notebooks:
        shutil.copytree(PROJECT / "notebooks", base / "notebooks")
    return base


def set_params(root: Path, **sections: dict) -> None:
    """Merge ``sections`` (e.g. ``run={"board_pdf": False}``) into the project's params/defaults.yaml. Tests whose
    subject is not the board PDF turn it off (≈ 15 s a published cycle); the PDF's own tests use ``demo_root``."""
    import yaml

    path = root / "params" / "defaults.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for section, values in sections.items():
        data.setdefault(section, {}).update(values)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


NO_PDF = {"board_pdf": False}


def sop(*args: str, cwd: Path | None = None, check: bool = False) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SOP_HOME"}
    proc = subprocess.run([*SOP, *args], capture_output=True, text=True, cwd=cwd or PROJECT, env=env, timeout=1800)
    if check and proc.returncode != 0:
        raise AssertionError(f"sop {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two consecutive cycles of an 8-SKU demo company, published under a temporary root."""
    root = make_root(tmp_path_factory.mktemp("demo") / "project")
    # a planner's text is data, never markup: this override's reason must show as text in the pack
    with open(root / "params/overrides/2026-11.csv", "a", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerow(["QA <b>owner</b>", "sku", "SNK-101", "", "2027-01", "2027-01", "1", "", HOSTILE])
    sop("demo", "--root", str(root), "--skus", "8", "--cycles", "2026-10,2026-11", check=True)
    return root
