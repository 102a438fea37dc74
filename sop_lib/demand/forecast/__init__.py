"""Demand forecasting: segmentation, a per-series model tournament on a rolling-origin backtest,
a strategy (choice or combination) chosen by measurement, conformal intervals, bottom-up reconciliation, local
or Dask execution. One ``ForecastParams`` sets it all.

Where things are: ``engine`` (``build_forecast``, ``forecast_core``: the steps in order), ``series`` (the one
place where the suite's ``sku`` / ``region`` / ``period`` become statsforecast's ``unique_id`` / ``ds`` / ``y``
and back; everything else in this package speaks the engine's words), ``segment`` (which models compete),
``models`` (the model registry and Prophet's fit), ``tournament`` (a batch of series through the backtest and
the final fits), ``select`` (scoring and keeping the best, intervals' calibration), ``strategy`` (per-series choice or a
combination, chosen on the held-out last origin), ``conformal`` (intervals by horizon step from the backtest), ``profile`` (series too
short for a model), ``reconcile`` (the hierarchy), ``executors`` (local processes or Dask), ``evaluate``
(summaries for the workbook). Accuracy metrics are ``sop_lib.core.metrics``.
"""

from sop_lib.demand.forecast.engine import (
    CoreResult,
    ForecastResult,
    build_forecast,
    forecast_core,
)
from sop_lib.demand.forecast.evaluate import (
    coverage_summary,
    largest_skus,
    model_counts,
    segment_summary,
)
from sop_lib.demand.forecast.series import prepare_series

__all__ = [
    "CoreResult", "ForecastResult", "build_forecast", "coverage_summary", "forecast_core", "largest_skus",
    "model_counts", "prepare_series", "segment_summary",
]
