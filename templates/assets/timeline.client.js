// The report's zoomable timeline, drawn on a canvas from the level-of-detail summary embedded in
// the JSON script element #inferscope-timeline. Names from the trace only ever reach
// the page through canvas fillText and textContent: never through innerHTML.
(function () {
  "use strict";
  var root = document.getElementById("tl");
  var dataEl = document.getElementById("inferscope-timeline");
  if (!root || !dataEl) return;
  var data = JSON.parse(dataEl.textContent || "null");
  if (!data || !data.lanes) return;

  var canvas = document.getElementById("tl-canvas");
  var frame = document.getElementById("tl-frame");
  var tip = document.getElementById("tl-tip");
  var rangeEl = document.getElementById("tl-range");
  var ctx = canvas.getContext("2d");

  var LABEL_W = 200, AXIS_H = 22, CPU_ROW = 15, GPU_ROW = 20, IDLE_H = 12, UTIL_H = 34, COUNTER_H = 34, GAP = 6;
  var CAT = {};
  data.cats.forEach(function (c, i) { CAT[c] = i; });
  var CAT_LABEL = { kernel: "kernel", memcpy: "copy", memset: "memset", python: "Python call", scope: "scope",
    cpu_op: "CPU op", user_annotation: "annotation", other: "other", cuda_api: "CUDA API call", sync: "sync wait", module: "nn.Module", wait: "waiting (blocked)" };
  var CAT_COLOR = { kernel: "#3b82f6", memcpy: "#f59e0b", memset: "#eab308", python: "#10b981", scope: "#8b5cf6",
    cpu_op: "#64748b", user_annotation: "#8b5cf6", other: "#9ca3af", cuda_api: "#94a3b8", sync: "#dc2626", module: "#c026d3", wait: "#d1d5db" };
  var HUE = { kernel: [200, 260], python: [130, 175], cpu_op: [190, 230] };

  function hash(s) {
    var h = 2166136261;
    for (var i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); }
    return h >>> 0;
  }
  var colorCache = {};
  function nameColor(cat, ni) {
    var cname = data.cats[cat];
    var hr = HUE[cname];
    if (!hr) return CAT_COLOR[cname] || "#9ca3af";
    var key = cat + ":" + ni;
    var c = colorCache[key];
    if (!c) {
      var h = hash(data.names[ni] || "");
      var hue = hr[0] + (h % (hr[1] - hr[0]));
      var light = 42 + ((h >>> 8) % 16);
      c = colorCache[key] = "hsl(" + hue + ",62%," + light + "%)";
    }
    return c;
  }

  // ---- decode lanes into absolute, per-row, searchable arrays
  var tracks = [];
  var lanes = data.lanes.map(function (L) {
    var n = L.s.length, st = new Float64Array(n), en = new Float64Array(n), t = 0;
    for (var i = 0; i < n; i++) { t += L.s[i]; st[i] = t; en[i] = t + L.d[i]; }
    var rows = Math.max(1, L.rows), byRow = [];
    for (var r = 0; r < rows; r++) byRow.push([]);
    for (i = 0; i < n; i++) byRow[L.r ? Math.min(L.r[i], rows - 1) : 0].push(i);
    var rowIdx = [], rowPm = [];
    for (r = 0; r < rows; r++) {
      var idx = Int32Array.from(byRow[r]), pm = new Float64Array(idx.length), m = -Infinity;
      for (var k = 0; k < idx.length; k++) { if (en[idx[k]] > m) m = en[idx[k]]; pm[k] = m; }
      rowIdx.push(idx); rowPm.push(pm);
    }
    return { L: L, st: st, en: en, rows: rows, rowIdx: rowIdx, rowPm: rowPm, drawn: 0 };
  });
  var idleByDevice = {};
  data.idle.forEach(function (g) { idleByDevice[g.device] = g; });
  var utilByDevice = {};
  data.util.series.forEach(function (s) { utilByDevice[s.device] = s; });

  lanes.forEach(function (ln) {
    if (ln.L.kind === "cpu") tracks.push({ type: "lane", ln: ln, h: ln.rows * CPU_ROW + 4, rowH: CPU_ROW });
  });
  var devices = [];
  lanes.forEach(function (ln) { if (ln.L.kind === "gpu" && devices.indexOf(ln.L.device) < 0) devices.push(ln.L.device); });
  devices.forEach(function (dev) {
    lanes.forEach(function (ln) {
      if (ln.L.kind === "gpu" && ln.L.device === dev) tracks.push({ type: "lane", ln: ln, h: GPU_ROW + 4, rowH: GPU_ROW });
    });
    if (idleByDevice[dev]) tracks.push({ type: "idle", g: idleByDevice[dev], h: IDLE_H + 4 });
    if (utilByDevice[dev]) tracks.push({ type: "util", u: utilByDevice[dev], h: UTIL_H });
  });
  data.counters.forEach(function (c) {
    var max = -Infinity, min = Infinity;
    for (var i = 0; i < c.v.length; i++) { if (c.v[i] > max) max = c.v[i]; if (c.v[i] < min) min = c.v[i]; }
    tracks.push({ type: "counter", c: c, h: COUNTER_H, max: max, min: Math.min(0, min) });
  });
  var y = AXIS_H;
  tracks.forEach(function (t) { t.y = y; y += t.h + GAP; });
  var totalH = y;

  // ---- view state
  var span = Math.max(1, data.span);
  var v0 = 0, v1 = span, W = 800, dpr = 1;
  function scale() { return (W - LABEL_W) / (v1 - v0); }
  function X(t) { return LABEL_W + (t - v0) * scale(); }
  function T(x) { return v0 + (x - LABEL_W) / scale(); }

  // A time on the axis: the unit follows the view's magnitude, the decimals the tick step.
  function fmtTime(ns, step) {
    var mag = Math.max(Math.abs(v1), Math.abs(step || 0));
    var unit = mag >= 1e9 ? 1e9 : mag >= 1e6 ? 1e6 : mag >= 1e3 ? 1e3 : 1;
    var name = unit === 1e9 ? " s" : unit === 1e6 ? " ms" : unit === 1e3 ? " µs" : " ns";
    var dec = step ? Math.max(0, Math.min(6, Math.ceil(-Math.log10(step / unit) - 1e-9))) : 1;
    return (ns / unit).toFixed(dec) + name;
  }
  function fmtDur(ns) {
    if (ns >= 1e9) return (ns / 1e9).toFixed(3) + " s";
    if (ns >= 1e6) return (ns / 1e6).toFixed(3) + " ms";
    if (ns >= 1e3) return (ns / 1e3).toFixed(2) + " µs";
    return Math.round(ns) + " ns";
  }

  function resize() {
    dpr = window.devicePixelRatio || 1;
    W = Math.max(400, frame.clientWidth);
    canvas.width = Math.round(W * dpr);
    canvas.height = Math.round(totalH * dpr);
    canvas.style.height = totalH + "px";
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  }

  // ---- drawing
  function drawAxis() {
    ctx.fillStyle = "#f3f5f9";
    ctx.fillRect(0, 0, W, AXIS_H);
    var target = (v1 - v0) / Math.max(1, (W - LABEL_W) / 110);
    var p = Math.pow(10, Math.floor(Math.log10(target))), step = p;
    if (target / p > 5) step = 10 * p; else if (target / p > 2) step = 5 * p; else if (target / p > 1) step = 2 * p;
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    ctx.strokeStyle = "#e6e9ef";
    ctx.lineWidth = 1;
    for (var t = Math.ceil(v0 / step) * step; t <= v1; t += step) {
      var x = Math.round(X(t)) + 0.5;
      ctx.beginPath(); ctx.moveTo(x, AXIS_H - 5); ctx.lineTo(x, totalH); ctx.stroke();
      var lbl = fmtTime(t, step);
      if (x + 3 + ctx.measureText(lbl).width > W) continue;
      ctx.fillStyle = "#5b6577";
      ctx.fillText(lbl, x + 3, AXIS_H / 2);
    }
  }

  function drawDensity(ln, y, h) {
    var dens = ln.L.dens;
    if (!dens) return;
    var bins = dens.length, binNs = span / bins, sc = scale();
    ctx.fillStyle = ln.L.kind === "gpu" ? "#3b82f6" : "#64748b";
    var runX = -1, runA = 0;
    for (var px = LABEL_W; px < W; px++) {
      var ta = v0 + (px - LABEL_W) / sc, tb = ta + 1 / sc;
      var b0 = Math.max(0, Math.floor(ta / binNs)), b1 = Math.min(bins - 1, Math.floor(tb / binNs));
      var m = 0;
      for (var b = b0; b <= b1 && b < bins; b++) if (dens[b] > m) m = dens[b];
      var a = m > 0 ? Math.round((0.12 + 0.5 * m / 100) * 20) / 20 : 0;
      if (a !== runA) {
        if (runA > 0) { ctx.globalAlpha = runA; ctx.fillRect(runX, y, px - runX, h); }
        runX = px; runA = a;
      }
    }
    if (runA > 0) { ctx.globalAlpha = runA; ctx.fillRect(runX, y, W - runX, h); }
    ctx.globalAlpha = 1;
  }

  function drawGaps(g, y, h, color) {
    if (!g) return;
    var gaps = g.gaps, n = gaps.length / 2, lo = 0, hi = n;
    // gaps are sorted and disjoint: first one that ends after v0
    while (lo < hi) { var mid = (lo + hi) >> 1; if (gaps[2 * mid] + gaps[2 * mid + 1] < v0) lo = mid + 1; else hi = mid; }
    ctx.fillStyle = color;
    for (var i = lo; i < n; i++) {
      var s = gaps[2 * i];
      if (s > v1) break;
      var x0 = Math.max(LABEL_W, X(s)), x1 = X(s + gaps[2 * i + 1]);
      if (x1 - x0 >= 0.5) ctx.fillRect(x0, y, x1 - x0, h);
    }
  }

  // Events at least MIN_RECT px wide are drawn as rectangles (named when wide enough); narrower ones
  // add their exact width to a per-pixel coverage buffer, drawn with opacity = covered share, so a
  // zoomed-out lane of tiny kernels looks as busy as it really is, never as a solid bar.
  var MIN_RECT = 2;
  var cov = new Float32Array(0), covCat = new Int16Array(0);
  function drawRow(ln, r, y, h) {
    var idx = ln.rowIdx[r], pm = ln.rowPm[r], L = ln.L, st = ln.st, en = ln.en;
    var lo = 0, hi = idx.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (pm[mid] < v0) lo = mid + 1; else hi = mid; }
    if (cov.length < W + 2) { cov = new Float32Array(W + 2); covCat = new Int16Array(W + 2); }
    var sc = scale(), count = 0, cmin = Infinity, cmax = -1;
    ctx.font = "11px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace";
    ctx.textBaseline = "middle";
    for (var k = lo; k < idx.length; k++) {
      var i = idx[k], s = st[i];
      if (s > v1) break;
      var e = en[i];
      if (e < v0) continue;
      var x0 = LABEL_W + (s - v0) * sc, x1 = LABEL_W + (e - v0) * sc;
      if (x0 < LABEL_W) x0 = LABEL_W;
      if (x1 > W) x1 = W;
      var w = x1 - x0;
      if (w >= MIN_RECT) {
        ctx.fillStyle = nameColor(L.c[i], L.n[i]);
        ctx.fillRect(x0, y, w, h);
        count++;
        if (w > 36 && L.n[i] > 0) {
          var name = data.names[L.n[i]], maxc = Math.floor((w - 6) / 6.7);
          if (maxc >= 3) {
            ctx.fillStyle = "#fff";
            ctx.fillText(name.length > maxc ? name.slice(0, maxc - 1) + "…" : name, x0 + 3, y + h / 2 + 0.5);
          }
        }
      } else {
        var a = Math.floor(x0), b = Math.floor(x1);
        if (w <= 0) { cov[a] += 0.02; }
        else if (a === b) cov[a] += w;
        else { cov[a] += a + 1 - x0; for (var p = a + 1; p < b; p++) cov[p] += 1; cov[b] += x1 - b; }
        for (var q = a; q <= b; q++) covCat[q] = L.c[i];
        if (a < cmin) cmin = a;
        if (b > cmax) cmax = b;
      }
    }
    // coverage: runs of columns with the same opacity and category become one rectangle
    var runX = -1, runA = 0, runC = -1;
    for (var px = cmin; px <= cmax + 1; px++) {
      var c = px <= cmax ? cov[px] : 0;
      var al = c > 0 ? Math.round(Math.min(1, 0.3 + 0.7 * Math.min(1, c)) * 10) / 10 : 0;
      var cc = c > 0 ? covCat[px] : -1;
      if (al !== runA || (al > 0 && cc !== runC && cc >= 0)) {
        if (runA > 0) {
          ctx.globalAlpha = runA;
          ctx.fillStyle = CAT_COLOR[data.cats[runC]] || "#9ca3af";
          ctx.fillRect(runX, y, px - runX, h);
          count++;
        }
        runX = px; runA = al; runC = cc;
      }
      if (px <= cmax) cov[px] = 0;
    }
    ctx.globalAlpha = 1;
    return count;
  }

  function drawLane(t) {
    var ln = t.ln, drawn = 0;
    ctx.fillStyle = ln.L.kind === "gpu" ? "#f8fafc" : "#fcfcfd";
    ctx.fillRect(LABEL_W, t.y, W - LABEL_W, t.h);
    if (ln.L.kind === "gpu") drawGaps(idleByDevice[ln.L.device], t.y, t.h, "rgba(226,85,85,0.16)");
    drawDensity(ln, t.y + 2, t.h - 4);
    for (var r = 0; r < ln.rows; r++) drawn += drawRow(ln, r, t.y + 2 + r * t.rowH, t.rowH - 1);
    ln.drawn = drawn;
  }

  function drawUtil(t) {
    var v = t.u.v, bins = v.length, binNs = span / bins, sc = scale();
    ctx.fillStyle = "#f8fafc";
    ctx.fillRect(LABEL_W, t.y, W - LABEL_W, t.h);
    ctx.fillStyle = "rgba(59,130,246,0.55)";
    for (var px = LABEL_W; px < W; px++) {
      var ta = v0 + (px - LABEL_W) / sc, tb = ta + 1 / sc;
      var b0 = Math.max(0, Math.floor(ta / binNs)), b1 = Math.min(bins - 1, Math.floor(tb / binNs));
      if (b0 >= bins || b1 < 0) continue;
      var sum = 0, k = 0;
      for (var b = b0; b <= b1; b++, k++) sum += v[b];
      var f = k ? sum / k / 1000 : 0;
      if (f > 0) ctx.fillRect(px, t.y + t.h * (1 - f), 1, t.h * f);
    }
  }

  function drawCounter(t) {
    var c = t.c, n = c.t.length;
    ctx.fillStyle = "#fcfcfd";
    ctx.fillRect(LABEL_W, t.y, W - LABEL_W, t.h);
    if (n === 0) return;
    var lo = 0, hi = n;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (c.t[mid] < v0) lo = mid + 1; else hi = mid; }
    var from = Math.max(0, lo - 1), range = (t.max - t.min) || 1;
    ctx.save();
    ctx.beginPath(); ctx.rect(LABEL_W, t.y, W - LABEL_W, t.h); ctx.clip();
    ctx.strokeStyle = "#7c3aed";
    ctx.lineWidth = 1.2;
    ctx.beginPath();
    for (var i = from; i < n; i++) {
      var x = X(c.t[i]), yy = t.y + t.h - 2 - ((c.v[i] - t.min) / range) * (t.h - 4);
      if (i === from) ctx.moveTo(x, yy); else ctx.lineTo(x, yy);
      if (c.t[i] > v1) break;
    }
    ctx.stroke();
    ctx.restore();
  }

  function label(t) {
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, t.y, LABEL_W, t.h);
    ctx.fillStyle = "#1d2330";
    ctx.font = "600 12px system-ui, sans-serif";
    ctx.textBaseline = "top";
    var main = "", sub = "";
    if (t.type === "lane") { main = t.ln.L.label; sub = t.ln.L.sub; }
    else if (t.type === "idle") { main = t.g.label + " idle"; sub = t.g.total + " gaps"; }
    else if (t.type === "util") { main = t.u.label + " utilization"; sub = "busy share, computed"; }
    else { main = t.c.track + " · " + t.c.key; sub = "max " + (Math.round(t.max * 100) / 100); }
    var maxc = Math.floor((LABEL_W - 12) / 6.8);
    ctx.fillText(main.length > maxc ? main.slice(0, maxc - 1) + "…" : main, 8, t.y + 2);
    if (t.h >= 26 && sub) {
      ctx.fillStyle = "#5b6577";
      ctx.font = "11px system-ui, sans-serif";
      var maxs = Math.floor((LABEL_W - 12) / 6);
      ctx.fillText(sub.length > maxs ? sub.slice(0, maxs - 1) + "…" : sub, 8, t.y + 16);
    }
    ctx.strokeStyle = "#e6e9ef";
    ctx.beginPath(); ctx.moveTo(0, t.y + t.h + GAP / 2 + 0.5); ctx.lineTo(W, t.y + t.h + GAP / 2 + 0.5); ctx.stroke();
  }

  var drawCount = 0;
  function draw() {
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, totalH);
    drawAxis();
    tracks.forEach(function (t) {
      if (t.type === "lane") drawLane(t);
      else if (t.type === "idle") {
        ctx.fillStyle = "#f8fafc";
        ctx.fillRect(LABEL_W, t.y, W - LABEL_W, t.h);
        drawGaps(t.g, t.y + 2, t.h - 4, "rgba(226,85,85,0.85)");
      } else if (t.type === "util") drawUtil(t);
      else drawCounter(t);
    });
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, LABEL_W, AXIS_H);
    tracks.forEach(label);
    ctx.strokeStyle = "#cfd5df";
    ctx.beginPath(); ctx.moveTo(LABEL_W - 0.5, 0); ctx.lineTo(LABEL_W - 0.5, totalH); ctx.stroke();
    rangeEl.textContent = fmtTime(v0, (v1 - v0) / 100) + " – " + fmtTime(v1, (v1 - v0) / 100) + " (" + fmtDur(v1 - v0) + " shown)";
    drawCount++;
    var gpuDrawn = 0;
    lanes.forEach(function (ln) { if (ln.L.kind === "gpu" && ln.drawn > 0) gpuDrawn++; });
    root.setAttribute("data-drawn-gpu-lanes", String(gpuDrawn));
    root.setAttribute("data-draws", String(drawCount));
  }

  var pending = false;
  function redraw() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; draw(); });
  }

  function setView(a, b) {
    var minSpan = Math.min(span, 200);
    if (b - a < minSpan) { var c = (a + b) / 2; a = c - minSpan / 2; b = c + minSpan / 2; }
    if (b - a > span) { a = 0; b = span; }
    if (a < 0) { b -= a; a = 0; }
    if (b > span) { a -= b - span; b = span; }
    v0 = Math.max(0, a); v1 = Math.min(span, b);
    redraw();
  }
  function zoom(factor, atX) {
    var t = atX === undefined ? (v0 + v1) / 2 : T(atX);
    setView(t - (t - v0) * factor, t + (v1 - t) * factor);
  }

  // ---- hit testing and tooltip
  function hit(x, y) {
    if (x < LABEL_W) return null;
    for (var ti = 0; ti < tracks.length; ti++) {
      var t = tracks[ti];
      if (y < t.y || y >= t.y + t.h) continue;
      var tm = T(x), tol = 2 / scale();
      if (t.type === "lane") {
        var ln = t.ln, r = Math.floor((y - t.y - 2) / t.rowH);
        if (r < 0 || r >= ln.rows) return null;
        var idx = ln.rowIdx[r], pm = ln.rowPm[r], lo = 0, hi = idx.length;
        while (lo < hi) { var mid = (lo + hi) >> 1; if (pm[mid] < tm - tol) lo = mid + 1; else hi = mid; }
        var best = -1, bestD = Infinity;
        for (var k = lo, n = 0; k < idx.length && n < 5000; k++, n++) {
          var i = idx[k];
          if (ln.st[i] > tm + tol) break;
          var d = tm < ln.st[i] ? ln.st[i] - tm : tm > ln.en[i] ? tm - ln.en[i] : 0;
          if (d <= tol && (d < bestD || (d === bestD && ln.en[i] - ln.st[i] < ln.en[best] - ln.st[best]))) { best = i; bestD = d; }
        }
        if (best < 0) return null;
        var L = ln.L;
        return { kind: "event", name: data.names[L.n[best]], cat: data.cats[L.c[best]], start: ln.st[best], end: ln.en[best],
          detail: L.x ? data.names[L.x[best]] : "", lane: L.label };
      }
      if (t.type === "idle") {
        var g = t.g.gaps;
        for (var j = 0; j < g.length; j += 2) {
          if (g[j] - tol <= tm && tm <= g[j] + g[j + 1] + tol) return { kind: "gap", start: g[j], end: g[j] + g[j + 1], lane: t.g.label };
          if (g[j] > tm + tol) break;
        }
        return null;
      }
      if (t.type === "util") {
        var b = Math.floor(tm / (span / t.u.v.length));
        if (b < 0 || b >= t.u.v.length) return null;
        return { kind: "util", value: t.u.v[b] / 10, lane: t.u.label, start: tm };
      }
      if (t.type === "counter") {
        var c = t.c, lo2 = 0, hi2 = c.t.length;
        while (lo2 < hi2) { var m2 = (lo2 + hi2) >> 1; if (c.t[m2] < tm) lo2 = m2 + 1; else hi2 = m2; }
        var q = Math.min(c.t.length - 1, lo2);
        if (q < 0) return null;
        return { kind: "counter", value: c.v[q], lane: c.track + " · " + c.key, start: c.t[q] };
      }
    }
    return null;
  }

  function line(cls, text) {
    var d = document.createElement("div");
    d.className = cls;
    d.textContent = text;
    return d;
  }
  function showTip(h, x, y) {
    if (!h) { tip.style.display = "none"; return; }
    tip.textContent = "";
    if (h.kind === "event") {
      tip.appendChild(line("tn", h.name));
      tip.appendChild(line("td", (CAT_LABEL[h.cat] || h.cat) + " · " + fmtDur(h.end - h.start) + " · at " + fmtDur(h.start)));
      if (h.detail) tip.appendChild(line("td", h.detail));
      tip.appendChild(line("td", h.lane));
    } else if (h.kind === "gap") {
      tip.appendChild(line("tn", h.lane + " idle"));
      tip.appendChild(line("td", fmtDur(h.end - h.start) + " · at " + fmtDur(h.start)));
    } else if (h.kind === "util") {
      tip.appendChild(line("tn", h.lane + ": " + h.value.toFixed(1) + " % busy"));
      tip.appendChild(line("td", "at " + fmtDur(h.start)));
    } else {
      tip.appendChild(line("tn", h.lane + ": " + h.value));
      tip.appendChild(line("td", "at " + fmtDur(h.start)));
    }
    tip.style.display = "block";
    var tw = tip.offsetWidth, left = x + 14;
    if (left + tw > W) left = Math.max(0, x - tw - 14);
    tip.style.left = left + "px";
    tip.style.top = (y + 14) + "px";
  }

  // ---- input
  var drag = null;
  function pos(e) {
    var r = canvas.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }
  canvas.addEventListener("wheel", function (e) {
    var p = pos(e);
    if (p.x < LABEL_W) return;
    e.preventDefault();
    if (Math.abs(e.deltaX) > Math.abs(e.deltaY) || e.shiftKey) {
      var d = (e.shiftKey ? e.deltaY : e.deltaX) / (W - LABEL_W) * (v1 - v0);
      setView(v0 + d, v1 + d);
    } else zoom(Math.exp(e.deltaY * 0.0015), p.x);
  }, { passive: false });
  canvas.addEventListener("mousedown", function (e) {
    var p = pos(e);
    drag = { x: p.x, v0: v0, v1: v1, moved: false };
    canvas.classList.add("dragging");
  });
  window.addEventListener("mousemove", function (e) {
    var p = pos(e);
    if (drag) {
      var dx = p.x - drag.x;
      if (Math.abs(dx) > 3) drag.moved = true;
      if (drag.moved) {
        var d = -dx / (W - LABEL_W) * (drag.v1 - drag.v0);
        setView(drag.v0 + d, drag.v1 + d);
      }
      showTip(null);
      return;
    }
    if (e.target === canvas) showTip(hit(p.x, p.y), p.x, p.y); else showTip(null);
  });
  window.addEventListener("mouseup", function (e) {
    if (!drag) return;
    var wasClick = !drag.moved;
    drag = null;
    canvas.classList.remove("dragging");
    if (wasClick && e.target === canvas) {
      var p = pos(e), h = hit(p.x, p.y);
      if (h && h.end !== undefined && h.end > h.start) {
        var pad = (h.end - h.start) * 0.15;
        setView(h.start - pad, h.end + pad);
      }
    }
  });
  canvas.addEventListener("mouseleave", function () { showTip(null); });
  canvas.addEventListener("dblclick", function () { setView(0, span); });
  canvas.tabIndex = 0;
  canvas.addEventListener("keydown", function (e) {
    var k = e.key, w = v1 - v0;
    if (k === "+" || k === "=" || k === "w") zoom(0.7);
    else if (k === "-" || k === "s") zoom(1 / 0.7);
    else if (k === "a" || k === "ArrowLeft") setView(v0 - w * 0.2, v1 - w * 0.2);
    else if (k === "d" || k === "ArrowRight") setView(v0 + w * 0.2, v1 + w * 0.2);
    else if (k === "0") setView(0, span);
    else return;
    e.preventDefault();
  });
  root.querySelector(".tl-bar").addEventListener("click", function (e) {
    var act = e.target && e.target.getAttribute && e.target.getAttribute("data-act");
    if (act === "in") zoom(0.5);
    else if (act === "out") zoom(2);
    else if (act === "reset") setView(0, span);
  });
  window.addEventListener("resize", function () { resize(); redraw(); });

  resize();
  draw();
  // For tests and for the curious: the layout of the drawn tracks.
  window.__inferscopeTimeline = {
    ready: performance.now(),
    tracks: tracks.map(function (t) {
      return { type: t.type, kind: t.type === "lane" ? t.ln.L.kind : t.type, label: t.type === "lane" ? t.ln.L.label : "", y: t.y, h: t.h };
    }),
    view: function () { return [v0, v1]; },
    setView: setView,
    /** The first kept event with this exact name: its time span and where its row is drawn. */
    find: function (name) {
      for (var ti = 0; ti < tracks.length; ti++) {
        var t = tracks[ti];
        if (t.type !== "lane") continue;
        var L = t.ln.L;
        for (var i = 0; i < L.n.length; i++) {
          if (data.names[L.n[i]] === name) {
            var r = L.r ? Math.min(L.r[i], t.ln.rows - 1) : 0;
            return { start: t.ln.st[i], end: t.ln.en[i], y: t.y + 2 + r * t.rowH + t.rowH / 2, kind: L.kind };
          }
        }
      }
      return null;
    },
    x: function (t) { return X(t); },
  };
  root.setAttribute("data-ready", "1");
})();
