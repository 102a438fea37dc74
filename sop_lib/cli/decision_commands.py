"""``sop decision``: the decision priority log (add, list, update, close, history)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from sop_lib.cli.common import RootOpt, app
from sop_lib.cli.common import echo as _echo
from sop_lib.core.cycle import Cycle

decision_app = typer.Typer(help="The decision priority log: add, list, update, close, history.", no_args_is_help=True)
app.add_typer(decision_app, name="decision")


def _warn_damaged(damaged: list[dict[str, object]]) -> None:
    """The decision log's damaged lines, on stderr: the command goes on with the lines that could be read."""
    for d in damaged:
        typer.echo(f"Warning: {d['file']} line {d['line']}: {d['problem']}. Fix or delete that line; the other "
                   "lines are read.", err=True)


def _author(author: str | None) -> str:
    import getpass

    return author or os.environ.get("SOP_AUTHOR") or getpass.getuser()


AuthorOpt = Annotated[str | None, typer.Option(help="who makes the change (default: $SOP_AUTHOR, else the login)")]


@decision_app.command("add")
def decision_add(
    title: Annotated[str, typer.Option(help="what must be decided")],
    owner: Annotated[str, typer.Option(help="who owns the decision")],
    function: Annotated[str, typer.Option(help="sales, operations, finance or executive")],
    priority: Annotated[str, typer.Option(help="high, medium or low")],
    cycle: Annotated[Cycle, typer.Option("--cycle", "-c", help="cycle in which it is raised, YYYY-MM or YYYY-Qn",
                                         parser=Cycle.parse, metavar="YYYY-MM")],
    context: Annotated[str | None, typer.Option(help="why it comes up")] = None,
    options: Annotated[str | None, typer.Option(help="the options on the table")] = None,
    due: Annotated[str | None, typer.Option(help="due date YYYY-MM-DD")] = None,
    expected_kpi: Annotated[str | None, typer.Option(help="the KPI it should move")] = None,
    expected_value: Annotated[str | None, typer.Option(help="by how much (a number, in the KPI's unit)")] = None,
    review_cycle: Annotated[Cycle | None, typer.Option(help="cycle in which to check its effect, YYYY-MM or YYYY-Qn",
                                                       parser=Cycle.parse, metavar="YYYY-MM")] = None,
    author: AuthorOpt = None,
    root: RootOpt = None,
) -> None:
    """Raise a new decision in the log."""
    from sop_lib.data.store import Store
    from sop_lib.review.decisions import add_event

    fields = {"raised_cycle": cycle, "title": title, "owner": owner, "function": function, "priority": priority,
              "context": context, "options": options, "due": due, "expected_kpi": expected_kpi,
              "expected_value": expected_value, "review_cycle": review_cycle}
    with Store(root).decision_log() as events:
        _warn_damaged(events.damaged)
        ev = add_event(events, fields, _author(author))
        events.append(ev)
    _echo(f"{ev['id']} added: {ev['fields']['title']}")


@decision_app.command("list")
def decision_list(
    all_: Annotated[bool, typer.Option("--all", help="closed and dropped ones too")] = False,
    root: RootOpt = None,
) -> None:
    """Open decisions by priority and due date (age in days, overdue flagged); --all for every decision."""
    import datetime as dt

    from sop_lib.data.store import Store
    from sop_lib.review.decisions import open_items, replay

    events, damaged = Store(root).read_decision_log()
    _warn_damaged(damaged)
    log = replay(events)
    if log.empty:
        _echo("The decision log is empty. Add one with `sop decision add`.")
        return
    shown = log if all_ else open_items(log, dt.date.today())
    cols = ["id", "priority", "status", "title", "owner", "function", "due", "raised_cycle"]
    cols += [c for c in ("age_days", "overdue") if c in shown]
    _echo(shown[cols].fillna("").to_string(index=False))


@decision_app.command("update")
def decision_update(
    decision_id: Annotated[str, typer.Argument(help="e.g. D-001")],
    set_: Annotated[list[str], typer.Option("--set", help="field=value; repeat for several fields")],
    author: AuthorOpt = None,
    root: RootOpt = None,
) -> None:
    """Change fields of a decision (e.g. --set status=decided --set due=2026-12-20); the change is logged."""
    from sop_lib.data.store import Store
    from sop_lib.review.decisions import DecisionError, update_event

    fields: dict[str, str] = {}
    for item in set_:
        if "=" not in item:
            raise DecisionError(f"--set takes field=value (got '{item}').")
        key, value = item.split("=", 1)
        fields[key.strip()] = value
    with Store(root).decision_log() as events:
        _warn_damaged(events.damaged)
        ev = update_event(events, decision_id, fields, _author(author))
        events.append(ev)
    _echo(f"{decision_id} updated: " + ", ".join(f"{k}={v}" for k, v in ev["fields"].items()))


@decision_app.command("close")
def decision_close(
    decision_id: Annotated[str, typer.Argument(help="e.g. D-001")],
    decision: Annotated[str, typer.Option(help="what was decided")],
    rationale: Annotated[str, typer.Option(help="why")],
    author: AuthorOpt = None,
    root: RootOpt = None,
) -> None:
    """Close a decision with what was decided and why."""
    from sop_lib.data.store import Store
    from sop_lib.review.decisions import close_event

    with Store(root).decision_log() as events:
        _warn_damaged(events.damaged)
        events.append(close_event(events, decision_id, decision, rationale, _author(author)))
    _echo(f"{decision_id} closed.")


@decision_app.command("history")
def decision_history(
    decision_id: Annotated[str, typer.Argument(help="e.g. D-001")], root: RootOpt = None
) -> None:
    """Every change of one decision, with time and author."""
    from sop_lib.data.store import Store
    from sop_lib.review.decisions import DecisionError, history

    events, damaged = Store(root).read_decision_log()
    _warn_damaged(damaged)
    h = history(events, decision_id)
    if h.empty:
        raise DecisionError(f"No decision {decision_id} in the log.")
    _echo(h.to_string(index=False))
