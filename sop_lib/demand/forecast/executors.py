"""Where batches run: local processes (default, all cores) or a Dask distributed cluster. Both map the
same function over the same batches, so results are identical."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Literal, TypeVar

from sop_lib.core.errors import SopError

T = TypeVar("T")
R = TypeVar("R")

ExecutorKind = Literal["local", "dask"]


def map_batches(
    fn: Callable[[T], R],
    tasks: Sequence[T],
    executor: ExecutorKind = "local",
    workers: int = 0,
    scheduler: str = "",
    progress: Callable[[int], None] | None = None,
    weights: Sequence[int] | None = None,
) -> list[R]:
    """``[fn(t) for t in tasks]`` in parallel, results in task order; ``progress(w)`` after each task,
    with the task's weight (e.g. its number of series; 1 by default).

    ``local``: a process pool of ``workers`` (0 = all cores; 1 = in this process). Workers are forked, so
    they inherit imported libraries (Prophet is imported first: forked workers then clean up CmdStan's
    temporary files). ``dask``: the cluster at ``scheduler`` (``tcp://host:8786``); its workers need this
    package installed. Functions run by workers live in sop_lib, never in a notebook. Local workers end with
    the process that made the pool, however it ends (``_end_with_parent``).
    """
    w = list(weights) if weights is not None else [1] * len(tasks)
    if executor == "dask":
        return _dask_map(fn, tasks, scheduler, progress, w)
    n = workers or os.cpu_count() or 1
    if n == 1 or len(tasks) <= 1:
        out = []
        for i, task in enumerate(tasks):
            out.append(fn(task))
            if progress:
                progress(w[i])
        return out
    import prophet  # noqa: F401  # see docstring

    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
    results: dict[int, R] = {}
    with ProcessPoolExecutor(max_workers=min(n, len(tasks)), mp_context=ctx, initializer=_end_with_parent,
                             initargs=(os.getpid(),)) as pool:
        futures = {pool.submit(fn, task): i for i, task in enumerate(tasks)}
        for fut in as_completed(futures):
            results[futures[fut]] = fut.result()
            if progress:
                progress(w[futures[fut]])
    return [results[i] for i in range(len(tasks))]


PR_SET_PDEATHSIG = 1  # linux/prctl.h
PARENT_POLL_S = 0.5


def _end_with_parent(parent: int) -> None:
    """Pool worker initializer: end this worker as soon as ``parent`` (the process that made the pool) ends.

    A forked worker waits on the pool's queue, whose writing end it holds itself: when its parent is killed
    (``kill -9`` of ``sop run`` ends the kernel within a second), nothing tells it, and it would wait for ever
    with the parent's memory (≈ 300 MB). On Linux the kernel sends it SIGKILL when the parent dies
    (PR_SET_PDEATHSIG: measured < 0.1 s); elsewhere a thread polls the parent id every ``PARENT_POLL_S``.
    """
    armed = False
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            armed = ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if not armed:
        threading.Thread(target=_poll_parent, args=(parent,), daemon=True, name="sop-parent-poll").start()
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


def _poll_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os._exit(1)


def _dask_map(
    fn: Callable[[T], R], tasks: Sequence[T], scheduler: str, progress: Callable[[int], None] | None, weights: list[int]
) -> list[R]:
    if not scheduler:
        raise SopError("executor 'dask' needs a scheduler address in params (forecast.scheduler: tcp://host:8786).")
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise SopError("executor 'dask' needs the 'distributed' package (pip install 'dask[distributed]').") from None
    try:
        client = Client(scheduler, timeout="10s", set_as_default=False)
    except OSError as exc:
        raise SopError(f"Cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    try:
        futures = client.map(fn, list(tasks), pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        results: dict[int, R] = {}
        for fut in dask_completed(futures, loop=client.loop):  # this client is not the process default
            results[index[fut.key]] = fut.result()
            if progress:
                progress(weights[index[fut.key]])
        return [results[i] for i in range(len(tasks))]
    finally:
        client.close()
