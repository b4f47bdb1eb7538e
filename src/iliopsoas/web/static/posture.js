// Posture page: tightness sliders -> the model's resting posture and clinical angles, beside the seed
// claims (our verdict and the model's) and published population figures. Plot axes: forward, up (m).
"use strict";
(function () {
  const { api, el, show, fail, badge, coalesced } = window.ilio;
  let info = null;
  const LABELS = { pelvic_tilt_deg: "Pelvic tilt (ASIS–PSIS, + = anterior)", lumbar_lordosis_deg: "Lumbar lordosis (L1–L5)",
    hip_flexion_deg: "Hip flexion (thigh to pelvis)", hip_rotation_deg: "Hip rotation (+ = outward)", thigh_lift_deg: "Thigh lift off the table",
    thomas_hip_deg: "Thomas test: thigh to horizontal", thomas_knee_deg: "Thomas test: knee flexion",
    thomas_abduction_deg: "Thomas test: thigh drift outward (abduction)", knee_support_height_m: "Support needed under the knees" };
  // One line per measure: what it is and why the no-tightness value is not zero.
  const BASELINE = {
    pelvic_tilt_deg: "Line from the back (PSIS) to the front (ASIS) of the pelvis against the body's horizontal; even a relaxed pelvis sits tilted, so the no-tightness value is not 0.",
    lumbar_lordosis_deg: "Angle between the L1 and L5 vertebrae (+ = arched); the no-tightness value is the model's own resting curve.",
    hip_flexion_deg: "Thigh against the pelvis, not against the vertical: when the pelvis tips forward, a vertical thigh already reads as hip flexion.",
    hip_rotation_deg: "Lying on the back the foot's weight rolls the leg outward until muscles and ligaments stop it, so the relaxed leg sits turned out.",
    thigh_lift_deg: "How far the thigh rises from the table (+ = lifted); close to 0 when nothing pulls it up.",
    thomas_hip_deg: "Thigh against the horizontal with the other knee hugged (pelvis held 10° back): a relaxed thigh hangs below the table (negative).",
    thomas_knee_deg: "Knee bend of the hanging leg; a short rectus femoris straightens it (smaller angle).",
    thomas_abduction_deg: "Sideways drift of the hanging thigh (+ = outward); a short tensor fasciae latae pulls it out.",
    knee_support_height_m: "Smallest support under both knees that brings the lumbar angle back within 1° of the untightened value.",
  };
  const TARGET_LABELS = { psoas: "Psoas major", iliacus: "Iliacus", psoas_minor: "Psoas minor", rectus_femoris: "Rectus femoris",
    tfl: "Tensor fasciae latae", hamstrings: "Hamstrings", iliopsoas: "Iliopsoas" };
  const COLORS = { psoas_major: "#c0392b", psoas_minor: "#e67e22", iliacus: "#8e44ad", rectus_femoris: "#16a085" };
  const SEGMENT_NAMES = { torso: "trunk", sacrum: "pelvis", femur: "thigh", tibia: "shank" };
  const WIDTHS = { trunk: 30, pelvis: 26, thigh: 20, shank: 14, lumbar: 26 };
  const words = (k) => k.replace(/_(deg|m|pct)$/, "").replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
  function labelOf(k) { return LABELS[k] || words(k); }
  function isMetres(k) { return /_m$/.test(k); }
  function segName(body) {
    const stem = body.replace(/_[rl]$/, "");
    if (/^lumbar\d$/.test(stem)) return "lumbar";
    if (stem === "innominate") return "pelvis";
    return SEGMENT_NAMES[stem] || null;
  }

  function body() {
    const tightness = {};
    for (const t of info.targets) {
      const v = Number(document.getElementById("tight-" + t).value);
      if (v > 0) tightness[t] = { shortening_pct: v };
    }
    return { scenario: document.getElementById("scenario").value, side: document.getElementById("side").value, tightness };
  }

  function nearSide(body, side) { return !/_[rl]$/.test(body) || body.endsWith(side === "left" ? "_l" : "_r"); }

  // The pose as a figure: a soft body outline, the bones, the hip flexors; the untightened pose ghosted behind.
  function traces(d, base, side) {
    const out = [];
    const segs = d.segments.filter((s) => segName(s.body) && s.body !== "patella");
    if (!base) {
      for (const s of segs.filter((x) => nearSide(x.body, side))) {
        out.push({ type: "scatter", mode: "lines", x: [s.from[0], s.to[0]], y: [s.from[1], s.to[1]], hoverinfo: "skip", showlegend: false,
          line: { color: "rgba(233,214,196,0.75)", width: WIDTHS[segName(s.body)] || 16 } });
      }
    }
    const x = [], y = [];
    for (const s of segs) { x.push(s.from[0], s.to[0], null); y.push(s.from[1], s.to[1], null); }
    out.push({ type: "scatter", mode: "lines+markers", x, y, name: base ? "no tightness (ghost)" : "with tightness",
      line: { color: base ? "rgba(120,130,150,0.45)" : "#34495e", width: base ? 4 : 6, dash: base ? "dot" : "solid" },
      marker: { size: base ? 0 : 6, color: "#34495e" }, hoverinfo: "skip" });
    if (!base) {
      const groups = new Map();
      for (const m of d.muscles) {
        const g = m.group.replace(/_[rl]$/, "");
        if (!groups.has(g)) groups.set(g, { x: [], y: [] });
        const t = groups.get(g);
        for (const p of m.points) { t.x.push(p[0]); t.y.push(p[1]); }
        t.x.push(null); t.y.push(null);
      }
      for (const [g, t] of groups) out.push({ type: "scatter", mode: "lines", name: words(g), x: t.x, y: t.y,
        line: { color: COLORS[g] || "#7f8c8d", width: 2.5 } });
    }
    return out;
  }

  // Labels on the near-side segments (trunk, pelvis, thigh, shank) of the solved pose.
  function segmentLabels(d, side) {
    const seen = new Set(), notes = [];
    for (const s of d.segments) {
      const name = segName(s.body);
      if (!name || name === "lumbar" || seen.has(name) || !nearSide(s.body, side) || (name === "pelvis" && s.body === "sacrum")) continue;
      seen.add(name);
      const mx = (s.from[0] + s.to[0]) / 2, my = (s.from[1] + s.to[1]) / 2;
      notes.push({ x: mx, y: my, text: name, showarrow: true, arrowhead: 0, ax: 46, ay: -18, font: { size: 13, color: "#1d2433" },
        bgcolor: "rgba(255,255,255,0.85)", bordercolor: "#b9c0cc", borderpad: 2 });
    }
    return notes;
  }

  function frame(drawings) {
    const xs = [], ys = [];
    for (const d of drawings) {
      for (const s of d.segments) { xs.push(s.from[0], s.to[0]); ys.push(s.from[1], s.to[1]); }
      for (const m of d.muscles) for (const p of m.points) { xs.push(p[0]); ys.push(p[1]); }
    }
    const pad = 0.14;
    const x0 = Math.min(...xs) - pad, x1 = Math.max(...xs) + pad, y0 = Math.min(...ys) - pad, y1 = Math.max(...ys) + pad;
    return { x: [x0, x1], y: [y0, y1] };
  }

  function fmt(v, k) {
    if (v === null || v === undefined) return "–";
    return isMetres(k || "") ? (100 * Number(v)).toFixed(1) + " cm" : Number(v).toFixed(1);
  }
  function diff(a, b, k) {
    if (a === null || b === null || a === undefined || b === undefined) return "–";
    const d = a - b, s = d >= 0 ? "+" : "−";
    return isMetres(k) ? s + Math.abs(100 * d).toFixed(1) + " cm" : s + Math.abs(d).toFixed(1);
  }

  function angleTable(res) {
    const rows = Object.keys(res.angles).map((k) => {
      const a = res.angles[k], b = res.baseline.angles[k];
      const pop = info.population.filter((p) => p.angle === k && p.scenario === res.scenario);
      return el("tr", { "data-angle": k }, el("td", {}, el("div", {}, labelOf(k)),
        el("div", { class: "small muted baseline-note" }, BASELINE[k] || "")),
        el("td", {}, fmt(b, k)), el("td", {}, el("strong", {}, fmt(a, k))), el("td", {}, diff(a, b, k)),
        el("td", { class: "small" }, pop.map((p) => el("div", {}, (p.value === null ? "" : p.value + " " + p.unit + " ") +
          "(" + p.spread + "), " + p.population + "; " + p.source))));
    });
    return [el("thead", {}, el("tr", {}, el("th", {}, "measure (deg unless marked)"), el("th", {}, "no tightness"), el("th", {}, "with tightness"),
      el("th", {}, "change"), el("th", {}, "measured in people"))), el("tbody", {}, rows)];
  }

  async function solve() {
    const status = document.getElementById("posture-status");
    show(status, "Solving…");
    try {
      const res = await api("/api/posture/simulate", body());
      const side = document.getElementById("side").value;
      const fr = frame([res.baseline_drawing, res.drawing]);
      Plotly.react("posture-plot", [...traces(res.baseline_drawing, true, side), ...traces(res.drawing, false, side)], {
        margin: { l: 45, r: 10, t: 10, b: 40 }, uirevision: res.scenario + side, annotations: segmentLabels(res.drawing, side),
        xaxis: { title: { text: "forward (m)" }, range: fr.x, scaleanchor: "y", constrain: "domain", constraintoward: "center", zeroline: false },
        yaxis: { title: { text: "up (m)" }, range: fr.y, constrain: "domain", zeroline: false },
        legend: { orientation: "h", x: 0, y: -0.12 } }, { displaylogo: false, responsive: true });
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
    const SCEN = { supine: "Lying on the back (supine)", standing: "Standing", sitting: "Sitting", thomas: "Modified Thomas test", prone: "Lying face down (prone)" };
    for (const s of info.scenarios) sc.appendChild(el("option", { value: s, selected: s === "standing" }, SCEN[s] || words(s)));
    const [lo, hi] = info.shortening_pct;
    show("tight-sliders", info.targets.map((t) => {
      const id = "tight-" + t;
      const out = el("span", { id: id + "-value" }, "0 %");
      return el("div", { class: "slider" }, el("label", { for: id }, el("span", {}, TARGET_LABELS[t] || words(t)), out),
        el("input", { type: "range", id, min: lo, max: hi, step: 1, value: 0, "aria-label": (TARGET_LABELS[t] || words(t)) + " shortening (%)",
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
