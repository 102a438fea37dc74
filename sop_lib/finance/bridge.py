"""Price / volume / mix / cost bridges: from a budget, a past plan or a plan to the figure that replaced it.

The formulas are those of docs/formulas.md ("Price / volume / mix bridge"). With V units, P unit
price, C unit cost, m = P − C unit margin and s_i = V_i / ΣV the mix share of item i, from *base* to *new*:

- volume = (ΣV_new − ΣV_base) × m̄_base, the base average unit margin m̄_base = Σ_i s_base,i × m_base,i;
- mix = Σ_i (V_new,i − ΣV_new × s_base,i) × m_base,i;
- price = Σ_i V_new,i × (P_new,i − P_base,i);
- cost = −Σ_i V_new,i × (C_new,i − C_base,i).

They add up to margin_new − margin_base. The revenue bridge is the same with P in place of m (its cost effect
is 0). Unit prices and costs are derived from the money: P = revenue / units and C = cogs / units of each item
(in each group), so the bridge ticks to the revenue and cost of goods it was given.

Edge cases, each keeping the identity exact:

- an item with no units on the base side (absent from base, e.g. a new SKU) has base share 0 and takes its
  *new* unit price and cost as base ones: its price and cost effects are 0 and its whole margin is mix (and,
  through the total units, volume);
- an item with no units on the new side (absent from new, e.g. discontinued) has V_new = 0: it leaves through
  volume and mix, and has no price or cost effect;
- money booked against zero units (rebates, accruals, a budget line with revenue but no units) cannot be
  split by volume: it is a price effect (revenue) and a cost effect (cogs), + on the new side, − on the base;
- a base with no units at all (ΣV_base = 0, e.g. a family launched since the budget) has no mix to compare
  with: the new shares stand in for the base ones, so mix is 0 and the whole change is volume (no NaN);
- units must be ≥ 0 (the contract's rule): negative units raise :class:`BridgeError`.

Amounts are in the currency of the money given (the params' currency, ``params.finance.currency``);
:func:`round_bridge` rounds them to the cent so the effects still add up. Pure functions: DataFrame in,
DataFrame out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sop_lib.core.errors import SopError
from sop_lib.core.labels import ALL_FAMILIES
from sop_lib.data.prices import prices_for

MEASURES: tuple[str, ...] = ("revenue", "gross_margin")
EFFECTS: tuple[str, ...] = ("base", "volume", "mix", "price", "cost", "new")
CHANGES: tuple[str, ...] = ("volume", "mix", "price", "cost")  # the effects between base and new
_MONEY = ["units", "revenue", "cogs"]


class BridgeError(SopError):
    """The frames given to a bridge lack a column or a value, have negative units, or a SKU lacks a price;
    or a bridge to round lacks its base or new row."""

    exit_code = 2


def _check(frame: pd.DataFrame, name: str, needed: list[str]) -> None:
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise BridgeError(f"The {name} of the bridge lacks column(s) {', '.join(missing)}; "
                          f"it has {', '.join(map(str, frame.columns)) or '(none)'}.")
    blank = frame[_MONEY].isna().any(axis=1)
    if blank.any():
        raise BridgeError(f"The {name} of the bridge has {int(blank.sum())} row(s) without units, revenue or cogs "
                          "(e.g. a SKU without a price); a bridge that skipped them would not tick.")
    if (frame["units"] < 0).any():
        raise BridgeError(f"The {name} of the bridge has negative units in {int((frame['units'] < 0).sum())} row(s); "
                          "a price/volume/mix bridge needs units ≥ 0 (returns belong in revenue, not units).")


def _ratio(num: np.ndarray, den: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """num / den where den ≠ 0, else ``fallback`` (no division warnings, no NaN)."""
    out = np.array(fallback, dtype=float, copy=True)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _sort(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """By the keys (the "All families" rows after the families, totals over months (NaT) last), then
    measure and effect in the order of ``MEASURES`` and ``EFFECTS``."""
    rank = {name: i for i, name in enumerate((*MEASURES, *EFFECTS))}
    helper = frame.assign(_m=frame["measure"].map(rank), _e=frame["effect"].map(rank))
    order = list(keys)
    if "family" in keys:
        helper["_all"] = helper["family"].eq(ALL_FAMILIES)
        order.insert(keys.index("family"), "_all")
    helper = helper.sort_values([*order, "_m", "_e"], na_position="last", kind="stable")
    return helper.drop(columns=[c for c in ("_m", "_e", "_all") if c in helper.columns]).reset_index(drop=True)


def pvm_bridge(base: pd.DataFrame, new: pd.DataFrame, item: str, by: list[str] | None = None) -> pd.DataFrame:
    """Bridge revenue and gross margin from ``base`` to ``new``: volume, mix, price and cost effects.

    Per group of ``by`` (or over everything), with ``item`` as the mix dimension; formulas and the treatment
    of items on one side only, of zero units and of money without units are in the module docstring. Rows of
    the same group and item are summed first, so P and C are unit-weighted averages.

    Parameters
    ----------
    base, new : columns ``item``, the ``by`` columns, ``units`` (≥ 0), ``revenue`` and ``cogs`` (currency);
        gross margin = revenue − cogs. Other columns are ignored.
    item : the mix dimension, e.g. ``"family"`` or ``"sku"``.
    by : the groups, each bridged on its own (e.g. ``["period"]``, or ``["family"]`` when ``item`` is
        ``"sku"``); ``None`` = one bridge over everything. A group on one side only is bridged from or to 0.

    Returns
    -------
    DataFrame
        Long: the ``by`` columns, ``measure`` (``revenue``, ``gross_margin``), ``effect`` (``base``,
        ``volume``, ``mix``, ``price``, ``cost``, ``new``) and ``amount`` (currency). Per group and measure,
        volume + mix + price + cost = new − base (to floating-point rounding; :func:`round_bridge` for cents).
        The revenue's cost effect is 0.

    Raises
    ------
    BridgeError
        If a column or a value (units, revenue, cogs) is missing, or units are negative.
    """
    by = list(by or [])
    keys = by if item in by else [*by, item]
    d = _sides(base, new, keys).assign(_group=0)  # one group when there is no ``by``
    groups = by or ["_group"]
    sums = ["units_b", "units_n", "revenue_b", "revenue_n", "margin_b", "margin_n", "avg_p", "avg_m", "mix_r",
            "mix_m", "price", "cost"]
    g = _item_terms(d, groups).groupby(groups, dropna=False, sort=False)[sums].sum()
    delta = g["units_n"] - g["units_b"]
    wide = {
        "revenue": pd.DataFrame({"base": g["revenue_b"], "volume": delta * g["avg_p"], "mix": g["mix_r"],
                                 "price": g["price"], "cost": 0.0, "new": g["revenue_n"]}),
        "gross_margin": pd.DataFrame({"base": g["margin_b"], "volume": delta * g["avg_m"], "mix": g["mix_m"],
                                      "price": g["price"], "cost": g["cost"], "new": g["margin_n"]}),
    }
    parts = [w.reset_index().melt(id_vars=groups, value_vars=list(EFFECTS), var_name="effect", value_name="amount")
             .assign(measure=measure) for measure, w in wide.items()]
    out = pd.concat(parts, ignore_index=True)[[*groups, "measure", "effect", "amount"]]
    out["amount"] = out["amount"].astype(float)
    return _sort(out, by).drop(columns=[c for c in ("_group",) if c in out.columns])


def _sides(base: pd.DataFrame, new: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Base and new checked, summed per key and set side by side: ``units_b``, ``revenue_b``, ``cogs_b``,
    ``units_n``, … (0 where a side has no row for the key)."""
    _check(base, "base", [*keys, *_MONEY])
    _check(new, "new", [*keys, *_MONEY])
    side_b = base.groupby(keys, dropna=False, as_index=False)[_MONEY].sum()
    side_n = new.groupby(keys, dropna=False, as_index=False)[_MONEY].sum()
    d = side_b.merge(side_n, on=keys, how="outer", suffixes=("_b", "_n"))
    return d.fillna({f"{c}_{s}": 0.0 for c in _MONEY for s in "bn"})


def _item_terms(d: pd.DataFrame, groups: list[str]) -> pd.DataFrame:
    """Each item's terms (:func:`_sides`' rows), to be summed per group: its part of the base average unit price
    and margin, its mix, price and cost effects, and both sides' margins (formulas: the module docstring)."""
    vb, rb, kb = (d[f"{c}_b"].to_numpy(float) for c in _MONEY)
    vn, rn, kn = (d[f"{c}_n"].to_numpy(float) for c in _MONEY)
    tvb, tvn = (d.groupby(groups, dropna=False)[f"units_{s}"].transform("sum").to_numpy(float) for s in "bn")
    zero = np.zeros(len(d))
    pn, cn = _ratio(rn, vn, zero), _ratio(kn, vn, zero)
    pb, cb = _ratio(rb, vb, pn), _ratio(kb, vb, cn)  # no base units: the new unit price and cost stand in
    share = _ratio(vb, tvb, _ratio(vn, tvn, zero))  # no base units in the group: the new mix stands in
    expected = vn - tvn * share  # units above (+) or below (−) the base mix at the new total
    d["avg_p"], d["avg_m"] = share * pb, share * (pb - cb)
    d["mix_r"], d["mix_m"] = expected * pb, expected * (pb - cb)
    d["price"] = vn * (pn - pb) + np.where(vn == 0, rn, 0.0) - np.where(vb == 0, rb, 0.0)
    d["cost"] = -(vn * (cn - cb) + np.where(vn == 0, kn, 0.0) - np.where(vb == 0, kb, 0.0))
    d["margin_b"], d["margin_n"] = rb - kb, rn - kn
    return d


def _round_half_away(scaled: np.ndarray) -> np.ndarray:
    # round(…, 6) first: 1.005 × 100 is 100.49999999999999 in binary, and a finance reader expects 1.01
    cleaned = np.round(scaled, 6)
    return np.sign(cleaned) * np.floor(np.abs(cleaned) + 0.5)


def round_bridge(bridge: pd.DataFrame, decimals: int = 2) -> pd.DataFrame:
    """Round a bridge to cents (``decimals``) so the rounded effects still add up to rounded new − base.

    ``base`` and ``new`` are rounded half away from zero. The effects are rounded the same way, then the
    cents they miss (or have too many) go to the effects that rounding moved most, one cent each
    (largest remainder; ties in the order volume, mix, price, cost). Effects exactly 0 (the revenue's cost
    effect) are never given a cent unless every effect of the group is 0. So each rounded effect is within
    one cent of its exact value, and a reader can tick volume + mix + price + cost = new − base to the cent.

    Parameters
    ----------
    bridge : long bridge as :func:`pvm_bridge` returns: key columns, ``effect``, ``amount``; every other
        column is a key, and each group of keys must have one ``base`` and one ``new`` row.
    decimals : decimal places kept (2 = cents).

    Returns
    -------
    DataFrame
        ``bridge`` with ``amount`` rounded; rows and columns unchanged.

    Raises
    ------
    BridgeError
        If a group of keys lacks its ``base`` or ``new`` row, or has several.
    """
    keys = [c for c in bridge.columns if c not in ("effect", "amount")]
    out = bridge.reset_index(drop=True).copy()
    scale = 10.0 ** decimals
    scaled = out["amount"].to_numpy(float) * scale
    cents = _round_half_away(scaled)
    effect = out["effect"].to_numpy()
    group = out.groupby(keys, dropna=False, sort=False).ngroup().to_numpy() if keys else np.zeros(len(out), int)
    for gid in np.unique(group):
        rows = np.flatnonzero(group == gid)
        base, new = rows[effect[rows] == "base"], rows[effect[rows] == "new"]
        if len(base) != 1 or len(new) != 1:
            raise BridgeError(f"Each group of a bridge needs one base and one new row; group "
                              f"{out.loc[rows[0], keys].to_dict()} has {len(base)} base and {len(new)} new.")
        changes = rows[np.isin(effect[rows], CHANGES)]
        changes = changes[np.argsort([CHANGES.index(e) for e in effect[changes]], kind="stable")]
        missing = int(cents[new[0]] - cents[base[0]] - cents[changes].sum())
        if not missing or not len(changes):
            continue
        eligible = changes[scaled[changes] != 0] if (scaled[changes] != 0).any() else changes
        remainder = scaled[eligible] - cents[eligible]  # > 0: rounded down
        order = np.argsort(-remainder if missing > 0 else remainder, kind="stable")
        for k in range(abs(missing)):
            cents[eligible[order[k % len(order)]]] += np.sign(missing)
    out["amount"] = cents / scale
    return out


def bridge_wide(bridge: pd.DataFrame, over_months: bool = False, family: str | None = None) -> pd.DataFrame:
    """One row per group and measure, the effects as columns in bridge order: the shape finance ticks.

    Parameters
    ----------
    bridge : long bridge (:func:`pvm_bridge`, :func:`round_bridge`, :func:`budget_bridge`, …).
    over_months : only the totals over the months (``period`` NaT), without the ``period`` column.
    family : only that family's rows (e.g. ``core.labels.ALL_FAMILIES``), without the ``family`` column.

    Returns
    -------
    DataFrame
        The key columns (``measure`` last), then ``base``, ``volume``, ``mix``, ``price``, ``cost``, ``new``;
        rows in the order of ``bridge``.
    """
    if over_months:
        bridge = bridge[bridge["period"].isna()].drop(columns="period")
    if family is not None:
        bridge = bridge[bridge["family"] == family].drop(columns="family")
    keys = [c for c in bridge.columns if c not in ("effect", "amount")]
    frame = bridge.assign(_row=bridge.groupby(keys, dropna=False, sort=False).ngroup())
    wide = frame.pivot(index="_row", columns="effect", values="amount").reindex(columns=list(EFFECTS))
    first = frame.drop_duplicates("_row").set_index("_row")[keys]
    return first.join(wide).reset_index(drop=True).rename_axis(columns=None)


def _family_bridge(base: pd.DataFrame, new: pd.DataFrame, item: str, keys: list[str] | None = None) -> pd.DataFrame:
    """Per family and month, "All families" per month, and both summed over the months (``period`` NaT)."""
    keys = list(keys or [])
    per_family = pvm_bridge(base, new, item, by=[*keys, "family", "period"])
    per_month = pvm_bridge(base, new, item, by=[*keys, "period"]).assign(family=ALL_FAMILIES)
    monthly = pd.concat([per_family, per_month], ignore_index=True)
    monthly["period"] = pd.to_datetime(monthly["period"]).astype("datetime64[ns]")
    totals = (monthly.groupby([*keys, "family", "measure", "effect"], dropna=False, sort=False)["amount"].sum()
              .reset_index())
    totals["period"] = pd.Series(pd.NaT, index=totals.index, dtype="datetime64[ns]")
    cols = [*keys, "family", "period", "measure", "effect", "amount"]
    out = pd.concat([monthly[cols], totals[cols]], ignore_index=True)
    return _sort(out, [*keys, "family", "period"])


def empty_bridge() -> pd.DataFrame:
    """A bridge with no rows (the columns of :func:`budget_bridge`): what a workbook saves when the data
    cannot give one (no price list, no budget), so no earlier run's bridge is read in its place."""
    return pd.DataFrame({"family": pd.Series(dtype=object), "period": pd.Series(dtype="datetime64[ns]"),
                         "measure": pd.Series(dtype=object), "effect": pd.Series(dtype=object),
                         "amount": pd.Series(dtype=float)})


def revenue_only(bridge_fn: Any, *frames: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
    """``bridge_fn`` (:func:`budget_bridge`, :func:`plan_bridge`, :func:`actual_bridge`) for a price list
    without unit costs: the revenue measure only. Its effects use prices alone, so unknown costs (``cogs``
    NaN, taken as 0 here) cannot reach it; the gross-margin rows, which would need them, are left out."""
    filled = [f.assign(cogs=f["cogs"].fillna(0.0)) if "cogs" in f.columns else f for f in frames]
    if "prices" in kwargs or bridge_fn is actual_bridge:
        filled = [f.assign(unit_cost=f["unit_cost"].fillna(0.0)) if "unit_cost" in f.columns else f for f in filled]
        kwargs = {k: (v.assign(unit_cost=v["unit_cost"].fillna(0.0)) if isinstance(v, pd.DataFrame)
                      and "unit_cost" in v.columns else v) for k, v in kwargs.items()}
    out = bridge_fn(*filled, **kwargs)
    return out[out["measure"] == "revenue"].reset_index(drop=True)


def _covered(a: pd.DataFrame, b: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    months = set(pd.to_datetime(a["period"])) & set(pd.to_datetime(b["period"]))
    return (a[pd.to_datetime(a["period"]).isin(months)], b[pd.to_datetime(b["period"]).isin(months)])


def budget_bridge(plan_financials: pd.DataFrame, budget: pd.DataFrame) -> pd.DataFrame:
    """Budget (AOP) → plan: volume, mix, price and cost effects with the product family as the mix item.

    The budget has no SKU detail, so each family-month is one item: its budget unit price is revenue / units
    and its unit cost (revenue − gross_margin) / units; the plan's are its revenue and cogs over its units.
    Per family and month the mix effect is therefore 0 (one item) and volume, price and cost explain the gap;
    the "All families" rows of a month bridge across families, so mix there is the shift between families of
    different unit margin. Totals over the months (``period`` NaT) are the sums of the monthly bridges, so
    each total effect ticks to the months above it, and price stays a like-for-like month comparison.

    Only months both cover are bridged; within them a family on one side only is bridged from or to 0 (unlike
    ``finance.budget_gap``, which drops such family-months), so base and new tick to the budget's and the
    plan's totals of those months. Money in the params' currency.

    Parameters
    ----------
    plan_financials : ``family``, ``period``, ``units``, ``revenue``, ``cogs`` (``finance.plan_financials``
        output; for the constrained plan, ``constrained_financials`` renamed ``served`` → ``units``).
    budget : ``family``, ``period``, ``units``, ``revenue``, ``gross_margin`` (the ``Budget`` table).

    Returns
    -------
    DataFrame
        ``family`` (a family or "All families"), ``period`` (NaT: over the months), ``measure``, ``effect``,
        ``amount``, as :func:`pvm_bridge`; base = budget, new = plan.
    """
    bud = budget.assign(cogs=budget["revenue"] - budget["gross_margin"])
    bud, plan = _covered(bud, plan_financials)
    return _family_bridge(bud, plan, item="family")


def plan_bridge(last_plan_financials: pd.DataFrame, plan_financials: pd.DataFrame) -> pd.DataFrame:
    """Last cycle's plan → this plan, with the SKU as the mix item, per family and in total.

    Over the months both plans cover, per month (a family's bridge: mix between its SKUs; "All families":
    mix between all SKUs) and summed over the months (``period`` NaT). A SKU launched since the last plan
    is all mix (and volume) with no price or cost effect; a dropped one leaves through volume and mix. Price
    and cost effects come from the price lists the two plans were valued at. Money in the params' currency.

    Parameters
    ----------
    last_plan_financials, plan_financials : ``finance.plan_financials`` output (``family``, ``sku``,
        ``period``, ``units``, ``revenue``, ``cogs``).

    Returns
    -------
    DataFrame
        ``family``, ``period``, ``measure``, ``effect``, ``amount`` as :func:`budget_bridge`; base = last plan.
    """
    last, plan = _covered(last_plan_financials, plan_financials)
    return _family_bridge(last, plan, item="sku")


def actual_bridge(pva: pd.DataFrame, prices: pd.DataFrame, plan_prices: pd.DataFrame | None = None) -> pd.DataFrame:
    """Plan → actual for closed months: how much of the miss was volume, mix, price and cost.

    Actual units are valued at the price and cost in force in the month (``prices``: the actual selling
    prices are not in the data). Planned units are valued at ``plan_prices``, the price list as it stood
    when the plan was made (e.g. each earlier cycle's snapshot prices, stacked with a ``plan_cycle``
    column), when given; otherwise at the same prices as the actuals, and then the price and cost effects
    are 0 and the whole miss is volume and mix. A SKU the plan's price list lacks takes the price in force.
    SKU is the mix item; per plan cycle when ``pva`` has ``plan_cycle`` (each cycle's plan is its own
    base). Actual sales of series no plan held are not in ``pva`` and so not in the bridge. Money in the
    params' currency.

    Parameters
    ----------
    pva : ``variance.plan_vs_actual`` output or alike: ``family``, ``sku``, ``period``, ``forecast``,
        ``actual`` (units), optionally ``plan_cycle``; other columns (e.g. ``region``) are summed over.
    prices : the ``Prices`` table (``sku``, ``valid_from``, ``unit_price``, ``unit_cost``).
    plan_prices : the same shape, optionally with ``plan_cycle`` (one price list per plan; cycles without
        one are valued at ``prices``), or ``None``.

    Returns
    -------
    DataFrame
        [``plan_cycle``], ``family``, ``period``, ``measure``, ``effect``, ``amount`` as :func:`budget_bridge`;
        base = plan, new = actual (actuals below plan: a negative volume effect).
    """
    keys = ["plan_cycle"] if "plan_cycle" in pva.columns else []
    cols = [*keys, "family", "sku", "period", "forecast", "actual"]
    missing = [c for c in cols if c not in pva.columns]
    if missing:
        raise BridgeError(f"The plan-vs-actual frame lacks column(s) {', '.join(missing)}.")
    rows = pva[cols].reset_index(drop=True)
    now = prices_for(rows, prices)
    unpriced = sorted(now.loc[now["unit_price"].isna(), "sku"].astype(str).unique())
    if unpriced:
        raise BridgeError(f"SKU(s) {', '.join(unpriced[:10])}{' …' if len(unpriced) > 10 else ''} have no price in "
                          "the price table; add them to value plan and actual.")
    then = now[["unit_price", "unit_cost"]].copy()
    if plan_prices is not None:
        by_cycle = "plan_cycle" in plan_prices.columns
        if by_cycle and not keys:
            raise BridgeError("plan_prices has one price list per plan_cycle but the plan-vs-actual frame has no "
                              "plan_cycle column to match them with; give one price list, or the plan_cycle.")
        for cycle, part in rows.groupby(keys) if by_cycle else [((None,), rows)]:
            mine = plan_prices[plan_prices["plan_cycle"] == cycle[0]] if by_cycle else plan_prices
            if len(mine):
                priced = prices_for(part[["sku", "period"]], mine).set_axis(part.index)
                then.loc[part.index] = priced[["unit_price", "unit_cost"]].fillna(then.loc[part.index])
    plan = rows.assign(units=rows["forecast"], revenue=rows["forecast"] * then["unit_price"],
                       cogs=rows["forecast"] * then["unit_cost"])
    actual = rows.assign(units=rows["actual"], revenue=rows["actual"] * now["unit_price"],
                         cogs=rows["actual"] * now["unit_cost"])
    return _family_bridge(plan, actual, item="sku", keys=keys)
