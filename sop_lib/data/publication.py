"""How a run becomes the cycle's record: its results staged beside ``published/`` and swapped in, its snapshot
swapped in for the cycle's, each earlier version kept under ``superseded/``. Every step is a rename that does
nothing when already done, so a run killed half-way through publishing is finished by the next run of the cycle.
Part of ``store.Store`` (mixed in), which holds the paths.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sop_lib.core.cycle import Cycle
from sop_lib.core.errors import SopError


class PublicationMixin:
    """Publication steps of ``Store``, which provides the paths and the publication record."""

    if TYPE_CHECKING:  # what ``Store`` provides
        def cycle_dir(self, cycle: Cycle | str) -> Path: ...
        def published_dir(self, cycle: Cycle | str) -> Path: ...
        def published_info(self, cycle: Cycle | str) -> dict[str, Any]: ...

    def publish_results(self, cycle: Cycle | str, run_dir: Path, info: dict[str, Any]) -> Path:
        """Copy a run's results into ``published/`` (the archive the next cycles read), read-only.
        A previously published version is kept under ``superseded/``."""
        cycle = Cycle.parse(cycle)
        return self.swap_published(cycle, self.stage_published(cycle, run_dir, info))

    def staged_published_dir(self, cycle: Cycle | str, run_id: str) -> Path:
        return self.cycle_dir(cycle) / f".published-{run_id}"

    def stage_published(self, cycle: Cycle | str, run_dir: Path, info: dict[str, Any]) -> Path:
        """The run's results and ``published.json`` in a folder beside ``published/``, ready to replace it."""
        tmp = self.staged_published_dir(cycle, run_dir.name)
        if tmp.exists():
            shutil.rmtree(tmp)
        shutil.copytree(run_dir / "results", tmp)
        (tmp / "published.json").write_text(json.dumps(info, indent=2, default=str), encoding="utf-8")
        return tmp

    def swap_published(self, cycle: Cycle | str, staged: Path) -> Path:
        """Put ``staged`` (from ``stage_published``) in place of ``published/``, the earlier version moved to
        ``superseded/<its run id>/``. Does nothing if ``staged`` is gone (already swapped)."""
        cycle = Cycle.parse(cycle)
        final = self.published_dir(cycle)
        if not staged.exists():
            return final
        if final.exists():
            keep = _free_name(self.cycle_dir(cycle) / "superseded" / (self._published_run_id(cycle) or "unknown"))
            keep.parent.mkdir(parents=True, exist_ok=True)
            _make_writable(final)
            final.rename(keep)
            _make_read_only(keep)
        staged.rename(final)
        _make_read_only(final)
        return final

    def _published_run_id(self, cycle: Cycle | str) -> str:
        try:
            return str(self.published_info(cycle).get("run_id") or "")
        except SopError:  # a damaged record must not stop a publication half-way
            return ""

    def swap_snapshot(self, cycle: Cycle | str, staged: Path) -> Path:
        """Put a run's snapshot folder ``staged`` in place of the cycle's snapshot, the earlier one kept beside the
        results it produced (``superseded/<run id>-snapshot/``). Does nothing if ``staged`` is gone."""
        cycle = Cycle.parse(cycle)
        final = self.cycle_dir(cycle) / "snapshot"
        if not staged.exists():
            return final
        if final.exists():
            run_id = self._published_run_id(cycle)
            name = f"{run_id}-snapshot" if run_id else f"unpublished-{dt.datetime.now():%Y%m%dT%H%M%S}"
            keep = _free_name(self.cycle_dir(cycle) / "superseded" / name)
            keep.parent.mkdir(parents=True, exist_ok=True)
            final.rename(keep)
        staged.rename(final)
        return final


def _free_name(path: Path) -> Path:
    """``path``, or ``path-2``, ``path-3``… if it exists."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate


def _make_read_only(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)


def _make_writable(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            path.chmod(stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IROTH)
