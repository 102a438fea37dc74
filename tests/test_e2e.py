"""End to end: the demo company through papermill, nbconvert and publication."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from tests.conftest import make_root, sop

pytestmark = pytest.mark.e2e

PAGES = ["index.html", "01_demand_forecast.html", "02_capacity_review.html", "03_financial_reconciliation.html",
         "04_post_cycle_variance.html", "scorecard.html", "decisions.html", "data_quality.html"]


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.refs.append((tag, value))


def refs_of(path: Path) -> list[tuple[str, str]]:
    parser = _Refs()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.refs


def test_pack_has_every_page_and_the_audit_record(demo_root: Path) -> None:
    pack = demo_root / "reports" / "2026-11"
    for page in PAGES:
        assert (pack / page).is_file(), page
    for name in ["01_demand_forecast", "02_capacity_review", "03_financial_reconciliation", "04_post_cycle_variance"]:
        nb = nbformat.read(pack / "notebooks" / f"{name}.ipynb", as_version=4)
        assert not any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))
    assert (pack / "assets" / "plotly.min.js").stat().st_size > 1_000_000
    assert (demo_root / "reports" / "index.html").is_file()


def test_every_link_resolves_and_nothing_comes_from_the_network(demo_root: Path) -> None:
    pack = demo_root / "reports" / "2026-11"
    for page in PAGES:
        for tag, ref in refs_of(pack / page):
            assert not re.match(r"^(https?:)?//", ref), f"{page}: <{tag}> loads {ref} from the network"
            target = (pack / ref.split("#")[0]).resolve()
            if ref.split("#")[0]:
                assert target.exists(), f"{page}: broken link {ref}"
        # plotly.js is shipped once, beside the pages, not inlined
        assert len((pack / page).read_text(encoding="utf-8")) < 1_500_000, page


def test_every_page_shows_cycle_and_snapshot_fingerprint(demo_root: Path) -> None:
    pack = demo_root / "reports" / "2026-11"
    manifest = json.loads((demo_root / "data/cycles/2026-11/snapshot/manifest.json").read_text())
    short = manifest["fingerprint"][:12]
    for page in PAGES:
        html = (pack / page).read_text(encoding="utf-8")
        assert f'class="sop-fingerprint">{short}<' in html, page
        assert "2026-11" in html, page
    # the two cycles read different snapshots
    other = json.loads((demo_root / "data/cycles/2026-10/snapshot/manifest.json").read_text())
    assert other["fingerprint"] != manifest["fingerprint"]


def test_code_is_hidden_and_charts_are_plotly_divs(demo_root: Path) -> None:
    html = (demo_root / "reports/2026-11/01_demand_forecast.html").read_text(encoding="utf-8")
    assert "build_forecast(" not in html  # code cells are not shown
    assert html.count("Plotly.newPlot") >= 2
    assert "cmdstanpy" not in html and "INFO" not in html


def test_variance_compares_the_published_plan_of_the_earlier_cycle(demo_root: Path) -> None:
    pva = pd.read_parquet(demo_root / "data/cycles/2026-11/published/plan_vs_actual.parquet")
    assert set(pva["plan_cycle"]) == {"2026-10"}
    assert set(pva["period"].dt.strftime("%Y-%m")) == {"2026-10"}
    # the plan compared is exactly what 2026-10 published: its consensus, with the steps before it
    published = pd.read_parquet(demo_root / "data/cycles/2026-10/published/consensus.parquet")
    oct_plan = published[published["period"] == "2026-10-01"].set_index(["sku", "region"])
    plan = oct_plan["consensus"]
    got_stat = pva.set_index(["sku", "region"])["statistical"]
    pd.testing.assert_series_equal(got_stat.sort_index(), oct_plan["statistical"].sort_index(), check_names=False)
    got = pva.set_index(["sku", "region"])["forecast"]
    pd.testing.assert_series_equal(got.sort_index(), plan.sort_index(), check_names=False)
    # and the actuals are the 2026-11 snapshot's October sales
    sales = pd.read_parquet(demo_root / "data/cycles/2026-11/snapshot/sales_history.parquet")
    oct_sales = sales[sales["period"] == "2026-10-01"]["units"].sum()
    assert pva["actual"].sum() == pytest.approx(oct_sales)
    first = (demo_root / "reports/2026-10/04_post_cycle_variance.html").read_text(encoding="utf-8")
    assert "No earlier plan to compare with" in first


def test_headlines_are_consistent_with_results(demo_root: Path) -> None:
    h = json.loads((demo_root / "reports/2026-11/headlines.json").read_text())
    review = pd.read_parquet(demo_root / "data/cycles/2026-11/published/capacity_review.parquet")
    assert h["capacity"]["peak_utilisation"] == pytest.approx(review["utilisation"].max())
    assert h["capacity"]["months_over"] == int(review["over_capacity"].sum())
    assert h["accuracy"]["plan_cycle"] == "2026-10"
    assert 0 <= h["accuracy"]["accuracy"] <= 1


def test_published_cycle_needs_force(demo_root: Path) -> None:
    before = (demo_root / "reports/2026-11/index.html").read_bytes()
    proc = sop("run", "--cycle", "2026-11", "--root", str(demo_root))
    assert proc.returncode == 3
    assert "--force" in proc.stderr
    assert (demo_root / "reports/2026-11/index.html").read_bytes() == before


def test_notebook_runs_as_is_from_jupyterlab_defaults(demo_root: Path, tmp_path: Path) -> None:
    """Opened in JupyterLab and run top to bottom with no parameters, a workbook finds the project from its
    folder, opens the latest cycle and writes to the scratch folder, never to the published results."""
    import shutil

    import papermill as pm

    nb_dir = demo_root / "notebooks"
    if not nb_dir.exists():
        shutil.copytree(Path(__file__).resolve().parent.parent / "notebooks", nb_dir)
    published = demo_root / "data/cycles/2026-11/published/capacity_review.parquet"
    stamp = published.stat().st_mtime_ns
    out = tmp_path / "out.ipynb"
    pm.execute_notebook(str(nb_dir / "02_capacity_review.ipynb"), str(out), cwd=str(nb_dir), progress_bar=False,
                        kernel_name="python3")
    assert (demo_root / "data/cycles/2026-11/scratch/results/capacity_review.parquet").exists()
    assert published.stat().st_mtime_ns == stamp


def test_failed_workbook_is_shown_as_failed_and_nothing_is_published(tmp_path: Path) -> None:
    root = make_root(tmp_path / "project", with_notebooks=True)
    nb_path = root / "notebooks" / "02_capacity_review.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell('raise RuntimeError("capacity file from operations is late")'))
    nbformat.write(nb, nb_path)
    sop("demo", "--root", str(root), "--skus", "8", "--cycles", "2026-11", "--inputs-only", check=True)
    proc = sop("run", "--cycle", "2026-11", "--root", str(root))
    assert proc.returncode == 4, proc.stderr
    assert "02_capacity_review" in proc.stderr and "capacity file from operations is late" in proc.stderr
    assert not (root / "reports/2026-11").exists()
    assert not (root / "data/cycles/2026-11/published").exists()
    failed = list((root / "reports/_failed").glob("2026-11-*"))
    assert len(failed) == 1
    index = (failed[0] / "index.html").read_text(encoding="utf-8")
    assert "FAILED" in index and "not run" in index
    page = (failed[0] / "02_capacity_review.html").read_text(encoding="utf-8")
    assert "capacity file from operations is late" in page


def test_exceptions_join_the_decision_log_once(demo_root: Path) -> None:
    events = [json.loads(x) for x in (demo_root / "data/decisions/events.jsonl").read_text().splitlines()]
    adds = [e for e in events if e["action"] == "add"]
    keys = [e["fields"]["key"] for e in adds]
    raised = [(e["fields"]["key"], e["fields"]["raised_cycle"]) for e in adds]
    assert keys and len(raised) == len(set(raised))  # never twice in one cycle
    assert {e["author"] for e in adds} == {"sop run"}
    # the demo meeting closed 2026-10's items for review in 2026-11: those whose exception persists came back
    again = [e for e in adds if "Raised again" in e["fields"].get("context", "")]
    assert again and {e["fields"]["raised_cycle"] for e in again} == {"2026-11"}
    assert {e["author"] for e in events if e["action"] == "close"} == {"demo meeting"}
    review = pd.read_parquet(demo_root / "data/cycles/2026-11/published/capacity_review.parquet")
    over = sorted(review.loc[review["over_capacity"], "resource"].unique())
    assert {k for k in keys if k.startswith("capacity:")} >= {f"capacity:{r}" for r in over}
    page = (demo_root / "reports/2026-11/decisions.html").read_text(encoding="utf-8")
    assert "Raised by this cycle" in page and "already" in page


def test_consensus_feeds_capacity_and_finance_and_is_scored(demo_root: Path) -> None:
    pub = demo_root / "data/cycles/2026-11/published"
    cons = pd.read_parquet(pub / "consensus.parquet")
    assert (cons["consensus"] - cons["statistical"] - cons["adjustment"]).abs().max() < 1e-6
    adj = pd.read_parquet(pub / "override_adjustments.parquet")
    assert adj["owner"].nunique() >= 3 and cons["adjustment"].abs().sum() > 0
    # capacity and finance work from the consensus, not the statistical forecast
    from sop_lib.demand.consensus import plan_units
    from sop_lib.supply.capacity import required_hours

    bor = pd.read_parquet(demo_root / "data/cycles/2026-11/snapshot/bill_of_resources.parquet")
    need = required_hours(plan_units(cons, "consensus"), bor)["required_hours"].sum()
    review = pd.read_parquet(pub / "capacity_review.parquet")
    assert review["required_hours"].sum() == pytest.approx(need)
    fin = pd.read_parquet(pub / "plan_financials.parquet")
    assert fin["units"].sum() == pytest.approx(cons["consensus"].sum())
    # scenarios: the baseline first, then the params' scenarios
    scen = pd.read_parquet(pub / "scenario_comparison.parquet")
    assert scen["scenario"].tolist()[:2] == ["baseline", "upside"]
    assert scen.loc[0, "revenue"] == pytest.approx(scen.loc[0, "revenue"] + scen.loc[0, "revenue_vs_baseline"])
    # October closed: the 2026-10 plan's owners are scored (their overrides touched October)
    page = (demo_root / "reports/2026-11/04_post_cycle_variance.html").read_text(encoding="utf-8")
    assert "Whose overrides helped" in page and "Anna Berg (sales North)" in page
    card = pd.read_parquet(pub / "kpi_scorecard.parquet")
    assert {"accuracy", "peak_utilisation", "days_of_supply", "revenue_vs_budget_pct"} <= set(card["kpi"])
    index = (demo_root / "reports/2026-11/index.html").read_text(encoding="utf-8")
    for heading in ("What changed since the last cycle", "Top exceptions", "Decisions needed at this meeting",
                    "Scenarios"):
        assert heading in index


def test_decisions_of_the_last_meeting_are_followed_through(demo_root: Path) -> None:
    page = (demo_root / "reports/2026-11/decisions.html").read_text(encoding="utf-8")
    assert "Follow-through" in page
    assert re.search(r'class="verdict-(met|partly-met|not-met)"', page)  # measured in the review cycle 2026-11


def test_override_text_is_escaped_in_the_pack(demo_root: Path) -> None:
    from tests.conftest import HOSTILE

    page = (demo_root / "reports/2026-11/01_demand_forecast.html").read_text(encoding="utf-8")
    assert HOSTILE not in page and "&lt;script&gt;document.title" in page
    assert "<b>owner</b>" not in page


def test_constrained_plan_inventory_and_bridges_are_published(demo_root: Path) -> None:
    pub = demo_root / "data/cycles/2026-11/published"
    plan = pd.read_parquet(pub / "supply_plan.parquet")
    # inventory balance at every SKU-month, and nothing served beyond demand
    gap = plan["opening_stock"] + plan["production"] - plan["served"] - plan["closing_stock"]
    assert gap.abs().max() < 1e-6 and (plan["served"] <= plan["demand"] + 1e-9).all()
    cons = pd.read_parquet(pub / "consensus.parquet")
    assert plan["demand"].sum() == pytest.approx(cons["consensus"].sum())  # the LP plans the consensus
    res = pd.read_parquet(pub / "supply_resources.parquet")
    assert (res["shadow_price"] >= 0).all() and (res.loc[~res["binding"], "shadow_price"] < 1e-6).all()
    for name in ("budget_bridge", "plan_bridge"):
        bridge = pd.read_parquet(pub / f"{name}.parquet")
        wide = bridge.pivot_table(index=["family", "period", "measure"], columns="effect", values="amount",
                                  dropna=False).dropna(subset=["base"])
        effects = wide[["volume", "mix", "price", "cost"]].sum(axis=1)
        assert (effects - (wide["new"] - wide["base"])).abs().max() < 0.005, name  # ties to the cent
    inv = pd.read_parquet(pub / "inventory_projection.parquet")
    assert {"days_of_supply", "safety_stock", "stockout_risk"} <= set(inv.columns)
    page = (demo_root / "reports/2026-11/02_capacity_review.html").read_text(encoding="utf-8")
    assert "Constrained supply plan" in page and "of demand at risk" in page or "No demand at risk" in page
    index = (demo_root / "reports/2026-11/index.html").read_text(encoding="utf-8")
    assert "<b>Supply:</b>" in index and "Gross margin vs budget</b>" in index
