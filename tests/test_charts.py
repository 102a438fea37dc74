"""Chart builders that encode planning thresholds: the utilisation heatmap's bands follow the parameters."""

from __future__ import annotations

import pandas as pd
import pytest

from sop_lib.report.charts import UTILISATION_COLOURS, capacity_heatmap

REVIEW = pd.DataFrame({"resource": ["Line 1", "Line 1"], "period": pd.to_datetime(["2026-11-01", "2026-12-01"]),
                       "utilisation": [0.8, 1.1]})


def _breaks(fig) -> list[float]:
    return [pos for pos, _ in fig.data[0].colorscale]


def test_heatmap_bands_sit_at_the_default_thresholds() -> None:
    fig = capacity_heatmap(REVIEW)
    # z from 50 to 130 %: 90 % is (90 − 50) / 80 = 0.5 of the scale, 100 % is 0.625
    assert (fig.data[0].zmin, fig.data[0].zmax) == (50.0, 130.0)
    assert _breaks(fig) == pytest.approx([0, 0.5, 0.5, 0.625, 0.625, 1])
    assert fig.data[0].colorscale[2][1] == UTILISATION_COLOURS["tight"][0]


def test_heatmap_bands_follow_the_capacity_parameters() -> None:
    fig = capacity_heatmap(REVIEW, warn=0.85, over=0.95)
    assert _breaks(fig) == pytest.approx([0, 35 / 80, 35 / 80, 45 / 80, 45 / 80, 1])
    # a limit above 100 % widens the scale so the band stays inside it: 120 % → zmax 150
    wide = capacity_heatmap(REVIEW, warn=1.1, over=1.2)
    assert wide.data[0].zmax == 150.0
    assert _breaks(wide) == pytest.approx([0, 60 / 100, 60 / 100, 70 / 100, 70 / 100, 1])
