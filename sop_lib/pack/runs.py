"""A ``sop run`` as folders and processes: its in-progress marker, the processes it starts, what a signal does
to them, and what an interrupted run leaves for the next run to clear away.

Processes. Each workbook runs in its own kernel, which jupyter_client starts in a new session (its own process
group); the forecast's pool workers are forked by the kernel, so they share its group and its command line.
Every kernel of a run gets a connection file named after the run (``sop-kernel-<cycle>-<run id>-<workbook
number>.json`` in the temporary folder, whose path is short enough for the kernel's ipc socket names): the run's
processes are exactly those whose command line holds ``sop-kernel-<cycle>-<run id>-``, wherever they were
re-parented.

- SIGTERM or SIGINT to ``sop run``: ``interrupt_guard``'s handler stops those processes (SIGTERM, then SIGKILL
  after a grace period) and raises ``RunInterrupted``; the run then removes its folder and staging pack.
- ``kill -9`` of ``sop run``: the kernel's own parent poller (ipykernel) ends it within a second, and the pool
  workers end with the kernel (``demand.forecast.executors`` arms PR_SET_PDEATHSIG, or polls the parent
  elsewhere). The run's folder keeps ``running.json``; the next run of the cycle (under the cycle's lock, so no live run of
  the cycle can own it) finds it, stops any process still holding the token, removes the connection files, the
  folder and the staging pack, and says so (``find_interrupted``, ``clear_leftover``; ``run.clear_interrupted_runs``
  calls them).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RUNNING = "running.json"  # in a run folder while the run is in progress
RECORD = "run.json"  # in a run folder once the run has ended (published or failed)
GRACE_S = 3.0  # between SIGTERM and SIGKILL of a run's processes


class RunInterrupted(BaseException):  # noqa: N818 - like KeyboardInterrupt, it must pass `except Exception`
    """``sop run`` received SIGTERM or SIGINT: its processes were stopped and nothing was published."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"Interrupted by {signal.Signals(signum).name}")


def kernel_token(run_dir: Path) -> str:
    """The text every process of the run has in its command line (through its kernel's connection file)."""
    return f"sop-kernel-{run_dir.parent.parent.name}-{run_dir.name}-"  # cycle and run id


def connection_file(run_dir: Path, step: str) -> Path:
    """Where the kernel of ``step`` writes its connection file; its ipc sockets are named after it."""
    return Path(tempfile.gettempdir()) / f"{kernel_token(run_dir)}{step[:2]}.json"


def kernel_files(run_dir: Path) -> list[Path]:
    """Connection files and ipc sockets of the run's kernels (a killed kernel leaves them behind)."""
    return sorted(Path(tempfile.gettempdir()).glob(f"{kernel_token(run_dir)}*"))


def mark_running(run_dir: Path, cycle: str, phase: str = "running", **info: Any) -> None:
    """Write (or update) the run folder's in-progress marker: this process, the phase, what to clean."""
    record = {"cycle": cycle, "run_id": run_dir.name, "pid": os.getpid(), "pid_started": _started(os.getpid()),
              "phase": phase, "token": kernel_token(run_dir), "updated_at": _now(), **info}
    tmp = run_dir / f".{RUNNING}.tmp"
    tmp.write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, run_dir / RUNNING)


def mark_ended(run_dir: Path, status: str, **info: Any) -> None:
    """Replace the in-progress marker with the run's record (``published`` or ``failed``)."""
    (run_dir / RECORD).write_text(json.dumps({"run_id": run_dir.name, "status": status, "ended_at": _now(), **info},
                                             indent=2, default=str), encoding="utf-8")
    (run_dir / RUNNING).unlink(missing_ok=True)


def read_marker(run_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((run_dir / RUNNING).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # a marker cut short by the kill: the run is stale all the same
    return data if isinstance(data, dict) else {}


def is_alive(marker: dict[str, Any]) -> bool:
    """The process that wrote ``marker`` still runs (same pid, same start time: not a reused pid)."""
    pid = marker.get("pid")
    if not isinstance(pid, int) or pid == os.getpid():
        return False
    started = _started(pid)
    return started is not None and (marker.get("pid_started") is None or abs(started - marker["pid_started"]) < 1)


# --- processes ---------------------------------------------------------------------------------------
def run_processes(token: str) -> list[Any]:
    """Live processes whose command line holds ``token`` (a run's kernels and their pool workers)."""
    import psutil  # a dependency of ipykernel

    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "status"]):
        try:
            if proc.info["status"] == psutil.STATUS_ZOMBIE or proc.pid == os.getpid():
                continue
            if any(token in part for part in proc.info["cmdline"] or ()):
                found.append(proc)
        except (psutil.Error, TypeError):
            continue
    return found


def signal_processes(token: str, signum: int = signal.SIGTERM) -> int:
    """Send ``signum`` to every process of the run; returns how many there were."""
    import psutil

    procs = run_processes(token)
    for proc in procs:
        with suppress(psutil.Error):
            proc.send_signal(signum)
    return len(procs)


def stop_processes(token: str, grace_s: float = GRACE_S) -> int:
    """SIGTERM to the run's processes, SIGKILL to those alive after ``grace_s``; reap the ones that are this
    process's children (the kernels). Returns how many processes there were."""
    import psutil

    procs = run_processes(token)
    for proc in procs:
        with suppress(psutil.Error):
            proc.terminate()
    _, alive = psutil.wait_procs(procs, timeout=grace_s)
    for proc in alive:
        with suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(alive, timeout=grace_s)
    return len(procs)


def remove_kernel_files(run_dir: Path) -> int:
    files = kernel_files(run_dir)
    for path in files:
        path.unlink(missing_ok=True)
    return len(files)


# --- signals ----------------------------------------------------------------------------------------
@dataclass
class Guard:
    """State shared with the signal handler: while ``deferred`` (publishing), a signal waits for the end."""

    token: str
    interrupted: int = 0
    deferred: bool = False
    pending: list[int] = field(default_factory=list)

    @contextmanager
    def defer(self) -> Iterator[None]:
        """Signals received inside wait (the publication is a few renames: finish it rather than leave it half)."""
        self.deferred = True
        try:
            yield
        finally:
            self.deferred = False


@contextmanager
def interrupt_guard(token: str) -> Iterator[Guard]:
    """SIGTERM and SIGINT stop the run's processes and raise ``RunInterrupted`` in the main thread (which then
    cleans up); a second signal during the clean-up is recorded, not raised. Off the main thread (where Python
    cannot install handlers) the guard does nothing."""
    guard = Guard(token)
    if threading.current_thread() is not threading.main_thread():
        yield guard
        return

    def handler(signum: int, frame: Any) -> None:
        if guard.deferred or guard.interrupted:
            guard.pending.append(signum)
            return
        guard.interrupted = signum
        signal_processes(token)  # the kernels and workers start stopping now; the clean-up makes sure
        raise RunInterrupted(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield guard
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


# --- what an interrupted run left ---------------------------------------------------------------------
@dataclass
class Leftover:
    """An interrupted run found by a later run: its folder, its marker, and what was done about it."""

    run_dir: Path
    marker: dict[str, Any]
    done: list[str] = field(default_factory=list)

    @property
    def publishing(self) -> bool:
        return self.marker.get("phase") == "publishing"


def find_interrupted(runs_dir: Path) -> list[Leftover]:
    """Run folders still marked in progress whose process is gone."""
    if not runs_dir.exists():
        return []
    found = []
    for folder in sorted(p for p in runs_dir.iterdir() if (p / RUNNING).exists()):
        marker = read_marker(folder)
        if not is_alive(marker):
            found.append(Leftover(folder, marker))
    return found


def clear_leftover(left: Leftover, staging: Path, finish: Callable[[Leftover], None] | None = None) -> Leftover:
    """Stop the run's surviving processes, remove its kernels' files, and then either ``finish`` it (a run killed
    while publishing: the publication is completed) or remove its folder and its staging pack."""
    stopped = stop_processes(kernel_token(left.run_dir))
    if stopped:
        left.done.append(f"stopped {stopped} process{'es' if stopped != 1 else ''} it had left running")
    if remove_kernel_files(left.run_dir):
        left.done.append("removed its kernel connection files")
    if left.publishing and finish is not None:
        finish(left)
        left.done.append("completed its publication")
        return left
    shutil.rmtree(left.run_dir, ignore_errors=True)
    if staging.exists():
        shutil.rmtree(staging, ignore_errors=True)
        left.done.append("removed its partial folder and staging pack")
    else:
        left.done.append("removed its partial folder")
    return left


def _started(pid: int) -> float | None:
    try:
        import psutil

        return float(psutil.Process(pid).create_time())
    except Exception:  # no such process, or no permission to see it
        return None


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")

