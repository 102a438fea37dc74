"""A deterministic demo company, written as the input tables a real user would supply.

*Demo Beverages Ltd* makes sparkling drinks, juices, energy drinks and snack bars on five resources and
sells them in three regions. Its "true" history is drawn once from a fixed seed over a fixed calendar
(2021-01 … 2028-12) whatever the cycle; a cycle's extract is a slice of it, so the extract of 2026-10 is
the extract of 2026-11 without its 2026-10 actuals, row for row. Expected demand per SKU, region and month
is level × trend × family seasonality × lifecycle × promotional lift; actuals add log-normal noise.
Capacity is calibrated each year so that the expected load averages 80-87 % per resource (seasonal peaks
exceed 100 %; a Bottling shutdown in 2027-08 leaves 40 % of its hours); the budget is expected demand ×
a family-specific ambition at budget prices and costs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from sop_lib.core.cycle import Cycle
from sop_lib.core.errors import ParamsError
from sop_lib.data.contract import TABLES, columns_of
from sop_lib.demo.meeting import with_decided_shifts
from sop_lib.demo.spec import (  # noqa: F401  # DEMO_CYCLES and the calendar are part of the public API
    _BUDGET_COST_RISE,
    _BUDGET_YEARS,
    _DECLINE_FROM,
    _FAMILIES,
    _HOLIDAYS,
    _LAUNCH,
    _PHASE_OUT_END,
    _PRICE_CHANGE,
    _REFERENCE,
    _REGION_SCALE,
    _SHUTDOWN,
    _TARGET_UTILISATION,
    CALENDAR_END,
    CALENDAR_START,
    CAPACITY_MONTHS,
    DEMO_CYCLES,
    HISTORY_MONTHS,
    PROMO_PLAN_MONTHS,
    REGIONS,
    RESOURCES,
    _Family,
)


def _demo_cycle(cycle: Cycle | str) -> Cycle:
    """The cycle (an id is parsed), checked against the months the calendar can serve (a quarter: by its first
    month, the month its extract is taken for)."""
    first, last = Cycle(CALENDAR_START).shift(HISTORY_MONTHS), Cycle(CALENDAR_END).shift(-CAPACITY_MONTHS)
    try:
        cycle = Cycle.parse(cycle)
    except ParamsError as exc:
        raise ParamsError(f"{exc} The demo company covers cycles {first} … {last}.") from None
    if not first <= cycle.as_month() <= last:
        raise ParamsError(
            f"The demo company covers cycles {first} … {last} ({HISTORY_MONTHS} months of history before, "
            f"{CAPACITY_MONTHS} months of capacity after); got {cycle.id!r}."
        )
    return cycle


def _family_counts(n_skus: int) -> np.ndarray:
    """SKUs per family: one each, the rest by share (largest remainder)."""
    shares = np.array([f.share for f in _FAMILIES])
    rest = n_skus - len(_FAMILIES)
    raw = shares * rest
    add = np.floor(raw).astype(int)
    order = np.argsort(-(raw - add), kind="stable")
    add[order[: rest - add.sum()]] += 1
    return 1 + add


def _roles(fam: np.ndarray, n_skus: int) -> np.ndarray:
    """'regular', 'intermittent', 'new' or 'phase_out' per SKU; specials are the last SKUs of a family."""
    roles = np.full(n_skus, "regular", dtype=object)
    members = {f: np.flatnonzero(fam == f) for f in range(len(_FAMILIES))}
    roles[members[0][-1]] = "phase_out"  # a Sparkling SKU is discontinued
    roles[members[2][-1]] = "new"  # an Energy flavour was launched
    n_intermittent = max(1, round(n_skus / 20))
    candidates = [members[f][-1 - k] for k in range(n_skus) for f in (1, 3, 2, 0) if k < len(members[f])]
    free = [i for i in candidates if roles[i] == "regular"]
    roles[free[:n_intermittent]] = "intermittent"
    return roles


def _draw_skus(n_skus: int, rng: np.random.Generator) -> pd.DataFrame:
    """One row per SKU: identity, role and the SKU's own draws (trend, noise, prices, stock cover, routes)."""
    counts = _family_counts(n_skus)
    fam = np.repeat(np.arange(len(_FAMILIES)), counts)
    idx = np.concatenate([np.arange(c) for c in counts])
    specs = [_FAMILIES[f] for f in fam]
    u = rng.uniform(0.0, 1.0, (n_skus, 9))
    roles = _roles(fam, n_skus)
    price_range, margin_range = (np.array([getattr(s, name) for s in specs]) for name in ("price", "margin"))
    price0 = price_range[:, 0] + (price_range[:, 1] - price_range[:, 0]) * u[:, 0]
    cost0 = price0 * (1 - margin_range[:, 0] - (margin_range[:, 1] - margin_range[:, 0]) * u[:, 1])
    descriptions = []
    for spec, i in zip(specs, idx, strict=True):
        n_fl, combos = len(spec.flavours), len(spec.flavours) * len(spec.packs)
        text = spec.label.format(f=spec.flavours[i % n_fl], p=spec.packs[(i // n_fl) % len(spec.packs)])
        descriptions.append(text if i < combos else f"{text} ({i // combos + 1})")
    return pd.DataFrame(
        {
            "sku": [f"{s.prefix}-{101 + i}" for s, i in zip(specs, idx, strict=True)],
            "fam": fam,
            "first_of_family": idx == 0,
            "description": descriptions,
            "role": roles,
            "growth": np.clip(rng.normal(0.02, 0.06, n_skus), -0.12, 0.15),  # yearly: some up, some down
            "amp": np.array([s.season_amp for s in specs]) * (0.8 + 0.4 * u[:, 2]),
            "sigma": 0.06 + 0.08 * u[:, 3],
            "price0": price0,
            "cost0": cost0,
            "price1": price0 * (1.02 + 0.03 * u[:, 4]),  # the 2025-04 list-price increase
            "cost1": cost0 * (1.01 + 0.04 * u[:, 5]),
            "cover": np.where(roles == "phase_out", 0.5, 0.5 + 1.5 * u[:, 6]),  # months of stock
            "route0": u[:, 7],
            "route1": u[:, 8],
        }
    )


def _draw_demand(
    skus: pd.DataFrame, months: pd.DatetimeIndex, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Actual and expected units per series and month, the promotions, and expected units per SKU."""
    n_skus, n_months, n_regions = len(skus), len(months), len(REGIONS)
    roles = skus["role"].to_numpy()
    drop = ((rng.random(n_skus) < 0.2) | (roles == "intermittent")) & ~skus["first_of_family"].to_numpy()
    sold = np.ones((n_skus, n_regions), dtype=bool)
    sold[np.flatnonzero(drop), rng.integers(0, n_regions, n_skus)[drop]] = False
    s_sku, s_reg = np.nonzero(sold)  # one series = one SKU sold in one region
    n_series = len(s_sku)
    bounds = np.log([_FAMILIES[f].level for f in skus["fam"].to_numpy()[s_sku]])
    level = np.exp(rng.uniform(bounds[:, 0], bounds[:, 1])) * _REGION_SCALE[s_reg]
    p_order = rng.uniform(0.18, 0.35, n_series)  # intermittent: chance of an order in a month ...
    order_size = rng.uniform(20, 80, n_series)  # ... and its mean size
    noise = rng.standard_normal((n_series, n_months))
    promo_draw = rng.random((n_series, n_months))
    discount = rng.choice([10.0, 15.0, 20.0, 25.0], p=[0.3, 0.3, 0.25, 0.15], size=(n_series, n_months))
    lift = 0.1 + 0.02 * discount + rng.uniform(0.0, 0.15, (n_series, n_months))  # +30 % … +75 %
    order_draw = rng.random((n_series, n_months))
    size_noise = rng.lognormal(0.0, 0.25, (n_series, n_months))

    # level × trend × seasonality × lifecycle × promotional lift
    years = (np.arange(n_months) - months.get_loc(_REFERENCE)) / 12
    peak = np.array([_FAMILIES[f].peak_month for f in skus["fam"]])
    phase = 2 * np.pi * (months.month.to_numpy() - peak[:, None]) / 12
    season = 1 + skus["amp"].to_numpy()[:, None] * np.cos(phase)
    trend = (1 + skus["growth"].to_numpy()[:, None]) ** years
    life = _lifecycle(roles, months)
    is_int = (roles[s_sku] == "intermittent")[:, None]
    live = life[s_sku] > 0
    promo = (promo_draw < 0.1) & live & ~is_int
    base = level[:, None] * trend[s_sku] * season[s_sku] * life[s_sku]
    expected = np.where(is_int, (p_order * order_size)[:, None], base * (1 + lift * promo))
    sigma = skus["sigma"].to_numpy()[s_sku, None]
    actual = np.where(
        is_int,
        (order_draw < p_order[:, None]) * np.maximum(1, np.round(order_size[:, None] * size_noise)),
        np.round(expected * np.exp(sigma * noise - sigma**2 / 2)),
    )

    sku_names, regions = skus["sku"].to_numpy(dtype=object), np.array(REGIONS, dtype=object)

    def keys(s: np.ndarray, t: np.ndarray) -> dict[str, object]:
        return {"period": months[t], "sku": sku_names[s_sku[s]], "region": regions[s_reg[s]]}

    live_s, live_t = np.nonzero(live)
    sales = pd.DataFrame(
        keys(live_s, live_t) | {"units": actual[live_s, live_t], "expected": expected[live_s, live_t]}
    )
    promo_s, promo_t = np.nonzero(promo)
    promotions = pd.DataFrame(keys(promo_s, promo_t) | {"discount_pct": discount[promo_s, promo_t]})
    sku_expected = np.zeros((n_skus, n_months))
    np.add.at(sku_expected, s_sku, expected)
    return sales, promotions, sku_expected


def _lifecycle(roles: np.ndarray, months: pd.DatetimeIndex) -> np.ndarray:
    """Share of a SKU's demand that exists in each month (SKUs × months): the new SKU ramps up from its launch,
    the phase-out SKU declines to its last month of sales; every other SKU is 1 throughout."""
    steps = np.arange(len(months))
    life = np.ones((len(roles), len(months)))
    since_launch = steps - months.get_loc(_LAUNCH)
    life[roles == "new"] = np.where(since_launch >= 0, 1 - 0.55 ** (since_launch + 1), 0.0)
    t0, t1 = months.get_loc(_DECLINE_FROM), months.get_loc(_PHASE_OUT_END)
    fade = np.clip(1 - 0.75 * (steps - t0) / (t1 - t0), 0.25, 1.0)
    life[roles == "phase_out"] = np.where(steps <= t1, fade, 0.0)
    return life


def _price_list(skus: pd.DataFrame) -> pd.DataFrame:
    """An initial price list and an increase of a few percent in 2025-04; the new SKU launched later."""
    rows = []
    for row in skus.itertuples():
        if row.role != "new":
            rows.append((row.sku, CALENDAR_START, row.price0, row.cost0))
        rows.append((row.sku, _LAUNCH if row.role == "new" else _PRICE_CHANGE, row.price1, row.cost1))
    prices = pd.DataFrame(rows, columns=["sku", "valid_from", "unit_price", "unit_cost"])
    return prices.round({"unit_price": 2, "unit_cost": 2})


def _bill_of_resources(skus: pd.DataFrame) -> pd.DataFrame:
    """Two routes per SKU, chosen by family."""
    rows = [
        (row.sku, res, round(lo + (hi - lo) * getattr(row, f"route{k}"), 5))
        for row in skus.itertuples()
        for k, (res, lo, hi) in enumerate(_FAMILIES[row.fam].routes)
    ]
    return pd.DataFrame(rows, columns=["sku", "resource", "hours_per_unit"])


def _capacity(load: np.ndarray, months: pd.DatetimeIndex) -> pd.DataFrame:
    """Hours per resource and month from the expected load (resources × months).

    Each calendar year, a resource gets the hours per working day that make its expected load average the
    target utilisation; months differ by working days. The planned shutdown is deducted afterwards.
    """
    ends = (months + pd.DateOffset(months=1)).values.astype("datetime64[D]")
    holidays = np.array([_HOLIDAYS.get(m, 0) for m in months.month])
    days = np.busday_count(months.values.astype("datetime64[D]"), ends) - holidays
    year_of = months.year.to_numpy()
    target = np.array([_TARGET_UTILISATION[r] for r in RESOURCES])
    available = np.zeros_like(load)
    for year in np.unique(year_of):
        in_year = year_of == year
        per_day = load[:, in_year].sum(axis=1) / days[in_year].sum() / target
        available[:, in_year] = per_day[:, None] * days[in_year]
    resource, month, share = _SHUTDOWN
    available[RESOURCES.index(resource), months.get_loc(month)] *= share
    return pd.DataFrame(
        {
            "resource": np.repeat(np.array(RESOURCES, dtype=object), len(months)),
            "period": np.tile(months, len(RESOURCES)),
            "available_hours": np.round(available).ravel(),
        }
    )


def _budget(
    skus: pd.DataFrame, sku_expected: np.ndarray, months: pd.DatetimeIndex, phasing: np.ndarray
) -> pd.DataFrame:
    """Family budget: expected units × (1 + ambition) × finance's phasing, at budget prices and costs.

    Budget prices are the list prices of 2025-04; for the second budget year finance assumed a price
    rise by family and a cost rise of ``_BUDGET_COST_RISE``.
    """
    rows = []
    for f, spec in enumerate(_FAMILIES):
        members = skus["fam"].to_numpy() == f
        for k, year in enumerate(_BUDGET_YEARS):
            price = skus["price1"].to_numpy()[members] * (1 + spec.budget_price_rise * k)
            cost = skus["cost1"].to_numpy()[members] * (1 + _BUDGET_COST_RISE * k)
            for t in np.flatnonzero(months.year == year):
                units = sku_expected[members, t] * (1 + spec.ambition) * phasing[f, t]
                revenue = float(units @ price)
                rows.append((spec.name, months[t], units.sum(), revenue, revenue - float(units @ cost)))
    return pd.DataFrame(rows, columns=["family", "period", "units", "revenue", "gross_margin"]).round(0)


def _build_company(n_skus: int, seed: int) -> dict[str, pd.DataFrame]:
    """The demo company's tables over the whole calendar; every draw is in a fixed order from ``seed``."""
    if n_skus < len(_FAMILIES):
        raise ParamsError(f"The demo company needs at least {len(_FAMILIES)} SKUs; got {n_skus}.")
    rng = np.random.default_rng(seed)
    months = pd.date_range(CALENDAR_START, CALENDAR_END, freq="MS")
    skus = _draw_skus(n_skus, rng)
    sales, promotions, sku_expected = _draw_demand(skus, months, rng)
    stock_noise = rng.uniform(0.85, 1.15, sku_expected.shape)
    phasing = 1.0 + np.clip(rng.normal(0.0, 0.03, (len(_FAMILIES), len(months))), -0.06, 0.06)

    roles = skus["role"].to_numpy()
    products = pd.DataFrame(
        {
            "sku": skus["sku"],
            "family": [_FAMILIES[f].name for f in skus["fam"]],
            "description": skus["description"],
            "status": np.where(np.isin(roles, ["new", "phase_out"]), roles, "active"),
            "end_period": pd.to_datetime([_PHASE_OUT_END if r == "phase_out" else pd.NaT for r in roles]),
        }
    )
    bor = _bill_of_resources(skus)
    hours = bor.pivot(index="sku", columns="resource", values="hours_per_unit")
    hpu = hours.reindex(index=skus["sku"], columns=list(RESOURCES)).fillna(0.0).to_numpy()
    stock = np.round(skus["cover"].to_numpy()[:, None] * sku_expected * stock_noise)
    sku_names = np.repeat(skus["sku"].to_numpy(dtype=object), len(months))
    on_hand = pd.DataFrame({"period": np.tile(months, len(skus)), "sku": sku_names, "on_hand": stock.ravel()})
    return {
        "sales_history": sales.sort_values(["period", "sku", "region"]),  # with noise-free "expected"
        "products": products,
        "prices": _price_list(skus),
        "promotions": promotions.sort_values(["period", "sku", "region"]),
        "bill_of_resources": bor,
        "capacity": _capacity(hpu.T @ sku_expected, months),
        "inventory": on_hand,  # every month: the opening stock had that month been a cycle
        "budget": _budget(skus, sku_expected, months, phasing),
    }


def generate_demo_company(cycle: Cycle | str, n_skus: int = 56, seed: int = 20261101) -> dict[str, pd.DataFrame]:
    """The demo company's input tables as its extract would look when cycle `cycle` (e.g. "2026-11") starts.

    Parameters
    ----------
    cycle
        Planning cycle (or its id, ``YYYY-MM`` or ``YYYY-Qn``: a quarter's extract is that of its first month);
        the calendar serves 2025-01 … 2026-12 (see ``DEMO_CYCLES``).
    n_skus
        Number of SKUs (at least 4). Whatever the number, there are several families, all three regions,
        at least one intermittent SKU, one ``new`` and one ``phase_out`` SKU.
    seed
        Seed of ``numpy.random.default_rng``; the same seed and ``n_skus`` give the same company for every
        cycle.

    Returns
    -------
    dict[str, pandas.DataFrame]
        One frame per table of ``contract.TABLES``, with the contract's columns in contract order and dates
        as month-start Timestamps:

        - ``sales_history``: the 48 months before the cycle month (units, whole numbers, zeros included).
        - ``promotions``: past promotions in those months and planned ones for the cycle month + 11 more.
        - ``capacity``: available hours per resource from the first history month through cycle + 24.
        - ``inventory``: opening on-hand per SKU at the start of the cycle month.
        - ``products``, ``prices``, ``bill_of_resources``, ``budget`` (2026-2027): the same for every cycle.

    Raises
    ------
    ParamsError
        If ``cycle`` is malformed or outside the calendar, or ``n_skus`` is below 4.
    """
    cycle = _demo_cycle(cycle).as_month()  # a quarter's extract is its first month's: history to the month before
    tables = _build_company(n_skus, seed)
    first = cycle.shift(-HISTORY_MONTHS)

    def window(name: str, since: Cycle, until: Cycle) -> pd.DataFrame:
        return tables[name][tables[name]["period"].between(since.start, until.start)]

    tables |= {
        "sales_history": window("sales_history", first, cycle.shift(-1)),
        "promotions": window("promotions", first, cycle.shift(PROMO_PLAN_MONTHS - 1)),
        "capacity": window("capacity", first, cycle.shift(CAPACITY_MONTHS)),
        "inventory": window("inventory", cycle, cycle),
    }
    tables["capacity"] = with_decided_shifts(tables["capacity"], cycle)
    return {name: tables[name][columns_of(name)].reset_index(drop=True) for name in TABLES}


def write_demo_inputs(
    cycle: Cycle | str,
    out_dir: Path | str,
    n_skus: int = 56,
    fmt: Literal["csv", "parquet", "xlsx"] = "csv",
) -> list[Path]:
    """Write every table as <out_dir>/<table>.<fmt>, replacing files of those names; returns the paths.

    Parameters
    ----------
    cycle
        Planning cycle or its id (see :func:`generate_demo_company`).
    out_dir
        Inputs folder; created if missing. Other files in it are left alone.
    n_skus
        Number of SKUs of the demo company.
    fmt
        File format. CSV dates are written as ``YYYY-MM-DD``, empty dates as empty cells.

    Returns
    -------
    list[pathlib.Path]
        The written files, in the order of ``contract.TABLES``.

    Raises
    ------
    ParamsError
        If ``fmt`` is not one of csv, parquet, xlsx, or the cycle or ``n_skus`` is invalid.
    """
    if fmt not in ("csv", "parquet", "xlsx"):
        raise ParamsError(f"Demo inputs can be written as csv, parquet or xlsx; got {fmt!r}.")
    tables = generate_demo_company(cycle, n_skus=n_skus)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in tables.items():
        path = folder / f"{name}.{fmt}"
        if fmt == "csv":
            frame.to_csv(path, index=False, date_format="%Y-%m-%d", float_format="%.12g")
        elif fmt == "parquet":
            frame.to_parquet(path, index=False)
        else:
            frame.to_excel(path, index=False, sheet_name=name)
        paths.append(path)
    return paths
