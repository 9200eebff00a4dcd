// Sortable tables: click a header to sort by that column (numbers by their data-v value).
(function () {
  "use strict";
  function key(td, numeric) {
    if (!td) return numeric ? -Infinity : "";
    if (numeric) {
      var v = parseFloat(td.getAttribute("data-v"));
      return isNaN(v) ? -Infinity : v;
    }
    return td.textContent.trim().toLowerCase();
  }
  var tables = document.querySelectorAll("table.sortable");
  for (var ti = 0; ti < tables.length; ti++) {
    (function (table) {
      var ths = table.querySelectorAll("thead th");
      for (var i = 0; i < ths.length; i++) {
        (function (th, col) {
          th.tabIndex = 0;
          var sort = function () {
            var numeric = th.classList.contains("num");
            var asc = th.getAttribute("aria-sort") === "descending" || (!th.hasAttribute("aria-sort") && !numeric);
            for (var j = 0; j < ths.length; j++) ths[j].removeAttribute("aria-sort");
            th.setAttribute("aria-sort", asc ? "ascending" : "descending");
            var body = table.tBodies[0];
            var rows = Array.prototype.slice.call(body.rows);
            rows.sort(function (a, b) {
              var x = key(a.cells[col], numeric), y = key(b.cells[col], numeric);
              var c = x < y ? -1 : x > y ? 1 : 0;
              return asc ? c : -c;
            });
            for (var r = 0; r < rows.length; r++) body.appendChild(rows[r]);
          };
          th.addEventListener("click", sort);
          th.addEventListener("keydown", function (e) {
            if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); }
          });
        })(ths[i], i);
      }
    })(tables[ti]);
  }
})();
