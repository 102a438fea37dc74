"""The input data contract: one pandera model per table, long format, validated lazily.

Each input table is one file in the inputs folder named after the table (``sales_history.csv``,
``.parquet`` or ``.xlsx``). ``docs/data-contract.md`` documents the same tables for the people who
produce the extracts; column names used in code come from the ``*Cols`` holders below.
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
    status: Series[str] = pa.Field(isin=list(STATUSES), nullable=False)
    end_period: Series[pd.Timestamp] = pa.Field(nullable=True, required=False)  # last month of sale


class Prices(_Base):
    """Unit price and unit cost per SKU, valid from a month until the next row of the SKU."""

    sku: Series[str] = pa.Field(nullable=False)
    valid_from: Series[pd.Timestamp] = pa.Field(nullable=False)
    unit_price: Series[float] = pa.Field(gt=0, nullable=False)
    unit_cost: Series[float] = pa.Field(ge=0, nullable=False)

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
    required: bool  # False: the file may be absent or have no rows
    month_columns: tuple[str, ...]  # dates normalised to the first of the month


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in [
        TableSpec("sales_history", SalesHistory, True, ("period",)),
        TableSpec("products", Products, True, ("end_period",)),
        TableSpec("prices", Prices, True, ("valid_from",)),
        TableSpec("promotions", Promotions, False, ("period",)),
        TableSpec("bill_of_resources", BillOfResources, True, ()),
        TableSpec("capacity", Capacity, True, ("period",)),
        TableSpec("inventory", Inventory, True, ()),
        TableSpec("budget", Budget, True, ("period",)),
    ]
}


def columns_of(table: str) -> list[str]:
    """Column names of a table, in contract order."""
    return list(TABLES[table].model.to_schema().columns)


# Result tables written between notebooks (long format, one row per key and period).
FORECAST_KEYS = ["sku", "region", "period"]
