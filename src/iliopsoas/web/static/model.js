// Model page: the model in 3-D (bone meshes, segments, muscle paths), joint sliders with anatomical labels,
// and a live plot of one quantity (moment arm, length, fibre length, passive or active force) of the selected
// muscle with published curves where we have them; CSV and PNG downloads; another .osim from disk.
// Plot axes: x = right, y = forward, z = up (OpenSim z, x, y).
"use strict";
(function () {
  const { api, el, show, fail, coalesced } = window.ilio;
  let info = null;
  let lastCurves = null;
  const QUANTITY_LABELS = { moment_arm: "Moment arm", length: "Muscle-tendon length", fiber_length: "Fibre length",
    passive_force: "Passive force", active_force: "Active force" };
  const COLORS = { psoas_major: "#c0392b", psoas_minor: "#e67e22", iliacus: "#8e44ad", psoas: "#c0392b" };
  const BAND_COLORS = { BLEMKER2005: "rgba(41,128,185,0.18)", ARNOLD2000: "#2e86c1", DOSTAL1986: "#117a65", NEMETH1985: "#7d6608" };
  const EYE_MIN = 0.5, EYE_MAX = 3.2; // bounds of the camera distance (zoom), in scene units
  const P = (v) => [v[2], v[0], v[1]];
  const byId = (id) => document.getElementById(id);

  function colorOf(group) { return COLORS[group.replace(/_[rl]$/, "")] || "#7f8c8d"; }
  function groupInfo(name) { return info.muscles.find((g) => g.name === name) || { label: name, fascicle_labels: [] }; }
  function coordLabel(name) { const c = info.coordinates.find((x) => x.name === name); return c ? c.label || name : name; }

  // A slider's grid passes through its default, so the value shown is the value sent (no 0.0° that is really -0.2°).
  function grid(c) {
    const step = c.max_deg - c.min_deg <= 30 ? 0.1 : 0.5;
    const min = c.default_deg - step * Math.floor((c.default_deg - c.min_deg) / step + 1e-9);
    const max = c.default_deg + step * Math.floor((c.max_deg - c.default_deg) / step + 1e-9);
    return { step, min: Number(min.toFixed(4)), max: Number(max.toFixed(4)) };
  }

  function pose() {
    const out = {};
    for (const c of info.coordinates) out[c.name] = Number(byId("slider-" + c.name).value);
    return out;
  }

  function lines(polylines) {
    const x = [], y = [], z = [];
    for (const pts of polylines) {
      for (const v of pts) { const p = P(v); x.push(p[0]); y.push(p[1]); z.push(p[2]); }
      x.push(null); y.push(null); z.push(null);
    }
    return { x, y, z };
  }

  function sceneTraces(res) {
    const traces = [];
    const labels = Object.fromEntries((info.bone_meshes || []).map((m) => [m.body, m.label]));
    for (const m of res.meshes) {
      const v = m.vertices.map(P);
      traces.push({ type: "mesh3d", name: labels[m.body] || m.body, x: v.map((p) => p[0]), y: v.map((p) => p[1]), z: v.map((p) => p[2]),
        i: m.faces.map((f) => f[0]), j: m.faces.map((f) => f[1]), k: m.faces.map((f) => f[2]),
        color: "#e9dcc3", opacity: 1, flatshading: true, lighting: { ambient: 0.55, diffuse: 0.7, specular: 0.05 },
        hoverinfo: "name", showlegend: false });
    }
    const meshBodies = new Set(res.meshes.map((m) => m.body));
    const sticks = res.segments.filter((s) => !meshBodies.has(s.body));
    traces.push(Object.assign({ type: "scatter3d", mode: "lines", name: "bones", line: { color: "#8a7f6a", width: 7 },
      hoverinfo: "skip", showlegend: false }, lines(sticks.map((s) => [s.from, s.to]))));
    const origins = Object.entries(res.origins);
    traces.push({ type: "scatter3d", mode: "markers", name: "joints", x: origins.map((o) => P(o[1])[0]),
      y: origins.map((o) => P(o[1])[1]), z: origins.map((o) => P(o[1])[2]), text: origins.map((o) => o[0]),
      hoverinfo: "text", marker: { size: 2.5, color: "#2c3e50" }, showlegend: false });
    const byGroup = new Map();
    for (const m of res.muscles) { if (!byGroup.has(m.group)) byGroup.set(m.group, []); byGroup.get(m.group).push(m.points); }
    const selected = byId("muscle").value;
    for (const [g, paths] of byGroup) {
      const sel = g === selected;
      traces.push(Object.assign({ type: "scatter3d", mode: "lines", name: groupInfo(g).label, hoverinfo: "name",
        line: { color: sel ? colorOf(g) === "#7f8c8d" ? "#d35400" : colorOf(g) : colorOf(g), width: sel ? 7 : 3 },
        opacity: sel ? 1 : 0.35, showlegend: sel || colorOf(g) !== "#7f8c8d" }, lines(paths)));
    }
    return traces;
  }

  // Axes fixed to the model's own extent (with a margin), so the camera frames the whole figure.
  function sceneLayout() {
    const [lo, hi] = info.bounds_m.length ? info.bounds_m : [[-0.3, -0.9, -0.3], [0.3, 0.5, 0.3]];
    const pad = 0.12;
    const span = [0, 1, 2].map((k) => hi[k] - lo[k] + 2 * pad);
    const big = Math.max(...span);
    const range = (k) => [lo[k] - pad, hi[k] + pad];
    // plot axes (x, y, z) = model (z, x, y)
    return {
      margin: { l: 0, r: 0, t: 0, b: 0 }, uirevision: info.name, legend: { x: 0, y: 1, bgcolor: "rgba(255,255,255,0.7)" },
      scene: { aspectmode: "manual", aspectratio: { x: span[2] / big, y: span[0] / big, z: span[1] / big },
        uirevision: info.name, camera: { eye: { x: 0.95, y: 1.25, z: 0.2 }, center: { x: 0, y: 0, z: 0 } },
        xaxis: { title: { text: "right (m)" }, range: range(2) }, yaxis: { title: { text: "forward (m)" }, range: range(0) },
        zaxis: { title: { text: "up (m)" }, range: range(1) } },
    };
  }

  function boundZoom(ev) {
    const cam = ev && (ev["scene.camera"] || null);
    if (!cam || !cam.eye) return;
    const e = cam.eye, r = Math.hypot(e.x, e.y, e.z);
    if (r >= EYE_MIN && r <= EYE_MAX) return;
    const s = Math.min(EYE_MAX, Math.max(EYE_MIN, r)) / r;
    Plotly.relayout("scene", { "scene.camera.eye": { x: e.x * s, y: e.y * s, z: e.z * s } });
  }

  function quantity() { const r = document.querySelector("input[name=quantity]:checked"); return r ? r.value : "moment_arm"; }

  function curveTraces(r) {
    const many = r.fascicles.length > 4;
    const traces = r.fascicles.map((f, k) => ({ type: "scatter", mode: "lines", name: r.fascicle_labels[k], x: r.sweep_deg,
      y: r.values.map((row) => row[k]), line: { width: 1 }, opacity: 0.55, showlegend: !many,
      hovertemplate: "%{y:.2f} " + r.unit + "<extra>" + r.fascicle_labels[k] + "</extra>" }));
    const agg = r.aggregate === "sum" ? "total of the fascicles" : "mean of the fascicles";
    if (r.fascicles.length > 1) {
      traces.push({ type: "scatter", mode: "lines", name: agg, x: r.sweep_deg, y: r.aggregate_values,
        line: { width: 3.5, color: "#c0392b" } });
    }
    for (const b of bandTraces(r)) traces.push(b);
    traces.push({ type: "scatter", mode: "markers", name: "current pose", x: [r.current_deg], y: [r.current_aggregate],
      marker: { size: 12, color: "#111", symbol: "diamond" } });
    return traces;
  }

  // Blemker & Delp 2005 give a band (upper and lower bound): drawn filled; the others are single curves.
  function bandTraces(r) {
    const out = [];
    const bySource = new Map();
    for (const b of r.bands) { if (!bySource.has(b.source)) bySource.set(b.source, []); bySource.get(b.source).push(b); }
    for (const [src, list] of bySource) {
      const up = list.find((b) => b.series === "upper"), low = list.find((b) => b.series === "lower");
      if (up && low) {
        out.push({ type: "scatter", mode: "lines", name: src + " (band)", x: up.angle_deg.concat(low.angle_deg.slice().reverse()),
          y: up.value.concat(low.value.slice().reverse()), fill: "toself", fillcolor: BAND_COLORS[src] || "rgba(0,0,0,0.1)",
          line: { width: 0.5, color: "#2980b9" }, hoverinfo: "name" });
      }
      for (const b of list.filter((x) => x !== up && x !== low)) {
        out.push({ type: "scatter", mode: "lines", name: src + " " + b.series, x: b.angle_deg, y: b.value,
          line: { width: 2, dash: "dot", color: BAND_COLORS[src] || "#555" }, hoverinfo: "name+y" });
      }
    }
    return out;
  }

  function bandSources(r) {
    if (!r.bands.length) return r.quantity === "moment_arm" ? el("p", { class: "muted" }, "No published curve for this muscle and joint in our table.") : null;
    const seen = new Map();
    for (const b of r.bands) seen.set(b.source, b.citation);
    return [el("p", { class: "muted" }, "Published curves (right hip, digitised by Modenese & Kohout 2020, Apache-2.0):"),
      el("ul", { id: "band-list" }, [...seen].map(([k, c]) => el("li", {}, el("strong", {}, k), " — ", c)))];
  }

  async function redraw() {
    const coords = pose();
    const muscle = byId("muscle").value;
    const about = byId("ma-coord").value;
    const sweep = byId("sweep-coord").value;
    const q = quantity();
    const all = byId("all-muscles").checked;
    byId("activation-row").hidden = q !== "active_force";
    byId("method-row").hidden = q !== "moment_arm";
    try {
      const [scene, r] = await Promise.all([
        api("/api/model/pose", { coordinates: coords, muscles: all ? null : [muscle] }),
        api("/api/model/curves", { muscle, quantity: q, coordinate: about, sweep, coordinates: coords, points: 41,
          exact: byId("ma-exact").checked, activation: Number(byId("activation").value) }),
      ]);
      lastCurves = r;
      Plotly.react("scene", sceneTraces(scene), sceneLayout());
      const title = QUANTITY_LABELS[q] + " of " + r.muscle_label + (q === "moment_arm" ? " about " + r.coordinate_label.toLowerCase() : "");
      Plotly.react("ma-plot", curveTraces(r), {
        margin: { l: 60, r: 10, t: 40, b: 50 }, uirevision: muscle + about + sweep + q,
        title: { text: title, font: { size: 14 } }, legend: { orientation: "h", y: -0.25 },
        xaxis: { title: { text: r.sweep_label + " (deg)" } }, yaxis: { title: { text: QUANTITY_LABELS[q] + " (" + r.unit + ")" }, zeroline: true },
      }, { displaylogo: false, responsive: true });
      const v = r.current_aggregate === null ? "–" : r.current_aggregate.toFixed(2) + " " + r.unit;
      show("ma-readout", "At " + r.sweep_label.toLowerCase() + " = " + r.current_deg.toFixed(1) + "°, the " +
        (r.aggregate === "sum" ? "total" : "mean") + " over " + r.fascicles.length + " fascicle(s) is ",
        el("strong", { id: "ma-value" }, v), " (" + r.method + ").",
        q === "moment_arm" ? " OpenSim sign convention: positive turns the joint in the coordinate's positive direction." : "");
      show("band-sources", bandSources(r));
      document.body.dataset.updated = String(Date.now());
    } catch (err) { fail("ma-readout", err); }
  }

  const { run: update, schedule } = coalesced(redraw, 60);

  function sliders() {
    return info.coordinates.map((c) => {
      const id = "slider-" + c.name;
      const g = grid(c);
      const out = el("output", { id: id + "-value", for: id }, "");
      const input = el("input", { type: "range", id, min: g.min, max: g.max, step: g.step, value: c.default_deg,
        "aria-label": c.label || c.name, oninput: (ev) => { out.textContent = Number(ev.target.value).toFixed(1) + "°"; schedule(); } });
      out.textContent = Number(input.value).toFixed(1) + "°";
      return el("div", { class: "slider" }, el("label", { for: id }, el("span", {}, c.label || c.name), out), input);
    });
  }

  function csvText(r) {
    const esc = (s) => '"' + String(s).replace(/"/g, '""') + '"';
    const head = [r.sweep_label + " (deg)"].concat(r.fascicle_labels.map((l) => l + " (" + r.unit + ")"),
      [(r.aggregate === "sum" ? "total" : "mean") + " (" + r.unit + ")"]);
    const rows = [
      "# " + QUANTITY_LABELS[r.quantity] + " of " + r.muscle_label + "; " + r.method + "; model " + info.name,
      head.map(esc).join(","),
    ];
    r.sweep_deg.forEach((x, i) => rows.push([x].concat(r.values[i], [r.aggregate_values[i]]).map((v) => v === null ? "" : v).join(",")));
    for (const b of r.bands) {
      rows.push("# published: " + b.source + " " + b.series + " — " + b.citation);
      b.angle_deg.forEach((x, i) => rows.push(["", b.source, b.series, x, b.value[i]].join(",")));
    }
    return rows.join("\n") + "\n";
  }

  function download(name, blob) {
    const a = el("a", { href: URL.createObjectURL(blob), download: name });
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }

  function fillControls() {
    show("model-name", "Model: ", el("strong", {}, info.name), " · " + info.muscles.length + " muscles · " +
      (info.meshes ? info.meshes + " bone meshes (" + info.mesh_source + ")" : info.mesh_source));
    show("muscle", info.muscles.map((g) => el("option", { value: g.name, selected: g.name === info.default_muscle },
      (g.label || g.name) + (g.fascicles.length > 1 ? " · " + g.fascicles.length + " fascicles" : ""))));
    const opts = (sel) => info.coordinates.map((c) => el("option", { value: c.name, selected: c.name === sel }, c.label || c.name));
    show("ma-coord", opts(info.default_coordinate));
    show("sweep-coord", opts(info.default_coordinate));
    show("sliders", sliders());
    show("quantities", info.quantities.map((qn, k) => el("label", { class: "radio" },
      el("input", { type: "radio", name: "quantity", value: qn, checked: k === 0, onchange: schedule }), " " + QUANTITY_LABELS[qn])));
    byId("osim-reset").hidden = !info.loaded_file;
  }

  async function loadOsim(file) {
    const status = byId("osim-status");
    if (!file) return;
    if (file.size > 10_000_000) { fail(status, new Error(file.name + ": " + file.size + " bytes is more than the 10 MB allowed")); return; }
    show(status, "Loading " + file.name + "…");
    try {
      info = await api("/api/model/osim", { filename: file.name, text: await file.text() });
      fillControls();
      show(status, "Showing " + file.name + ".");
      update();
    } catch (err) { fail(status, err); }
  }

  document.addEventListener("DOMContentLoaded", async () => {
    try {
      info = await api("/api/model");
    } catch (err) { fail("model-name", err); return; }
    fillControls();
    show("scene-note", "Drag to turn, scroll to zoom (limited so the model stays in view). Bones: " + info.mesh_source + ".");
    for (const id of ["muscle", "ma-coord", "sweep-coord", "all-muscles", "ma-exact"]) byId(id).addEventListener("change", schedule);
    byId("activation").addEventListener("input", (ev) => { byId("activation-value").textContent = Number(ev.target.value).toFixed(2); schedule(); });
    byId("reset").addEventListener("click", () => {
      for (const c of info.coordinates) {
        const s = byId("slider-" + c.name);
        s.value = c.default_deg;
        byId("slider-" + c.name + "-value").textContent = Number(s.value).toFixed(1) + "°";
      }
      schedule();
    });
    byId("download-csv").addEventListener("click", () => {
      if (lastCurves) download(lastCurves.muscle + "-" + lastCurves.quantity + ".csv", new Blob([csvText(lastCurves)], { type: "text/csv" }));
    });
    byId("download-png").addEventListener("click", () => {
      if (lastCurves) Plotly.downloadImage("ma-plot", { format: "png", width: 1000, height: 600, filename: lastCurves.muscle + "-" + lastCurves.quantity });
    });
    byId("osim-file").addEventListener("change", (ev) => loadOsim(ev.target.files[0]));
    byId("osim-reset").addEventListener("click", async () => {
      try { info = await api("/api/model/osim", undefined, "DELETE"); fillControls(); show("osim-status", "Back to our model."); update(); }
      catch (err) { fail("osim-status", err); }
    });
    update().then(() => { byId("scene").on("plotly_relayout", boundZoom); });
  });
})();
