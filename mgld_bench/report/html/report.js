// mgld-bench report: sortable tables, frame viewer with a before/after divider, zoom, profiles.
// Every name shown comes from the data block and is set with textContent (never parsed as HTML).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);

  function num(text) {
    if (text === "" || text === null || text === undefined) return NaN;
    return parseFloat(text);
  }

  // -- results tables: click a header to sort, toggle means / per clip -------------------------
  function sortTable(th) {
    var table = th.closest("table");
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var asText = th.hasAttribute("data-text");
    var higherBetter = th.getAttribute("data-hib") === "1";
    var current = th.getAttribute("aria-sort");
    // first click on a metric puts the best value on top
    var dir = current ? (current === "ascending" ? -1 : 1) : (asText ? 1 : (higherBetter ? -1 : 1));
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.forEach(function (row, i) { if (!row.hasAttribute("data-i")) row.setAttribute("data-i", i); });
    rows.sort(function (r1, r2) {
      var a = r1.cells[index].getAttribute("data-v"), b = r2.cells[index].getAttribute("data-v");
      var c;
      if (asText) { c = a.localeCompare(b) * dir; }
      else {
        var x = num(a), y = num(b);
        if (isNaN(x) && isNaN(y)) c = 0;
        else if (isNaN(x)) c = 1;  // missing values always last
        else if (isNaN(y)) c = -1;
        else c = (x < y ? -1 : x > y ? 1 : 0) * dir;
      }
      return c || (r1.getAttribute("data-i") - r2.getAttribute("data-i"));
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(th.parentNode.children, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
  }
  document.querySelectorAll("table.sortable thead th").forEach(function (th) {
    th.addEventListener("click", function () { sortTable(th); });
    th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortTable(th); } });
  });
  document.querySelectorAll(".toggle button").forEach(function (button) {
    button.addEventListener("click", function () {
      var view = button.getAttribute("data-view");
      document.querySelectorAll(".toggle button").forEach(function (b) { b.setAttribute("aria-pressed", String(b === button)); });
      document.querySelectorAll("#results .view").forEach(function (v) { v.hidden = v.getAttribute("data-view") !== view; });
    });
  });

  // -- per-clip viewers -------------------------------------------------------------------------
  function fmt(v, decimals) {
    if (v === null || v === undefined) return "—";
    if (v === "inf") return "inf";
    if (v === "-inf") return "-inf";
    return Number(v).toFixed(decimals);
  }
  function value(v) { return v === "inf" ? Infinity : v === "-inf" ? -Infinity : v; }

  var active = null;  // the clip the arrow keys move

  function Viewer(section, clip) {
    var self = this;
    this.section = section;
    this.clip = clip;
    this.frame = 0;
    this.region = 0;
    this.row = 0;
    this.a = clip.a;
    this.b = clip.b;
    this.split = 50;
    this.slider = section.querySelector("input.frame");
    this.label = section.querySelector(".frame-label");
    this.imgA = section.querySelector(".img-a");
    this.imgB = section.querySelector(".img-b");
    this.divider = section.querySelector(".divider");
    this.viewer = section.querySelector(".viewer");
    this.crops = section.querySelectorAll(".crops img");
    this.profiles = section.querySelectorAll(".profiles img");
    this.cursors = section.querySelectorAll("svg.curve .cursor");
    this.metricsBody = section.querySelector(".frame-metrics tbody");
    var selA = section.querySelector(".sel-a"), selB = section.querySelector(".sel-b");
    selA.addEventListener("change", function () { self.a = +selA.value; self.show(); });
    selB.addEventListener("change", function () { self.b = +selB.value; self.show(); });
    this.slider.addEventListener("input", function () { self.setFrame(+self.slider.value); });
    section.addEventListener("pointerover", function () { active = self; });
    section.addEventListener("pointerdown", function () { active = self; });
    section.addEventListener("focusin", function () { active = self; });
    var dragging = false;
    function move(e) {
      var box = self.viewer.getBoundingClientRect();
      self.setSplit(100 * (e.clientX - box.left) / box.width);
    }
    this.viewer.addEventListener("pointerdown", function (e) {
      if (e.target.classList.contains("region")) return;
      e.preventDefault();  // no focus on the divider: the arrow keys keep changing frames
      dragging = true;
      if (self.viewer.setPointerCapture) self.viewer.setPointerCapture(e.pointerId);
      move(e);
    });
    this.viewer.addEventListener("pointermove", function (e) { if (dragging) move(e); });
    this.viewer.addEventListener("pointerup", function () { dragging = false; });
    this.viewer.addEventListener("pointercancel", function () { dragging = false; });
    this.divider.addEventListener("keydown", function (e) {
      if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
        e.preventDefault();
        e.stopPropagation();
        self.setSplit(self.split + (e.key === "ArrowLeft" ? -5 : 5));
      }
    });
    section.querySelectorAll(".region, .regions button").forEach(function (button) {
      button.addEventListener("click", function () { self.setRegion(+button.getAttribute("data-r")); });
    });
    section.querySelectorAll(".rows button").forEach(function (button) {
      button.addEventListener("click", function () { self.setRow(+button.getAttribute("data-row")); });
    });
    var scale = section.querySelector(".zoom-scale");
    if (scale) scale.addEventListener("change", function () {
      section.querySelector(".crops").style.setProperty("--zoom", scale.value);
    });
    var cropsBox = section.querySelector(".crops");
    if (cropsBox && clip.regions.length) cropsBox.style.setProperty("--crop-w", clip.regions[0][2] + "px");
    this.show();
  }
  Viewer.prototype.setSplit = function (pct) {
    this.split = Math.max(0, Math.min(100, pct));
    this.imgB.style.clipPath = "inset(0 0 0 " + this.split.toFixed(2) + "%)";
    this.divider.style.left = this.split.toFixed(2) + "%";
    this.divider.setAttribute("aria-valuenow", Math.round(this.split));
  };
  Viewer.prototype.setFrame = function (i) {
    var last = this.clip.frames.length - 1;
    this.frame = Math.max(0, Math.min(last, i));
    this.slider.value = this.frame;
    this.show();
  };
  Viewer.prototype.setRegion = function (r) { this.region = r; this.show(); };
  Viewer.prototype.setRow = function (r) { this.row = r; this.show(); };
  Viewer.prototype.show = function () {
    var clip = this.clip, f = this.frame, sources = clip.sources, self = this;
    this.imgA.src = sources[this.a].previews[f];
    this.imgB.src = sources[this.b].previews[f];
    this.section.querySelector(".tag-a").textContent = sources[this.a].label;
    this.section.querySelector(".tag-b").textContent = sources[this.b].label;
    this.label.textContent = "frame " + clip.frames[f] + " (" + (f + 1) + " of " + clip.frames.length +
      " shown, " + clip.n + " in the clip)";
    this.crops.forEach(function (img, s) {
      if (sources[s].crops[f] && sources[s].crops[f][self.region]) img.src = sources[s].crops[f][self.region];
    });
    this.profiles.forEach(function (img, s) { img.src = sources[s].profiles[self.row]; });
    this.section.querySelectorAll(".region").forEach(function (b) {
      b.classList.toggle("active", +b.getAttribute("data-r") === self.region);
    });
    this.section.querySelectorAll(".regions button").forEach(function (b) {
      b.setAttribute("aria-pressed", String(+b.getAttribute("data-r") === self.region));
    });
    this.section.querySelectorAll(".rows button").forEach(function (b) {
      b.setAttribute("aria-pressed", String(+b.getAttribute("data-row") === self.row));
    });
    this.cursors.forEach(function (line) {
      var svg = line.ownerSVGElement;
      var left = +svg.getAttribute("data-left"), right = +svg.getAttribute("data-right");
      var n = Math.max(+svg.getAttribute("data-frames") - 1, 1);
      var x = left + (right - left) * clip.frames[f] / n;
      line.setAttribute("x1", x);
      line.setAttribute("x2", x);
    });
    this.fillMetrics();
  };
  Viewer.prototype.fillMetrics = function () {
    var clip = this.clip, f = this.frame, body = this.metricsBody;
    while (body.firstChild) body.removeChild(body.firstChild);
    var head = document.createElement("tr");
    head.appendChild(document.createElement("th"));
    clip.metrics.forEach(function (m) {
      var th = document.createElement("th");
      th.textContent = m.label;
      head.appendChild(th);
    });
    body.appendChild(head);
    var keys = Object.keys(clip.values).sort(function (x, y) { return x - y; });
    var best = clip.metrics.map(function (m, j) {
      var vals = keys.map(function (k) { return value(clip.values[k][f][j]); }).filter(function (v) { return v !== null; });
      if (vals.length < 2) return null;
      return m.hib ? Math.max.apply(null, vals) : Math.min.apply(null, vals);
    });
    keys.forEach(function (k) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.scope = "row";
      th.textContent = clip.sources[+k].label;
      tr.appendChild(th);
      clip.metrics.forEach(function (m, j) {
        var td = document.createElement("td");
        var v = clip.values[k][f][j];
        td.textContent = fmt(v, m.decimals);
        if (best[j] !== null && v !== null && value(v) === best[j]) td.style.fontWeight = "700";
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  };

  var viewers = [];
  data.clips.forEach(function (clip, index) {
    if (!clip.viewer) return;
    var section = document.querySelector('section.clip[data-clip="' + index + '"]');
    clip.n = clip.nFrames;
    viewers.push(new Viewer(section, clip));
  });
  active = viewers[0] || null;
  document.addEventListener("keydown", function (e) {
    if (!active || e.altKey || e.ctrlKey || e.metaKey) return;
    var tag = (e.target && e.target.tagName) || "";
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") return;
    if (e.key === "ArrowRight") { active.setFrame(active.frame + 1); e.preventDefault(); }
    else if (e.key === "ArrowLeft") { active.setFrame(active.frame - 1); e.preventDefault(); }
  });
  window.mgldReport = { viewers: viewers };
})();
