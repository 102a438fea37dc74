"""The decision priority log: decisions the S&OP meeting must take, who owns them, and later, whether they
had the expected effect.

The log is a list of events (append-only: every change is kept with its time and author); the current
state of each decision is the replay of its events. Pure functions here; ``Store`` reads and writes the
events file (``data/decisions/events.jsonl``, kept across cycles; ``data.decision_log``).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal, get_args

import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from sop_lib.core.cycle import CYCLE_YEARS, Cycle
from sop_lib.core.errors import ParamsError, SopError
from sop_lib.core.metrics import tracking_signal
from sop_lib.review.kpi import KPIS, kpi_name, parse_kpi_name
from sop_lib.supply.capacity import hours_short

Function = Literal["sales", "operations", "finance", "executive"]
Priority = Literal["high", "medium", "low"]  # in this order on every list
Status = Literal["open", "decided", "closed", "dropped"]
FUNCTIONS: tuple[str, ...] = get_args(Function)
PRIORITIES: tuple[str, ...] = get_args(Priority)
STATUSES: tuple[str, ...] = get_args(Status)
MAX_VALUE = 1e12  # an expected effect beyond this is a typing error, whatever the KPI's unit
_LINE = r"^[^\x00-\x08\x0a-\x1f\x7f]*$"  # one line: no control character, no line break (a tab is fine)
_TEXT = r"^[^\x00-\x08\x0b-\x1f\x7f]*$"  # free text: line breaks allowed
Line = Annotated[str, StringConstraints(max_length=200, pattern=_LINE)]
Title = Annotated[str, StringConstraints(max_length=300, pattern=_LINE)]
Text = Annotated[str, StringConstraints(max_length=5000, pattern=_TEXT)]


class DecisionError(SopError):
    """A decision command with a missing or invalid value."""

    exit_code = 2


class DecisionFields(BaseModel):
    """A decision's fields as a command gives them (any subset): strings stripped, each value checked, the due
    date, cycles and KPI name normalised. ``_check`` turns every problem into one ``DecisionError``."""

    model_config = ConfigDict(extra="forbid")

    key: Line | None = None
    raised_cycle: str | None = None
    title: Title | None = None
    context: Text | None = None
    options: Text | None = None
    owner: Line | None = None
    function: Function | None = None
    priority: Priority | None = None
    due: str | None = None
    status: Status | None = None
    decision: Text | None = None
    rationale: Text | None = None
    expected_kpi: Line | None = None
    expected_value: float | Literal[""] | None = None
    review_cycle: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _given(cls, fields: dict[str, Any]) -> dict[str, Any]:
        """Strings stripped; ``None`` means not given."""
        return {k: v.strip() if isinstance(v, str) else v for k, v in fields.items() if v is not None}

    @field_validator("raised_cycle", "review_cycle", mode="before")
    @classmethod
    def _cycle(cls, value: Any, info: ValidationInfo) -> Any:
        """A cycle id (``Cycle.parse``); the review cycle not before the raised one. Empty: left to ``add_event``."""
        if not value:
            return value
        try:
            cycle = Cycle.parse(value if isinstance(value, Cycle) else str(value))
        except ParamsError as exc:
            raise ValueError(f"{info.field_name}: {str(exc).rstrip('.')}") from None
        raised = info.data.get("raised_cycle")
        if info.field_name == "review_cycle" and raised and cycle < Cycle.parse(raised):
            raise ValueError(f"review_cycle {cycle} is before raised_cycle {raised}")
        return str(cycle)

    @field_validator("due", mode="before")
    @classmethod
    def _due(cls, value: Any) -> Any:
        """A date ``YYYY-MM-DD`` within the years a cycle may have."""
        if not value:
            return value
        try:
            due = dt.date.fromisoformat(str(value))
        except ValueError:
            raise ValueError(f"due must be a date YYYY-MM-DD (got '{value}')") from None
        if not CYCLE_YEARS[0] <= due.year <= CYCLE_YEARS[1]:
            raise ValueError(f"due {due.isoformat()} is out of range: the year must be between {CYCLE_YEARS[0]} "
                             f"and {CYCLE_YEARS[1]}")
        return due.isoformat()

    @field_validator("expected_kpi")
    @classmethod
    def _kpi(cls, value: str | None) -> str | None:
        """A scorecard KPI, optionally with a scope: normalised to the scorecard's name (``hours_short:Bottling``)."""
        if not value:
            return value
        kpi, scope = parse_kpi_name(value)
        if kpi not in KPIS:
            raise ValueError(f"expected_kpi must name a scorecard KPI, optionally with a scope after ':' "
                             f"({', '.join(KPIS)}; e.g. hours_short:Bottling) (got '{value}')")
        return kpi_name(kpi, scope)

    @field_validator("expected_value", mode="before")
    @classmethod
    def _value(cls, value: Any) -> Any:
        """A finite number of at most ±``MAX_VALUE`` (``''``: none)."""
        if isinstance(value, str) and not value:
            return value
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"expected_value must be a number (got '{value}')") from None
        if not math.isfinite(number):  # '1e999' reads as infinity: JSON would write it as Infinity
            raise ValueError(f"expected_value must be a finite number (got '{value}')")
        if abs(number) > MAX_VALUE:
            raise ValueError(f"expected_value {number:g} is implausibly large (at most ±{MAX_VALUE:g})")
        return number


FIELDS = tuple(DecisionFields.model_fields)
REQUIRED = ("raised_cycle", "title", "owner", "function", "priority")
COLUMNS = ["id", *FIELDS, "created_at", "created_by", "updated_at", "updated_by", "changes"]
_ALLOWED = {"function": FUNCTIONS, "priority": PRIORITIES, "status": STATUSES}


def _problem(error: ErrorDetails) -> str:
    """One pydantic error in the planner's words."""
    name, kind, value = str(error["loc"][0]) if error["loc"] else "", error["type"], error.get("input")
    ctx = error.get("ctx", {})
    if kind == "extra_forbidden":
        return f"unknown field '{name}'"
    if kind == "literal_error":
        return f"{name} must be one of {', '.join(_ALLOWED[name])} (got '{value}')"
    if kind == "string_too_long":
        return f"{name} is {len(str(value)):,} characters long; at most {ctx['max_length']:,}"
    if kind == "string_pattern_mismatch":
        return f"{name} holds control characters{' or a line break' if ctx['pattern'] == _LINE else ''}"
    if kind == "value_error":  # the validators above: the message is already the planner's
        return str(ctx["error"])
    return f"{name}: {error['msg']}"


def _check(fields: dict[str, Any]) -> dict[str, Any]:
    """Validate and normalise field values (``DecisionFields``); raise ``DecisionError`` naming each bad one."""
    try:
        clean = DecisionFields.model_validate(fields).model_dump(exclude_unset=True)
    except ValidationError as exc:
        errors = exc.errors()
        unknown = sorted(_problem(e) for e in errors if e["type"] == "extra_forbidden")
        problems = unknown + [_problem(e) for e in errors if e["type"] != "extra_forbidden"]
        raise DecisionError("Decision not recorded: " + "; ".join(problems) + ".") from None
    return {k: clean[k] for k in fields if k in clean}  # in the order given


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


CANDIDATE_COLUMNS = ["key", "function", "priority", "title", "context", "options", "expected_kpi", "expected_value"]


def _capacity_items(capacity_review: pd.DataFrame) -> list[dict[str, Any]]:
    """One item per resource over capacity in some month: the hours short are the expected change."""
    rows = []
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
    return rows


def _budget_items(budget_gap: pd.DataFrame, gap_threshold_pct: float, currency: str) -> list[dict[str, Any]]:
    """One item per family with months beyond the budget-gap threshold."""
    # without a price list the plan has no revenue: the gap is in units (finance.budget_gap flags it so)
    money = bool(budget_gap["gap_revenue"].notna().all())
    measure, unit = ("revenue", currency) if money else ("units", "units")
    rows = []
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
    return rows


def _bias_items(plan_vs_actual: pd.DataFrame, ts_limit: float) -> list[dict[str, Any]]:
    """One item per family whose tracking signal is outside ±``ts_limit``."""
    by_month = plan_vs_actual.groupby(["family", "plan_cycle", "period"], as_index=False)[["actual", "forecast"]].sum()
    rows = []
    for fam, g in by_month.groupby("family"):
        ts = tracking_signal(g["actual"], g["forecast"])
        if abs(ts) > ts_limit:
            rows.append({
                "key": f"bias:{fam}", "function": "sales", "priority": "medium",
                "title": f"{fam} is consistently {'under' if ts > 0 else 'over'}-forecast: tracking signal {ts:+.1f}",
                "context": f"Tracking signal over {len(g)} plan-months outside ±{ts_limit:g}.",
                "options": "review overrides and promotions; check the model; adjust the consensus",
                "expected_kpi": f"tracking_signal:{fam}", "expected_value": -ts,
            })
    return rows


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
        rows += _capacity_items(capacity_review)
    if budget_gap is not None and len(budget_gap):
        rows += _budget_items(budget_gap, gap_threshold_pct, currency)
    if plan_vs_actual is not None and len(plan_vs_actual):
        rows += _bias_items(plan_vs_actual, ts_limit)
    out = pd.DataFrame(rows, columns=CANDIDATE_COLUMNS)
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
        if live or not review or Cycle.parse(review) > Cycle.parse(cycle):
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
