"""The input data contract: one pandera model per table, long format, validated lazily.

Each input table is one file in the inputs folder named after the table (``sales_history.csv``,
``.parquet`` or ``.xlsx``). ``docs/data-contract.md`` documents the same tables for the people who
produce the extracts; :data:`TABLES` maps each table's name to its model, and :func:`columns_of`,
:func:`key_of` and :func:`bounds_of` read a table's columns, key and numeric bounds from that model.

Only ``sales_history`` and ``products`` are required. Every other table may be absent (no file, or a file with
only its header); so may ``products.status`` and ``prices.unit_cost``. Each default the suite then takes is said
in words in :data:`ASSUMPTIONS`, recorded in the snapshot manifest and shown on the pack's data-quality page.

Every number has a plausible bound (:func:`bounds_of`): far above any real business, so it never refuses real data,
but it catches an exponent typo or an overflow (``1e20``, ``1e400`` read as infinity) before it reaches a plan.
Keys and names (``sku``, ``region``, ``family``, ``resource``) may not look like a spreadsheet formula or markup
(:data:`PLAIN_TEXT`). Checks between tables and over time are in :mod:`sop_lib.data.health`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

STATUSES = ("active", "new", "phase_out")

MAX_UNITS = 1e12  # units sold, stocked or budgeted in a month: a trillion
MAX_UNIT_MONEY = 1e13  # price or cost of one unit in any currency (an airliner in Indonesian rupiah: ~7e12)
MAX_MONEY = 1e15  # revenue or margin of a family in a month (the largest retailer's month in rupiah: ~9e14)
MAX_HOURS_PER_UNIT = 1e6  # hours to make one unit: over a century of one resource
MAX_HOURS = 1e9  # available hours of a resource in a month: a million people full time

#: Keys and names: not a spreadsheet formula (``=``, ``+``, ``@``, a tab or carriage return first) nor markup
#: (``<`` or ``>``): in a key such a value is a corrupted cell, and it would travel into exports and pages.
PLAIN_TEXT = r"^(?![=+@\t\r])[^<>]*$"


class _Base(pa.DataFrameModel):
    class Config:
        strict = False  # extra columns are kept and ignored: extracts often carry more
        coerce = True


class SalesHistory(_Base):
    """Monthly actual demand (units sold) per SKU and region."""

    period: Series[pd.Timestamp] = pa.Field(nullable=False)
    sku: Series[str] = pa.Field(nullable=False, str_matches=PLAIN_TEXT, str_length={"min_value": 1})
    region: Series[str] = pa.Field(nullable=False, str_matches=PLAIN_TEXT, str_length={"min_value": 1})
    units: Series[float] = pa.Field(ge=0, le=MAX_UNITS, nullable=False)

    class Config:
        unique = ["period", "sku", "region"]


class Products(_Base):
    """Product master: family and lifecycle of every SKU."""

    sku: Series[str] = pa.Field(nullable=False, str_matches=PLAIN_TEXT, unique=True, str_length={"min_value": 1})
    family: Series[str] = pa.Field(nullable=False, str_matches=PLAIN_TEXT, str_length={"min_value": 1})
    description: Series[str] = pa.Field(nullable=True, required=False)
    status: Series[str] = pa.Field(isin=list(STATUSES), nullable=True, required=False)  # absent/empty: active
    end_period: Series[pd.Timestamp] = pa.Field(nullable=True, required=False)  # last month of sale


class Prices(_Base):
    """Unit price and unit cost per SKU, valid from a month until the next row of the SKU."""

    sku: Series[str] = pa.Field(nullable=False, str_matches=PLAIN_TEXT)
    valid_from: Series[pd.Timestamp] = pa.Field(nullable=False)
    unit_price: Series[float] = pa.Field(gt=0, le=MAX_UNIT_MONEY, nullable=False)
    # absent: NaN, margin not computed
    unit_cost: Series[float] = pa.Field(ge=0, le=MAX_UNIT_MONEY, nullable=True, required=False)

    class Config:
        unique = ["sku", "valid_from"]


class Promotions(_Base):
    """Promotion months per SKU and region, past and planned (a Prophet regressor)."""

    period: Series[pd.Timestamp] = pa.Field(nullable=False)
    sku: Series[str] = pa.Field(nullable=False, str_matches=PLAIN_TEXT)
    region: Series[str] = pa.Field(nullable=False, str_matches=PLAIN_TEXT)
    discount_pct: Series[float] = pa.Field(ge=0, le=100, nullable=False)

    class Config:
        unique = ["period", "sku", "region"]


class BillOfResources(_Base):
    """Hours of each production resource needed to make one unit of a SKU."""

    sku: Series[str] = pa.Field(nullable=False, str_matches=PLAIN_TEXT)
    resource: Series[str] = pa.Field(nullable=False, str_matches=PLAIN_TEXT)
    hours_per_unit: Series[float] = pa.Field(gt=0, le=MAX_HOURS_PER_UNIT, nullable=False)

    class Config:
        unique = ["sku", "resource"]


class Capacity(_Base):
    """Available hours per resource and month (shutdowns and holidays already deducted)."""

    resource: Series[str] = pa.Field(nullable=False, str_matches=PLAIN_TEXT)
    period: Series[pd.Timestamp] = pa.Field(nullable=False)
    available_hours: Series[float] = pa.Field(ge=0, le=MAX_HOURS, nullable=False)

    class Config:
        unique = ["resource", "period"]


class Inventory(_Base):
    """Opening on-hand stock per SKU at the start of the cycle month."""

    sku: Series[str] = pa.Field(nullable=False, str_matches=PLAIN_TEXT, unique=True)
    on_hand: Series[float] = pa.Field(ge=0, le=MAX_UNITS, nullable=False)


class Budget(_Base):
    """Annual operating plan per product family and month, in units and money."""

    family: Series[str] = pa.Field(nullable=False, str_matches=PLAIN_TEXT)
    period: Series[pd.Timestamp] = pa.Field(nullable=False)
    units: Series[float] = pa.Field(ge=0, le=MAX_UNITS, nullable=False)
    revenue: Series[float] = pa.Field(ge=0, le=MAX_MONEY, nullable=False)
    gross_margin: Series[float] = pa.Field(ge=-MAX_MONEY, le=MAX_MONEY, nullable=False)

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


Assumption = dict[str, str]  # {"table": ..., "assumption": ...}


def defaults_taken(present: dict[str, bool], columns: dict[str, list[Assumption]]) -> list[Assumption]:
    """The defaults taken for the optional tables the extract did not have (``present`` False) and for its
    optional columns (``columns``, by table: said when the table was read), in contract order."""
    absent = {name for name, given in present.items() if not given}
    out = list(columns.get("products", []))
    if "prices" in absent:
        out.append({"table": "prices", "assumption": ASSUMPTIONS["prices"]})
    elif present.get("prices"):
        out += columns.get("prices", [])
    if "promotions" in absent:
        out.append({"table": "promotions", "assumption": ASSUMPTIONS["promotions"]})
    if {"bill_of_resources", "capacity"} <= absent:
        out.append({"table": "bill_of_resources, capacity", "assumption": ASSUMPTIONS["capacity"]})
    return out + [{"table": name, "assumption": ASSUMPTIONS[name]} for name in ("inventory", "budget") if name in absent]


def column_defaults(name: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Assumption], pd.Index]:
    """Defaults for the optional columns that imply one, on a table as read: ``products.status`` (absent or
    empty: active) and ``prices.unit_cost`` (absent or empty on every row: unknown). Returns the table, the
    defaults taken, and the index of the rows whose unit cost is missing while others have one (a problem)."""
    none = frame.index[:0]
    if name == "products":
        if "status" not in frame.columns or frame["status"].isna().all():
            return frame.assign(status=DEFAULT_STATUS), [{"table": name, "assumption": ASSUMPTIONS["status"]}], none
        empty = frame["status"].isna()
        if empty.any():
            n = int(empty.sum())
            said = f"{n:,} SKUs have no lifecycle status in products: they are" if n > 1 else \
                "1 SKU has no lifecycle status in products: it is"
            return frame.assign(status=frame["status"].fillna(DEFAULT_STATUS)), [
                {"table": name, "assumption": f"{said} taken as active."}], none
    if name == "prices":
        if "unit_cost" not in frame.columns or frame["unit_cost"].isna().all():
            return frame, [{"table": name, "assumption": ASSUMPTIONS["unit_cost"]}], none
        return frame, [], frame.index[frame["unit_cost"].isna()]
    return frame, [], none


def empty_table(name: str) -> pd.DataFrame:
    """An absent optional table: no rows, the contract's columns and types."""
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in columns_of(name)})
    return TABLES[name].model.validate(frame)


def columns_of(table: str) -> list[str]:
    """Column names of a table, in contract order."""
    return list(TABLES[table].model.to_schema().columns)


def required_columns_of(table: str) -> list[str]:
    """Columns a file of the table must have (the others may be left out)."""
    return [name for name, col in TABLES[table].model.to_schema().columns.items() if col.required]


def bounds_of(table: str) -> dict[str, tuple[float | None, float | None]]:
    """The range each number of a table must fall in, as ``{column: (lowest, highest)}`` (None: no bound;
    a strict bound such as a price's ``> 0`` is given as its value)."""
    out: dict[str, tuple[float | None, float | None]] = {}
    for name, col in TABLES[table].model.to_schema().columns.items():
        low = high = None
        for check in col.checks:
            stats = check.statistics
            if "min_value" in stats and "max_value" not in stats:
                low = float(stats["min_value"])
            elif "max_value" in stats and "min_value" not in stats:
                high = float(stats["max_value"])
        if low is not None or high is not None:
            out[name] = (low, high)
    return out


def key_of(table: str) -> list[str]:
    """The columns that identify a row of the table (no two rows may share them)."""
    schema = TABLES[table].model.to_schema()
    return list(schema.unique or [name for name, col in schema.columns.items() if col.unique])

