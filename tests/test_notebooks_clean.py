"""Notebooks are committed thin and clean: a tagged parameters cell, no outputs, no def/class."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def test_the_four_workbooks_exist_in_order() -> None:
    assert [p.stem for p in NOTEBOOKS] == [
        "01_demand_forecast", "02_capacity_review", "03_financial_reconciliation", "04_post_cycle_variance"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_thin_and_stripped(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not any(c.outputs for c in code), "committed with outputs"
    assert not any(c.execution_count for c in code)
    assert not any(re.search(r"^\s*(def|class)\s", c.source, re.M) for c in code), "def/class belongs in sop_lib"
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and code[0] is params[0]
    for name in ("cycle", "root", "run_dir"):
        assert re.search(rf"^{name}: str = \"\"", params[0].source, re.M)
