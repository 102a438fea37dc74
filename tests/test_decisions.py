"""The decision priority log: a round trip through the CLI with its history, and the pure functions."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from sop_lib.review.decisions import DecisionError, add_event, close_event, open_items, replay, update_event
from tests.conftest import make_root, sop


def test_round_trip_through_the_cli_keeps_every_change(tmp_path: Path) -> None:
    root = str(make_root(tmp_path / "p"))
    add = sop("decision", "add", "--root", root, "--cycle", "2026-11", "--title", "Overtime on Bottling in August",
              "--owner", "Ops director", "--function", "operations", "--priority", "high", "--due", "2026-12-10",
              "--expected-kpi", "hours_short : Bottling", "--expected-value", "-12000", "--review-cycle", "2027-09",
              "--author", "ana", check=True)
    assert "D-001 added" in add.stdout
    sop("decision", "add", "--root", root, "--cycle", "2026-11", "--title", "Energy gap to budget", "--owner", "CFO",
        "--function", "finance", "--priority", "medium", "--author", "ben", check=True)
    sop("decision", "update", "D-001", "--root", root, "--set", "status=decided", "--set", "due=2026-12-15",
        "--author", "carl", check=True)
    sop("decision", "close", "D-001", "--root", root, "--decision", "Two Saturday shifts in July",
        "--rationale", "cheaper than the lost margin", "--author", "ana", check=True)

    open_list = sop("decision", "list", "--root", root, check=True).stdout
    assert "D-002" in open_list and "D-001" not in open_list
    assert "D-001" in sop("decision", "list", "--all", "--root", root, check=True).stdout

    hist = sop("decision", "history", "D-001", "--root", root, check=True).stdout.splitlines()
    actions = [line.split()[1:3] for line in hist[1:]]  # author, action
    assert actions.count(["ana", "add"]) == 10  # 9 fields given + status open
    assert actions.count(["carl", "update"]) == 2 and actions.count(["ana", "close"]) == 3

    events = [json.loads(x) for x in (Path(root) / "data/decisions/events.jsonl").read_text().splitlines()]
    assert [e["action"] for e in events] == ["add", "add", "update", "close"]
    state = replay(events).set_index("id")
    assert state.loc["D-001", "status"] == "closed" and state.loc["D-001", "due"] == "2026-12-15"
    assert state.loc["D-001", "expected_value"] == -12000.0
    assert state.loc["D-001", "expected_kpi"] == "hours_short:Bottling"  # normalised to the scorecard's name
    assert state.loc["D-001", "created_by"] == "ana" and state.loc["D-001", "updated_by"] == "ana"
    assert state.loc["D-001", "changes"] == 3


def test_bad_values_are_all_reported_and_nothing_is_written(tmp_path: Path) -> None:
    root = make_root(tmp_path / "p")
    proc = sop("decision", "add", "--root", str(root), "--cycle", "2026-11", "--title", "x", "--owner", "y",
               "--function", "marketing", "--priority", "urgent", "--due", "31/12", "--expected-kpi", "happiness")
    assert proc.returncode == 2
    for text in ("function must be one of sales, operations, finance, executive", "priority must be one of",
                 "due must be a date YYYY-MM-DD", "expected_kpi must name a scorecard KPI"):
        assert text in proc.stderr
    log = root / "data/decisions/events.jsonl"
    assert not log.exists() or log.read_text() == ""
    missing = sop("decision", "update", "D-007", "--root", str(root), "--set", "status=open")
    assert missing.returncode == 2 and "No decision D-007" in missing.stderr


def _log() -> list[dict]:
    events: list[dict] = []
    base = {"raised_cycle": "2026-10", "owner": "o", "function": "sales"}
    for title, prio, due, at in [("a", "low", "2026-11-01", "2026-10-01T09:00:00+00:00"),
                                 ("b", "high", "2026-12-31", "2026-10-05T09:00:00+00:00"),
                                 ("c", "high", "2026-11-20", "2026-11-01T09:00:00+00:00"),
                                 ("d", "medium", None, "2026-11-02T09:00:00+00:00")]:
        events.append(add_event(events, {**base, "title": title, "priority": prio, "due": due}, "t", at=at))
    return events


def test_open_items_by_priority_then_due_with_age_and_overdue() -> None:
    events = _log()
    events.append(close_event(events, "D-004", "done", "because", "t", at="2026-11-10T09:00:00+00:00"))
    items = open_items(replay(events), dt.date(2026, 11, 25))
    # high first, the earlier due date first among them; closed D-004 is gone
    assert items["id"].tolist() == ["D-003", "D-002", "D-001"]
    # 2026-11-01 → 2026-11-25 is 24 days; 2026-10-05 → 51; 2026-10-01 → 55
    assert items["age_days"].tolist() == [24, 51, 55]
    # due 2026-11-20 and 2026-11-01 have passed on 2026-11-25; 2026-12-31 has not
    assert items["overdue"].tolist() == [True, False, True]


def test_update_records_only_what_changes_and_refuses_no_change() -> None:
    events = _log()
    ev = update_event(events, "D-002", {"priority": "high", "owner": "new owner"}, "u")
    assert ev["fields"] == {"owner": "new owner"}
    with pytest.raises(DecisionError, match="Nothing to change"):
        update_event(events, "D-002", {"priority": "high"}, "u")
    with pytest.raises(DecisionError, match="missing title"):
        add_event(events, {"raised_cycle": "2026-11", "owner": "o", "function": "sales", "priority": "low"}, "u")
    with pytest.raises(DecisionError, match="needs --decision and --rationale"):
        close_event(events, "D-001", "", "", "u")
    assert isinstance(replay([]), pd.DataFrame) and replay([]).empty


def test_exceptions_raise_candidates_once_per_key() -> None:
    from sop_lib.review.decisions import candidate_events, raise_candidates

    T = pd.Timestamp
    review = pd.DataFrame({
        "resource": ["Bottling", "Bottling", "Mixing"], "period": [T("2027-05-01"), T("2027-08-01"), T("2027-05-01")],
        "required_hours": [2150.0, 2337.0, 900.0], "available_hours": [2046.0, 948.0, 1000.0],
        "utilisation": [2150 / 2046, 2337 / 948, 0.9], "over_capacity": [True, True, False],
    })
    gap = pd.DataFrame({"family": ["Juice", "Juice", "Juice", "Snacks"], "gap_revenue": [-900.0, -300.0, 100.0, 10.0],
                        "budget_revenue": [10_000.0, 5_000.0, 4_000.0, 1_000.0], "flag": [True, True, False, False]})
    # Energy under-forecast five plan-months in a row by 10 each: Σ(A − F) = 50, MAD = 10 → tracking signal +5
    pva = pd.DataFrame({"family": "Energy", "plan_cycle": "2026-10",
                        "period": pd.date_range("2026-06-01", periods=5, freq="MS"), "actual": 110.0, "forecast": 100.0})
    c = raise_candidates("2026-11", review, gap, pva, gap_threshold_pct=5.0, ts_limit=4.0, currency="EUR").set_index("key")
    assert list(c.index) == ["capacity:Bottling", "budget:Juice", "bias:Energy"]
    # hours short: (2150 − 2046) + (2337 − 948) = 104 + 1389 = 1493; peak 246 % > 120 % → high
    assert c.loc["capacity:Bottling", "expected_value"] == -1493.0
    assert c.loc["capacity:Bottling", "priority"] == "high" and c.loc["capacity:Bottling", "function"] == "operations"
    # Juice: −1,200 over 15,000 budget = −8 %, within 2 × 5 % → medium
    assert "-1,200 EUR" in c.loc["budget:Juice", "title"] and c.loc["budget:Juice", "priority"] == "medium"
    assert "+5.0" in c.loc["bias:Energy", "title"] and "under-forecast" in c.loc["bias:Energy", "title"]
    # the expected effect names the scorecard KPI that will measure it, and the change that would clear it:
    # Juice's whole gap (−900 − 300 + 100 = −1,100) closed; Energy's tracking signal back from +5 to 0
    assert c.loc["capacity:Bottling", "expected_kpi"] == "hours_short:Bottling"
    assert (c.loc["budget:Juice", "expected_kpi"], c.loc["budget:Juice", "expected_value"]) == ("revenue_gap:Juice", 1100.0)
    assert (c.loc["bias:Energy", "expected_kpi"], c.loc["bias:Energy", "expected_value"]) == ("tracking_signal:Energy", -5.0)

    first = candidate_events([], c.reset_index(), "sop run", at="2026-11-05T00:00:00+00:00")
    assert [e["id"] for e in first] == ["D-001", "D-002", "D-003"]
    assert first[0]["fields"]["owner"] == "operations (to assign)"
    assert candidate_events(first, c.reset_index(), "sop run") == []  # a re-run raises nothing twice


def test_decisions_page_shows_html_in_fields_as_text(tmp_path: Path) -> None:
    """Text typed by planners is escaped: a <script> in a title renders as text and never runs."""
    from sop_lib.pack.run import _env

    hostile = '<script>document.title="pwned"</script><img src=x onerror="document.title=\'pwned\'">'
    events = [add_event([], {"raised_cycle": "2026-11", "title": hostile, "owner": "<b>o</b>", "function": "sales",
                             "priority": "high", "context": hostile}, "t")]
    items = open_items(replay(events), dt.date(2026, 11, 25))
    html = _env().get_template("decisions.html.j2").render(
        cycle="2026-11", fingerprint="abc", company="C", pages=[], failed="", currency="EUR", current="decisions.html",
        candidates=[], known=set(), items=items.to_dict(orient="records"), closed=[])
    assert "<script>document.title" not in html and "&lt;script&gt;" in html
    assert "<img src=x" not in html and "<b>o</b>" not in html
    page = tmp_path / "decisions.html"
    page.write_text(html, encoding="utf-8")

    import shutil

    chromium = shutil.which("chromium")
    if not chromium:
        return  # the escaping itself is checked above; the browser check runs where Chromium is installed
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu",
                                                                     "--disable-background-networking"])
        tab = browser.new_page()
        tab.goto(page.as_uri())
        assert tab.title() != "pwned"
        assert '<script>document.title="pwned"</script>' in tab.inner_text("body")
        browser.close()


def test_a_closed_item_is_raised_again_once_its_review_cycle_is_reached() -> None:
    from sop_lib.review.decisions import candidate_events, covered_keys

    cand = pd.DataFrame([{"key": "capacity:Bottling", "raised_cycle": "2026-10", "function": "operations",
                          "priority": "high", "title": "Bottling short", "context": "100 h short.",
                          "expected_kpi": "hours_short:Bottling", "expected_value": -100.0}])
    events = candidate_events([], cand, "sop run")
    events.append(close_event(events, "D-001", "weekend shifts", "cheaper than lost sales", "ana"))
    events[-1]["fields"]["review_cycle"] = "2026-12"
    log = replay(events)
    # closed, review in 2026-12: covered in 2026-11 and raised again from 2026-12 on if the exception persists
    assert covered_keys(log, "2026-11") == {"capacity:Bottling": "D-001"}
    assert covered_keys(log, "2026-12") == {}
    assert candidate_events(events, cand.assign(raised_cycle="2026-11"), "sop run") == []
    again = candidate_events(events, cand.assign(raised_cycle="2026-12"), "sop run")
    assert [e["id"] for e in again] == ["D-002"] and "Raised again: D-001" in again[0]["fields"]["context"]
    # open, and dropped items keep covering their key
    dropped = events + [update_event(events, "D-001", {"status": "dropped"}, "ana")]
    assert covered_keys(replay(dropped), "2027-06") == {"capacity:Bottling": "D-001"}
