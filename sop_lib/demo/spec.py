"""What the demo company is: its calendar, regions, resources, product families and the calibration
targets the generator (``company.py``) draws it from. Change the company here."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sop_lib.core.cycle import Cycle

DEMO_CYCLES: tuple[str, ...] = ("2026-09", "2026-10", "2026-11")

CALENDAR_START = pd.Timestamp("2021-01-01")
CALENDAR_END = pd.Timestamp("2028-12-01")
HISTORY_MONTHS = 48  # actuals in an extract: the 48 months before the cycle month
PROMO_PLAN_MONTHS = 12  # planned promotions known from the cycle month on
CAPACITY_MONTHS = 24  # capacity is given through cycle + 24 months
REGIONS: tuple[str, ...] = ("North", "South", "West")
RESOURCES: tuple[str, ...] = ("Mixing", "Bottling", "Canning", "Baking", "Packing")

_REGION_SCALE = np.array([1.0, 1.25, 0.8])  # the South drinks more
_REFERENCE = pd.Timestamp("2026-01-01")  # series levels are drawn for this month; trends pivot on it
_PRICE_CHANGE = pd.Timestamp("2025-04-01")  # the list-price increase inside the history
_LAUNCH = pd.Timestamp("2026-03-01")  # first month of sales of the "new" SKU
_DECLINE_FROM = pd.Timestamp("2025-07-01")  # the "phase_out" SKU declines from here ...
_PHASE_OUT_END = pd.Timestamp("2027-03-01")  # ... to its last month of sales (its end_period)
_SHUTDOWN = ("Bottling", pd.Timestamp("2027-08-01"), 0.40)  # resource, month, share of hours left
# what the demo's S&OP meetings decided and operations then put into the capacity plan: the weekend shifts on
# Bottling for the summer peak, decided at the 2026-09 meeting, are in every extract from 2026-10 on
# (first cycle whose extract has them, resource, first month, last month, hours added a month)
_DECIDED_SHIFTS = ((Cycle.parse("2026-10"), "Bottling", pd.Timestamp("2027-05-01"), pd.Timestamp("2027-07-01"), 160.0),)
_TARGET_UTILISATION = {"Mixing": 0.84, "Bottling": 0.87, "Canning": 0.80, "Baking": 0.81, "Packing": 0.82}
_HOLIDAYS = {1: 1, 4: 1, 5: 2, 10: 1, 12: 3}  # public holidays per calendar month, deducted from weekdays
_BUDGET_YEARS = (2026, 2027)
_BUDGET_COST_RISE = 0.02  # cost inflation finance assumed for the second budget year


@dataclass(frozen=True)
class _Family:
    """How the SKUs of one product family are drawn."""

    name: str
    prefix: str
    share: float  # share of the SKUs
    season_amp: float  # amplitude of the yearly cosine around 1
    peak_month: int
    level: tuple[float, float]  # units per region-month at the reference month (log-uniform)
    price: tuple[float, float]  # EUR per unit
    margin: tuple[float, float]  # gross margin share of price
    routes: tuple[tuple[str, float, float], ...]  # resource, hours per unit low, high
    ambition: float  # budget volume above (below) expected demand
    budget_price_rise: float  # price increase finance assumed for the second budget year
    label: str  # description template
    flavours: tuple[str, ...]
    packs: tuple[str, ...]


_FAMILIES: tuple[_Family, ...] = (
    _Family(
        "Sparkling", "SPK", 0.32, 0.35, 7, (1500, 9000), (0.6, 1.6), (0.32, 0.45),
        (("Mixing", 0.002, 0.004), ("Bottling", 0.004, 0.008)), 0.06, 0.03, "Sparkling {f}, {p}",
        ("Lemon", "Orange", "Cola", "Ginger Ale", "Grapefruit", "Raspberry", "Lime", "Cherry", "Elderflower"),
        ("0.5 L PET", "1.5 L PET", "0.33 L glass"),
    ),
    _Family(
        "Juice", "JUI", 0.25, 0.15, 1, (1000, 6000), (0.9, 2.4), (0.27, 0.35),
        (("Mixing", 0.002, 0.004), ("Bottling", 0.004, 0.007)), -0.03, 0.0, "{f} juice, {p}",
        ("Apple", "Orange", "Multivitamin", "Pineapple", "Grape", "Carrot-Mango", "Cranberry"),
        ("1 L PET", "0.25 L glass"),
    ),
    _Family(
        "Energy", "NRG", 0.18, 0.10, 6, (800, 5000), (1.1, 2.0), (0.45, 0.55),
        (("Mixing", 0.002, 0.003), ("Canning", 0.003, 0.006)), 0.10, 0.04, "Volt energy {f}, {p}",
        ("Original", "Sugar-free", "Tropical", "Berry", "Citrus"),
        ("0.25 L can", "0.5 L can"),
    ),
    _Family(
        "Snacks", "SNK", 0.25, 0.20, 12, (2000, 10000), (0.5, 1.4), (0.35, 0.50),
        (("Baking", 0.006, 0.012), ("Packing", 0.003, 0.006)), 0.02, 0.02, "{f} {p}",
        ("Oat & Honey", "Choco Nut", "Apple Cinnamon", "Peanut", "Berry Yoghurt", "Salted Caramel", "Coconut"),
        ("bar 40 g", "bar 4-pack"),
    ),
)  # fmt: skip

