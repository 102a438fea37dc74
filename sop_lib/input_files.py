"""Reading the input extract: one file per table (CSV, Parquet or Excel), as text, before validation.

Part of the store's file I/O (``store.py`` holds every other path and file); ``validate`` reads through it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

INPUT_SUFFIXES = (".csv", ".parquet", ".xlsx")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class RawTable:
    """One input file as read, before validation. ``first_row`` is the row number of the first data
    row as a spreadsheet shows it (2 for CSV/Excel, whose header is row 1)."""

    name: str
    path: Path | None
    frame: pd.DataFrame | None
    first_row: int = 2
    error: str = ""


def read_input_file(name: str, inputs_dir: Path) -> RawTable:
    """Read ``<inputs_dir>/<name>.{csv,parquet,xlsx}`` as text columns (types are the contract's job)."""
    found = [inputs_dir / f"{name}{suffix}" for suffix in INPUT_SUFFIXES if (inputs_dir / f"{name}{suffix}").exists()]
    if not found:
        return RawTable(name, None, None, error="file is missing")
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        return RawTable(name, found[0], None, error=f"more than one file for this table ({names}); keep one")
    path = found[0]
    try:
        if path.suffix == ".csv":
            frame = pd.read_csv(path, dtype=str, skipinitialspace=True)
            first_row = 2
        elif path.suffix == ".parquet":
            frame = pd.read_parquet(path)
            first_row = 1
        else:
            frame = pd.read_excel(path, dtype=str)
            first_row = 2
    except pd.errors.EmptyDataError:
        return RawTable(name, path, None, error="file is empty")
    except Exception as exc:  # unreadable file: report, never a traceback
        return RawTable(name, path, None, error=f"cannot be read ({exc.__class__.__name__}: {exc})")
    frame.columns = [str(c).strip() for c in frame.columns]
    return RawTable(name, path, frame, first_row=first_row)
