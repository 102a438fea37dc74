"""The consensus override editor: sales and marketing add or remove overrides of the statistical forecast
from JupyterLab. It writes the same file a planner may edit by hand (``params/overrides/<cycle>.csv``), and
only after the whole file, new row included, passes ``overrides.validate_overrides``. A cycle whose overrides
are in a workbook (``<cycle>.xlsx``, from ``sop overrides template``) is shown, not edited: it is edited in Excel.

Usage in a notebook::

    from sop_lib.widgets.override_editor import override_editor
    editor = override_editor(store, "2026-11", forecast, snapshot["products"])
    editor.widget
"""

from __future__ import annotations

import html

import ipywidgets as w
import pandas as pd

from sop_lib.core.errors import InputInvalid
from sop_lib.core.labels import ALL_FAMILIES, ALL_REGIONS
from sop_lib.data.overrides import OVERRIDE_COLUMNS, validate_overrides
from sop_lib.data.store import Store
from sop_lib.demand.consensus import apply_overrides
from sop_lib.report.tables import show_table


def _number_text(value: float) -> str:
    """120.0 → "120", 2.5 → "2.5": what a planner would type."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _non_blank(raw: pd.DataFrame) -> pd.DataFrame:
    """Rows with any filled cell (blank lines carry no override; ids O1, O2, … count the others)."""
    filled = raw.map(lambda v: "" if pd.isna(v) else str(v).strip()).ne("").any(axis=1)
    return raw[filled].reset_index(drop=True)


class OverrideEditor:
    """The controls of the editor (attributes, so code and tests can drive them) and ``widget`` to display.

    Parameters
    ----------
    store
        Where the overrides file is read and written.
    cycle
        Planning cycle ``YYYY-MM``.
    statistical
        The statistical forecast: ``sku``, ``region``, ``family``, ``period``, ``forecast``.
    products
        ``sku``, ``family`` (``description`` is shown next to SKU codes when present).
    """

    def __init__(self, store: Store, cycle: str, statistical: pd.DataFrame, products: pd.DataFrame) -> None:
        self.store, self.cycle = store, cycle
        self.statistical, self.products = statistical, products
        path = store.overrides_file(cycle)
        self.source = str(path.relative_to(store.root))
        self.workbook = path.suffix == ".xlsx"  # edited in Excel: the editor shows it, and changes nothing
        months = sorted(pd.to_datetime(statistical["period"]).dt.to_period("M").dt.to_timestamp().unique())
        month_options = [f"{m:%Y-%m}" for m in months]
        self.regions = sorted(str(r) for r in statistical["region"].unique())

        self.owner = w.Text(description="Owner", placeholder="e.g. Anna Berg (sales North)")
        self.level = w.Dropdown(description="Level", options=["sku", "family", "region"], value="family")
        self.target = w.Dropdown(description="Target")
        self.region = w.Dropdown(description="Region", options=[ALL_REGIONS, *self.regions], value=ALL_REGIONS)
        self.first_month = w.Dropdown(description="From", options=month_options,
                                      value=month_options[0] if month_options else None)
        self.last_month = w.Dropdown(description="To", options=month_options,
                                     value=month_options[0] if month_options else None)
        self.mode = w.ToggleButtons(description="Change in", options=["%", "units"], value="%",
                                    tooltips=["% of the current forecast", "units per month, over the scope"])
        self.value = w.FloatText(description="Change", value=0.0)
        self.reason = w.Textarea(description="Reason", placeholder="why: promotion, customer news, listing, …")
        self.add_button = w.Button(description="Add override", button_style="primary", icon="plus")
        self.message = w.HTML()
        self.table = w.HTML()
        self.delete_choice = w.Dropdown(description="Override")
        self.delete_button = w.Button(description="Delete", button_style="danger", icon="trash")
        self.preview = w.HTML()

        self.level.observe(self._on_level, names="value")
        self.add_button.on_click(self._on_add)
        self.delete_button.on_click(self._on_delete)
        self._on_level()
        if self.workbook:
            self.add_button.disabled = self.delete_button.disabled = True
            self.message.value = (f"<div>This cycle's overrides are in the workbook <code>{html.escape(self.source)}"
                                  "</code>: edit them in Excel (sheet Overrides), then re-run the consensus cells. "
                                  "The editor shows them and the family totals.</div>")
        self.widget = w.VBox([
            w.HTML(f"<b>Consensus overrides, cycle {html.escape(cycle)}</b> · "
                   f"<code>{html.escape(self.source)}</code>"),
            w.HBox([w.VBox([self.owner, self.level, self.target, self.region]),
                    w.VBox([self.first_month, self.last_month, self.mode, self.value])]),
            self.reason, self.add_button, self.message,
            w.HTML("<b>Overrides in the file</b> (applied in this order)"), self.table,
            w.HBox([self.delete_choice, self.delete_button]),
            w.HTML("<b>Family totals over the horizon</b>"), self.preview,
        ])
        self.refresh()

    # --- reactions -------------------------------------------------------------------------------
    def _on_level(self, _change: object = None) -> None:
        level = self.level.value
        if level == "sku":
            described = "description" in self.products.columns
            options = [(f"{r.sku} · {r.description}" if described else str(r.sku), str(r.sku))
                       for r in self.products.sort_values("sku").itertuples(index=False)]
        elif level == "family":
            options = [(f, f) for f in sorted(str(f) for f in self.products["family"].unique())]
        else:
            options = [(r, r) for r in self.regions]
        self.target.options = options
        self.target.value = options[0][1] if options else None
        if level == "region":  # the target is the region
            self.region.value = ALL_REGIONS
        self.region.disabled = level == "region"

    def new_row(self) -> dict[str, str]:
        """The override the controls describe, as the text cells of one file row."""
        amount = _number_text(self.value.value)
        return {
            "owner": self.owner.value.strip(), "level": self.level.value, "target": self.target.value or "",
            "region": "" if self.region.value == ALL_REGIONS else self.region.value,
            "first_month": self.first_month.value or "", "last_month": self.last_month.value or "",
            "change_pct": amount if self.mode.value == "%" else "",
            "change_units": amount if self.mode.value == "units" else "",
            "reason": self.reason.value.strip(),
        }

    def _on_add(self, _button: object = None) -> None:
        if self.workbook:
            return
        if self.value.value == 0:
            self.message.value = '<div style="color:#b30000">Enter a change other than 0. Nothing was written.</div>'
            return
        current = _non_blank(self.store.read_overrides(self.cycle))
        row = self.new_row()
        candidate = pd.concat([current, pd.DataFrame([row])], ignore_index=True)
        candidate = candidate[[*OVERRIDE_COLUMNS, *[c for c in candidate.columns if c not in OVERRIDE_COLUMNS]]]
        candidate = candidate.fillna("")
        try:
            validate_overrides(candidate, self.statistical, self.products, source=self.source)
        except InputInvalid as exc:
            self.message.value = (
                '<div style="color:#b30000"><b>Not added: the overrides would have these problems</b> '
                f"(row {len(candidate) + 1} is the new one). Nothing was written.</div>{show_table(exc.problems).data}"
            )
            return
        self.store.write_overrides(self.cycle, candidate)
        self.value.value, self.reason.value = 0.0, ""
        self.refresh()
        self.message.value = (
            f'<div style="color:#1a7f37">Added O{len(candidate)}: {html.escape(row["level"])} '
            f"{html.escape(row['target'])}, {html.escape(row['first_month'])} … {html.escape(row['last_month'])}."
            "</div>"
        )

    def _on_delete(self, _button: object = None) -> None:
        if self.workbook or self.delete_choice.value is None:
            return
        current = _non_blank(self.store.read_overrides(self.cycle))
        position = int(self.delete_choice.value)
        if position >= len(current):  # the file changed on disk since it was shown
            self.refresh()
            return
        self.store.write_overrides(self.cycle, current.drop(index=position).reset_index(drop=True))
        self.refresh()
        self.message.value = f"<div>Deleted O{position + 1}; the overrides after it are renumbered.</div>"

    # --- views -----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the file; redraw the table, the delete choices and the preview."""
        current = _non_blank(self.store.read_overrides(self.cycle)).reindex(columns=OVERRIDE_COLUMNS).fillna("")
        shown = pd.DataFrame({
            "id": [f"O{k + 1}" for k in range(len(current))],
            "owner": current["owner"], "level": current["level"], "target": current["target"],
            "region": current["region"].replace("", ALL_REGIONS),
            "months": current["first_month"] + " … " + current["last_month"],
            "change": [f"{p} %" if p else f"{u} units/month" for p, u in
                       zip(current["change_pct"], current["change_units"], strict=True)],
            "reason": current["reason"],
        })
        self.table.value = (f'<div style="max-width:100%;overflow-x:auto">{show_table(shown, max_rows=500).data}</div>'
                            if len(shown) else "<i>No overrides yet.</i>")
        self.delete_choice.options = [
            (f"O{k + 1} · {r.owner} · {r.level} {r.target}", k) for k, r in enumerate(current.itertuples(index=False))
        ]
        self.preview.value = self._preview()

    def _preview(self) -> str:
        try:  # the file as every reader reads it, so the rows are numbered as the file numbers them
            overrides = self.store.load_overrides(self.cycle, self.statistical, self.products)
        except InputInvalid as exc:
            return ('<div style="color:#b30000"><b>The file has problems; fix or delete these rows.</b></div>'
                    + show_table(exc.problems).data)
        consensus, _ = apply_overrides(self.statistical, overrides)
        totals = consensus.groupby("family", as_index=False)[["statistical", "consensus"]].sum()
        totals.loc[len(totals)] = [ALL_FAMILIES, totals["statistical"].sum(), totals["consensus"].sum()]
        totals["change"] = totals["consensus"] - totals["statistical"]
        totals["change_pct"] = (totals["change"] / totals["statistical"].where(totals["statistical"] != 0)) * 100
        return show_table(totals, formats={"statistical": "int", "consensus": "int", "change": "int",
                                           "change_pct": "pct100"}).data


def override_editor(store: Store, cycle: str, statistical: pd.DataFrame, products: pd.DataFrame) -> OverrideEditor:
    """An :class:`OverrideEditor` for the cycle; display its ``.widget``."""
    return OverrideEditor(store, cycle, statistical, products)
