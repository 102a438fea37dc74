"""Cycle parameters: defaults, the cycle's file on top, overrides on top of that; typos are errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from sop_lib.errors import ParamsError
from sop_lib.params import CycleParams, load_params

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
