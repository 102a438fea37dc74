"""The forecast on a real Dask cluster (two worker processes on this machine) equals the local process pool's,
table for table: both executors map ``run_batch`` over the same batches, and Prophet's sampled intervals are
seeded per series, so not even the intervals may differ."""

from __future__ import annotations

import re
import time

import distributed
import pandas as pd
import pytest

from sop_lib.core.errors import SopError
from sop_lib.data.params import ForecastParams
from sop_lib.demand.forecast.engine import ForecastResult, build_forecast
from sop_lib.demo import generate_demo_company

pytestmark = pytest.mark.e2e

CYCLE = pd.Timestamp("2026-11-01")
# the same batches for both executors (batch_size 0 would size them from the worker count)
COMMON = {"prophet_uncertainty_samples": 50, "batch_size": 6}


def _forecast(**executor: object) -> ForecastResult:
    t = generate_demo_company("2026-11", n_skus=8)
    params = ForecastParams(**COMMON, **executor)
    return build_forecast(t["sales_history"], t["promotions"], t["products"], t["prices"], CYCLE, params)


@pytest.fixture(scope="module")
def local_result() -> ForecastResult:
    # runs before the cluster starts: the local pool forks, and forking a process whose Dask scheduler
    # threads are running is asking for trouble
    return _forecast(executor="local", workers=2)


@pytest.fixture(scope="module")
def cluster(local_result: ForecastResult):  # after the local run (see above)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  host="127.0.0.1") as c:
        yield c


@pytest.fixture(scope="module")
def dask_result(cluster) -> ForecastResult:
    return _forecast(executor="dask", scheduler=cluster.scheduler_address)


@pytest.mark.parametrize("table", ["forecast", "selection", "backtest", "scores"])
def test_dask_and_local_executors_give_identical_tables(
    local_result: ForecastResult, dask_result: ForecastResult, table: str
) -> None:
    local, dask = getattr(local_result, table), getattr(dask_result, table)
    assert len(local) > 0
    pd.testing.assert_frame_equal(dask, local, check_exact=True)


def test_the_comparison_covers_prophet_and_its_sampled_intervals(local_result: ForecastResult) -> None:
    # otherwise the equality above would not show that Prophet's seeded sampling is reproducible
    f = local_result.forecast
    prophet = f[f["model"] == "prophet"]
    assert len(prophet) > 0
    assert (prophet["forecast-hi-80"] > prophet["forecast-lo-80"]).any()
    assert local_result.backtest["prophet"].notna().any()


def test_the_cluster_really_ran_the_batches(cluster, dask_result: ForecastResult) -> None:
    with distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
        prefixes = client.run_on_scheduler(lambda dask_scheduler: sorted(dask_scheduler.task_prefixes))
    assert "run_batch" in prefixes


def test_unreachable_scheduler_is_a_sop_error_naming_the_address() -> None:
    address = "tcp://127.0.0.1:1"  # loopback, a port nothing listens on
    t0 = time.perf_counter()
    with pytest.raises(SopError, match=re.escape(address) + "(?!\\d)"):
        _forecast(executor="dask", scheduler=address)
    assert time.perf_counter() - t0 < 60


def test_dask_without_a_scheduler_address_is_a_sop_error() -> None:
    with pytest.raises(SopError, match="scheduler"):
        _forecast(executor="dask")
