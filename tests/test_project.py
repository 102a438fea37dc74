"""A project a company owns (`sop init`) and the demo's own project (`sop demo`): nothing of the demo company in
a new project's parameters, and the demo never overwrites a company's project."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sop_lib.data.contract import TABLES, columns_of
from sop_lib.data.params import CycleParams, load_params
from sop_lib.data.project import ProjectExists, init_project
from sop_lib.demo.project import MARKER, NotADemoProject, ensure_demo_project
from sop_lib.demo.spec import RESOURCES

# names only the demo company has: its resources, families, regions, owners and company name
DEMO_WORDS = [*RESOURCES, "Demo Beverages", "Sparkling", "Juice", "Energy", "Snacks", "NordMarkt", "FreshMart",
              "bottling_extra_shift"]


def _all_keys(model: type, prefix: str = "") -> set[str]:
    keys = set()
    for name, field in model.model_fields.items():
        keys.add(prefix + name)
        sub = field.annotation
        if isinstance(sub, type) and hasattr(sub, "model_fields") and name != "kpi":
            keys |= _all_keys(sub, f"{prefix}{name}.")
    return keys


def test_init_writes_a_neutral_project_with_every_key_commented(tmp_path: Path) -> None:
    root = tmp_path / "acme"
    written = init_project(root, "Acme & Sons \"Ltd\"", "GBP")
    names = {p.relative_to(root).as_posix() for p in written}
    assert {"params/defaults.yaml", "mapping.yaml", "README.md", "params/overrides/_template.csv"} <= names
    assert {f"inputs/{t}.csv" for t in TABLES} <= names
    for table in TABLES:  # header-only templates in contract order
        assert (root / "inputs" / f"{table}.csv").read_text(encoding="utf-8") == ",".join(columns_of(table)) + "\n"
    text = (root / "params" / "defaults.yaml").read_text(encoding="utf-8")
    for word in DEMO_WORDS:
        assert word not in text, word
    data = yaml.safe_load(text)
    params = load_params(root / "params", "2027-01")
    assert params.company == 'Acme & Sons "Ltd"' and params.finance.currency == "GBP"
    assert params.scenarios == {} and params.supply.overtime == {}
    # every parameter of the model is written out (and so commented) in the file, none is left to code defaults
    flat = {f"{k}.{kk}" if isinstance(v, dict) else k for k, v in data.items() for kk in (v or {"": 0})}
    flat |= set(data)
    missing = sorted(k for k in _all_keys(CycleParams) if k not in flat and k.split(".")[0] != "kpi")
    assert not missing, missing
    for line in text.splitlines():  # every key line carries a comment, or sits under a commented section
        if line.strip() and not line.lstrip().startswith("#") and ":" in line and line.startswith("  ") and "{" not in line:
            assert "#" in line or line.strip().endswith(":"), line


def test_init_refuses_an_existing_project_and_keeps_files_already_there(tmp_path: Path) -> None:
    root = tmp_path / "acme"
    (root / "inputs").mkdir(parents=True)
    (root / "inputs" / "sales_history.csv").write_text("period,sku,region,units\n2026-01,A,X,1\n", encoding="utf-8")
    written = init_project(root, "Acme", "EUR")
    assert root / "inputs" / "sales_history.csv" not in written
    assert "2026-01,A,X,1" in (root / "inputs" / "sales_history.csv").read_text(encoding="utf-8")
    with pytest.raises(ProjectExists):
        init_project(root, "Acme", "EUR")


def test_the_cli_init_prints_what_it_made_and_exits_2_on_a_project(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "sop_lib", "init", str(tmp_path / "p"), "--company", "Pharma Panel", "--currency",
           "AUD"]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "New S&OP project for Pharma Panel" in first.stdout and "sop import --root" in first.stdout
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "already an S&OP project" in again.stderr and "Traceback" not in again.stderr


def test_the_demo_makes_its_own_project_and_refuses_a_company_project(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    assert ensure_demo_project(demo) is True
    assert (demo / MARKER).exists()
    assert load_params(demo / "params", "2026-11").company == "Demo Beverages Ltd"
    assert "Bottling" in load_params(demo / "params", "2026-11").supply.overtime
    (demo / "params" / "overrides" / "2026-11.csv").write_text("edited by a planner\n", encoding="utf-8")
    assert ensure_demo_project(demo) is False  # a demo project keeps its (edited) parameters
    assert (demo / "params" / "overrides" / "2026-11.csv").read_text(encoding="utf-8") == "edited by a planner\n"
    company = tmp_path / "acme"
    init_project(company, "Acme", "EUR")
    with pytest.raises(NotADemoProject, match="project of its own"):
        ensure_demo_project(company)


def test_parameters_that_contradict_the_data_are_all_reported_at_once_with_their_file(tmp_path: Path) -> None:
    """A company without capacity data whose defaults still name resources (the way the demo's did): every
    entry is named with the file that set it, in one message, before anything runs."""
    from sop_lib.data.context import PlannerInputsInvalid, check_planner_inputs
    from sop_lib.data.store import Store

    root = tmp_path / "p"
    init_project(root, "Acme", "EUR")
    defaults = root / "params" / "defaults.yaml"
    defaults.write_text(defaults.read_text(encoding="utf-8").replace(
        "scenarios: {}", "scenarios:\n  shift: {extra_hours: {Line1: 100}}\n  juice: {demand_pct_by_family: {Juice: 5}}"
    ).replace("  overtime: {}", "  overtime: {Line1: {max_hours: 10, cost_per_hour: 50}}"), encoding="utf-8")
    (root / "params" / "2027-01.yaml").write_text("supply:\n  no_stock_families: [Fresh]\n", encoding="utf-8")
    tables = {
        "sales_history": pd.DataFrame({"period": [pd.Timestamp("2026-12-01")], "sku": ["A"], "region": ["X"],
                                       "units": [1.0]}),
        "products": pd.DataFrame({"sku": ["A"], "family": ["Goods"]}),
        "capacity": pd.DataFrame(columns=["resource", "period", "available_hours"]),
        "bill_of_resources": pd.DataFrame(columns=["sku", "resource", "hours_per_unit"]),
    }
    store = Store(root)
    with pytest.raises(PlannerInputsInvalid) as info:
        check_planner_inputs(store, "2027-01", tables, load_params(store.params_dir, "2027-01"))
    problems = info.value.problems
    assert len(problems) == 4, problems
    assert problems[0].startswith("scenarios.shift changes the hours of Line1, but capacity is not modelled")
    assert problems[0].endswith("(defaults.yaml)")
    assert problems[1].startswith("scenarios.juice.demand_pct_by_family names unknown family Juice")
    assert problems[2].startswith("supply.no_stock_families: Fresh") and problems[2].endswith("(2027-01.yaml)")
    assert problems[3].startswith("supply.overtime.Line1: no such resource; capacity is not modelled")
    assert info.value.exit_code == 2
