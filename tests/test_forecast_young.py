"""Young series (fewer months than the main backtest needs, at least young_min_months): simple methods and the
family profile compete on a short backtest of their own, one method per group (young.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sop_lib.data.params import ForecastParams
from sop_lib.demand.forecast.engine import forecast_core
from sop_lib.demand.forecast.segment import segment_series


def _frame(values: dict[str, list[float]], end: str = "2024-12-01") -> pd.DataFrame:
    return pd.concat([pd.DataFrame({"unique_id": uid, "ds": pd.date_range(end=end, periods=len(y), freq="MS"),
                                    "y": np.asarray(y, dtype=float)}) for uid, y in values.items()],
                     ignore_index=True)


def test_a_series_is_new_under_nine_months_young_from_nine_established_from_twenty_four() -> None:
    data = _frame({"a": [5.0] * 8, "b": [5.0] * 9, "c": [5.0] * 23, "d": [5.0] * 24})
    seg = segment_series(data, pd.Series(1.0, index=list("abcd")), 24, young_min=9).set_index("unique_id")
    assert seg["lifecycle"].to_dict() == {"a": "new", "b": "young", "c": "young", "d": "established"}
    # without a young tier (young_min unset) the same series are new items
    assert segment_series(data, pd.Series(1.0, index=list("abcd")), 24)["lifecycle"].tolist() == [
        "new", "new", "new", "established"]


def _run(train: pd.DataFrame, months: int = 4, young_min: int = 9) -> object:
    # young from 9 months here (the default is 17: a year before the young backtest), to test the short group too
    ids = train["unique_id"].unique()
    future = pd.DataFrame([(u, d) for u in ids for d in pd.date_range("2025-01-01", periods=months, freq="MS")],
                          columns=["unique_id", "ds"])
    return forecast_core(train, future, pd.Series("f", index=ids), pd.Series(1.0, index=ids),
                         ForecastParams(workers=1, young_min_months=young_min))


def test_a_step_up_is_followed_by_the_naive_forecast_chosen_on_the_young_backtest() -> None:
    # 12 months: 10 for six months, then 20 (and 100 → 200). Origins at months 7, 8, 9, 3 months scored each.
    # naive: 20 every time, WAPE 0. Historic average: 80/7, 12.5, 120/9 → |error| 60/7, 7.5, 20/3, three months
    # each, over actuals 9 × 20: WAPE 3 × (60/7 + 7.5 + 20/3) / 180 = 0.37897 (the same ratio for 100 → 200)
    r = _run(_frame({"a": [10.0] * 6 + [20.0] * 6, "b": [100.0] * 6 + [200.0] * 6}))
    sel = r.selection.set_index("unique_id")
    assert sel["lifecycle"].tolist() == ["young", "young"] and sel["model"].tolist() == ["naive", "naive"]
    assert "young series" in sel.loc["a", "reason"] and "naive (last month)" in sel.loc["a", "reason"]
    ev = r.strategy[r.strategy["group"] == "young smooth"].set_index("strategy")
    assert ev.loc["naive", "wape"] == pytest.approx(0.0) and bool(ev.loc["naive", "chosen"])
    assert ev.loc["historic_average", "wape"] == pytest.approx(3 * (60 / 7 + 7.5 + 20 / 3) / 180)
    assert ev.loc["naive", "points"] == 18  # 2 series × 3 origins × 3 months
    fc = r.forecast.set_index(["unique_id", "ds"])
    assert fc.loc["a", "forecast"].tolist() == [20.0] * 4 and fc.loc["b", "forecast"].tolist() == [200.0] * 4
    # every backtest error of the naive was 0: conformal intervals of zero width
    assert fc.loc["a", "forecast-lo-80"].tolist() == [20.0] * 4 and fc.loc["a", "forecast-hi-95"].tolist() == [20.0] * 4


def test_smooth_and_intermittent_young_series_each_get_their_group_s_method() -> None:
    rng = np.random.default_rng(3)
    smooth = {f"s{i}": list(50 + rng.normal(0, 5, 14)) for i in range(3)}
    sparse = {f"i{i}": [0.0, 0.0, 7.0, 0.0, 0.0, 0.0, 6.0, 0.0, 0.0, 8.0, 0.0, 0.0, 0.0, 7.0] for i in range(2)}
    r = _run(_frame({**smooth, **sparse}))
    groups = set(r.strategy["group"])
    assert {"young smooth", "young intermittent"} <= groups
    sel = r.selection.set_index("unique_id")
    chosen = r.strategy[r.strategy["chosen"].astype(bool)].set_index("group")["strategy"]
    assert set(sel.loc[list(smooth), "model"]) == {chosen["young smooth"]}
    assert set(sel.loc[list(sparse), "model"]) == {chosen["young intermittent"]}
    assert chosen["young intermittent"] in ("croston", "sba", "tsb", "historic_average", "family_profile")
    # the intervals are the young backtest's own: finite, ordered, the lower bound never below 0
    fc = r.forecast
    assert fc["forecast-hi-95"].notna().all()
    assert ((fc["forecast-lo-95"] <= fc["forecast-lo-80"]) & (fc["forecast-lo-80"] <= fc["forecast"])
            & (fc["forecast"] <= fc["forecast-hi-80"]) & (fc["forecast-hi-80"] <= fc["forecast-hi-95"])).all()
    assert (fc["forecast-lo-95"] >= 0).all()


def test_by_default_a_series_is_young_from_seventeen_months() -> None:
    assert ForecastParams().young_min_months == 17  # 12 months + the young backtest's 5: a year before it
    train = _frame({"a": [10.0] * 6 + [20.0] * 10})  # 16 months: a new item by default
    assert _run(train, young_min=17).selection["model"].tolist() == ["family_profile"]
    assert _run(_frame({"a": [10.0] * 7 + [20.0] * 10}), young_min=17).selection["lifecycle"].tolist() == ["young"]


def test_young_min_months_at_min_history_turns_the_tier_off() -> None:
    train = _frame({"a": [10.0] * 6 + [20.0] * 6})
    future = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2025-01-01", periods=2, freq="MS")})
    r = forecast_core(train, future, pd.Series("f", index=["a"]), pd.Series(1.0, index=["a"]),
                      ForecastParams(workers=1, young_min_months=24))
    assert r.selection["model"].tolist() == ["family_profile"]


def test_with_a_year_before_the_young_backtest_the_seasonal_naive_competes_and_repeats_last_year() -> None:
    # 18 months ending 2024-12 (from 2023-07) of 10 + calendar month: only the seasonal naive is exact (WAPE 0)
    months = pd.date_range(end="2024-12-01", periods=18, freq="MS")
    train = pd.DataFrame({"unique_id": "a", "ds": months, "y": 10.0 + months.month})
    r = _run(train)
    assert r.selection["model"].tolist() == ["seasonal_naive"]
    ev = r.strategy[r.strategy["group"] == "young smooth, 17+ months"].set_index("strategy")
    assert ev.loc["seasonal_naive", "wape"] == pytest.approx(0.0) and bool(ev.loc["seasonal_naive", "chosen"])
    assert ev.loc["naive", "wape"] > 0
    # 2025-01 … 04 repeat 2024-01 … 04: 11, 12, 13, 14
    assert r.forecast["forecast"].tolist() == [11.0, 12.0, 13.0, 14.0]
    # 16 months: no year before the first origin, the seasonal naive does not compete
    r16 = _run(train[train["ds"] >= "2023-09-01"])
    assert "seasonal_naive" not in set(r16.strategy["strategy"]) and set(r16.strategy["group"]) == {"young smooth"}


def test_a_series_its_group_s_method_cannot_forecast_takes_the_family_profile(monkeypatch) -> None:
    import sop_lib.demand.forecast.young as young

    real = young.run_batch

    def failing_for_b(task):  # the final fit of the group's method fails on series "b" (no value for it)
        cv, fc = real(task)
        if task.phase == "final" and len(fc):
            fc.loc[fc["unique_id"] == "b", [c for c in fc.columns if c not in ("unique_id", "ds")]] = np.nan
        return cv, fc

    monkeypatch.setattr(young, "run_batch", failing_for_b)
    r = _run(_frame({"a": [10.0] * 6 + [20.0] * 6, "b": [100.0] * 6 + [200.0] * 6}))
    assert r.selection.set_index("unique_id")["model"].to_dict() == {"a": "naive", "b": "family_profile"}
    b = r.forecast[r.forecast["unique_id"] == "b"]
    assert len(b) == 4 and b["forecast"].notna().all() and b["forecast-hi-80"].notna().all()


def test_the_forecast_page_says_how_many_series_are_young_and_new_and_how_each_is_forecast() -> None:
    from sop_lib.report import forecast_sentence

    selection = pd.DataFrame({"lifecycle": ["young", "young", "new"]})
    forecast = pd.DataFrame({"period": pd.date_range("2025-01-01", periods=3, freq="MS")})
    sales = pd.DataFrame({"period": pd.date_range("2023-07-01", periods=18, freq="MS")})
    text = forecast_sentence(selection, forecast, sales, ForecastParams(), priced=True, promotions=True).data
    assert "No series has the 24 months of history the main backtest needs" in text
    assert "2 series of 17–23 months are forecast by the simple method (seasonal naive, naive" in text
    assert "1 series with less than 17 months follow their family's seasonal profile" in text
