// Printing a page of the S&OP pack (the browser's Print, or `sop pdf`).
// Charts are drawn for the window's width and may be taller than a sheet. Before printing, each chart is
// redrawn at the width of an A4 landscape page and at most a page high (so it is never cut at a page break);
// after printing, each gets its own size back. `sop pdf` calls window.sopFitChartsForPrint itself and waits
// for the promise, since printing to PDF from a script sends no beforeprint event it could wait for.
(function () {
  // A4 landscape less the margins of pack.css's @page (12 mm each side, 14 mm top and bottom):
  // 273 mm × 182 mm ≈ 1031 × 687 CSS pixels. A little is left for the chart's own margin.
  var PRINT_WIDTH = 1000;
  var PRINT_HEIGHT = 640;
  var saved = [];

  function plots() {
    return Array.prototype.slice.call(document.querySelectorAll('.js-plotly-plot'));
  }

  window.sopFitChartsForPrint = function () {
    if (saved.length) return Promise.resolve(saved.length);
    saved = !window.Plotly ? [] : plots().map(function (div) {
      return { div: div, width: div.layout.width, height: div.layout.height, style: div.style.height,
               outer: div.parentElement.style.height };
    });
    return Promise.all(saved.map(function (s) {
      var height = Math.min((s.div._fullLayout && s.div._fullLayout.height) || s.height || PRINT_HEIGHT,
                            PRINT_HEIGHT);
      // the CSS heights around the chart (plotly's html writes the figure's height, e.g. 1050px, on the div
      // and its wrapper) would otherwise keep their room: a chart shrunk to a sheet left a blank page after it
      s.div.style.height = height + 'px';
      s.div.parentElement.style.height = 'auto';
      return Plotly.relayout(s.div, { width: PRINT_WIDTH, height: height });
    })).then(function () { shrinkWideTables(); return saved.length; });
  };

  // A table still wider than the sheet once its cells wrap (pack.css) is scaled down to fit rather than lose
  // its last columns. Measured against the page's width: exact when printing with print media in force (as
  // `sop pdf` does); from the browser's Print, the window's width stands in for the sheet's.
  var shrunk = [];
  function shrinkWideTables() {
    var sheet = document.documentElement.clientWidth;
    Array.prototype.forEach.call(document.querySelectorAll('table'), function (t) {
      var box = t.getBoundingClientRect();
      if (box.right > sheet && box.width > 0) {
        t.style.zoom = String(Math.max(0.5, (sheet - box.left - 2) / box.width));
        shrunk.push(t);
      }
    });
  }

  window.sopRestoreCharts = function () {
    var restore = saved;
    saved = [];
    shrunk.forEach(function (t) { t.style.zoom = ''; });
    shrunk = [];
    return Promise.all(restore.map(function (s) {
      s.div.style.height = s.style;
      s.div.parentElement.style.height = s.outer;
      // a width or height the figure did not set goes back to null: plotly sizes it to the page again
      return Plotly.relayout(s.div, { width: s.width === undefined ? null : s.width,
                                      height: s.height === undefined ? null : s.height });
    }));
  };

  window.addEventListener('beforeprint', function () { window.sopFitChartsForPrint(); });
  window.addEventListener('afterprint', function () { window.sopRestoreCharts(); });
})();
