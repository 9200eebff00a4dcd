// The report's flame graphs (icicles: callers above callees), drawn on canvases from the
// aggregated stacks embedded in the JSON script element #inferscope-flame. Click a frame to zoom
// into it (its ancestors stay above, full width), click the top bar or press Escape to zoom out,
// type in the search box to highlight matching frames and see their share. Names from the trace
// only reach the page through canvas fillText and textContent: never through innerHTML.
(function () {
  "use strict";
  var dataEl = document.getElementById("inferscope-flame");
  if (!dataEl) return;
  var data = JSON.parse(dataEl.textContent || "null");
  if (!data || !data.graphs) return;

  var ROW = 18, FONT = "11px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", CHAR_W = 6.6;
  var KIND_LABEL = { root: "all", thread: "thread", scope: "scope", module: "nn.Module", python: "Python function", cpu_op: "torch op",
    kernel: "kernel", memcpy: "copy", memset: "memset", more: "frames too small to draw" };
  var HUE = { thread: [210, 220], scope: [255, 270], module: [290, 320], python: [95, 150], cpu_op: [185, 205], kernel: [0, 22],
    memcpy: [32, 42], memset: [48, 56], more: [0, 0], root: [0, 0] };

  function hash(s) {
    var h = 2166136261;
    for (var i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); }
    return h >>> 0;
  }
  function fmtDur(ns) {
    var a = Math.abs(ns);
    if (a >= 1e9) return (ns / 1e9).toFixed(a >= 1e11 ? 1 : 2) + " s";
    if (a >= 1e6) return (ns / 1e6).toFixed(a >= 1e8 ? 1 : a >= 1e7 ? 2 : 3) + " ms";
    if (a >= 1e3) return (ns / 1e3).toFixed(1) + " µs";
    return Math.round(ns) + " ns";
  }
  function pct(a, b) { return b > 0 ? (100 * a / b).toFixed(1) + " %" : "–"; }

  function setup(g, gi) {
    var root = document.getElementById("flame-" + g.id);
    if (!root) return null;
    var canvas = root.querySelector("canvas"), tip = root.querySelector(".tl-tip"), input = root.querySelector("input[type=search]");
    var status = root.querySelector(".fl-status"), reset = root.querySelector("button[data-act=reset]"), frame = root.querySelector(".fl-frame");
    var ctx = canvas.getContext("2d");
    var n = g.d.length, kinds = data.kinds, names = data.names;
    // decode: parent, start offset, self value, depth
    var parent = new Int32Array(n), start = new Float64Array(n), self = new Float64Array(n), maxDepth = 0;
    var stack = [], cursor = [0];
    for (var i = 0; i < n; i++) {
      var d = g.d[i];
      stack.length = d;
      parent[i] = d > 0 ? stack[d - 1] : -1;
      stack.push(i);
      if (cursor.length <= d) cursor.length = d + 1;
      start[i] = d > 0 ? cursor[d] : 0;
      cursor[d] = start[i] + g.v[i];
      cursor[d + 1] = start[i];
      self[i] = g.v[i];
      if (d > 0) self[parent[i]] -= g.v[i];
      if (d > maxDepth) maxDepth = d;
    }
    var focus = 0, matched = null, matchedNs = 0, matchedCount = 0, dpr = 1, width = 0;
    var height = (maxDepth + 1) * ROW;
    var colorCache = {};
    function color(i) {
      if (matched && matched[i]) return "#f0abfc";
      var c = colorCache[i];
      if (!c) {
        var k = kinds[g.k[i]], hr = HUE[k] || [0, 0];
        if (k === "root") c = "#cbd5e1";
        else if (k === "more") c = "#e2e8f0";
        else {
          var h = hash(names[g.n[i]] || "");
          c = "hsl(" + (hr[0] + (h % Math.max(1, hr[1] - hr[0]))) + "," + (k === "thread" ? 20 : 55) + "%," + (62 + ((h >>> 8) % 14)) + "%)";
        }
        colorCache[i] = c;
      }
      return c;
    }
    function resize() {
      dpr = window.devicePixelRatio || 1;
      width = frame.clientWidth || 800;
      canvas.style.height = height + "px";
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
    }
    // x of a value offset, for the focused range
    function xOf(v) { return ((v - start[focus]) / (g.v[focus] || 1)) * width; }
    function draw() {
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, width, height);
      ctx.font = FONT;
      ctx.textBaseline = "middle";
      var f0 = start[focus], f1 = f0 + g.v[focus];
      for (var i = 0; i < n; i++) {
        var s = start[i], e = s + g.v[i];
        if (e <= f0 || s >= f1) continue; // outside the focused range (ancestors always overlap it)
        var x0 = Math.max(0, xOf(s)), x1 = Math.min(width, xOf(e));
        if (x1 - x0 < 0.4) continue;
        var y = g.d[i] * ROW;
        ctx.globalAlpha = matched && !matched[i] ? 0.45 : 1;
        ctx.fillStyle = color(i);
        ctx.fillRect(x0, y, Math.max(0.5, x1 - x0 - 0.5), ROW - 1);
        if (x1 - x0 > 28) {
          var label = names[g.n[i]] || "";
          var max = Math.floor((x1 - x0 - 6) / CHAR_W);
          if (label.length > max) label = max > 1 ? label.slice(0, max - 1) + "…" : "";
          ctx.fillStyle = "#111827";
          ctx.fillText(label, x0 + 3, y + ROW / 2);
        }
      }
      ctx.globalAlpha = 1;
      root.setAttribute("data-focus", String(focus));
      updateStatus();
    }
    function updateStatus() {
      var parts = [];
      if (focus !== 0) parts.push("zoomed into " + (names[g.n[focus]] || "?") + ": " + fmtDur(g.v[focus]) + " (" + pct(g.v[focus], g.total) + " of all)");
      if (matched) parts.push(matchedCount + " frame" + (matchedCount === 1 ? "" : "s") + " match: " + fmtDur(matchedNs) + " (" + pct(matchedNs, g.total) + " of all)");
      status.textContent = parts.join(" · ");
    }
    function nodeAt(px, py) {
      var d = Math.floor(py / ROW), f0 = start[focus], f1 = f0 + g.v[focus];
      var v = f0 + (px / width) * g.v[focus];
      for (var i = 0; i < n; i++) {
        if (g.d[i] !== d) continue;
        var s = start[i], e = s + g.v[i];
        if (e <= f0 || s >= f1) continue;
        if (v >= s && v < e) return i;
      }
      return -1;
    }
    function zoom(i) { focus = i >= 0 && i < n ? i : 0; draw(); }
    function search(q) {
      q = (q || "").toLowerCase();
      if (!q) { matched = null; draw(); return 0; }
      matched = new Uint8Array(n); matchedNs = 0; matchedCount = 0;
      var covered = new Uint8Array(n);
      for (var i = 0; i < n; i++) {
        var hit = (names[g.n[i]] || "").toLowerCase().indexOf(q) >= 0 || (names[g.x[i]] || "").toLowerCase().indexOf(q) >= 0;
        if (hit) { matched[i] = 1; matchedCount++; }
        // time counted once: a match inside a matching frame adds nothing
        var inside = i > 0 && (covered[parent[i]] === 1);
        if (hit && !inside) matchedNs += g.v[i];
        covered[i] = inside || hit ? 1 : 0;
      }
      draw();
      return matchedNs;
    }
    function showTip(i, px, py) {
      if (i < 0) { tip.style.display = "none"; return; }
      tip.textContent = "";
      var add = function (cls, text) { var el = document.createElement("div"); el.className = cls; el.textContent = text; tip.appendChild(el); };
      add("tn", names[g.n[i]] || "");
      var k = kinds[g.k[i]];
      var det = names[g.x[i]] || "";
      add("td", (KIND_LABEL[k] || k) + (det ? " · " + det : ""));
      add("td", "total " + fmtDur(g.v[i]) + " (" + pct(g.v[i], g.total) + " of all" + (focus !== 0 ? ", " + pct(g.v[i], g.v[focus]) + " of the zoomed frame" : "") + ")");
      if (k !== "more") add("td", "self " + fmtDur(self[i]) + " (" + pct(self[i], g.total) + ")");
      tip.style.display = "block";
      var tw = tip.offsetWidth, fw = frame.clientWidth;
      tip.style.left = Math.max(0, Math.min(px + 12, fw - tw - 4)) + "px";
      tip.style.top = (py + 14) + "px";
    }
    canvas.addEventListener("mousemove", function (ev) {
      var r = canvas.getBoundingClientRect();
      var px = ev.clientX - r.left, py = ev.clientY - r.top;
      showTip(nodeAt(px, py), px, py);
    });
    canvas.addEventListener("mouseleave", function () { tip.style.display = "none"; });
    canvas.addEventListener("click", function (ev) {
      var r = canvas.getBoundingClientRect();
      var i = nodeAt(ev.clientX - r.left, ev.clientY - r.top);
      if (i >= 0) zoom(i === focus ? Math.max(0, parent[i]) : i);
    });
    root.addEventListener("keydown", function (ev) { if (ev.key === "Escape") { zoom(0); } });
    reset.addEventListener("click", function () { input.value = ""; search(""); zoom(0); });
    input.addEventListener("input", function () { search(input.value); });
    window.addEventListener("resize", function () { resize(); draw(); });
    resize();
    draw();
    root.setAttribute("data-ready", "1");
    root.setAttribute("data-nodes", String(n));
    return {
      id: g.id,
      nodes: n,
      total: g.total,
      /** Index of the first frame with this exact name, or -1. */
      find: function (name) { for (var i = 0; i < n; i++) if (names[g.n[i]] === name) return i; return -1; },
      /** Where frame i is drawn (CSS px inside the canvas), or null when it is not visible. */
      box: function (i) {
        var f0 = start[focus], f1 = f0 + g.v[focus], s = start[i], e = s + g.v[i];
        if (e <= f0 || s >= f1) return null;
        return { x: Math.max(0, xOf(s)), w: Math.min(width, xOf(e)) - Math.max(0, xOf(s)), y: g.d[i] * ROW, h: ROW };
      },
      value: function (i) { return g.v[i]; },
      zoom: zoom,
      focus: function () { return focus; },
      search: search,
      index: gi,
    };
  }

  var api = { graphs: {} };
  data.graphs.forEach(function (g, gi) {
    var a = setup(g, gi);
    if (a) api.graphs[g.id] = a;
  });
  window.__inferscopeFlame = api;
})();
