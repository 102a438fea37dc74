"""Every file the suite reads or writes, with paths derived from one root.

Layout under the root (a project checkout, or any folder with ``params/defaults.yaml``)::

    params/defaults.yaml, params/<cycle>.yaml     parameters
    inputs/<table>.{csv,parquet,xlsx}              the extract a user (or ``sop demo``) supplies
    data/cycles/<cycle>/snapshot/                  frozen, validated inputs + manifest.json (the published run's)
    data/cycles/<cycle>/runs/<run_id>/             one ``sop run``: executed notebooks + results/, its own
                                                   snapshot/ until it is published, running.json while it runs
    data/cycles/<cycle>/scratch/                   results of notebooks run by hand in JupyterLab
    data/cycles/<cycle>/published/                 the published results (read-only; the archive)
    reports/<cycle>/                               the published HTML pack
    data/.locks/<cycle>.lock                       held by the command writing the cycle's data

Every method that takes a cycle takes a ``Cycle`` or its id: an id given as text is parsed (``Cycle.parse``)
before any file named after it is opened; a ``Cycle`` was parsed where it came in and is not parsed again.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from sop_lib.core.cycle import Cycle, cycle_key, is_cycle
from sop_lib.core.errors import CycleLocked, CycleNotFound, DamagedFile, ParamsError, SopError
from sop_lib.core.exports import neutralise_formulas
from sop_lib.data.decision_log import DecisionEvents, locked_log, read_log
from sop_lib.data.input_files import sha256_file
from sop_lib.data.overrides_file import (
    load_overrides,
    overrides_path,
    read_overrides_file,
    replace_atomically,
)
from sop_lib.data.project import find_root
from sop_lib.data.publication import PublicationMixin
from sop_lib.data.snapshot import Snapshot


class Store(PublicationMixin):
    """Paths and file I/O under one root."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = find_root(root)
        self._snapshot_dirs: dict[str, Path] = {}

    def with_snapshot(self, cycle: Cycle | str, folder: Path) -> Store:
        """This store, with ``cycle``'s snapshot read from and written to ``folder`` instead of the cycle's own
        (a run's snapshot, which replaces the cycle's only when the run is published)."""
        other = copy.copy(self)
        other._snapshot_dirs = {**self._snapshot_dirs, Cycle.parse(cycle).id: Path(folder)}
        return other

    def for_run(self, cycle: Cycle | str, run_dir: Path) -> Store:
        """The store as a run (or a workbook opened with its ``run_dir``) sees it: the run's own snapshot
        (``<run_dir>/snapshot/``) when it has one, else the cycle's."""
        own = Path(run_dir) / "snapshot"
        return self.with_snapshot(cycle, own) if (own / "manifest.json").exists() else self

    # --- paths -------------------------------------------------------------------------------
    @property
    def params_dir(self) -> Path:
        return self.root / "params"

    @property
    def inputs_dir(self) -> Path:
        return self.root / "inputs"

    @property
    def validation_dir(self) -> Path:
        """Where the full list of a failed validation's problems is written (``problems-<time>.csv``)."""
        return self.root / "data" / "validation"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @property
    def notebooks_dir(self) -> Path:
        local = self.root / "notebooks"
        return local if local.exists() else Path(__file__).resolve().parents[2] / "notebooks"

    def cycle_dir(self, cycle: Cycle | str) -> Path:
        """``data/cycles/<cycle>/``: the cycle's snapshot, runs and published results."""
        return self.root / "data" / "cycles" / Cycle.parse(cycle).id

    def snapshot_dir(self, cycle: Cycle | str) -> Path:
        cycle = Cycle.parse(cycle)
        return self._snapshot_dirs.get(cycle.id) or self.cycle_dir(cycle) / "snapshot"

    def published_dir(self, cycle: Cycle | str) -> Path:
        return self.cycle_dir(cycle) / "published"

    def scratch_dir(self, cycle: Cycle | str) -> Path:
        return self.cycle_dir(cycle) / "scratch"

    def runs_dir(self, cycle: Cycle | str) -> Path:
        return self.cycle_dir(cycle) / "runs"

    def new_run_dir(self, cycle: Cycle | str) -> Path:
        run_id = dt.datetime.now().strftime("%Y%m%dT%H%M%S%f")
        folder = self.runs_dir(cycle) / run_id
        (folder / "results").mkdir(parents=True)
        return folder

    def report_dir(self, cycle: Cycle | str) -> Path:
        return self.reports_dir / Cycle.parse(cycle).id

    # --- cycles ------------------------------------------------------------------------------
    def _cycle_ids(self, holding: str) -> list[str]:
        """Ids of the cycle folders (a folder whose name is not a cycle id is ignored) that hold ``holding``,
        oldest first (months and quarters in time order: ``cycle_key``)."""
        base = self.root / "data" / "cycles"
        if not base.exists():
            return []
        return sorted((p.name for p in base.iterdir() if is_cycle(p.name) and (p / holding).exists()), key=cycle_key)

    def cycles(self) -> list[str]:
        """Cycles with a snapshot, oldest first."""
        return self._cycle_ids("snapshot/manifest.json")

    def latest_cycle(self) -> str:
        cycles = self.cycles()
        if not cycles:
            raise CycleNotFound(
                f"No cycle has a snapshot under {self.root / 'data' / 'cycles'} yet. "
                "Run `sop run --cycle YYYY-MM` (or `make demo`) first."
            )
        return cycles[-1]

    def is_published(self, cycle: Cycle | str) -> bool:
        return (self.published_dir(cycle) / "published.json").exists()

    def published_cycles(self, before: Cycle | str | None = None) -> list[str]:
        """Published cycles (those before ``before`` if given, whatever their cadence), oldest first."""
        last = None if before is None else Cycle.parse(before)
        return [c for c in self._cycle_ids("published/published.json") if last is None or Cycle.parse(c) < last]

    def published_info(self, cycle: Cycle | str) -> dict[str, Any]:
        """``published/published.json`` of a published cycle: run id, snapshot fingerprint, time (empty if none)."""
        path = self.published_dir(cycle) / "published.json"
        if not path.exists():
            return {}
        return _read_json(path, "the record of the cycle's publication")

    @contextmanager
    def cycle_lock(self, cycle: Cycle | str, command: str = "") -> Iterator[None]:
        """One command writing a cycle's data at a time (``sop run``, ``snapshot``, ``demo``, ``forecast``): the
        second is refused with ``CycleLocked`` (exit code 5), naming the holder. Re-entrant within a process
        (the demo holds it around a run); the OS releases it if the process dies."""
        from filelock import FileLock, Timeout

        cycle = Cycle.parse(cycle)
        path = self.root / "data" / ".locks" / f"{cycle.id}.lock"  # outside the cycle: a refused run leaves it untouched
        path.parent.mkdir(parents=True, exist_ok=True)
        holder = path.with_suffix(".holder.json")
        lock = FileLock(str(path), is_singleton=True)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise CycleLocked(
                f"Another run of cycle {cycle} is in progress{_describe_holder(holder)} (lock {path}). "
                "Wait for it to finish, then try again."
            ) from None
        outer = lock.lock_counter == 1
        if outer:
            holder.write_text(json.dumps({"pid": os.getpid(), "command": command or "sop",
                                          "since": dt.datetime.now().isoformat(timespec="seconds")}), encoding="utf-8")
        try:
            yield
        finally:
            if outer:
                holder.unlink(missing_ok=True)
            lock.release()

    def changed_inputs(self, snapshot: Snapshot, inputs_dir: Path) -> list[str]:
        """Input files that differ from the ones the snapshot was taken from (same path, other content)."""
        changed = []
        for entry in snapshot.manifest["tables"].values():
            src = Path(entry["source"]) if entry.get("source") else None
            if src and src.parent == inputs_dir and src.exists() and sha256_file(src) != entry.get("source_sha256"):
                changed.append(src.name)
        return changed

    # --- decision log (kept across cycles; its file I/O is ``decision_log.py``) ---------------
    @property
    def decisions_file(self) -> Path:
        return self.root / "data" / "decisions" / "events.jsonl"

    def read_decision_log(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The log's events and its damaged lines (``decision_log.read_log``)."""
        return read_log(self.decisions_file)

    def read_decision_events(self) -> list[dict[str, Any]]:
        """The log's readable events (``read_decision_log`` also says which lines were damaged)."""
        return self.read_decision_log()[0]

    def decision_log(self) -> AbstractContextManager[DecisionEvents]:
        """The events under an exclusive lock; events appended to the yielded list are written at the end
        (``decision_log.locked_log``)."""
        return locked_log(self.decisions_file)

    # --- snapshot ----------------------------------------------------------------------------
    def write_snapshot(
        self,
        cycle: Cycle | str,
        tables: dict[str, pd.DataFrame],
        sources: dict[str, Path | None],
        warnings: pd.DataFrame,
        assumptions: list[dict[str, str]] | None = None,
    ) -> Snapshot:
        """Freeze validated tables as Parquet plus a manifest (SHA-256 per file, rows, capture time, warnings,
        and the ``assumptions``: defaults taken for what the extract did not have). Each table's entry says
        whether the extract had it (``present``: False for an optional table with no file or only a header).
        Written to a temporary folder and moved into place in one step."""
        from sop_lib.data.contract import (
            TABLES,  # here, not at the top: pandera is only needed when a snapshot is taken
        )

        cycle = Cycle.parse(cycle)
        final = self.snapshot_dir(cycle)
        tmp = final.with_name(f".snapshot-{os.getpid()}-{dt.datetime.now():%H%M%S%f}")
        tmp.mkdir(parents=True)
        entries: dict[str, Any] = {}
        for name in sorted(tables):
            path = tmp / f"{name}.parquet"
            tables[name].to_parquet(path, index=False)
            src = sources.get(name)
            entries[name] = {
                "file": path.name,
                "sha256": sha256_file(path),
                "rows": int(len(tables[name])),
                "columns": list(tables[name].columns),
                "source": str(src) if src else None,
                "source_sha256": sha256_file(src) if src else None,
                # an optional table validates to no rows only when the extract did not have it
                "present": bool(len(tables[name])) or name not in TABLES or TABLES[name].required,
            }
        fingerprint = hashlib.sha256("".join(entries[n]["sha256"] for n in sorted(entries)).encode()).hexdigest()
        manifest = {
            "cycle": cycle.id,
            "captured_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "fingerprint": fingerprint,
            "tables": entries,
            "warnings": warnings.to_dict(orient="records"),
            "assumptions": [dict(a) for a in assumptions or []],
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
        old = final.with_name(f".old-{tmp.name}")
        if final.exists():
            final.rename(old)  # two renames: a reader never finds the folder half-written or missing for long
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)
        return Snapshot(cycle.id, final, manifest, dict(tables))

    def read_manifest(self, cycle: Cycle | str) -> dict[str, Any]:
        """The manifest of ``cycle``'s snapshot (tables, fingerprint, warnings) without reading the tables."""
        manifest_path = self.snapshot_dir(cycle) / "manifest.json"
        if not manifest_path.exists():
            raise CycleNotFound(
                f"Cycle {cycle} has no snapshot ({manifest_path} is missing). "
                f"Take one with `sop snapshot --cycle {cycle}` or run `sop run --cycle {cycle}`."
            )
        manifest = _read_json(manifest_path, f"the manifest of cycle {cycle}'s snapshot")
        if not isinstance(manifest.get("tables"), dict) or "fingerprint" not in manifest:
            raise DamagedFile(f"The snapshot manifest {manifest_path} has no table list or fingerprint: the snapshot of "
                           f"cycle {cycle} is damaged. Take a new snapshot with --force.")
        return manifest

    def read_snapshot(self, cycle: Cycle | str, verify: bool = True) -> Snapshot:
        cycle = Cycle.parse(cycle)
        folder = self.snapshot_dir(cycle)
        manifest = self.read_manifest(cycle)
        tables = {}
        for name, entry in manifest["tables"].items():
            entry = entry if isinstance(entry, dict) else {}
            path = folder / str(entry.get("file", ""))
            if not path.is_file() or (verify and sha256_file(path) != entry.get("sha256")):
                raise DamagedFile(
                    f"Snapshot file {path} no longer matches its manifest: the frozen snapshot of cycle {cycle} "
                    "was modified. Take a new snapshot with --force."
                )
            tables[name] = pd.read_parquet(path)
        return Snapshot(cycle.id, folder, manifest, tables)

    # --- results -----------------------------------------------------------------------------
    def write_result(self, run_dir: Path, name: str, frame: pd.DataFrame) -> Path:
        path = run_dir / "results" / f"{name}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(path, index=False)
        return path

    def write_tables(self, folder: Path, tables: dict[str, pd.DataFrame], fmt: str = "parquet") -> list[Path]:
        """Write tables as ``<folder>/<name>.parquet`` (or ``.csv``, formulas neutralised: ``neutralise_formulas``)."""
        if fmt not in ("parquet", "csv"):
            raise SopError(f"Unknown format {fmt!r}: use parquet or csv.")
        paths = []
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for name, frame in tables.items():
                path = folder / f"{name}.{fmt}"
                if fmt == "csv":  # text that a spreadsheet would evaluate as a formula is written as text
                    neutralise_formulas(frame).to_csv(path, index=False)
                else:
                    frame.to_parquet(path, index=False)
                paths.append(path)
        except OSError as exc:
            raise SopError(f"Cannot write the tables to {folder}: {exc.strerror or exc}.") from None
        return paths

    def read_result(self, cycle: Cycle | str, run_dir: Path, name: str) -> pd.DataFrame:
        """A result of an earlier step: from this run's folder, else from the cycle's published results."""
        for folder in (run_dir / "results", self.published_dir(cycle)):
            path = folder / f"{name}.parquet"
            if path.exists():
                return pd.read_parquet(path)
        raise CycleNotFound(
            f"Result '{name}' of cycle {cycle} not found in {run_dir / 'results'} nor in the published results. "
            "Run the earlier workbooks first (they run in order: 01, 02, 03, 04)."
        )

    def read_published(self, cycle: Cycle | str, name: str) -> pd.DataFrame:
        return pd.read_parquet(self.published_dir(cycle) / f"{name}.parquet")

    # --- consensus overrides (sales and marketing adjustments, one file per cycle) -----------
    def overrides_file(self, cycle: Cycle | str) -> Path:
        """The cycle's overrides of the statistical forecast: ``params/overrides/<cycle>.xlsx`` when there is
        one, else ``<cycle>.csv`` (which need not exist). Both → ``ParamsError`` (``overrides_file.overrides_path``)."""
        return overrides_path(self.params_dir / "overrides", Cycle.parse(cycle).id)

    def read_overrides(self, cycle: Cycle | str) -> pd.DataFrame:
        """The overrides file as text cells (empty cells are ``""``; blank rows kept, so row numbers match the
        file). No file, or an empty one, gives an empty frame with ``overrides.OVERRIDE_COLUMNS``."""
        return read_overrides_file(self.overrides_file(cycle)).cells

    def load_overrides(self, cycle: Cycle | str, statistical: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
        """The cycle's overrides, read (``.csv`` or ``.xlsx``) and validated against the forecast's series and
        horizon and the products (``overrides.validate_overrides``; ``OverridesInvalid`` lists every problem
        with file, sheet, row and column). Everything that uses a cycle's overrides reads them here."""
        return load_overrides(self.overrides_file(cycle), statistical, products)

    def write_overrides(self, cycle: Cycle | str, frame: pd.DataFrame) -> Path:
        """Replace the cycle's overrides CSV with ``frame`` in one step (a reader never sees half a file). A
        cycle whose overrides are in a workbook is edited in Excel: ``ParamsError``."""
        path = self.overrides_file(cycle)
        if path.suffix == ".xlsx":
            raise ParamsError(f"The overrides of cycle {Cycle.parse(cycle)} are in the workbook {path}: edit them "
                              "there (in Excel), or move the workbook away to keep them in a CSV.")
        replace_atomically(path, lambda tmp: frame.to_csv(tmp, index=False, encoding="utf-8"))
        return path


def _read_json(path: Path, what: str) -> dict[str, Any]:
    """A JSON object from ``path``; a damaged or unreadable file is a message naming it, not a traceback."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DamagedFile(f"{path} ({what}) cannot be read: {exc}. It was changed or damaged outside the suite.") from None
    if not isinstance(data, dict):
        raise DamagedFile(f"{path} ({what}) is not a JSON object: it was changed or damaged outside the suite.")
    return data


def _describe_holder(holder: Path) -> str:
    try:
        info = json.loads(holder.read_text(encoding="utf-8"))
        return f": `{info['command']}` (process {info['pid']}) since {info['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return ""
