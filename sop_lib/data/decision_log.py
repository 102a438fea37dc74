"""The decision log's file: ``data/decisions/events.jsonl``, append-only, one JSON event a line.

Reading never loses a good line: a damaged one (cut short, not UTF-8, not an event, a number that is not finite)
is skipped and listed with its file and line. Appending happens under an exclusive lock and never glues an event
onto a line that was cut short. The events' meaning (ids, fields, replay) is ``review.decisions``'.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sop_lib.core.errors import SopError

ACTIONS = ("add", "update", "close")
_ID = re.compile(r"D-[0-9]{1,6}")


class DecisionEvents(list[dict[str, Any]]):
    """The decision log's events, with ``damaged``: the lines that could not be read (``file``, ``line``, ``problem``)."""

    damaged: list[dict[str, Any]]


def read_log(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The log's events, and its damaged lines (``file``, ``line``, ``problem``)."""

    if not path.exists():
        return [], []
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SopError(f"The decision log {path} cannot be read ({exc.strerror or exc}).") from None
    events, damaged = parse_log(data.split(b"\n"))
    return events, [{"file": str(path), **d} for d in damaged]


@contextmanager
def locked_log(path: Path) -> Iterator[DecisionEvents]:
    """Read the events under an exclusive lock; events appended to the yielded list are written at the end
    (append-only: earlier lines, damaged ones included, are never rewritten). The list's ``damaged`` names
    the lines that could not be read."""
    from filelock import FileLock, Timeout

    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path.with_suffix(".lock")), is_singleton=True)
    try:
        lock.acquire(timeout=60)
    except Timeout:
        raise SopError(f"The decision log {path} is locked by another command for more than a minute; "
                       "try again when it has finished.") from None
    try:
        read, damaged = read_log(path)
        events = DecisionEvents(read)
        events.damaged = damaged
        n = len(events)
        yield events
        _append(path, events[n:])
    finally:
        lock.release()


def _append(path: Path, new: list[dict[str, Any]]) -> None:
    if not new:
        return
    text = "".join(json.dumps(_finite(ev), ensure_ascii=False, default=str, allow_nan=False) + "\n" for ev in new)
    with open(path, "ab") as fh:
        if fh.tell() and not _ends_with_newline(path):
            text = "\n" + text  # the last line was cut short: never glue an event onto it
        fh.write(text.encode("utf-8"))
        fh.flush()
        os.fsync(fh.fileno())


def _finite(value: Any) -> Any:
    """``value`` with every float that is not finite replaced by None (JSON has no Infinity or NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"


def parse_log(lines: list[bytes]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The events of the log's ``lines`` (bytes, one JSON object each), and the damaged lines as ``line``
    (1-based) and ``problem``. A damaged line is skipped and the rest still read: a line cut short or not UTF-8,
    not an event (id, action, at, author, fields), an update of an id the log never added, or a second add of
    one. A number that is not finite (``Infinity``, ``NaN``) is dropped from its event, which is kept."""
    events: list[dict[str, Any]] = []
    damaged: list[dict[str, Any]] = []
    added: set[str] = set()
    for number, raw in enumerate(lines, start=1):
        raw = raw.rstrip(b"\r")
        if not raw.strip():
            continue
        try:
            ev = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            damaged.append({"line": number, "problem": "not UTF-8 text: skipped"})
            continue
        except json.JSONDecodeError as exc:
            damaged.append({"line": number, "problem": f"not a complete JSON object ({exc.msg.removesuffix(' at')}, "
                                                     f"column {exc.colno}: cut short?): skipped"})
            continue
        problem = _event_problem(ev, added)
        if problem:
            damaged.append({"line": number, "problem": f"{problem}: skipped"})
            continue
        bad = sorted(k for k, v in ev["fields"].items() if isinstance(v, float) and not math.isfinite(v))
        if bad:
            ev["fields"] = {k: v for k, v in ev["fields"].items() if k not in bad}
            damaged.append({"line": number, "problem": f"{', '.join(bad)} is not a finite number: ignored"})
        if ev["action"] == "add":
            added.add(ev["id"])
        events.append(ev)
    return events, damaged


def _event_problem(ev: Any, added: set[str]) -> str:
    if not isinstance(ev, dict):
        return "not an event (a JSON object with id, action, at, author and fields)"
    missing = [k for k in ("id", "action", "at", "author", "fields") if k not in ev]
    if missing:
        return f"not an event: no {', '.join(missing)}"
    if not isinstance(ev["id"], str) or not _ID.fullmatch(ev["id"]):
        return f"id {ev['id']!r} is not of the form D-001"
    if ev["action"] not in ACTIONS:
        return f"action {ev['action']!r} is not one of {', '.join(ACTIONS)}"
    if not isinstance(ev["fields"], dict) or not all(isinstance(v, str | int | float | bool | None) for v in ev["fields"].values()):
        return "its fields are not a list of field: value"
    if not isinstance(ev["at"], str) or not isinstance(ev["author"], str):
        return "its time or author is not text"
    if ev["action"] == "add" and ev["id"] in added:
        return f"{ev['id']} was already added earlier in the log"
    if ev["action"] != "add" and ev["id"] not in added:
        return f"{ev['action']} of {ev['id']}, which no earlier line adds"
    return ""
