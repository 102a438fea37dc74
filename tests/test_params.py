"""Cycle parameters: defaults, the cycle's file on top, overrides on top of that; typos are errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from sop_lib.core.errors import ParamsError
from sop_lib.data.params import CycleParams, load_params

DEFAULTS = """\
company: Test Drinks
forecast:
  horizon_months: 12
  backtest_windows: 2
  prophet_classes: [A]
capacity:
  warn_utilisation: 0.85
  max_utilisation: 1.05
finance:
  currency: GBP
  budget_gap_threshold_pct: 5.0
"""


@pytest.fixture()
def params_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "params"
    folder.mkdir()
    (folder / "defaults.yaml").write_text(DEFAULTS, encoding="utf-8")
    return folder


def test_defaults_file_is_read(params_dir: Path) -> None:
    p = load_params(params_dir, "2026-11")
    assert isinstance(p, CycleParams)
    assert p.company == "Test Drinks"
    assert p.forecast.horizon_months == 12
    assert p.forecast.backtest_windows == 2
    assert p.forecast.prophet_classes == ("A",)
    assert p.capacity.warn_utilisation == 0.85
    assert p.finance.currency == "GBP"
    # keys absent from every file take the model's defaults
    assert p.forecast.interval_level == 80
    assert p.run.notebook_timeout_s == 1800


def test_cycle_file_overrides_one_nested_key_and_keeps_the_others(params_dir: Path) -> None:
    (params_dir / "2026-11.yaml").write_text("finance:\n  budget_gap_threshold_pct: 4.0\n", encoding="utf-8")
    p = load_params(params_dir, "2026-11")
    assert p.finance.budget_gap_threshold_pct == 4.0
    assert p.finance.currency == "GBP"  # the sibling key from defaults.yaml survives
    assert p.forecast.horizon_months == 12
    # another cycle does not see 2026-11's file
    assert load_params(params_dir, "2026-12").finance.budget_gap_threshold_pct == 5.0


def test_overrides_come_last_and_none_means_not_set(params_dir: Path) -> None:
    (params_dir / "2026-11.yaml").write_text("forecast:\n  horizon_months: 24\n", encoding="utf-8")
    p = load_params(params_dir, "2026-11", {"forecast": {"backtest_windows": 1, "horizon_months": None},
                                            "company": None})
    assert p.forecast.backtest_windows == 1      # override
    assert p.forecast.horizon_months == 24       # None override: the cycle file's value stays
    assert p.company == "Test Drinks"            # None override: the default stays
    assert p.forecast.prophet_classes == ("A",)


def test_empty_key_in_the_cycle_file_keeps_the_default(params_dir: Path) -> None:
    (params_dir / "2026-11.yaml").write_text("finance:\n  currency:\n", encoding="utf-8")
    assert load_params(params_dir, "2026-11").finance.currency == "GBP"


def test_unknown_key_is_an_error_naming_file_and_key(params_dir: Path) -> None:
    (params_dir / "2026-11.yaml").write_text("capacity:\n  max_utilisaton: 1.1\n", encoding="utf-8")
    with pytest.raises(ParamsError) as info:
        load_params(params_dir, "2026-11")
    message = str(info.value)
    assert "capacity.max_utilisaton" in message
    assert "2026-11.yaml" in message


def test_unknown_top_level_key_in_overrides_is_an_error(params_dir: Path) -> None:
    with pytest.raises(ParamsError, match="horizon"):
        load_params(params_dir, "2026-11", {"horizon": 12})


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("forecast:\n  horizon_months: twelve\n", "forecast.horizon_months"),
        ("forecast:\n  horizon_months: 0\n", "forecast.horizon_months"),       # below its minimum of 1
        ("forecast:\n  prophet_classes: [D]\n", "forecast.prophet_classes.0"),  # not an ABC class (1st item)
        ("capacity:\n  warn_utilisation: high\n", "capacity.warn_utilisation"),
        ("forecast: 12\n", "forecast"),                                       # a section given a number
    ],
    ids=["text-for-int", "below-minimum", "unknown-class", "text-for-float", "number-for-section"],
)
def test_wrong_type_or_value_is_an_error(params_dir: Path, text: str, key: str) -> None:
    (params_dir / "2026-11.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ParamsError) as info:
        load_params(params_dir, "2026-11")
    assert f"  {key}:" in str(info.value)


def test_file_that_is_not_a_mapping_is_an_error(params_dir: Path) -> None:
    (params_dir / "2026-11.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(ParamsError, match="2026-11.yaml: expected a mapping"):
        load_params(params_dir, "2026-11")


def test_invalid_yaml_is_an_error_naming_the_file(params_dir: Path) -> None:
    (params_dir / "2026-11.yaml").write_text("finance: [unclosed\n", encoding="utf-8")
    with pytest.raises(ParamsError, match="2026-11.yaml: not valid YAML"):
        load_params(params_dir, "2026-11")


def test_parameters_are_frozen(params_dir: Path) -> None:
    p = load_params(params_dir, "2026-11")
    with pytest.raises(Exception, match="frozen"):
        p.forecast.horizon_months = 3  # type: ignore[misc]


SCENARIOS = """\
scenarios:
  upside: {demand_pct: 10}
  downside: {demand_pct: -10}
supply:
  overtime:
    Line1: {max_hours: 10, cost_per_hour: 50}
    Line2: {max_hours: 20, cost_per_hour: 40}
"""


def test_a_cycle_file_removes_inherited_entries(params_dir: Path) -> None:
    (params_dir / "defaults.yaml").write_text(DEFAULTS + SCENARIOS, encoding="utf-8")
    (params_dir / "2026-11.yaml").write_text("remove: [scenarios.upside, supply.overtime.Line2]\n", encoding="utf-8")
    p = load_params(params_dir, "2026-11")
    assert list(p.scenarios) == ["downside"]
    assert list(p.supply.overtime) == ["Line1"]
    # other cycles keep both, and removing is not undone by a later merge
    assert list(load_params(params_dir, "2026-12").scenarios) == ["upside", "downside"]


def test_removing_what_is_not_there_is_an_error(params_dir: Path) -> None:
    (params_dir / "2026-11.yaml").write_text("remove: [scenarios.upsid]\n", encoding="utf-8")
    with pytest.raises(ParamsError, match=r"remove: scenarios.upsid: no such entry to remove \(.*2026-11.yaml\)"):
        load_params(params_dir, "2026-11")


def test_every_problem_is_reported_at_once_with_the_file_that_set_it(params_dir: Path) -> None:
    (params_dir / "defaults.yaml").write_text(DEFAULTS + "kpi:\n  accuracy: {good: high, warn: 0.7}\n",
                                              encoding="utf-8")
    (params_dir / "2026-11.yaml").write_text(
        "capacity:\n  max_utilisaton: 1.1\nforecast:\n  horizon_months: 0\nscenarios:\n  up: {demand_pct: -150}\n",
        encoding="utf-8")
    with pytest.raises(ParamsError) as info:
        load_params(params_dir, "2026-11")
    lines = [ln for ln in str(info.value).splitlines() if ln.startswith("  ")]
    assert len(lines) == 4, str(info.value)
    text = "\n".join(lines)
    assert "kpi.accuracy.good:" in text and "defaults.yaml)" in text.split("kpi.accuracy.good:")[1].splitlines()[0]
    for key in ("capacity.max_utilisaton", "forecast.horizon_months", "scenarios.up.demand_pct"):
        assert "2026-11.yaml)" in text.split(f"{key}:")[1].splitlines()[0]
    assert "(4 problems)" in str(info.value)


def test_contradictory_capacity_thresholds_are_refused(params_dir: Path) -> None:
    (params_dir / "2026-11.yaml").write_text("capacity:\n  warn_utilisation: 1.5\n  max_utilisation: 0.5\n",
                                             encoding="utf-8")
    with pytest.raises(ParamsError, match="warn_utilisation .1.5. is above max_utilisation"):
        load_params(params_dir, "2026-11")


@pytest.mark.parametrize("encoding", ["utf-16", "latin-1"])
def test_a_file_not_in_utf8_is_a_message_not_a_traceback(params_dir: Path, encoding: str) -> None:
    (params_dir / "2026-11.yaml").write_bytes("company: Crème Brûlée Ltd\n".encode(encoding))
    with pytest.raises(ParamsError, match="2026-11.yaml: not UTF-8 text"):
        load_params(params_dir, "2026-11")


@pytest.mark.parametrize("cycle", ["../../secret", "2026-1", "2026-13", ""])
def test_the_cycle_id_is_checked_before_any_file_is_opened(params_dir: Path, cycle: str) -> None:
    (params_dir.parent / "secret.yaml").write_text("password: hunter2\n", encoding="utf-8")
    with pytest.raises(ParamsError) as info:
        load_params(params_dir, cycle)
    assert "not a month in the form YYYY-MM" in str(info.value) and "hunter2" not in str(info.value)
