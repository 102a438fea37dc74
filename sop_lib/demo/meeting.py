"""The demo company's S&OP meeting: after each demo cycle is published, the meeting takes a decision on the
items its exceptions raised, so the next cycles' packs have decisions to follow through; and the decisions
operations then put into the demo's later extracts.

Only the demo does this; a real log is changed by people, with ``sop decision``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from sop_lib.core.cycle import Cycle
from sop_lib.data.store import Store
from sop_lib.demo.spec import _DECIDED_SHIFTS
from sop_lib.review.decisions import close_event, replay, update_event

# per kind of item (the part of its key before ':'): who decides, what, and why
DECISIONS: dict[str, dict[str, str]] = {
    "capacity": {
        "owner": "Operations director",
        "decision": "Weekend shifts on {scope} in the short months (+160 h a month); build ahead in the month before",
        "rationale": "Overtime costs less than the margin of the sales we would lose",
    },
    "budget": {
        "owner": "Finance director",
        "decision": "Keep the budget; sales bring recovery actions for {scope} (promotion, listings) to the next cycle",
        "rationale": "The gap is within what the second half can recover; revising the budget now would hide it",
    },
}


def hold_demo_meeting(store: Store, cycle: Cycle, review_cycle: Cycle, author: str = "demo meeting") -> list[str]:
    """Decide and close the open items raised in ``cycle`` that have an expected effect and whose kind has a
    scripted decision, to be reviewed in ``review_cycle``; returns their ids. Others stay open."""
    closed: list[str] = []
    with store.decision_log() as events:
        log = replay(events)
        mine = log[(log["raised_cycle"] == cycle.id) & (log["status"] == "open") & log["key"].notna()
                   & log["expected_kpi"].notna()]  # items with an effect to follow through
        for item in mine.to_dict(orient="records"):
            kind, _, scope = str(item["key"]).partition(":")
            script: dict[str, Any] | None = DECISIONS.get(kind)
            if script is None:
                continue
            events.append(update_event(events, item["id"], {"owner": script["owner"], "status": "decided",
                                                            "review_cycle": review_cycle}, author))
            events.append(close_event(events, item["id"], script["decision"].format(scope=scope),
                                      script["rationale"], author))
            closed.append(item["id"])
    return closed


def with_decided_shifts(capacity: pd.DataFrame, cycle: Cycle) -> pd.DataFrame:
    """The capacity table of ``cycle``'s extract with the shifts earlier demo meetings decided and operations
    then planned (``spec._DECIDED_SHIFTS``): the decisions the follow-through can measure."""
    out = capacity.copy()
    for first_cycle, resource, since, until, hours in _DECIDED_SHIFTS:
        if cycle >= first_cycle:
            rows = (out["resource"] == resource) & out["period"].between(since, until)
            out.loc[rows, "available_hours"] += hours
    return out
