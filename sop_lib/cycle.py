"""A planning cycle as the workbooks see it: parameters, the frozen snapshot, and where results go."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import CycleAlreadyPublished
from .params import CycleParams, load_params
from .store import Snapshot, Store, parse_cycle
from .validate import validate_inputs


@dataclass
class CycleContext:
    """Everything a workbook needs. ``run_dir`` receives this run's results; earlier steps' results are
    read from it first, then from the cycle's published results."""

    store: Store
    cycle: str
    params: CycleParams
    snapshot: Snapshot
    run_dir: Path

    @property
    def cycle_start(self) -> pd.Timestamp:
        return parse_cycle(self.cycle)

    def table(self, name: str) -> pd.DataFrame:
        """An input table from the snapshot (a copy: the snapshot itself stays frozen)."""
        return self.snapshot[name].copy()

    def result(self, name: str) -> pd.DataFrame:
        return self.store.read_result(self.cycle, self.run_dir, name)

    def save(self, name: str, frame: pd.DataFrame) -> Path:
        return self.store.write_result(self.run_dir, name, frame)

    def published_plans(self, name: str = "forecast") -> dict[str, pd.DataFrame]:
        """Result ``name`` as each earlier cycle published it, by cycle id (the archive)."""
        return {c: self.store.read_published(c, name) for c in self.store.published_cycles(before=self.cycle)}


def open_cycle(
    cycle: str = "", root: str = "", run_dir: str = "", overrides: dict[str, Any] | None = None
) -> CycleContext:
    """Open a cycle for a workbook. Empty ``cycle`` = the latest cycle with a snapshot; empty ``run_dir``
    = the cycle's scratch folder (so hand runs in JupyterLab never touch published results)."""
    store = Store(root or None)
    cycle = cycle or store.latest_cycle()
    params = load_params(store.params_dir, cycle, overrides)
    snapshot = store.read_snapshot(cycle)
    folder = Path(run_dir) if run_dir else store.scratch_dir(cycle)
    (folder / "results").mkdir(parents=True, exist_ok=True)
    return CycleContext(store, cycle, params, snapshot, folder)


def take_snapshot(store: Store, cycle: str, inputs_dir: Path | None = None, force: bool = False) -> Snapshot:
    """Validate the inputs folder and freeze it as the cycle's snapshot.

    Raises ``InputInvalid`` (every problem listed) before writing anything, and ``CycleAlreadyPublished``
    when the cycle was published and ``force`` is not set.
    """
    start = parse_cycle(cycle)
    if store.is_published(cycle) and not force:
        raise CycleAlreadyPublished(
            f"Cycle {cycle} is already published; its snapshot is what its pack shows. "
            "Pass --force to take a new snapshot and re-run it (the published version is kept under superseded/)."
        )
    folder = inputs_dir or store.inputs_dir
    validated = validate_inputs(folder, start)
    return store.write_snapshot(cycle, validated.tables, validated.sources, validated.warnings)
