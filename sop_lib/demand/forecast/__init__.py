"""Demand forecasting: segmentation, a per-series model tournament on a rolling-origin backtest,
intervals, bottom-up reconciliation, local or Dask execution."""

from sop_lib.demand.forecast.engine import (
    CoreResult,
    ForecastResult,
    build_forecast,
    engine_config,
    forecast_core,
    prepare_series,
)
from sop_lib.demand.forecast.evaluate import (
    coverage_summary,
    largest_skus,
    model_counts,
    plan_units,
    segment_summary,
)
from sop_lib.demand.forecast.models import EngineConfig

__all__ = [
    "CoreResult", "EngineConfig", "ForecastResult", "build_forecast", "coverage_summary", "engine_config",
    "forecast_core", "largest_skus", "model_counts", "plan_units", "prepare_series", "segment_summary",
]
