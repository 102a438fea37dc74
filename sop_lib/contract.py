"""The input data contract: one pandera model per table, long format, validated lazily.

Each input table is one file in the inputs folder named after the table (``sales_history.csv``,
``.parquet`` or ``.xlsx``). ``docs/data-contract.md`` documents the same tables for the people who
produce the extracts; column names used in code come from the ``*Cols`` holders below.

Only ``sales_history`` and ``products`` are required. Every other table may be absent (no file, or a file with
only its header); so may ``products.status`` and ``prices.unit_cost``. Each default the suite then takes is said
in words in :data:`ASSUMPTIONS`, recorded in the snapshot manifest and shown on the pack's data-quality page.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

STATUSES = ("active", "new", "phase_out")


class _Base(pa.DataFrameModel):
    class Config:
        strict = False  # extra columns are kept and ignored: extracts often carry more
        coerce = True


class SalesHistory(_Base):
    """Monthly actual demand (units sold) per SKU and region."""

    period: Series[pd.Timestamp] = pa.Field(nullable=False)
    sku: Series[str] = pa.Field(nullable=False, str_length={"min_value": 1})
    region: Series[str] = pa.Field(nullable=False, str_length={"min_value": 1})
    units: Series[float] = pa.Field(ge=0, nullable=False)

    class Config:
        unique = ["period", "sku", "region"]


class Products(_Base):
    """Product master: family and lifecycle of every SKU."""

    sku: Series[str] = pa.Field(nullable=False, unique=True, str_length={"min_value": 1})
    family: Series[str] = pa.Field(nullable=False, str_length={"min_value": 1})
    description: Series[str] = pa.Field(nullable=True, required=False)
    status: Series[str] = pa.Field(isin=list(STATUSES), nullable=True, required=False)  # absent/empty: active
    end_period: Series[pd.Timestamp] = pa.Field(nullable=True, required=False)  # last month of sale


class Prices(_Base):
    """Unit price and unit cost per SKU, valid from a month until the next row of the SKU."""

    sku: Series[str] = pa.Field(nullable=False)
    valid_from: Series[pd.Timestamp] = pa.Field(nullable=False)
    unit_price: Series[float] = pa.Field(gt=0, nullable=False)
    unit_cost: Series[float] = pa.Field(ge=0, nullable=True, required=False)  # absent: NaN, margin not computed

    class Config:
        unique = ["sku", "valid_from"]


class Promotions(_Base):
    """Promotion months per SKU and region, past and planned (a Prophet regressor)."""

    period: Series[pd.Timestamp] = pa.Field(nullable=False)
    sku: Series[str] = pa.Field(nullable=False)
    region: Series[str] = pa.Field(nullable=False)
    discount_pct: Series[float] = pa.Field(ge=0, le=100, nullable=False)

    class Config:
        unique = ["period", "sku", "region"]


class BillOfResources(_Base):
    """Hours of each production resource needed to make one unit of a SKU."""

    sku: Series[str] = pa.Field(nullable=False)
    resource: Series[str] = pa.Field(nullable=False)
    hours_per_unit: Series[float] = pa.Field(gt=0, nullable=False)

    class Config:
        unique = ["sku", "resource"]


class Capacity(_Base):
    """Available hours per resource and month (shutdowns and holidays already deducted)."""

    resource: Series[str] = pa.Field(nullable=False)
    period: Series[pd.Timestamp] = pa.Field(nullable=False)
    available_hours: Series[float] = pa.Field(ge=0, nullable=False)

    class Config:
        unique = ["resource", "period"]


class Inventory(_Base):
    """Opening on-hand stock per SKU at the start of the cycle month."""

    sku: Series[str] = pa.Field(nullable=False, unique=True)
    on_hand: Series[float] = pa.Field(ge=0, nullable=False)


class Budget(_Base):
    """Annual operating plan per product family and month, in units and money."""

    family: Series[str] = pa.Field(nullable=False)
    period: Series[pd.Timestamp] = pa.Field(nullable=False)
    units: Series[float] = pa.Field(ge=0, nullable=False)
    revenue: Series[float] = pa.Field(ge=0, nullable=False)
    gross_margin: Series[float] = pa.Field(nullable=False)

    class Config:
        unique = ["family", "period"]


@dataclass(frozen=True)
class TableSpec:
    """What the suite knows of one input table."""

    name: str
    model: type[pa.DataFrameModel]
    required: bool  # False: the file may be absent or have only its header
    month_columns: tuple[str, ...]  # dates normalised to the first of the month
    summable: bool = False  # rows sharing a key may be order lines that add up to the month's figure


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in [
        TableSpec("sales_history", SalesHistory, True, ("period",), summable=True),
        TableSpec("products", Products, True, ("end_period",)),
        TableSpec("prices", Prices, False, ("valid_from",)),
        TableSpec("promotions", Promotions, False, ("period",)),
        TableSpec("bill_of_resources", BillOfResources, False, ()),
        TableSpec("capacity", Capacity, False, ("period",), summable=True),
        TableSpec("inventory", Inventory, False, ()),
        TableSpec("budget", Budget, False, ("period",), summable=True),
    ]
}

DEFAULT_STATUS = "active"

#: The default the suite takes when a table or column is absent, in a planner's words (keyed by what is absent;
#: ``capacity`` stands for bill_of_resources and capacity together: one without the other is a problem).
ASSUMPTIONS: dict[str, str] = {
    "prices": "No price list: plans and scenarios are in units; revenue and margin are not computed, "
              "and the budget is compared in units only.",
    "unit_cost": "No unit cost in the price list: gross margin is not computed; a lost sale is valued at its price.",
    "capacity": "No bill of resources or capacity: capacity is not modelled; the supply plan is unconstrained "
                "(demand is made in its month).",
    "inventory": "No inventory: opening stock is taken as 0 for every SKU.",
    "budget": "No budget: the plan's value is shown without a budget comparison.",
    "promotions": "No promotions: the forecast has no promotion regressor.",
    "status": "No lifecycle status in products: every SKU is taken as active.",
}


def columns_of(table: str) -> list[str]:
    """Column names of a table, in contract order."""
    return list(TABLES[table].model.to_schema().columns)


def required_columns_of(table: str) -> list[str]:
    """Columns a file of the table must have (the others may be left out)."""
    return [name for name, col in TABLES[table].model.to_schema().columns.items() if col.required]


def key_of(table: str) -> list[str]:
    """The columns that identify a row of the table (no two rows may share them)."""
    schema = TABLES[table].model.to_schema()
    return list(schema.unique or [name for name, col in schema.columns.items() if col.unique])


# Result tables written between notebooks (long format, one row per key and period).
FORECAST_KEYS = ["sku", "region", "period"]
