"""Every file the suite reads or writes, with paths derived from one root.

Layout under the root (a project checkout, or any folder with ``params/defaults.yaml``)::

    params/defaults.yaml, params/<cycle>.yaml     parameters
    inputs/<table>.{csv,parquet,xlsx}              the extract a user (or ``sop demo``) supplies
    data/cycles/<cycle>/snapshot/                  frozen, validated inputs + manifest.json
    data/cycles/<cycle>/runs/<run_id>/             one ``sop run``: executed notebooks + results/
    data/cycles/<cycle>/scratch/                   results of notebooks run by hand in JupyterLab
    data/cycles/<cycle>/published/                 the published results (read-only; the archive)
    reports/<cycle>/                               the published HTML pack
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import CycleLocked, CycleNotFound, ParamsError, SopError
from .input_files import sha256_file
from .overrides import OVERRIDE_COLUMNS


def find_root(root: str | Path | None = None) -> Path:
    """The project root: ``root`` if given, else ``$SOP_HOME``, else the nearest folder at or above the
    working directory that holds ``params/defaults.yaml``."""
    if root:
        return Path(root).expanduser().resolve()
    if os.environ.get("SOP_HOME"):
        return Path(os.environ["SOP_HOME"]).expanduser().resolve()
    here = Path.cwd().resolve()
    for folder in [here, *here.parents]:
        if (folder / "params" / "defaults.yaml").exists():
            return folder
    raise SopError(
        f"No S&OP project found at or above {here}: expected a folder with params/defaults.yaml. "
        "Run from the project folder, pass --root, or set SOP_HOME."
    )


def parse_cycle(cycle: str) -> pd.Timestamp:
    """``"2026-11"`` → Timestamp of the cycle month's first day; a clear error otherwise."""
    try:
        ts = pd.Timestamp(dt.datetime.strptime(cycle, "%Y-%m"))
    except (TypeError, ValueError):
        raise ParamsError(f"Cycle {cycle!r} is not a month in the form YYYY-MM (e.g. 2026-11).") from None
    return ts


@dataclass
class Snapshot:
    """A cycle's frozen inputs: tables by name and the manifest that fingerprints them."""

    cycle: str
    folder: Path
    manifest: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        return str(self.manifest["fingerprint"])

    @property
    def short_fingerprint(self) -> str:
        return self.fingerprint[:12]

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    # --- what the extract had (optional tables it lacked are empty; the manifest lists the defaults taken) --
    def has(self, name: str) -> bool:
        """The snapshot holds rows of input table ``name`` (False for an optional table the extract lacked)."""
        return name in self.tables and len(self.tables[name]) > 0

    @property
    def priced(self) -> bool:
        """There is a price list: money can be computed (else plans are in units)."""
        return self.has("prices")

    @property
    def costed(self) -> bool:
        """The price list has unit costs: margins can be computed."""
        return self.priced and bool(self.tables["prices"]["unit_cost"].notna().all())

    @property
    def capacity_modelled(self) -> bool:
        """Both a bill of resources and capacity: load can be checked against hours (else unconstrained)."""
        return self.has("bill_of_resources") and self.has("capacity")

    @property
    def budgeted(self) -> bool:
        return self.has("budget")

    @property
    def assumptions(self) -> list[dict[str, Any]]:
        """Defaults taken for tables or columns the extract did not have (``table``, ``assumption``)."""
        return list(self.manifest.get("assumptions", []))


class Store:
    """Paths and file I/O under one root."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = find_root(root)

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
        return local if local.exists() else Path(__file__).resolve().parent.parent / "notebooks"

    def cycle_dir(self, cycle: str) -> Path:
        parse_cycle(cycle)
        return self.root / "data" / "cycles" / cycle

    def snapshot_dir(self, cycle: str) -> Path:
        return self.cycle_dir(cycle) / "snapshot"

    def published_dir(self, cycle: str) -> Path:
        return self.cycle_dir(cycle) / "published"

    def scratch_dir(self, cycle: str) -> Path:
        return self.cycle_dir(cycle) / "scratch"

    def new_run_dir(self, cycle: str) -> Path:
        run_id = dt.datetime.now().strftime("%Y%m%dT%H%M%S%f")
        folder = self.cycle_dir(cycle) / "runs" / run_id
        (folder / "results").mkdir(parents=True)
        return folder

    def report_dir(self, cycle: str) -> Path:
        return self.reports_dir / cycle

    # --- cycles ------------------------------------------------------------------------------
    def cycles(self) -> list[str]:
        """Cycles with a snapshot, oldest first."""
        base = self.root / "data" / "cycles"
        if not base.exists():
            return []
        return sorted(p.name for p in base.iterdir() if (p / "snapshot" / "manifest.json").exists())

    def latest_cycle(self) -> str:
        cycles = self.cycles()
        if not cycles:
            raise CycleNotFound(
                f"No cycle has a snapshot under {self.root / 'data' / 'cycles'} yet. "
                "Run `sop run --cycle YYYY-MM` (or `make demo`) first."
            )
        return cycles[-1]

    def is_published(self, cycle: str) -> bool:
        return (self.published_dir(cycle) / "published.json").exists()

    def published_cycles(self, before: str | None = None) -> list[str]:
        base = self.root / "data" / "cycles"
        if not base.exists():
            return []
        cycles = sorted(p.name for p in base.iterdir() if (p / "published" / "published.json").exists())
        return [c for c in cycles if before is None or c < before]

    @contextmanager
    def cycle_lock(self, cycle: str) -> Iterator[None]:
        """One run of a cycle at a time. The OS releases the lock if the process dies."""
        import fcntl

        self.cycle_dir(cycle)  # validates the cycle id
        path = self.root / "data" / ".locks" / f"{cycle}.lock"  # outside the cycle: a refused run leaves it untouched
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise CycleLocked(
                    f"Another run of cycle {cycle} is in progress (lock {path}). Wait for it to finish."
                ) from None
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def changed_inputs(self, snapshot: Snapshot, inputs_dir: Path) -> list[str]:
        """Input files that differ from the ones the snapshot was taken from (same path, other content)."""
        changed = []
        for entry in snapshot.manifest["tables"].values():
            src = Path(entry["source"]) if entry.get("source") else None
            if src and src.parent == inputs_dir and src.exists() and sha256_file(src) != entry.get("source_sha256"):
                changed.append(src.name)
        return changed

    # --- decision log (kept across cycles) ---------------------------------------------------
    @property
    def decisions_file(self) -> Path:
        return self.root / "data" / "decisions" / "events.jsonl"

    def read_decision_events(self) -> list[dict[str, Any]]:
        path = self.decisions_file
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    @contextmanager
    def decision_log(self) -> Iterator[list[dict[str, Any]]]:
        """Read the events under an exclusive lock; events appended to the yielded list are written at the end
        (append-only: earlier lines are never rewritten)."""
        import fcntl

        path = self.decisions_file
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_suffix(".lock"), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                events = self.read_decision_events()
                n = len(events)
                yield events
                new = events[n:]
                if new:
                    with open(path, "a", encoding="utf-8") as fh:
                        for ev in new:
                            fh.write(json.dumps(ev, ensure_ascii=False, default=str) + "\n")
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    # --- snapshot ----------------------------------------------------------------------------
    def write_snapshot(
        self,
        cycle: str,
        tables: dict[str, pd.DataFrame],
        sources: dict[str, Path | None],
        warnings: pd.DataFrame,
        assumptions: list[dict[str, str]] | None = None,
    ) -> Snapshot:
        """Freeze validated tables as Parquet plus a manifest (SHA-256 per file, rows, capture time, warnings,
        and the ``assumptions``: defaults taken for what the extract did not have). Each table's entry says
        whether the extract had it (``present``: False for an optional table with no file or only a header).
        Written to a temporary folder and moved into place in one step."""
        from .contract import TABLES  # here, not at the top: pandera is only needed when a snapshot is taken

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
            "cycle": cycle,
            "captured_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "fingerprint": fingerprint,
            "tables": entries,
            "warnings": warnings.to_dict(orient="records"),
            "assumptions": [dict(a) for a in assumptions or []],
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
        return Snapshot(cycle, final, manifest, dict(tables))

    def read_snapshot(self, cycle: str, verify: bool = True) -> Snapshot:
        folder = self.snapshot_dir(cycle)
        manifest_path = folder / "manifest.json"
        if not manifest_path.exists():
            raise CycleNotFound(
                f"Cycle {cycle} has no snapshot ({manifest_path} is missing). "
                f"Take one with `sop snapshot --cycle {cycle}` or run `sop run --cycle {cycle}`."
            )
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        tables = {}
        for name, entry in manifest["tables"].items():
            path = folder / entry["file"]
            if verify and sha256_file(path) != entry["sha256"]:
                raise SopError(
                    f"Snapshot file {path} no longer matches its manifest: the frozen snapshot of cycle {cycle} "
                    "was modified. Take a new snapshot with --force."
                )
            tables[name] = pd.read_parquet(path)
        return Snapshot(cycle, folder, manifest, tables)

    # --- results -----------------------------------------------------------------------------
    def write_result(self, run_dir: Path, name: str, frame: pd.DataFrame) -> Path:
        path = run_dir / "results" / f"{name}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(path, index=False)
        return path

    def write_tables(self, folder: Path, tables: dict[str, pd.DataFrame], fmt: str = "parquet") -> list[Path]:
        """Write tables as ``<folder>/<name>.parquet`` (or ``.csv``)."""
        if fmt not in ("parquet", "csv"):
            raise SopError(f"Unknown format {fmt!r}: use parquet or csv.")
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, frame in tables.items():
            path = folder / f"{name}.{fmt}"
            if fmt == "csv":
                frame.to_csv(path, index=False)
            else:
                frame.to_parquet(path, index=False)
            paths.append(path)
        return paths

    def read_result(self, cycle: str, run_dir: Path, name: str) -> pd.DataFrame:
        """A result of an earlier step: from this run's folder, else from the cycle's published results."""
        for folder in (run_dir / "results", self.published_dir(cycle)):
            path = folder / f"{name}.parquet"
            if path.exists():
                return pd.read_parquet(path)
        raise CycleNotFound(
            f"Result '{name}' of cycle {cycle} not found in {run_dir / 'results'} nor in the published results. "
            "Run the earlier workbooks first (they run in order: 01, 02, 03, 04)."
        )

    def read_published(self, cycle: str, name: str) -> pd.DataFrame:
        return pd.read_parquet(self.published_dir(cycle) / f"{name}.parquet")

    def publish_results(self, cycle: str, run_dir: Path, info: dict[str, Any]) -> Path:
        """Copy a run's results into ``published/`` (the archive the next cycles read), read-only.
        A previously published version is kept under ``superseded/``."""
        final = self.published_dir(cycle)
        tmp = final.with_name(".published-tmp")
        if tmp.exists():
            shutil.rmtree(tmp)
        shutil.copytree(run_dir / "results", tmp)
        (tmp / "published.json").write_text(json.dumps(info, indent=2, default=str), encoding="utf-8")
        if final.exists():
            old = json.loads((final / "published.json").read_text(encoding="utf-8")) if (
                final / "published.json"
            ).exists() else {}
            keep = self.cycle_dir(cycle) / "superseded" / str(old.get("run_id", "unknown"))
            keep.parent.mkdir(parents=True, exist_ok=True)
            _make_writable(final)
            final.rename(keep)
            _make_read_only(keep)
        tmp.rename(final)
        _make_read_only(final)
        return final

    # --- consensus overrides (sales and marketing adjustments, one file per cycle) -----------
    def overrides_file(self, cycle: str) -> Path:
        """``params/overrides/<cycle>.csv``: the cycle's overrides of the statistical forecast."""
        parse_cycle(cycle)
        return self.params_dir / "overrides" / f"{cycle}.csv"

    def read_overrides(self, cycle: str) -> pd.DataFrame:
        """The overrides file as text cells (empty cells are ``""``; blank lines kept, so row numbers match the
        file). No file, or an empty one, gives an empty frame with ``overrides.OVERRIDE_COLUMNS``."""
        path = self.overrides_file(cycle)
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in OVERRIDE_COLUMNS})
        if not path.exists():
            return empty
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False, encoding="utf-8-sig")
        except pd.errors.EmptyDataError:
            return empty
        except Exception as exc:  # unreadable file: a message, never a traceback
            raise SopError(f"The overrides file {path} cannot be read ({exc.__class__.__name__}: {exc}).") from None
        frame.columns = [str(c).strip() for c in frame.columns]
        return frame

    def write_overrides(self, cycle: str, frame: pd.DataFrame) -> Path:
        """Replace the cycle's overrides file with ``frame`` in one step (a reader never sees half a file)."""
        path = self.overrides_file(cycle)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            frame.to_csv(tmp, index=False, encoding="utf-8")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return path


def _make_read_only(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)


def _make_writable(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            path.chmod(stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IROTH)
