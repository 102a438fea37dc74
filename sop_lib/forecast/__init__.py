"""Demand forecasting: models, per-series backtest and selection."""

from .engine import ForecastResult, build_forecast, prepare_series
from .evaluate import backtest_accuracy, largest_skus, model_counts, plan_units

__all__ = ["ForecastResult", "backtest_accuracy", "build_forecast", "largest_skus", "model_counts", "plan_units",
           "prepare_series"]
