"""The price list read by month: the unit price and cost in force for each SKU in each month."""

from __future__ import annotations

import numpy as np
import pandas as pd


def prices_for(months: pd.DataFrame, prices: pd.DataFrame) -> pd.DataFrame:
    """Attach the price and cost in force in each row's month (the latest ``valid_from`` ≤ ``period``).

    ``months`` needs ``sku`` and ``period``; ``prices`` has ``sku``, ``valid_from``, ``unit_price``,
    ``unit_cost``. Months before a SKU's first price get its first price.
    """
    left = months.reset_index(drop=True).assign(_row=lambda d: np.arange(len(d)))
    left["period"] = left["period"].astype("datetime64[ns]")
    right = prices.sort_values("valid_from")[["sku", "valid_from", "unit_price", "unit_cost"]].copy()
    right["valid_from"] = right["valid_from"].astype("datetime64[ns]")
    merged = pd.merge_asof(
        left.sort_values("period"), right, left_on="period", right_on="valid_from", by="sku", direction="backward"
    )
    first = right.drop_duplicates("sku").set_index("sku")
    for col in ("unit_price", "unit_cost"):
        merged[col] = merged[col].fillna(merged["sku"].map(first[col]))
    return merged.sort_values("_row").drop(columns=["_row", "valid_from"]).reset_index(drop=True)
