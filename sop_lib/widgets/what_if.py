"""What-if panel: sliders for demand, price and capacity that re-run :func:`sop_lib.finance.scenarios.compare_scenarios`.

The panel computes nothing of its own: each slider change builds a ``ScenarioSpec`` named ``what-if`` and
compares it with the baseline through the same functions as the workbooks (each planned by the supply linear
programme on the same ``supply.PlanInputs``), so its figures are those the scenario table of the pack would show
for the same spec.
"""

from __future__ import annotations

import ipywidgets as widgets
import pandas as pd

from sop_lib.data.params import ScenarioSpec
from sop_lib.finance.scenarios import ScenarioBasis, compare_scenarios
from sop_lib.report import show_table

WHAT_IF = "what-if"
SHOWN = ["scenario", "description", "revenue", "gross_margin", "margin_pct", "unmet_units", "unmet_revenue",
         "peak_utilisation", "resource_months_over", "revenue_vs_baseline", "margin_vs_baseline", "unmet_vs_baseline"]
FORMATS = {
    "revenue": "money", "gross_margin": "money", "margin_pct": "pct", "unmet_units": "int", "unmet_revenue": "money",
    "peak_utilisation": "pct", "resource_months_over": "int", "revenue_vs_baseline": "money",
    "margin_vs_baseline": "money", "unmet_vs_baseline": "int",
}
_STYLE = {"description_width": "130px"}
_LAYOUT = widgets.Layout(width="420px")


def _slider(label: str, low: int, high: int) -> widgets.IntSlider:
    return widgets.IntSlider(value=0, min=low, max=high, step=1, description=label, continuous_update=False,
                             readout_format="+d", style=_STYLE, layout=_LAYOUT)


class WhatIfPanel:
    """Sliders, the comparison they produce and the widget showing both.

    Attributes
    ----------
    widget : the ``ipywidgets.VBox`` to display (a cell whose value is the panel displays it too).
    demand_pct, price_pct : sliders, % change of every SKU's demand (−30…+30) and unit price (−20…+20).
    capacity : one slider per resource, % change of its available hours (−50…+50).
    table : ``ipywidgets.HTML`` holding the comparison table.
    result : the latest ``compare_scenarios`` frame: the baseline and ``what-if`` rows.
    basis, currency : what it compares on and the currency of its money (:func:`what_if_panel`).
    """

    def __init__(self, basis: ScenarioBasis, currency: str = "EUR") -> None:
        self.basis, self.currency = basis, currency
        months, rough_cut = basis.months, basis.rough_cut
        self.demand_pct = _slider("Demand %", -30, 30)
        self.price_pct = _slider("Price %", -20, 20)
        self.capacity = {res: _slider(f"{res} hours %", -50, 50)
                         for res in sorted(basis.inputs.capacity["resource"].unique())}
        self.reset_button = widgets.Button(description="Reset to baseline", icon="undo",
                                           layout=widgets.Layout(width="auto"))
        self.table = widgets.HTML()
        self._paused = False
        for slider in self._sliders():
            slider.observe(self._on_change, names="value")
        self.reset_button.on_click(lambda _button: self.reset())
        scope = f"first {months} months of the plan" if months else "all months of the plan"
        rule = ("rationed by the rough-cut rule" if rough_cut
                else "planned by the supply linear programme (build-ahead, overtime, lost sales at least cost)")
        self.widget = widgets.VBox([
            widgets.HTML(f"<b>What-if</b> against the consensus plan ({scope}; money in {currency}). Demand beyond "
                         f"capacity is {rule}; utilisation is that of demand."),
            widgets.HBox([self.demand_pct, self.price_pct]),
            widgets.GridBox(list(self.capacity.values()),
                            layout=widgets.Layout(grid_template_columns="repeat(2, 430px)")),
            self.reset_button,
            self.table,
        ])
        self.result = self.update()

    def _sliders(self) -> list[widgets.IntSlider]:
        return [self.demand_pct, self.price_pct, *self.capacity.values()]

    @property
    def spec(self) -> ScenarioSpec:
        """The scenario the sliders describe."""
        cap = {res: float(s.value) for res, s in self.capacity.items() if s.value}
        words = [f"demand {self.demand_pct.value:+d} %"] if self.demand_pct.value else []
        words += [f"price {self.price_pct.value:+d} %"] if self.price_pct.value else []
        words += [f"{res} hours {v:+g} %" for res, v in cap.items()]
        return ScenarioSpec(description=", ".join(words) or "no change", demand_pct=float(self.demand_pct.value),
                            price_pct=float(self.price_pct.value), capacity_pct=cap)

    def update(self) -> pd.DataFrame:
        """Recompute the comparison from the sliders, show it, and return it (also kept in ``result``)."""
        self.result = compare_scenarios(self.basis, {WHAT_IF: self.spec})
        shown = self.result[SHOWN].assign(margin_pct=self.result["margin_pct"] / 100)  # "pct" expects a share
        self.table.value = show_table(shown, formats=FORMATS,
                                      caption=f"Baseline and what-if (money in {self.currency})").data
        return self.result

    def reset(self) -> None:
        """All sliders back to 0, recomputing once."""
        self._paused = True
        try:
            for slider in self._sliders():
                slider.value = 0
        finally:
            self._paused = False
        self.update()

    def _on_change(self, _change: dict) -> None:
        if not self._paused:
            self.update()

    def _repr_mimebundle_(self, **kwargs: object) -> dict | None:
        return self.widget._repr_mimebundle_(**kwargs)


def what_if_panel(basis: ScenarioBasis, currency: str = "EUR") -> WhatIfPanel:
    """A what-if panel on the plan; display ``panel.widget`` (or the panel itself) in JupyterLab.

    Parameters
    ----------
    basis : what the scenarios are compared on (``scenarios.ScenarioBasis``: the plan's inputs, the SKUs'
        families, the capacity thresholds, the plan's first months, the serving rule), as for
        ``scenarios.compare_scenarios``; one capacity slider per resource of ``basis.inputs.capacity``.
    currency : shown in the caption.

    Returns
    -------
    WhatIfPanel
        With ``result`` already computed for the sliders at 0 (what-if = baseline).
    """
    return WhatIfPanel(basis, currency=currency)
