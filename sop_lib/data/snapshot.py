"""A cycle's frozen inputs as the workbooks read them, and what the extract had (the defaults it made the pack
take are in the manifest). Written and read by ``store.Store``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd


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
