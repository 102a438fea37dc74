"""The decision priority log: decisions the S&OP meeting must take, who owns them, and later, whether they
had the expected effect.

The log is a list of events (append-only: every change is kept with its time and author); the current
state of each decision is the replay of its events. Pure functions here; ``store`` reads and writes the
events file (``data/decisions/events.jsonl``, kept across cycles).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import pandas as pd

from sop_lib.core.cycle import parse_cycle
from sop_lib.core.errors import SopError
from sop_lib.review.variance import tracking_signal
from sop_lib.supply.capacity import hours_short

FUNCTIONS = ("sales", "operations", "finance", "executive")
PRIORITIES = ("high", "medium", "low")
STATUSES = ("open", "decided", "closed", "dropped")
FIELDS = ("key", "raised_cycle", "title", "context", "options", "owner", "function", "priority", "due", "status",
          "decision", "rationale", "expected_kpi", "expected_value", "review_cycle")
REQUIRED = ("raised_cycle", "title", "owner", "function", "priority")
COLUMNS = ["id", *FIELDS, "created_at", "created_by", "updated_at", "updated_by", "changes"]
SHORT_TEXT = ("key", "title", "owner", "expected_kpi")  # one line each
MAX_LENGTH = {"title": 300, "owner": 200, "key": 200, "expected_kpi": 200}  # others (free text): 5,000
MAX_VALUE = 1e12  # an expected effect beyond this is a typing error, whatever the KPI's unit
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class DecisionError(SopError):
    """A decision command with a missing or invalid value."""

    exit_code = 2


def _check(fields: dict[str, Any]) -> dict[str, Any]:
    """Validate and normalise field values; raise ``DecisionError`` naming each bad one."""
    unknown = set(fields) - set(FIELDS)
    problems = [f"unknown field '{k}'" for k in sorted(unknown)]
    out = {k: (v.strip() if isinstance(v, str) else v) for k, v in fields.items() if k in FIELDS and v is not None}
    for key, allowed in (("function", FUNCTIONS), ("priority", PRIORITIES), ("status", STATUSES)):
        if key in out and out[key] not in allowed:
            problems.append(f"{key} must be one of {', '.join(allowed)} (got '{out[key]}')")
    for key, value in out.items():
        if isinstance(value, str):
            limit = MAX_LENGTH.get(key, 5000)
            if len(value) > limit:
                problems.append(f"{key} is {len(value):,} characters long; at most {limit:,}")
            if _CONTROL.search(value) or (key in SHORT_TEXT and "\n" in value):
                problems.append(f"{key} holds control characters{' or a line break' if key in SHORT_TEXT else ''}")
    for key in ("raised_cycle", "review_cycle"):
        if out.get(key):
            try:
                parse_cycle(str(out[key]))
            except SopError as exc:
                problems.append(f"{key}: {str(exc).rstrip('.')}")
    if out.get("raised_cycle") and out.get("review_cycle") and str(out["review_cycle"]) < str(out["raised_cycle"]):
        problems.append(f"review_cycle {out['review_cycle']} is before raised_cycle {out['raised_cycle']}")
    if out.get("due"):
        try:
            due = dt.date.fromisoformat(str(out["due"]))
        except ValueError:
            problems.append(f"due must be a date YYYY-MM-DD (got '{out['due']}')")
        else:
            if not 1990 <= due.year <= 2100:
                problems.append(f"due {due.isoformat()} is out of range: the year must be between 1990 and 2100")
            out["due"] = due.isoformat()
    if out.get("expected_kpi"):
        from sop_lib.review.kpi import KPIS, parse_kpi_name

        kpi, scope = parse_kpi_name(out["expected_kpi"])
        if kpi not in KPIS:
            problems.append(f"expected_kpi must name a scorecard KPI, optionally with a scope after ':' "
                            f"({', '.join(KPIS)}; e.g. hours_short:Bottling) (got '{out['expected_kpi']}')")
        else:
            out["expected_kpi"] = f"{kpi}:{scope}" if scope else kpi
    if "expected_value" in out and out["expected_value"] != "":
        try:
            value = float(out["expected_value"])
        except (TypeError, ValueError, OverflowError):
            problems.append(f"expected_value must be a number (got '{out['expected_value']}')")
        else:
            if not math.isfinite(value):  # '1e999' reads as infinity: JSON would write it as Infinity
                problems.append(f"expected_value must be a finite number (got '{out['expected_value']}')")
            elif abs(value) > MAX_VALUE:
                problems.append(f"expected_value {value:g} is implausibly large (at most ±{MAX_VALUE:g})")
            else:
                out["expected_value"] = value
    if problems:
        raise DecisionError("Decision not recorded: " + "; ".join(problems) + ".")
    return out


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def replay(events: list[dict[str, Any]]) -> pd.DataFrame:
    """The current state of every decision: one row per id with the fields, who created and last changed it,
    and how many changes it has had."""
    state: dict[str, dict[str, Any]] = {}
    for ev in events:
        rec = state.setdefault(ev["id"], {"id": ev["id"], **dict.fromkeys(FIELDS), "changes": 0})
        if ev["action"] == "add":
            rec["created_at"], rec["created_by"] = ev["at"], ev["author"]
        rec.update(ev["fields"])
        rec["updated_at"], rec["updated_by"] = ev["at"], ev["author"]
        rec["changes"] += 1
    return pd.DataFrame(list(state.values()), columns=COLUMNS)


def next_id(events: list[dict[str, Any]]) -> str:
    numbers = [int(e["id"].split("-")[1]) for e in events if e["id"].startswith("D-")]
    return f"D-{max(numbers, default=0) + 1:03d}"


def add_event(events: list[dict[str, Any]], fields: dict[str, Any], author: str, at: str | None = None) -> dict[str, Any]:
    """A new decision (status ``open`` unless given). Required: raised_cycle, title, owner, function, priority."""
    clean = _check(fields)
    missing = [k for k in REQUIRED if not clean.get(k)]
    if missing:
        raise DecisionError(f"Decision not recorded: missing {', '.join(missing)}.")
    clean.setdefault("status", "open")
    return {"id": next_id(events), "action": "add", "at": at or _now(), "author": author, "fields": clean}


def update_event(
    events: list[dict[str, Any]], decision_id: str, fields: dict[str, Any], author: str, at: str | None = None,
    action: str = "update",
) -> dict[str, Any]:
    """A change to an existing decision; only the fields that actually change are recorded."""
    current = replay(events).set_index("id")
    if decision_id not in current.index:
        raise DecisionError(f"No decision {decision_id} in the log (see `sop decision list --all`).")
    clean = _check(fields)
    row = current.loc[decision_id]
    changed = {k: v for k, v in clean.items() if row.get(k) != v}
    if not changed:
        raise DecisionError(f"Nothing to change on {decision_id}: the values given are its current ones.")
    return {"id": decision_id, "action": action, "at": at or _now(), "author": author, "fields": changed}


def close_event(
    events: list[dict[str, Any]], decision_id: str, decision: str, rationale: str, author: str, at: str | None = None
) -> dict[str, Any]:
    """Close a decision with what was decided and why (both required: a closed item without them teaches nothing)."""
    if not decision or not rationale:
        raise DecisionError("Closing a decision needs --decision and --rationale.")
    return update_event(events, decision_id, {"status": "closed", "decision": decision, "rationale": rationale},
                        author, at, action="close")


def history(events: list[dict[str, Any]], decision_id: str) -> pd.DataFrame:
    """Every change of one decision: time, author, action, field, new value."""
    rows = [{"at": e["at"], "author": e["author"], "action": e["action"], "field": k, "value": v}
            for e in events if e["id"] == decision_id for k, v in e["fields"].items()]
    return pd.DataFrame(rows, columns=["at", "author", "action", "field", "value"])


def open_items(log: pd.DataFrame, today: dt.date) -> pd.DataFrame:
    """Open and decided (not yet closed) items by priority, then due date, with age in days and an
    ``overdue`` flag (due date passed)."""
    live = log[log["status"].isin(["open", "decided"])].copy()
    created = pd.to_datetime(live["created_at"], utc=True).dt.date
    live["age_days"] = [(today - c).days for c in created]
    due = pd.to_datetime(live["due"], errors="coerce").dt.date
    live["overdue"] = [bool(d is not None and not pd.isna(d) and d < today) for d in due]
    live["_p"] = live["priority"].map({p: i for i, p in enumerate(PRIORITIES)})
    return live.sort_values(["_p", "due", "id"], na_position="last").drop(columns="_p").reset_index(drop=True)


def raise_candidates(
    cycle: str,
    capacity_review: pd.DataFrame | None,
    budget_gap: pd.DataFrame | None,
    plan_vs_actual: pd.DataFrame | None,
    gap_threshold_pct: float,
    ts_limit: float,
    currency: str,
) -> pd.DataFrame:
    """Candidate decisions from the cycle's exceptions, one per resource over capacity, per family with
    months beyond the budget-gap threshold, and per family whose tracking signal is outside ±``ts_limit``.
    Each has a ``key`` (e.g. ``capacity:Bottling``) so a re-run of a cycle raises nothing twice."""
    rows: list[dict[str, Any]] = []
    if capacity_review is not None and len(capacity_review):
        for res, g in capacity_review[capacity_review["over_capacity"]].groupby("resource"):
            short = float(hours_short(g).sum())
            months = ", ".join(pd.to_datetime(g["period"]).dt.strftime("%Y-%m"))
            peak = float(g["utilisation"].max())
            rows.append({
                "key": f"capacity:{res}", "function": "operations", "priority": "high" if peak > 1.2 else "medium",
                "title": f"{res} over capacity in {len(g)} month(s): {short:,.0f} hours short",
                "context": f"Months over capacity: {months}; peak utilisation {peak:.0%}.",
                "options": "overtime or extra shift; build ahead; move volume to another resource; accept lost sales",
                "expected_kpi": f"hours_short:{res}", "expected_value": -short,
            })
    if budget_gap is not None and len(budget_gap):
        # without a price list the plan has no revenue: the gap is in units (finance.budget_gap flags it so)
        money = bool(budget_gap["gap_revenue"].notna().all())
        measure, unit = ("revenue", currency) if money else ("units", "units")
        for fam, g in budget_gap[budget_gap["flag"]].groupby("family"):
            gap = float(g[f"gap_{measure}"].sum())
            base = float(g[f"budget_{measure}"].sum())
            pct = gap / base * 100 if base else float("nan")
            fam_gap = float(budget_gap.loc[budget_gap["family"] == fam, "gap_revenue"].sum()) if money else 0.0
            rows.append({
                "key": f"budget:{fam}", "function": "finance",
                "priority": "high" if abs(pct) > 2 * gap_threshold_pct else "medium",
                "title": f"{fam}: plan {gap:+,.0f} {unit} against budget in {len(g)} month(s) beyond ±{gap_threshold_pct:g} %",
                "context": f"{measure.capitalize()} gap {pct:+.1f} % over the flagged months.",
                "options": "accept the gap and re-forecast; demand actions (promotion, price); revise the budget",
                # below budget, the decision should close the gap; above it, there is nothing to "recover"
                "expected_kpi": f"revenue_gap:{fam}" if fam_gap < 0 else None,
                "expected_value": -fam_gap if fam_gap < 0 else None,
            })
    if plan_vs_actual is not None and len(plan_vs_actual):
        by_month = plan_vs_actual.groupby(["family", "plan_cycle", "period"], as_index=False)[["actual", "forecast"]].sum()
        for fam, g in by_month.groupby("family"):
            ts = tracking_signal(g["actual"], g["forecast"])
            if abs(ts) > ts_limit:
                direction = "under" if ts > 0 else "over"
                rows.append({
                    "key": f"bias:{fam}", "function": "sales", "priority": "medium",
                    "title": f"{fam} is consistently {direction}-forecast: tracking signal {ts:+.1f}",
                    "context": f"Tracking signal over {len(g)} plan-months outside ±{ts_limit:g}.",
                    "options": "review overrides and promotions; check the model; adjust the consensus",
                    "expected_kpi": f"tracking_signal:{fam}", "expected_value": -ts,
                })
    out = pd.DataFrame(rows, columns=["key", "function", "priority", "title", "context", "options", "expected_kpi",
                                      "expected_value"])
    out.insert(1, "raised_cycle", cycle)
    return out


def covered_keys(log: pd.DataFrame, cycle: str) -> dict[str, str]:
    """Exception keys the log already covers in ``cycle``, with the covering item's id.

    A key is covered while its latest item is open or decided, was dropped, or was closed without a review
    cycle or with one still to come. Once the review cycle of a closed item is reached, a key whose exception
    persists is raised again as a new item: the decision had its chance, and the meeting should look again.
    """
    if log is None or not len(log):
        return {}
    keyed = log[log["key"].notna()].sort_values("id")
    latest = keyed.groupby("key").tail(1)
    out = {}
    for rec in latest.to_dict(orient="records"):
        review = rec.get("review_cycle") or ""
        live = rec["status"] in ("open", "decided", "dropped")
        if live or not review or review > cycle:
            out[rec["key"]] = rec["id"]
    return out


def candidate_events(
    events: list[dict[str, Any]], candidates: pd.DataFrame, author: str, at: str | None = None
) -> list[dict[str, Any]]:
    """``add`` events for candidates whose key the log does not cover (``covered_keys``); owner: the function,
    to assign. A key raised again after an earlier item's review names that item in its context."""
    log = replay(events)
    new: list[dict[str, Any]] = []
    for rec in candidates.to_dict(orient="records"):
        if rec["key"] in covered_keys(log, rec["raised_cycle"]):
            continue
        fields = {k: v for k, v in rec.items() if k in FIELDS and not (isinstance(v, float) and not math.isfinite(v))}
        earlier = log[log["key"] == rec["key"]]["id"].tolist() if len(log) else []
        if earlier:
            fields["context"] = f"{fields.get('context', '')} Raised again: {', '.join(earlier)} reached its review " \
                                "and the exception persists.".strip()
        fields["owner"] = f"{rec['function']} (to assign)"
        new.append(add_event(events + new, fields, author, at))
    return new
