// Model page: the model in 3-D (bones as segments or meshes, muscles as paths), joint sliders and a
// live moment-arm plot for the selected muscle. Plot axes: x = right, y = forward, z = up (OpenSim z, x, y).
"use strict";
(function () {
  const { api, el, show, fail, coalesced } = window.ilio;
  let info = null;

  const COLORS = { psoas_major: "#c0392b", psoas_minor: "#e67e22", iliacus: "#8e44ad", psoas: "#c0392b" };
  function colorOf(group) {
    const base = group.replace(/_[rl]$/, "");
    return COLORS[base] || "#7f8c8d";
  }
  const P = (v) => [v[2], v[0], v[1]];

  function pose() {
    const out = {};
    for (const c of info.coordinates) out[c.name] = Number(document.getElementById("slider-" + c.name).value);
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
    for (const m of res.meshes) {
      const v = m.vertices.map(P);
      traces.push({ type: "mesh3d", name: m.body, x: v.map((p) => p[0]), y: v.map((p) => p[1]), z: v.map((p) => p[2]),
        i: m.faces.map((f) => f[0]), j: m.faces.map((f) => f[1]), k: m.faces.map((f) => f[2]),
        color: "#e8dcc4", opacity: 0.55, hoverinfo: "name", showlegend: false });
    }
    traces.push(Object.assign({ type: "scatter3d", mode: "lines", name: "bones", line: { color: "#34495e", width: 9 },
      hoverinfo: "skip" }, lines(res.segments.map((s) => [s.from, s.to]))));
    const origins = Object.entries(res.origins);
    traces.push({ type: "scatter3d", mode: "markers", name: "joints", x: origins.map((o) => P(o[1])[0]),
      y: origins.map((o) => P(o[1])[1]), z: origins.map((o) => P(o[1])[2]), text: origins.map((o) => o[0]),
      hoverinfo: "text", marker: { size: 3.5, color: "#2c3e50" }, showlegend: false });
    const byGroup = new Map();
    for (const m of res.muscles) { if (!byGroup.has(m.group)) byGroup.set(m.group, []); byGroup.get(m.group).push(m.points); }
    const selected = document.getElementById("muscle").value;
    for (const [g, paths] of byGroup) {
      const sel = g === selected;
      traces.push(Object.assign({ type: "scatter3d", mode: "lines", name: g, hoverinfo: "name",
        line: { color: colorOf(g), width: sel ? 7 : 3 }, opacity: sel ? 1 : 0.55, showlegend: sel || colorOf(g) !== "#7f8c8d" },
      lines(paths)));
    }
    return traces;
  }

  function maTraces(r) {
    const traces = r.fascicles.map((f, k) => ({ type: "scatter", mode: "lines", name: f, x: r.sweep_deg,
      y: r.moment_arm_cm.map((row) => row[k]), line: { width: 1 }, opacity: 0.6, showlegend: r.fascicles.length <= 4 }));
    if (r.fascicles.length > 1) {
      traces.push({ type: "scatter", mode: "lines", name: "mean of fascicles", x: r.sweep_deg,
        y: r.moment_arm_cm.map((row) => row.reduce((a, b) => a + b, 0) / row.length), line: { width: 3, color: "#c0392b" } });
    }
    traces.push({ type: "scatter", mode: "markers", name: "current pose", x: [r.current_deg], y: [r.mean_current_cm],
      marker: { size: 12, color: "#111", symbol: "diamond" } });
    return traces;
  }

  async function redraw() {
    const coords = pose();
    const muscle = document.getElementById("muscle").value;
    const about = document.getElementById("ma-coord").value;
    const all = document.getElementById("all-muscles").checked;
    try {
      const [scene, ma] = await Promise.all([
        api("/api/model/pose", { coordinates: coords, muscles: all ? null : [muscle] }),
        api("/api/model/moment-arms", { muscle, coordinate: about, coordinates: coords, points: 41 }),
      ]);
      Plotly.react("scene", sceneTraces(scene), {
        margin: { l: 0, r: 0, t: 0, b: 0 }, uirevision: "keep", legend: { x: 0, y: 1 },
        scene: { aspectmode: "data", uirevision: "keep", camera: { eye: { x: 1.2, y: 1.5, z: 0.35 } },
          xaxis: { title: { text: "right (m)" } }, yaxis: { title: { text: "forward (m)" } }, zaxis: { title: { text: "up (m)" } } },
      });
      Plotly.react("ma-plot", maTraces(ma), {
        margin: { l: 55, r: 10, t: 30, b: 45 }, uirevision: muscle + about,
        title: { text: "Moment arm of " + muscle + " about " + about, font: { size: 14 } },
        xaxis: { title: { text: about + " (deg)" } }, yaxis: { title: { text: "moment arm (cm)" }, zeroline: true },
      });
      show("ma-readout", "At " + about + " = " + ma.current_deg.toFixed(1) + "°, the mean moment arm of " +
        ma.fascicles.length + " fascicle(s) is ", el("strong", { id: "ma-value" }, ma.mean_current_cm.toFixed(2) + " cm"),
        ". OpenSim sign convention: positive means the muscle's pull turns the joint in the coordinate's positive direction.");
      document.body.dataset.updated = String(Date.now());
    } catch (err) { fail("ma-readout", err); }
  }

  const { run: update, schedule } = coalesced(redraw, 60);

  function sliders() {
    return info.coordinates.map((c) => {
      const id = "slider-" + c.name;
      const out = el("span", { id: id + "-value" }, c.default_deg.toFixed(1) + "°");
      const input = el("input", { type: "range", id, min: c.min_deg, max: c.max_deg, step: 0.5, value: c.default_deg,
        "aria-label": c.name, oninput: (ev) => { out.textContent = Number(ev.target.value).toFixed(1) + "°"; schedule(); } });
      return el("div", { class: "slider" }, el("label", { for: id }, el("span", {}, c.name.replace(/_/g, " ")), out), input);
    });
  }

  document.addEventListener("DOMContentLoaded", async () => {
    try {
      info = await api("/api/model");
    } catch (err) { fail("model-name", err); return; }
    show("model-name", "Model: ", el("strong", {}, info.name), " · " + info.muscles.length + " muscles · " +
      (info.meshes ? info.meshes + " bone meshes" : "bones drawn as segments between joint centres"));
    const muscle = document.getElementById("muscle");
    for (const g of info.muscles) muscle.appendChild(el("option", { value: g.name, selected: g.name === info.default_muscle },
      g.name + (g.fascicles.length > 1 ? " (" + g.fascicles.length + ")" : "")));
    const about = document.getElementById("ma-coord");
    for (const c of info.coordinates) about.appendChild(el("option", { value: c.name, selected: c.name === info.default_coordinate }, c.name));
    show("sliders", sliders());
    for (const id of ["muscle", "ma-coord", "all-muscles"]) document.getElementById(id).addEventListener("change", schedule);
    document.getElementById("reset").addEventListener("click", () => {
      for (const c of info.coordinates) {
        document.getElementById("slider-" + c.name).value = c.default_deg;
        document.getElementById("slider-" + c.name + "-value").textContent = c.default_deg.toFixed(1) + "°";
      }
      schedule();
    });
    update();
  });
})();
