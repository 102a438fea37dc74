"""The post-cycle comparison of published plans with actuals: accuracy per group, forecast value added (per
step of the process and per owner). The metrics themselves are ``sop_lib.core.metrics``'."""

from __future__ import annotations

import pandas as pd

from sop_lib.core import metrics
from sop_lib.core.cycle import Cycle, cycle_key, cycle_rank


def _groups(frame: pd.DataFrame, by: list[str], sort: bool = True, dropna: bool = False
            ) -> tuple[pd.Series, pd.DataFrame]:
    """The groups of ``by`` as ``groupby`` makes them: each row's group number (-1: left out for a missing key)
    and the ``by`` values of each group, indexed by number. No ``by``: one group, 0. Sorted by ``plan_cycle``
    first: in time (``2026-Q4`` before ``2026-11``), not as text."""
    if not by:
        return pd.Series(0, index=frame.index), pd.DataFrame(index=pd.RangeIndex(1 if len(frame) else 0))
    grouped = frame.groupby(by, sort=sort, dropna=dropna)
    ids, keys = grouped.ngroup(), grouped.size().index.to_frame(index=False)[by]
    if sort and by[0] == "plan_cycle" and len(keys):
        order = keys["plan_cycle"].map(lambda c: cycle_rank(str(c))).to_numpy().argsort(kind="stable")
        renumber = pd.Series(range(len(order)), index=order)  # old group number → its place in time
        ids = ids.map(lambda g: int(renumber[g]) if g >= 0 else -1)
        keys = keys.iloc[order].reset_index(drop=True)
    return ids, keys


def score(frame: pd.DataFrame, by: list[str], actual: str = "actual", forecast: str = "forecast") -> pd.DataFrame:
    """Per group of ``by`` (none: everything), the summed actual and forecast and the accuracy metrics:
    ``wape``, ``bias_pct``, ``accuracy``."""
    ids, out = _groups(frame, by)
    long = pd.DataFrame({"_g": ids, "_a": frame[actual], "_f": frame[forecast]})
    sums = long.groupby("_g")[["_a", "_f"]].sum()
    out[actual], out[forecast] = sums["_a"].astype(float), sums["_f"].astype(float)
    for name, fn in (("wape", metrics.wape_by), ("bias_pct", metrics.bias_pct_by), ("accuracy", metrics.accuracy_by)):
        out[name] = fn(long, ["_f"], id_col="_g", target_col="_a")["_f"]
    return out.reset_index(drop=True)


def plan_vs_actual(
    plans: pd.DataFrame, actuals: pd.DataFrame, products: pd.DataFrame, prices: pd.DataFrame, cycle_start: pd.Timestamp
) -> pd.DataFrame:
    """Published plans against what happened, for months closed before ``cycle_start``.

    ``plans``: ``plan_cycle`` (a cycle id, ``2026-11`` or ``2026-Q4``), ``sku``, ``region``, ``period``, ``forecast`` as each cycle published it.
    ``actuals``: ``sku``, ``region``, ``period``, ``units``. A planned series with no sales row in a closed
    month had zero demand. Revenue at the price in force in the month (so this variance is pure volume).

    A quarterly cycle reviews the same way: its ``cycle_start`` is the quarter's first month, so the months
    closed since the last quarter's plan are that quarter's months, each against every earlier plan.

    Returns ``plan_cycle``, ``lag`` (months from the plan's first month to the month), ``family``, ``sku``,
    ``region``, ``period``, ``forecast``, ``actual``, ``plan_revenue``, ``actual_revenue``, ``revenue_variance``,
    then the forecasting steps the plans carry (``naive``, ``statistical``: see ``forecast_value_added``).
    """
    closed = plans[plans["period"] < cycle_start].copy()
    if closed.empty:
        return pd.DataFrame(columns=["plan_cycle", "lag", "family", "sku", "region", "period", "forecast", "actual",
                                     "plan_revenue", "actual_revenue", "revenue_variance"])
    act = actuals.rename(columns={"units": "actual"})[["sku", "region", "period", "actual"]]
    out = closed.merge(act, on=["sku", "region", "period"], how="left")
    out["actual"] = out["actual"].fillna(0.0)
    start = pd.to_datetime(out["plan_cycle"].map(lambda c: Cycle.parse(str(c)).start))
    out["lag"] = (out["period"].dt.year - start.dt.year) * 12 + (out["period"].dt.month - start.dt.month)
    out["family"] = out["sku"].map(products.set_index("sku")["family"])
    from sop_lib.data.prices import prices_for

    priced = prices_for(out[["sku", "period"]], prices)
    out["plan_revenue"] = out["forecast"].to_numpy() * priced["unit_price"].to_numpy()
    out["actual_revenue"] = out["actual"].to_numpy() * priced["unit_price"].to_numpy()
    out["revenue_variance"] = out["actual_revenue"] - out["plan_revenue"]
    cols = ["plan_cycle", "lag", "family", "sku", "region", "period", "forecast", "actual", "plan_revenue",
            "actual_revenue", "revenue_variance"] + [c for c in STEPS if c in out.columns]
    order = out["plan_cycle"].map(lambda c: cycle_rank(str(c)))  # in time, a month before its quarter
    return (out[cols].assign(_o=order).sort_values(["_o", "period", "sku", "region"]).drop(columns="_o")
            .reset_index(drop=True))


def month_span(periods: pd.Series) -> str:
    """``2026-10`` for one month, ``2026-10 – 2026-12`` for several."""
    first, last = pd.Timestamp(periods.min()), pd.Timestamp(periods.max())
    return f"{first:%Y-%m}" if first == last else f"{first:%Y-%m} – {last:%Y-%m}"


def own_months(plan_vs_actual: pd.DataFrame) -> pd.Series:
    """Rows for a month of the plan's own cycle: lag 0 for a monthly plan, lags 0–2 for a quarterly one (the
    quarter it was made for). ``plan_vs_actual``: ``plan_cycle``, ``lag``."""
    months = plan_vs_actual["plan_cycle"].map(lambda c: Cycle.parse(str(c)).months)
    return (plan_vs_actual["lag"] >= 0) & (plan_vs_actual["lag"] < months)


def _by_cycle(item: tuple[str, object]) -> tuple[pd.Timestamp, int]:
    return cycle_key(item[0])


def stack_plans(plans: dict[str, pd.DataFrame], steps: tuple[str, ...] = ()) -> pd.DataFrame:
    """Archived forecasts by cycle → one long frame with ``plan_cycle``, ``sku``, ``region``, ``period``,
    ``forecast`` and the ``steps`` columns asked for (NaN for a cycle that did not keep one); empty, with those
    columns, when there is no earlier plan."""
    cols = ["plan_cycle", "sku", "region", "period", "forecast", *steps]
    frames = [p.assign(plan_cycle=c).reindex(columns=cols) for c, p in sorted(plans.items(), key=_by_cycle)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)


def stack_results(results: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Any archived result by cycle → one frame with a ``plan_cycle`` column first (empty when none)."""
    frames = [r.assign(plan_cycle=c) for c, r in sorted(results.items(), key=_by_cycle) if len(r)]
    if not frames:
        return pd.DataFrame(columns=["plan_cycle"])
    out = pd.concat(frames, ignore_index=True)
    return out[["plan_cycle", *[c for c in out.columns if c != "plan_cycle"]]]


# --- forecast value added ----------------------------------------------------------------------------------

STEPS = ("naive", "statistical")  # the forecasting process's steps before the consensus (``forecast``)


def seasonal_naive_plan(sales: pd.DataFrame, keys: pd.DataFrame, cycle_start: pd.Timestamp) -> pd.DataFrame:
    """The benchmark every forecast must beat: each month's units as sold in the same calendar month of the
    last twelve months before ``cycle_start`` (no sales row = 0).

    ``keys`` has ``sku``, ``region``, ``period`` (the plan's rows); returns them with ``naive``.
    """
    last = sales[(sales["period"] >= cycle_start - pd.DateOffset(months=12)) & (sales["period"] < cycle_start)]
    moy = last.assign(moy=last["period"].dt.month).groupby(["sku", "region", "moy"], as_index=False)["units"].sum()
    out = keys[["sku", "region", "period"]].assign(moy=keys["period"].dt.month)
    out = out.merge(moy, on=["sku", "region", "moy"], how="left").drop(columns="moy")
    return out.rename(columns={"units": "naive"}).fillna({"naive": 0.0})


def forecast_value_added(pva: pd.DataFrame, by: list[str] | None = None) -> pd.DataFrame:
    """The stair-step FVA report: naive → statistical → consensus, each scored against actuals.

    ``pva`` is ``plan_vs_actual`` output with ``naive`` and ``statistical`` columns (``forecast`` is the
    consensus). Per group of ``by`` (e.g. ``["plan_cycle"]``; none = everything) one row per step with its
    WAPE, bias and absolute error; ``fva_points`` = WAPE of the step before − WAPE of this step, in points
    (positive: the step made the forecast better). Rows without a naive or statistical value are left out.
    """
    by = by or []
    cols = [*by, "step", "actual", "forecast", "abs_error", "wape", "bias_pct", "fva_points"]
    frame = pva.dropna(subset=[c for c in STEPS if c in pva.columns])
    if frame.empty or not all(c in frame.columns for c in STEPS):
        return pd.DataFrame(columns=cols)
    steps = {"naive": "naive", "statistical": "statistical", "consensus": "forecast"}  # step → its column
    ids, keys = _groups(frame, by)
    long = frame[["actual", *steps.values()]].assign(_g=ids)
    sums = long.groupby("_g").sum()
    per_step = {name: fn(long, list(steps.values()), id_col="_g", target_col="actual") for name, fn in
                (("abs_error", metrics.abs_error_by), ("wape", metrics.wape_by), ("bias_pct", metrics.bias_pct_by))}
    rows = []
    records = keys.to_dict("records") if by else [{}] * len(keys)  # (a frame without columns gives no record)
    for g, key in zip(keys.index, records, strict=True):
        previous = None
        for step, col in steps.items():
            w = float(per_step["wape"].loc[g, col])
            rows.append({**key, "step": step, "actual": float(sums.loc[g, "actual"]),
                         "forecast": float(sums.loc[g, col]), "abs_error": float(per_step["abs_error"].loc[g, col]),
                         "wape": w, "bias_pct": float(per_step["bias_pct"].loc[g, col]),
                         "fva_points": (previous - w) * 100 if previous is not None else float("nan")})
            previous = w
    return pd.DataFrame(rows, columns=cols)


def owner_value_added(pva: pd.DataFrame, adjustments: pd.DataFrame) -> pd.DataFrame:
    """FVA of each owner's overrides: whose adjustments made the forecast better, and by how much.

    ``adjustments``: ``plan_cycle``, ``override_id``, ``owner``, ``sku``, ``region``, ``period``, ``delta`` as the
    plans published them. Within a plan cycle owners are steps in the order their first override was applied:
    before = statistical + the deltas of owners before them, after = before + their own. Scored on the
    series-months the owner changed that have closed: ``fva_points`` = WAPE before − WAPE after (points;
    negative: the override made it worse), ``units_saved`` = absolute error before − after. A last row per owner
    (``plan_cycle`` "all") sums over cycles.
    """
    cols = ["plan_cycle", "owner", "overrides", "series_months", "actual", "before", "after", "wape_before",
            "wape_after", "fva_points", "units_saved"]
    if pva.empty or adjustments.empty or "statistical" not in pva.columns:
        return pd.DataFrame(columns=cols)
    keys = ["plan_cycle", "sku", "region", "period"]
    closed = pva[[*keys, "actual", "statistical"]]
    scored: list[pd.DataFrame] = []
    for cycle, adj in adjustments.groupby("plan_cycle", sort=True):
        owners = list(dict.fromkeys(adj.sort_values("override_id", key=_override_order)["owner"]))
        per_owner = adj.groupby(["owner", "sku", "region", "period"], as_index=False)["delta"].sum()
        base = closed[closed["plan_cycle"] == cycle].copy()
        running = base["statistical"].to_numpy(dtype=float).copy()
        for owner in owners:
            mine = per_owner[per_owner["owner"] == owner].drop(columns="owner")
            delta = base[["sku", "region", "period"]].merge(mine, how="left", on=["sku", "region", "period"])["delta"]
            delta = delta.fillna(0.0).to_numpy()
            touched = delta != 0
            before, after = running.copy(), running + delta
            running = after
            if not touched.any():
                continue
            part = pd.DataFrame({"owner": owner, "actual": base["actual"].to_numpy()[touched],
                                 "before": before[touched], "after": after[touched]})
            part["overrides"] = adj.loc[adj["owner"] == owner, "override_id"].nunique()
            scored.append(part.assign(plan_cycle=cycle))
    if not scored:
        return pd.DataFrame(columns=cols)
    allp = pd.concat(scored, ignore_index=True)
    per_cycle = _owner_scores(allp, ["plan_cycle", "owner"])
    overall = _owner_scores(allp, ["owner"]).assign(plan_cycle="all")
    return pd.concat([per_cycle, overall], ignore_index=True)[cols]


def _owner_scores(scored: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """``owner_value_added``'s figures per group of ``by``, groups in the order they first appear: the scored
    series-months' ``actual``, ``before`` and ``after`` summed, WAPE before and after, units saved."""
    ids, out = _groups(scored, by, sort=False, dropna=True)
    long = scored.assign(_g=ids)[ids >= 0]  # a row with a missing key is in no group
    out["overrides"] = long.drop_duplicates(["_g", "plan_cycle"]).groupby("_g")["overrides"].sum().astype(int)
    out["series_months"] = long.groupby("_g").size()
    out[["actual", "before", "after"]] = long.groupby("_g")[["actual", "before", "after"]].sum().astype(float)
    wape = metrics.wape_by(long, ["before", "after"], id_col="_g", target_col="actual")
    error = metrics.abs_error_by(long, ["before", "after"], id_col="_g", target_col="actual")
    out["wape_before"], out["wape_after"] = wape["before"], wape["after"]
    out["fva_points"] = (out["wape_before"] - out["wape_after"]) * 100
    out["units_saved"] = error["before"] - error["after"]
    return out.reset_index(drop=True)


def _override_order(ids: pd.Series) -> pd.Series:
    """``O2`` before ``O10``: override ids in the order they were applied."""
    return ids.astype(str).str.extract(r"(\d+)$")[0].astype(float)
