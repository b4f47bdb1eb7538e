// Posture page: tightness sliders -> the model's resting posture and clinical angles, beside the seed
// claims (our verdict and the model's) and published population figures. Plot axes: forward, up (m).
"use strict";
(function () {
  const { api, el, show, fail, badge, coalesced } = window.ilio;
  let info = null;
  const LABELS = { pelvic_tilt_deg: "pelvic tilt (ASIS-PSIS, + = anterior)", lumbar_lordosis_deg: "lumbar lordosis",
    hip_flexion_deg: "hip flexion", hip_rotation_deg: "hip rotation (+ = outward)", thomas_hip_deg: "Thomas test thigh angle",
    thomas_knee_deg: "Thomas test knee angle", thomas_abduction_deg: "Thomas test abduction", knee_support_height_m: "knee support needed (m)" };
  const COLORS = { psoas_major: "#c0392b", psoas_minor: "#e67e22", iliacus: "#8e44ad", rectus_femoris: "#16a085" };

  function body() {
    const tightness = {};
    for (const t of info.targets) {
      const v = Number(document.getElementById("tight-" + t).value);
      if (v > 0) tightness[t] = { shortening_pct: v };
    }
    return { scenario: document.getElementById("scenario").value, side: document.getElementById("side").value, tightness };
  }

  function traces(d, base) {
    const x = [], y = [];
    for (const s of d.segments) { x.push(s.from[0], s.to[0], null); y.push(s.from[1], s.to[1], null); }
    const out = [{ type: "scatter", mode: "lines", x, y, name: base ? "no tightness" : "with tightness",
      line: { color: base ? "#b8bfcc" : "#34495e", width: base ? 5 : 6 }, hoverinfo: "skip" }];
    if (!base) {
      const groups = new Map();
      for (const m of d.muscles) {
        const g = m.group.replace(/_[rl]$/, "");
        if (!groups.has(g)) groups.set(g, { x: [], y: [] });
        const t = groups.get(g);
        for (const p of m.points) { t.x.push(p[0]); t.y.push(p[1]); }
        t.x.push(null); t.y.push(null);
      }
      for (const [g, t] of groups) out.push({ type: "scatter", mode: "lines", name: g.replace("_", " "), x: t.x, y: t.y,
        line: { color: COLORS[g] || "#7f8c8d", width: 2 } });
    }
    return out;
  }

  function fmt(v) { return v === null || v === undefined ? "–" : Number(v).toFixed(1); }

  function angleTable(res) {
    const rows = Object.keys(res.angles).map((k) => {
      const a = res.angles[k], b = res.baseline.angles[k];
      const pop = info.population.filter((p) => p.angle === k && p.scenario === res.scenario);
      return el("tr", { "data-angle": k }, el("td", {}, LABELS[k] || k), el("td", {}, fmt(b)), el("td", {}, el("strong", {}, fmt(a))),
        el("td", {}, a === null || b === null ? "–" : (a - b >= 0 ? "+" : "") + (a - b).toFixed(1)),
        el("td", { class: "small" }, pop.map((p) => el("div", {}, (p.value === null ? "" : p.value + " " + p.unit + " ") +
          "(" + p.spread + "), " + p.population + "; " + p.source))));
    });
    return [el("thead", {}, el("tr", {}, el("th", {}, "angle (deg)"), el("th", {}, "no tightness"), el("th", {}, "with tightness"),
      el("th", {}, "change"), el("th", {}, "measured in people"))), el("tbody", {}, rows)];
  }

  async function solve() {
    const status = document.getElementById("posture-status");
    show(status, "Solving…");
    try {
      const res = await api("/api/posture/simulate", body());
      Plotly.react("posture-plot", [...traces(res.baseline_drawing, true), ...traces(res.drawing, false)], {
        margin: { l: 45, r: 10, t: 10, b: 40 }, uirevision: res.scenario,
        xaxis: { title: { text: "forward (m)" }, scaleanchor: "y", constrain: "domain", constraintoward: "center" },
        yaxis: { title: { text: "up (m)" }, constrain: "domain" }, legend: { x: 1, xanchor: "right", y: 1 } });
      show("posture-angles", angleTable(res));
      show(status, (res.converged ? "Equilibrium found" : "Warning: the solver did not converge (" + res.message + ")") +
        (res.baseline.converged ? "" : "; the no-tightness pose did not converge either") + " · " + res.solve_ms + " ms");
      document.body.dataset.solved = JSON.stringify(res.angles);
    } catch (err) { fail(status, err); }
  }

  const { run: update, schedule } = coalesced(solve, 150);

  function claimsTable() {
    return [el("thead", {}, el("tr", {}, el("th", {}, "claim"), el("th", {}, "our verdict"), el("th", {}, "model"))),
      el("tbody", {}, info.claims.map((c) => el("tr", { "data-claim": c.id },
        el("td", {}, c.text, el("div", { class: "small muted" }, c.id + (c.basis ? " · " + c.basis : ""))),
        el("td", {}, badge(c.verdict)),
        el("td", { class: "small" }, c.model_verdict ? [el("strong", {}, c.model_verdict.verdict.replace("_", " ")),
          el("div", {}, c.model_verdict.note || "")] : el("span", { class: "muted" }, "not tested")))))];
  }

  function populationTable() {
    return [el("thead", {}, el("tr", {}, el("th", {}, "measure"), el("th", {}, "value"), el("th", {}, "people"),
      el("th", {}, "source"), el("th", {}, "how it compares with the model"))),
    el("tbody", {}, info.population.map((p) => el("tr", {}, el("td", {}, p.measure + " (" + p.scenario + ")"),
      el("td", {}, p.value === null ? p.spread : p.value + " " + p.unit + " (" + p.spread + ")"), el("td", {}, p.population),
      el("td", { class: "small" }, p.source), el("td", { class: "small" }, p.comparable))))];
  }

  document.addEventListener("DOMContentLoaded", async () => {
    try { info = await api("/api/posture"); } catch (err) { fail("posture-status", err); return; }
    const sc = document.getElementById("scenario");
    for (const s of info.scenarios) sc.appendChild(el("option", { value: s, selected: s === "standing" }, s));
    const [lo, hi] = info.shortening_pct;
    show("tight-sliders", info.targets.map((t) => {
      const id = "tight-" + t;
      const out = el("span", { id: id + "-value" }, "0 %");
      return el("div", { class: "slider" }, el("label", { for: id }, el("span", {}, t.replace("_", " ")), out),
        el("input", { type: "range", id, min: lo, max: hi, step: 1, value: 0, "aria-label": t,
          oninput: (ev) => { out.textContent = ev.target.value + " %"; }, onchange: schedule }));
    }));
    for (const id of ["scenario", "side"]) document.getElementById(id).addEventListener("change", schedule);
    document.getElementById("posture-reset").addEventListener("click", () => {
      for (const t of info.targets) { document.getElementById("tight-" + t).value = 0; document.getElementById("tight-" + t + "-value").textContent = "0 %"; }
      schedule();
    });
    show("posture-claims", claimsTable());
    show("posture-population", populationTable());
    update();
  });
})();
