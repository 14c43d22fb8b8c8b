// kinhteso dashboard: draws the charts (plotly.js served by the app) and sorts the ranking.
(function () {
  "use strict";
  var lang = document.body.getAttribute("data-lang") || "vi";
  var holder = document.getElementById("charts-data");
  if (holder && window.Plotly) {
    var charts = JSON.parse(holder.textContent);
    charts.forEach(function (ch) {
      var el = document.getElementById(ch.id);
      if (!el) { return; }
      var layout = ch.figure.layout;
      layout.autosize = true;
      window.Plotly.newPlot(el, ch.figure.data, layout,
        {responsive: true, displaylogo: false,
         modeBarButtonsToRemove: ["sendDataToCloud", "lasso2d", "select2d"]});
    });
  }
  // sortable tables: a header button sorts by its column, again to reverse
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.querySelectorAll("button.sort"), function (btn) {
      btn.addEventListener("click", function () {
        var col = parseInt(btn.getAttribute("data-col"), 10);
        var numeric = btn.getAttribute("data-numeric") === "1";
        var th = btn.closest("th");
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(table.querySelectorAll("th"), function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[col], y = b.cells[col];
          if (numeric) {
            var u = x.getAttribute("data-value"), v = y.getAttribute("data-value");
            if (u === "" || u === null) { return 1; }
            if (v === "" || v === null) { return -1; }
            return asc ? parseFloat(u) - parseFloat(v) : parseFloat(v) - parseFloat(u);
          }
          return asc ? x.textContent.localeCompare(y.textContent, lang) : y.textContent.localeCompare(x.textContent, lang);
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();
