"""The demo company keeps the promises made for it: size, shape, contract, lifecycle, slicing, files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sop_lib.core.errors import ParamsError
from sop_lib.data.contract import TABLES, columns_of
from sop_lib.demo import DEMO_CYCLES, generate_demo_company, write_demo_inputs

CYCLE = "2026-11"


@pytest.fixture(scope="module")
def demo() -> dict[str, pd.DataFrame]:
    return generate_demo_company(CYCLE)


@pytest.fixture(scope="module")
def small() -> dict[str, pd.DataFrame]:
    return generate_demo_company(CYCLE, n_skus=8)


def adi(units: list[float] | np.ndarray) -> float:
    """Mean interval between non-zero months (Syntetos–Boylan ADI); inf with fewer than two."""
    nonzero = np.flatnonzero(np.asarray(units) > 0)
    return float(np.diff(nonzero).mean()) if len(nonzero) > 1 else float("inf")


def test_adi_by_hand() -> None:
    # non-zero in months 1, 4 and 6: intervals 3 and 2
    assert adi([0, 3, 0, 0, 2, 0, 1]) == 2.5
    assert adi([5, 5, 5]) == 1.0


@pytest.mark.parametrize("which", ["demo", "small"])
def test_every_table_follows_the_contract(which: str, request: pytest.FixtureRequest) -> None:
    tables = request.getfixturevalue(which)
    assert list(tables) == list(TABLES)
    for name, frame in tables.items():
        assert list(frame.columns) == columns_of(name), name
        TABLES[name].model.validate(frame, lazy=True)
        for col in TABLES[name].month_columns:
            dates = frame[col].dropna()
            assert (dates == dates.dt.to_period("M").dt.start_time).all(), (name, col)


def test_default_size(demo: dict[str, pd.DataFrame]) -> None:
    assert len(demo["products"]) >= 50
    assert demo["products"]["family"].nunique() >= 4
    assert demo["sales_history"]["region"].nunique() >= 3
    regions_per_sku = demo["sales_history"].groupby("sku")["region"].nunique()
    assert (regions_per_sku == 3).mean() > 0.6  # most SKUs are sold everywhere


@pytest.mark.parametrize("cycle", DEMO_CYCLES)
def test_history_is_48_months_ending_before_the_cycle(cycle: str) -> None:
    periods = generate_demo_company(cycle, n_skus=8)["sales_history"]["period"]
    start = pd.Timestamp(f"{cycle}-01")
    expected = pd.date_range(start - pd.DateOffset(months=48), start - pd.DateOffset(months=1), freq="MS")
    assert list(periods.drop_duplicates().sort_values()) == list(expected)


def test_units_are_whole_and_non_negative(demo: dict[str, pd.DataFrame]) -> None:
    units = demo["sales_history"]["units"]
    assert (units >= 0).all()
    assert (units == units.round()).all()


def test_every_sku_has_a_route_and_a_price(demo: dict[str, pd.DataFrame]) -> None:
    skus = set(demo["products"]["sku"])
    assert set(demo["bill_of_resources"]["sku"]) == skus
    assert set(demo["prices"]["sku"]) == skus
    assert set(demo["inventory"]["sku"]) == skus
    assert demo["bill_of_resources"]["resource"].nunique() >= 3
    prices = demo["prices"]
    margin = 1 - prices["unit_cost"] / prices["unit_price"]
    assert margin.between(0.2, 0.6).all()


@pytest.mark.parametrize("cycle", DEMO_CYCLES)
def test_one_new_and_one_phase_out_sku(cycle: str) -> None:
    tables = generate_demo_company(cycle)
    products, sales = tables["products"], tables["sales_history"]
    start = pd.Timestamp(f"{cycle}-01")
    new = products.loc[products["status"] == "new", "sku"]
    assert len(new) == 1
    first_sale = sales.loc[(sales["sku"] == new.iloc[0]) & (sales["units"] > 0), "period"].min()
    assert start - pd.DateOffset(months=12) <= first_sale < start
    assert sales.loc[sales["sku"] == new.iloc[0], "period"].min() == first_sale  # no rows before launch
    phase_out = products[products["status"] == "phase_out"]
    assert len(phase_out) == 1
    assert phase_out["end_period"].iloc[0] > start
    assert products.loc[products["status"] == "active", "end_period"].isna().all()
    # the discontinued SKU sells less in its last year of history than the year before
    po = sales[sales["sku"] == phase_out["sku"].iloc[0]].groupby("period")["units"].sum()
    assert po.iloc[-12:].sum() < 0.85 * po.iloc[-24:-12].sum()


@pytest.mark.parametrize("which", ["demo", "small"])
def test_some_series_are_intermittent(which: str, request: pytest.FixtureRequest) -> None:
    sales = request.getfixturevalue(which)["sales_history"]
    by_series = sales.sort_values("period").groupby(["sku", "region"])["units"]
    adis = by_series.apply(lambda units: adi(units.to_numpy()))
    assert (adis >= 1.32).sum() >= 1
    assert (adis < 1.32).mean() > 0.8  # most series are smooth


def test_small_company_still_has_every_feature(small: dict[str, pd.DataFrame]) -> None:
    assert small["products"]["family"].nunique() >= 2
    assert small["sales_history"]["region"].nunique() == 3
    assert set(small["products"]["status"]) == {"active", "new", "phase_out"}


def test_price_change_inside_history(demo: dict[str, pd.DataFrame]) -> None:
    history = demo["sales_history"]["period"]
    prices = demo["prices"].sort_values(["sku", "valid_from"])
    changes = prices[prices.duplicated("sku", keep="first")]  # rows after a SKU's first price
    inside = changes[changes["valid_from"].between(history.min(), history.max())]
    assert len(inside) >= len(demo["products"]) - 1
    first = prices.drop_duplicates("sku").set_index("sku")["unit_price"]
    rise = inside.set_index("sku")["unit_price"] / first.loc[inside["sku"]].to_numpy() - 1
    assert rise.between(0.0, 0.1).all() and (rise > 0).mean() > 0.8


def test_promotions_lift_sales_and_are_planned_ahead(demo: dict[str, pd.DataFrame]) -> None:
    promos = demo["promotions"]
    start = pd.Timestamp(f"{CYCLE}-01")
    planned = promos.loc[promos["period"] >= start, "period"]
    assert set(pd.date_range(start, periods=6, freq="MS")) <= set(planned)
    assert promos["discount_pct"].between(10, 25).all()
    sales = demo["sales_history"].merge(promos, on=["period", "sku", "region"], how="left")
    sales["promoted"] = sales["discount_pct"].notna()
    means = sales.groupby(["sku", "region", "promoted"])["units"].mean().unstack().dropna()
    assert len(means) > 50
    assert (means[True] / means[False]).median() > 1.25


def test_capacity_has_a_shutdown_and_realistic_utilisation(demo: dict[str, pd.DataFrame]) -> None:
    capacity = demo["capacity"]
    start = pd.Timestamp(f"{CYCLE}-01")
    assert capacity["period"].min() == demo["sales_history"]["period"].min()
    assert capacity["period"].max() == start + pd.DateOffset(months=24)
    hours = capacity.pivot(index="period", columns="resource", values="available_hours")
    assert ((hours.min() / hours.median()) < 0.6).sum() == 1  # one planned shutdown month
    load = demo["sales_history"].merge(demo["bill_of_resources"], on="sku")
    load["hours"] = load["units"] * load["hours_per_unit"]
    used = load.pivot_table(index="period", columns="resource", values="hours", aggfunc="sum")
    utilisation = used.sum() / hours.loc[used.index].sum()
    assert utilisation.between(0.7, 0.95).all(), utilisation


def test_budget_covers_two_years_per_family(demo: dict[str, pd.DataFrame]) -> None:
    budget = demo["budget"]
    assert set(budget["period"].dt.year) == {2026, 2027}
    assert len(budget) == 24 * demo["products"]["family"].nunique()
    assert (budget["gross_margin"] < budget["revenue"]).all() and (budget["gross_margin"] > 0).all()


def test_extract_of_october_is_november_without_its_last_month() -> None:
    october, november = generate_demo_company("2026-10"), generate_demo_company("2026-11")
    for name in ("products", "prices", "bill_of_resources", "budget"):
        pd.testing.assert_frame_equal(october[name], november[name])
    overlap = {"sales_history": ("2022-11-01", "2026-09-01"), "promotions": ("2022-11-01", "2027-09-01")}
    overlap["capacity"] = ("2022-11-01", "2028-10-01")
    for name, (since, until) in overlap.items():
        old, new = october[name], november[name]
        pd.testing.assert_frame_equal(
            old[old["period"].between(since, until)].reset_index(drop=True),
            new[new["period"].between(since, until)].reset_index(drop=True),
        )
    assert november["sales_history"]["period"].max() == pd.Timestamp("2026-10-01")
    assert october["sales_history"]["period"].max() == pd.Timestamp("2026-09-01")
    hist = november["sales_history"]
    assert len(hist[hist["period"] < "2026-10-01"]) == len(october["sales_history"]) - (
        (october["sales_history"]["period"] == "2022-10-01").sum()
    )


def test_same_seed_same_company_other_seed_other_company() -> None:
    a, b = generate_demo_company(CYCLE, n_skus=8), generate_demo_company(CYCLE, n_skus=8)
    for name in TABLES:
        pd.testing.assert_frame_equal(a[name], b[name])
    c = generate_demo_company(CYCLE, n_skus=8, seed=1)
    assert not c["sales_history"].equals(a["sales_history"])


def test_write_csv_round_trips(tmp_path: Path, small: dict[str, pd.DataFrame]) -> None:
    (tmp_path / "products.csv").write_text("stale")
    paths = write_demo_inputs(CYCLE, tmp_path, n_skus=8)
    assert paths == [tmp_path / f"{name}.csv" for name in TABLES]
    for name, path in zip(TABLES, paths, strict=True):
        back = pd.read_csv(path)
        assert len(back) == len(small[name]), name
        assert list(back.columns) == columns_of(name)
    first_line = (tmp_path / "sales_history.csv").read_text().splitlines()[1]
    assert first_line.startswith("2022-11-01,")
    products = pd.read_csv(tmp_path / "products.csv")
    assert products["end_period"].notna().sum() == 1  # NaT written as an empty cell


def test_write_parquet_round_trips(tmp_path: Path, small: dict[str, pd.DataFrame]) -> None:
    paths = write_demo_inputs(CYCLE, tmp_path / "inputs", n_skus=8, fmt="parquet")
    for name, path in zip(TABLES, paths, strict=True):
        back = pd.read_parquet(path)
        pd.testing.assert_frame_equal(back, small[name], check_dtype=False, check_index_type=False)


def test_write_xlsx_round_trips(tmp_path: Path, small: dict[str, pd.DataFrame]) -> None:
    paths = write_demo_inputs(CYCLE, tmp_path, n_skus=8, fmt="xlsx")
    for name, path in zip(TABLES, paths, strict=True):
        back = pd.read_excel(path)
        assert len(back) == len(small[name]), name
        TABLES[name].model.validate(back, lazy=True)


@pytest.mark.parametrize("cycle", ["2026-13", "2026/11", "2020-01", "2027-06"])
def test_cycle_outside_the_calendar_is_refused(cycle: str) -> None:
    with pytest.raises(ParamsError, match="cycle"):
        generate_demo_company(cycle, n_skus=8)


def test_too_few_skus_are_refused() -> None:
    with pytest.raises(ParamsError, match="at least 4 SKUs"):
        generate_demo_company(CYCLE, n_skus=3)


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ParamsError, match="csv, parquet or xlsx"):
        write_demo_inputs(CYCLE, tmp_path, n_skus=8, fmt="json")  # type: ignore[arg-type]


def test_the_shift_decided_at_the_september_meeting_is_in_later_extracts() -> None:
    """The demo's 2026-09 meeting decides weekend shifts on Bottling; operations plan them from the 2026-10
    extract on (+160 h a month, May–July 2027), so the follow-through can measure a decision that acted."""
    def bottling(cycle: str) -> pd.Series:
        cap = generate_demo_company(cycle, n_skus=8)["capacity"]
        return cap[cap["resource"] == "Bottling"].set_index("period")["available_hours"]

    sep, octo = bottling("2026-09"), bottling("2026-10")
    common = sep.index.intersection(octo.index)
    diff = (octo[common] - sep[common])
    assert diff[diff != 0].to_dict() == {pd.Timestamp(m): 160.0 for m in ("2027-05-01", "2027-06-01", "2027-07-01")}
