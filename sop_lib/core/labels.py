"""The names of the planning levels and of their totals, as every page and table writes them."""

from __future__ import annotations

ALL_FAMILIES = "All families"
ALL_REGIONS = "All regions"
ALL_SKUS = "All SKUs"
_TOTALS = {"family": ALL_FAMILIES, "region": ALL_REGIONS, "sku": ALL_SKUS}


def total_label(level: str) -> str:
    """The label of the row that totals a level (``family`` → "All families"; anything else → "All (level)")."""
    return _TOTALS.get(level, f"All ({level})")
