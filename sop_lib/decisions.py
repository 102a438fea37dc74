"""The decision priority log: decisions the S&OP meeting must take, who owns them, and later, whether they
had the expected effect.

The log is a list of events (append-only: every change is kept with its time and author); the current
state of each decision is the replay of its events. Pure functions here; ``store`` reads and writes the
events file (``data/decisions/events.jsonl``, kept across cycles).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from .errors import SopError

FUNCTIONS = ("sales", "operations", "finance", "executive")
PRIORITIES = ("high", "medium", "low")
STATUSES = ("open", "decided", "closed", "dropped")
FIELDS = ("raised_cycle", "title", "context", "options", "owner", "function", "priority", "due", "status",
          "decision", "rationale", "expected_kpi", "expected_value", "review_cycle")
REQUIRED = ("raised_cycle", "title", "owner", "function", "priority")
COLUMNS = ["id", *FIELDS, "created_at", "created_by", "updated_at", "updated_by", "changes"]


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
    for key in ("raised_cycle", "review_cycle"):
        if out.get(key):
            try:
                dt.datetime.strptime(out[key], "%Y-%m")
            except ValueError:
                problems.append(f"{key} must be a cycle YYYY-MM (got '{out[key]}')")
    if out.get("due"):
        try:
            out["due"] = dt.date.fromisoformat(str(out["due"])).isoformat()
        except ValueError:
            problems.append(f"due must be a date YYYY-MM-DD (got '{out['due']}')")
    if "expected_value" in out and out["expected_value"] != "":
        try:
            out["expected_value"] = float(out["expected_value"])
        except (TypeError, ValueError):
            problems.append(f"expected_value must be a number (got '{out['expected_value']}')")
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
