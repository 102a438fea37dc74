"""Rough-cut capacity, checked against hours worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sop_lib.supply.capacity import capacity_summary, required_hours, review_capacity

TS = pd.Timestamp
M1, M2, M3, M4 = TS("2026-11-01"), TS("2026-12-01"), TS("2027-01-01"), TS("2027-02-01")


def test_required_hours_by_hand() -> None:
    plan = pd.DataFrame([
        ("S1", "North", M1, 100.0), ("S1", "South", M1, 50.0),
        ("S1", "North", M2, 80.0), ("S1", "South", M2, 20.0),
        ("S2", "North", M1, 10.0), ("S2", "South", M1, 30.0),
        ("S2", "North", M2, 0.0), ("S2", "South", M2, 40.0),
    ], columns=["sku", "region", "period", "units"])
    bor = pd.DataFrame([
        ("S1", "Mixing", 0.5), ("S1", "Bottling", 0.2),
        ("S2", "Mixing", 0.25), ("S2", "Bottling", 1.5),
    ], columns=["sku", "resource", "hours_per_unit"])
    out = required_hours(plan, bor)
    assert list(out.columns) == ["resource", "period", "required_hours"]
    got = {(r.resource, r.period): r.required_hours for r in out.itertuples()}
    # units over regions: S1 M1 = 150, S1 M2 = 100, S2 M1 = 40, S2 M2 = 40
    expected = {
        ("Bottling", M1): 90.0,  # 150×0.2 + 40×1.5 = 30 + 60
        ("Bottling", M2): 80.0,  # 100×0.2 + 40×1.5 = 20 + 60
        ("Mixing", M1): 85.0,    # 150×0.5 + 40×0.25 = 75 + 10
        ("Mixing", M2): 60.0,    # 100×0.5 + 40×0.25 = 50 + 10
    }
    assert set(got) == set(expected)
    for key, hours in expected.items():
        assert got[key] == pytest.approx(hours, rel=1e-12), key


def test_required_hours_of_a_sku_without_route_is_not_invented() -> None:
    plan = pd.DataFrame([("S1", "North", M1, 10.0), ("S9", "North", M1, 1000.0)],
                        columns=["sku", "region", "period", "units"])
    bor = pd.DataFrame([("S1", "Mixing", 2.0)], columns=["sku", "resource", "hours_per_unit"])
    out = required_hours(plan, bor)
    assert out["required_hours"].tolist() == [20.0]  # 10 × 2 ; S9 has no route (validation stops it earlier)


@pytest.fixture()
def review() -> pd.DataFrame:
    required = pd.DataFrame([
        ("Bottling", M1, 90.0),   # 90 / 100 = 0.9 → tight (from 0.9 on)
        ("Bottling", M2, 100.0),  # 100 / 100 = 1.0 → tight: exactly the maximum is not over it
        ("Bottling", M3, 120.0),  # 120 / 100 = 1.2 → over capacity, 20 h short
        ("Bottling", M4, 50.0),   # 0.5 → ok
        ("Mixing", M1, 30.0),     # 0 h available with load → over capacity, utilisation inf
        ("Mixing", M2, 40.0),     # no capacity row → no capacity data
        ("Mixing", M3, 89.9),     # 0.899 → ok
    ], columns=["resource", "period", "required_hours"])
    capacity = pd.DataFrame([
        ("Bottling", M1, 100.0), ("Bottling", M2, 100.0), ("Bottling", M3, 100.0), ("Bottling", M4, 100.0),
        ("Mixing", M1, 0.0), ("Mixing", M3, 100.0),
        ("Mixing", M4, 100.0),  # capacity without load: not part of the review
    ], columns=["resource", "period", "available_hours"])
    return review_capacity(required, capacity, warn_utilisation=0.9, max_utilisation=1.0)


def test_review_capacity_utilisation_and_status(review: pd.DataFrame) -> None:
    assert list(review[["resource", "period"]].itertuples(index=False, name=None)) == [
        ("Bottling", M1), ("Bottling", M2), ("Bottling", M3), ("Bottling", M4),
        ("Mixing", M1), ("Mixing", M2), ("Mixing", M3),
    ]
    assert review["status"].tolist() == [
        "tight", "tight", "over capacity", "ok", "over capacity", "no capacity data", "ok",
    ]
    assert review["over_capacity"].tolist() == [False, False, True, False, True, False, False]
    util = review["utilisation"].tolist()
    assert util[:4] == pytest.approx([0.9, 1.0, 1.2, 0.5])
    assert util[4] == math.inf
    assert math.isnan(util[5])
    assert util[6] == pytest.approx(0.899)
    gap = review["gap_hours"].tolist()
    # available - required: 100-90, 100-100, 100-120, 100-50, 0-30, (none), 100-89.9
    assert gap[:5] == pytest.approx([10.0, 0.0, -20.0, 50.0, -30.0])
    assert math.isnan(gap[5])
    assert gap[6] == pytest.approx(10.1)
    assert math.isnan(review.loc[5, "available_hours"])


def test_review_capacity_thresholds_come_from_the_parameters() -> None:
    required = pd.DataFrame([("R", M1, 95.0), ("R", M2, 85.0)], columns=["resource", "period", "required_hours"])
    capacity = pd.DataFrame([("R", M1, 100.0), ("R", M2, 100.0)], columns=["resource", "period", "available_hours"])
    strict = review_capacity(required, capacity, warn_utilisation=0.8, max_utilisation=0.9)
    assert strict["status"].tolist() == ["over capacity", "tight"]  # 0.95 > 0.9 ; 0.85 ≥ 0.8
    loose = review_capacity(required, capacity, warn_utilisation=0.96, max_utilisation=1.0)
    assert loose["status"].tolist() == ["ok", "ok"]


def test_capacity_summary_by_hand(review: pd.DataFrame) -> None:
    summary = capacity_summary(review).set_index("resource")
    assert list(summary.index) == ["Bottling", "Mixing"]
    bottling = summary.loc["Bottling"]
    assert bottling["peak_utilisation"] == pytest.approx(1.2)
    assert bottling["peak_month"] == M3
    assert bottling["months_over_capacity"] == 1
    assert bottling["hours_short"] == pytest.approx(20.0)
    assert bottling["mean_utilisation"] == pytest.approx(0.9)  # (0.9 + 1.0 + 1.2 + 0.5) / 4
    mixing = summary.loc["Mixing"]
    # the inf month (no hours at all) and the month without data are no peak; M3 (0.899) is
    assert mixing["peak_utilisation"] == pytest.approx(0.899)
    assert mixing["peak_month"] == M3
    assert mixing["months_over_capacity"] == 1  # M1, zero hours with load
    assert mixing["hours_short"] == pytest.approx(30.0)  # M1: 0 available − 30 required
    assert mixing["mean_utilisation"] == pytest.approx(0.899)


def test_capacity_summary_when_no_month_has_finite_utilisation() -> None:
    required = pd.DataFrame([("R", M1, 10.0)], columns=["resource", "period", "required_hours"])
    capacity = pd.DataFrame([("R", M1, 0.0)], columns=["resource", "period", "available_hours"])
    summary = capacity_summary(review_capacity(required, capacity))
    row = summary.iloc[0]
    assert np.isnan(row["peak_utilisation"]) and pd.isna(row["peak_month"])
    assert row["months_over_capacity"] == 1
    assert row["hours_short"] == 10.0
