"""Data health: checks between the input tables and over time, once each table has passed the contract alone.

Pure functions, no I/O: validated tables in, problem and warning rows out (dicts with the columns of
:data:`PROBLEM_COLUMNS`: file, row, column, problem, value). ``validate.validate_tables`` calls
:func:`check_health`; ``context.check_planner_inputs`` calls :func:`uncovered_capacity` to check the forecast
horizon against capacity.
``docs/data-contract.md`` says each rule, and why it stops the cycle or is only a warning.

Dates far from the rest are found by gaps, not by a fixed window, so the rule holds for a retailer with 13
months of history as for a panel of 17 years: the months of a table with monthly rows (``sales_history``,
``capacity``, ``budget``) are split wherever more than :data:`GAP_MONTHS` months in a row have no row at all;
the span holding the most rows is the table's own, and every row outside it is a problem. Dates that are sparse
by nature (promotions, price changes, a product's end) are far when they lie more than :data:`FAR_YEARS` years
before the sales history's first month or after the cycle.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from sop_lib.core.cycle import CYCLE_YEARS

PROBLEM_COLUMNS = ["file", "row", "column", "problem", "value"]
Problem = dict[str, object]
Found = tuple[list[Problem], list[Problem]]  # (problems, warnings)

FIRST_CYCLE, LAST_CYCLE = pd.Timestamp(CYCLE_YEARS[0], 1, 1), pd.Timestamp(CYCLE_YEARS[1], 12, 1)
GAP_MONTHS = 12  # more months than this in a row without any row of a table splits its dates
FAR_YEARS = 10  # a sparse date this far before the sales history or after the cycle is a typo
MANY_FAR_ROWS = 20  # from this many rows in a far span on: one problem for the span, not one per row
DENSE_DATES = {"sales_history": "period", "capacity": "period", "budget": "period"}
# (table, column, far before the sales history is wrong, far after the cycle is wrong): a price valid "from
# 1900" is a common way to say "always"; a product ending in 2099 a way to say "no end planned"
SPARSE_DATES = (("promotions", "period", True, True), ("prices", "valid_from", False, True),
                ("products", "end_period", True, False))
FORMULA_OR_MARKUP = r"^[=+@\t\r]|[<>]"


def problem(file: str, row: int | None, column: str, text: str, value: object = "") -> Problem:
    """One row of a problem or warning table."""
    return {"file": file, "row": row, "column": column, "problem": text, "value": "" if value is None else str(value)}


@dataclass(frozen=True)
class Source:
    """How problems name a table: the file as read (``sales_history.xlsx (sheet 'Data')``) and the row number
    of its first data row (2 for CSV and Excel, whose header is row 1; 1 for Parquet)."""

    file: str
    first_row: int = 2


@dataclass(frozen=True)
class Extract:
    """The tables of an inputs folder that passed the contract (by name), whether the extract had each
    (``present``: False for an absent optional table) and their files. A table's index is its position in
    the file, so a row number is ``index + first_row``."""

    tables: dict[str, pd.DataFrame]
    present: dict[str, bool]
    sources: dict[str, Source]

    def has(self, name: str) -> bool:
        return bool(self.present.get(name)) and name in self.tables

    def at(self, name: str, index: object, column: str, text: str, value: object = "") -> Problem:
        """A problem in table ``name`` at the row of frame index ``index`` (None: the whole file or column)."""
        src = self.sources.get(name, Source(f"{name}.csv"))
        row = None if index is None else int(index) + src.first_row  # type: ignore[call-overload]
        return problem(src.file, row, column, text, value)


def first_index(frame: pd.DataFrame, column: str, values: Iterable[object]) -> dict[str, object]:
    """The frame index of the first row holding each of ``values`` in ``column``, by value, in file order."""
    values = set(values)
    if not values:
        return {}
    hits = frame[frame[column].isin(values)].drop_duplicates(subset=[column])
    return {str(v): i for i, v in hits[column].items()}


def months_between(start: pd.Timestamp, end: pd.Timestamp) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def describe_months(months: Iterable[pd.Timestamp]) -> str:
    """``2025-03``, ``2025-03 … 2025-05`` or ``2024-01, 2025-03 … 2025-05``: runs of consecutive months."""
    ordered = sorted(set(months))
    runs: list[list[pd.Timestamp]] = []
    for m in ordered:
        if runs and months_between(runs[-1][-1], m) == 1:
            runs[-1].append(m)
        else:
            runs.append([m])
    return ", ".join(f"{r[0]:%Y-%m}" if len(r) == 1 else f"{r[0]:%Y-%m} … {r[-1]:%Y-%m}" for r in runs)


def _distance(months: int) -> str:
    if months >= 24:
        return f"{months // 12} years"
    return f"{months} month{'s' if months != 1 else ''}"


def date_spans(dates: pd.Series) -> list[tuple[pd.Timestamp, pd.Timestamp, int]]:
    """The spans of a column of months: (first month, last month, rows), split wherever more than
    :data:`GAP_MONTHS` months in a row have no row."""
    counts = dates.dropna().value_counts().sort_index()
    spans: list[tuple[pd.Timestamp, pd.Timestamp, int]] = []
    for month, n in counts.items():
        if spans and months_between(spans[-1][1], month) <= GAP_MONTHS + 1:
            start, _, rows = spans[-1]
            spans[-1] = (start, month, rows + int(n))
        else:
            spans.append((month, month, int(n)))
    return spans


def main_span(dates: pd.Series) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The span of a table's months that holds the most rows (the latest of equals); None without dates."""
    spans = date_spans(dates)
    if not spans:
        return None
    start, end, _ = max(spans, key=lambda s: (s[2], s[1]))
    return start, end


def far_dense_dates(ex: Extract, name: str, column: str) -> list[Problem]:
    """Rows of a monthly table outside its main span: each a problem (one per span from
    :data:`MANY_FAR_ROWS` rows on)."""
    dates = ex.tables[name][column].dropna()
    spans = date_spans(dates)
    if len(spans) < 2:
        return []
    start, end, _ = max(spans, key=lambda s: (s[2], s[1]))
    rest = f"the rest of {name} ({start:%Y-%m} … {end:%Y-%m})"
    out: list[Problem] = []
    for first, last, n in spans:
        if (first, last) == (start, end):
            continue
        before = last < start
        side = "before" if before else "after"
        rows = dates[(dates >= first) & (dates <= last)]
        if n >= MANY_FAR_ROWS:
            gap = months_between(last, start) if before else months_between(end, first)
            out.append(ex.at(name, rows.index[0], column, (
                f"{n:,} rows dated {first:%Y-%m} … {last:%Y-%m} are {_distance(gap)} {side} {rest}, with no row in "
                "between: a typo in the year, or months lost in the export?"), f"{first:%Y-%m}"))
            continue
        for index, month in rows.items():
            gap = months_between(month, start) if before else months_between(end, month)
            out.append(ex.at(name, index, column, f"{month:%Y-%m} is {_distance(gap)} {side} {rest}: a typo?",
                             f"{month:%Y-%m}"))
    return out


def far_sparse_dates(ex: Extract, history: tuple[pd.Timestamp, pd.Timestamp] | None,
                     cycle_start: pd.Timestamp) -> list[Problem]:
    """Promotion months, price changes and product ends more than :data:`FAR_YEARS` years before the sales
    history's first month, or after the later of the cycle and the history's last month (see
    :data:`SPARSE_DATES` for which side counts where). ``history`` is the sales history's main span."""
    out: list[Problem] = []
    anchor, what = cycle_start, f"the cycle {cycle_start:%Y-%m}"
    if history is not None and history[1] > cycle_start:
        anchor, what = history[1], f"the last month of sales_history ({history[1]:%Y-%m})"
    latest = anchor + pd.DateOffset(years=FAR_YEARS)
    for name, column, early, late in SPARSE_DATES:
        if not ex.has(name) or column not in ex.tables[name].columns:
            continue
        dates = ex.tables[name][column].dropna()
        if early and history is not None:
            earliest = history[0] - pd.DateOffset(years=FAR_YEARS)
            out += [ex.at(name, i, column, f"more than {FAR_YEARS} years before the first month of sales_history "
                          f"({history[0]:%Y-%m}): a typo?", f"{m:%Y-%m}") for i, m in dates[dates < earliest].items()]
        if late:
            out += [ex.at(name, i, column, f"more than {FAR_YEARS} years after {what}: a typo?", f"{m:%Y-%m}")
                    for i, m in dates[dates > latest].items()]
    return out


def check_history(ex: Extract, cycle_start: pd.Timestamp, allow_stale_months: int = 0) -> Found:
    """The sales history against the cycle: rows before the cycle, reaching the month before it (less
    ``allow_stale_months``: then a warning), no month missing for every series; rows in or after the cycle
    month are left out (a warning). Rows outside the table's main span are left to :func:`far_dense_dates`."""
    sales = ex.tables["sales_history"]
    span = main_span(sales["period"])
    if span is None:
        return [], []
    at = "sales_history"
    history = sales[sales["period"].between(*span) & (sales["period"] < cycle_start)]
    problems: list[Problem] = []
    warnings = _late_rows(ex, cycle_start)
    if history.empty:
        problems.append(ex.at(at, None, "period", (
            f"no sales history before cycle {cycle_start:%Y-%m}: sales_history runs {span[0]:%Y-%m} … "
            f"{span[1]:%Y-%m}. Is the cycle right?"), f"{span[0]:%Y-%m}"))
        return problems, warnings
    last = history["period"].max()
    needed = cycle_start - pd.offsets.MonthBegin(1)
    short = months_between(last, needed)
    if short > allow_stale_months:
        problems.append(ex.at(at, None, "period", _stale_text(last, cycle_start, short), f"{last:%Y-%m}"))
    elif short > 0:
        warnings.append(ex.at(at, None, "period", (
            f"sales_history ends {last:%Y-%m}, {_distance(short)} before {needed:%Y-%m} (the month before cycle "
            f"{cycle_start:%Y-%m}): accepted as forecast.allow_stale_months is {allow_stale_months}"), f"{last:%Y-%m}"))
    all_months = pd.date_range(history["period"].min(), last, freq="MS")
    missing = all_months.difference(pd.DatetimeIndex(history["period"].unique()))
    if len(missing):
        n = len(missing)
        problems.append(ex.at(at, None, "period", (
            f"no row at all, for any series, in {describe_months(missing)} ({n} month{'s' if n != 1 else ''} inside "
            "the history): lost in the export? Every series would count them as zero demand. Export again; if "
            "nothing was sold, add the rows with units 0"), f"{missing[0]:%Y-%m}"))
    return problems, warnings


def _stale_text(last: pd.Timestamp, cycle_start: pd.Timestamp, short: int) -> str:
    needed = cycle_start - pd.offsets.MonthBegin(1)
    text = (f"sales_history ends {last:%Y-%m}; cycle {cycle_start:%Y-%m} plans from the history up to {needed:%Y-%m}: "
            f"the extract is {'a month' if short == 1 else _distance(short)} short. ")
    if short > 12:
        return text + "Is the cycle right? Export the history again, or run the cycle the history is for " \
                      f"({last + pd.offsets.MonthBegin(1):%Y-%m})"
    missing = "the last month is" if short == 1 else f"the last {short} months are"
    return text + (f"Export again, or run the cycle {last + pd.offsets.MonthBegin(1):%Y-%m}, or set "
                   f"`forecast.allow_stale_months: {short}` in params/ if {missing} known to be missing")


def _late_rows(ex: Extract, cycle_start: pd.Timestamp) -> list[Problem]:
    sales = ex.tables["sales_history"]
    late = sales[sales["period"] >= cycle_start]
    if late.empty:
        return []
    return [ex.at("sales_history", late.index[0], "period", (
        f"{len(late)} rows dated in or after the cycle month {cycle_start:%Y-%m} were left out "
        "(the cycle plans from the last closed month)"), f"{late['period'].min():%Y-%m}")]


def check_keys(ex: Extract) -> Found:
    """Keys one table names that another does not know (see docs/data-contract.md for why each is a problem
    or a warning): only between tables the extract has."""
    problems: list[Problem] = []
    warnings: list[Problem] = []
    for found in (_route_keys(ex), _catalogue_keys(ex), _promotion_keys(ex)):
        problems += found[0]
        warnings += found[1]
    return problems, warnings


def _route_keys(ex: Extract) -> Found:
    problems: list[Problem] = []
    warnings: list[Problem] = []
    t = ex.tables
    skus = set(t["products"]["sku"]) if ex.has("products") else None
    if skus is not None and ex.has("sales_history"):
        for sku, i in first_index(t["sales_history"], "sku", set(t["sales_history"]["sku"]) - skus).items():
            problems.append(ex.at("sales_history", i, "sku", "SKU not in products", sku))
    if "bill_of_resources" in t and "capacity" in t and ex.present["bill_of_resources"] != ex.present["capacity"]:
        given, none = ("bill_of_resources", "capacity") if ex.present["bill_of_resources"] else (
            "capacity", "bill_of_resources")
        problems.append(ex.at(given, None, "", f"{given} has rows but {none} has none: give both (capacity is "
                              "modelled) or neither (the plan is unconstrained)"))
    if skus is not None and ex.has("bill_of_resources"):
        routes = t["bill_of_resources"]
        for sku, i in first_index(t["products"], "sku", skus - set(routes["sku"])).items():
            problems.append(ex.at("products", i, "sku", "SKU unknown to the bill of resources: no resource makes it",
                                  sku))
        for sku, i in first_index(routes, "sku", set(routes["sku"]) - skus).items():
            problems.append(ex.at("bill_of_resources", i, "sku", (
                "SKU not in products: its hours would not be counted (a mistyped SKU takes a route away from a "
                "real one and understates the load): correct it, or delete the row"), sku))
    if ex.has("bill_of_resources") and ex.has("capacity"):
        routed, available = set(t["bill_of_resources"]["resource"]), set(t["capacity"]["resource"])
        for res, i in first_index(t["bill_of_resources"], "resource", routed - available).items():
            problems.append(ex.at("bill_of_resources", i, "resource", "resource has no available hours in capacity",
                                  res))
        for res, i in first_index(t["capacity"], "resource", available - routed).items():
            warnings.append(ex.at("capacity", i, "resource",
                                  "resource not in bill_of_resources: no SKU is made on it (its hours are ignored)",
                                  res))
    return problems, warnings


def _catalogue_keys(ex: Extract) -> Found:
    problems: list[Problem] = []
    warnings: list[Problem] = []
    t = ex.tables
    if not ex.has("products"):
        return problems, warnings
    products = t["products"]
    skus = set(products["sku"])
    if ex.has("prices"):
        priced = set(t["prices"]["sku"])
        for sku, i in first_index(products, "sku", skus - priced).items():
            problems.append(ex.at("products", i, "sku", "SKU has no price in prices", sku))
        for sku, i in first_index(t["prices"], "sku", priced - skus).items():
            warnings.append(ex.at("prices", i, "sku", "SKU not in products (ignored)", sku))
    if ex.has("inventory"):
        stocked = set(t["inventory"]["sku"])
        for sku in first_index(products, "sku", skus - stocked):
            warnings.append(ex.at("inventory", None, "sku", "SKU has no opening stock row: taken as 0", sku))
        for sku, i in first_index(t["inventory"], "sku", stocked - skus).items():
            warnings.append(ex.at("inventory", i, "sku", "SKU not in products (ignored)", sku))
    elif "inventory" in t and not ex.present.get("inventory"):
        warnings.append(ex.at("inventory", None, "", "no inventory given: opening stock taken as 0 for every SKU"))
    if ex.has("budget"):
        extra = set(t["budget"]["family"]) - set(products["family"])
        for fam, i in first_index(t["budget"], "family", extra).items():
            warnings.append(ex.at("budget", i, "family", "family not in products (ignored)", fam))
    if "description" in products.columns:
        text = products["description"].dropna().astype(str)
        for i, value in text[text.str.contains(FORMULA_OR_MARKUP, regex=True)].items():
            warnings.append(ex.at("products", i, "description",
                                  "looks like a spreadsheet formula or markup: kept as plain text", value))
    return problems, warnings


def _promotion_keys(ex: Extract) -> Found:
    """Promotions for SKUs or series the plan does not have: warnings (promotion calendars often cover more
    than the planned range, and the rows cannot change the plan)."""
    warnings: list[Problem] = []
    if not ex.has("promotions"):
        return [], warnings
    promos = ex.tables["promotions"]
    known = promos
    if ex.has("products"):
        unknown = set(promos["sku"]) - set(ex.tables["products"]["sku"])
        for sku, i in first_index(promos, "sku", unknown).items():
            warnings.append(ex.at("promotions", i, "sku", "SKU not in products (ignored)", sku))
        known = promos[~promos["sku"].isin(unknown)]
    if ex.has("sales_history"):
        sales = ex.tables["sales_history"]
        series = set(zip(sales["sku"], sales["region"], strict=True))
        pairs = pd.Series(list(zip(known["sku"], known["region"], strict=True)), index=known.index, dtype=object)
        orphan = known[~pairs.isin(series)].drop_duplicates(["sku", "region"])
        for i, rec in orphan.iterrows():
            warnings.append(ex.at("promotions", i, "sku, region",
                                  "no sales history for this SKU in this region: nothing to promote (ignored)",
                                  f"{rec['sku']} | {rec['region']}"))
    return [], warnings


def check_budget_horizon(ex: Extract, cycle_start: pd.Timestamp, horizon_months: int | None) -> list[Problem]:
    """A warning when the budget ends before the forecast horizon does: budgets are annual, so a horizon that
    reaches into a year not budgeted yet is normal, but the months without a comparison are said."""
    if horizon_months is None or not ex.has("budget"):
        return []
    end = cycle_start + pd.DateOffset(months=horizon_months - 1)
    last = ex.tables["budget"]["period"].max()
    if pd.isna(last) or last >= end:
        return []
    first = max(last + pd.offsets.MonthBegin(1), cycle_start)
    return [ex.at("budget", None, "period", (
        f"budget ends {last:%Y-%m}; the forecast horizon (forecast.horizon_months: {horizon_months}) runs to "
        f"{end:%Y-%m}: {describe_months(pd.date_range(first, end, freq='MS'))} have no budget to compare with"),
        f"{last:%Y-%m}")]


def check_health(ex: Extract, cycle_start: pd.Timestamp, *, allow_stale_months: int = 0,
                 horizon_months: int | None = None) -> Found:
    """Every check of this module on the tables that passed the contract. Returns (problems, warnings)."""
    problems, warnings = check_keys(ex)
    if not FIRST_CYCLE <= cycle_start <= LAST_CYCLE:
        problems.append(ex.at("sales_history", None, "period", (
            f"cycle {cycle_start:%Y-%m} is outside {FIRST_CYCLE:%Y-%m} … {LAST_CYCLE:%Y-%m}: a typo in --cycle?")))
        return problems, warnings  # no date arithmetic on a date that far out
    for name, column in DENSE_DATES.items():
        if ex.has(name):
            problems += far_dense_dates(ex, name, column)
    span = main_span(ex.tables["sales_history"]["period"]) if ex.has("sales_history") else None
    if span is not None:
        found = check_history(ex, cycle_start, allow_stale_months)
        problems += found[0]
        warnings += found[1]
    problems += far_sparse_dates(ex, span, cycle_start)
    warnings += check_budget_horizon(ex, cycle_start, horizon_months)
    return problems, warnings


def uncovered_capacity(capacity: pd.DataFrame, routes: pd.DataFrame, cycle_start: pd.Timestamp,
                       horizon_months: int) -> pd.DataFrame:
    """The (``resource``, ``period``) pairs of the forecast horizon for which a resource of the bill of
    resources has no capacity row: months the supply plan would treat as unconstrained. Empty when capacity
    is not modelled (either table empty)."""
    if capacity.empty or routes.empty:
        return pd.DataFrame({"resource": pd.Series(dtype=object), "period": pd.Series(dtype="datetime64[ns]")})
    months = pd.date_range(cycle_start, periods=horizon_months, freq="MS")
    grid = pd.MultiIndex.from_product([sorted(set(routes["resource"].astype(str))), months],
                                      names=["resource", "period"])
    periods = pd.to_datetime(capacity["period"]).dt.to_period("M").dt.to_timestamp()
    have = pd.MultiIndex.from_arrays([capacity["resource"].astype(str), periods], names=["resource", "period"])
    return grid[~grid.isin(have)].to_frame(index=False)
