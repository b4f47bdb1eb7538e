// Care page: safety screen, self-assessment, program (+ PDF), a guided session timer whose every finished
// set is saved through the API into the care log, and progress charts.
"use strict";
(function () {
  const { api, el, show, fail } = window.ilio;
  const SPEED = Math.max(1, Number(new URLSearchParams(location.search).get("speed")) || 1);  // demos and tests
  const SECONDS_PER_REP = 2;  // pacing of the on-screen timer for repetition sets; a UI choice, not a dosage
  let inputs = {};
  let player = null;

  // ----------------------------------------------------------------------------- answers
  function screenAnswers() {
    const out = {};
    for (const r of document.querySelectorAll("#screen-items input[type=radio]:checked")) out[r.dataset.item] = r.value === "yes";
    return out;
  }

  function assessmentAnswers() {
    const out = {};
    for (const [name, spec] of Object.entries(inputs)) {
      const node = document.getElementById("in-" + name);
      const v = node.value.trim();
      if (!v) continue;
      if (spec.type === "bool") out[name] = v === "yes";
      else if (spec.type === "angle") out[name] = Number(v);
      else if (spec.type === "psfs") out[name] = v.split(/[ ,;]+/).filter(Boolean).map(Number);
    }
    return out;
  }

  function planBody() {
    return { screen: screenAnswers(), assessment: assessmentAnswers(),
      options: { band: document.getElementById("opt-band").checked, release: document.getElementById("opt-release").checked } };
  }

  function reasons(list) {
    return el("ul", {}, list.map((r) => el("li", { class: r.tier === "emergency" || r.tier === "urgent" ? "error" : "" }, r.message)));
  }

  function levelBox(res) {
    const cls = res.blocked ? "blocked" : res.level === "clear" ? "clear" : "notice";
    return el("p", {}, el("span", { class: "level " + cls, id: "screen-level" }, res.blocked ? "Locked: " + res.level.replace("_", " ") : res.level));
  }

  function dosage(d) {
    const p = [];
    if (d.every_min) p.push("every " + d.every_min + " min of sitting");
    else {
      if (d.reps) p.push((d.sets || 1) + " × " + d.reps + " reps" + (d.hold_s > 1 ? " (hold " + d.hold_s + " s)" : ""));
      else if (d.hold_s) p.push((d.sets || 1) + " × " + d.hold_s + " s hold");
      if (d.rest_s) p.push("rest " + d.rest_s + " s");
    }
    if (d.side === "each") p.push("each side");
    return p.join(", ");
  }

  // ----------------------------------------------------------------------------- screen, assess, plan
  async function loadForms() {
    const items = await api("/api/care/screen/items");
    show("screen-items", items.map((i) => el("div", { class: "qa-item" },
      el("div", {}, el("span", { class: "tier" }, i.tier), i.question),
      el("div", { class: "row small" }, ["yes", "no"].map((v) => el("label", {},
        el("input", { type: "radio", name: "scr-" + i.id, value: v, "data-item": i.id }), " " + v))))));
    inputs = await api("/api/care/assess/inputs");
    show("assess-items", Object.entries(inputs).map(([name, spec]) => el("tr", {},
      el("td", {}, el("label", { for: "in-" + name }, spec.question)),
      el("td", {}, spec.type === "bool"
        ? el("select", { id: "in-" + name }, el("option", { value: "" }, "—"), el("option", { value: "yes" }, "yes"), el("option", { value: "no" }, "no"))
        : el("input", { id: "in-" + name, type: spec.type === "angle" ? "number" : "text", step: "1", style: "width:8rem",
          placeholder: spec.type === "psfs" ? "e.g. 6, 7, 5" : "degrees" })))));
    const sel = document.getElementById("nprs-before");
    for (let k = 0; k <= 10; k++) sel.appendChild(el("option", { value: k }, String(k)));
  }

  async function checkScreen(ev) {
    ev.preventDefault();
    try {
      const res = await api("/api/care/screen", { answers: screenAnswers() });
      show("screen-result", levelBox(res), reasons(res.reasons),
        res.level === "clear" ? el("p", {}, "No red flags or contraindications reported. You can build a program below.") : null,
        el("p", { class: "small muted" }, res.disclaimer));
    } catch (err) { fail("screen-result", err); }
  }

  async function assess(ev) {
    ev.preventDefault();
    try {
      const res = await api("/api/care/assess", { inputs: assessmentAnswers() });
      show("assess-result",
        res.contributors.length ? el("ol", {}, res.contributors.map((c) => el("li", {}, el("strong", {}, c.label),
          " — confidence " + c.confidence, el("ul", { class: "small" }, c.reasons.map((f) => el("li", {}, f.text)))))) :
          el("p", {}, "No particular contributor stands out."),
        (res.notes || []).concat(res.safety || []).map((n) => el("p", { class: "small" }, "• " + n)),
        el("p", { class: "small muted" }, res.disclaimer));
    } catch (err) { fail("assess-result", err); }
  }

  async function buildPlan() {
    try {
      const res = await api("/api/care/plan", planBody());
      show("plan-result", res.blocked ? el("p", {}, el("span", { class: "level blocked" }, "The program is locked.")) : null,
        reasons(res.reasons),
        el("ol", { id: "plan-steps" }, res.steps.map((s) => el("li", {}, el("strong", {}, s.name), " ",
          el("span", { class: "small muted" }, s.kind + " · " + dosage(s.dosage) + " · evidence " + s.evidence.grade),
          el("div", { class: "small" }, s.cue)))),
        el("p", { class: "small muted" }, res.disclaimer));
    } catch (err) { fail("plan-result", err); }
  }

  async function downloadPdf() {
    const status = document.getElementById("pdf-status");
    try {
      const blob = await api("/api/care/plan.pdf", planBody());
      const url = URL.createObjectURL(blob);
      const a = el("a", { href: url, download: "hip-flexor-program.pdf", id: "pdf-link" }, "hip-flexor-program.pdf");
      show(status, "Ready: ", a, " (" + (blob.size / 1024).toFixed(1) + " kB)");
      a.click();
    } catch (err) { fail(status, err); }
  }

  // ----------------------------------------------------------------------------- guided session
  function duration(s) {
    if (s.kind === "habit") return 0;
    if (s.reps) return s.reps * Math.max(s.hold_s || 0, SECONDS_PER_REP);
    return s.hold_s || 0;
  }

  function renderSet() {
    const p = player;
    if (p.idx >= p.sets.length) {
      const sel = el("select", { id: "nprs-after" }, Array.from({ length: 11 }, (_, k) => el("option", { value: k }, String(k))));
      show("player", el("p", {}, el("strong", {}, "All sets done."), " How is your pain now (0–10)? "), sel, " ",
        el("button", { id: "session-finish", onclick: () => finish("completed") }, "Finish session"));
      return;
    }
    const s = p.sets[p.idx];
    const secs = duration(s);
    p.remaining = secs;
    show("player", el("div", { id: "current-set", "data-step": s.step_id },
      el("h3", {}, s.name), el("p", { class: "small muted" }, s.kind + " · set " + s.set_index + " of " + s.sets +
        (s.side ? " · " + s.side + " side" : "") + " · " + (p.idx + 1) + " / " + p.sets.length),
      el("p", {}, s.cue),
      secs ? el("div", { class: "timer", id: "timer" }, fmt(secs)) : null,
      el("div", { class: "row" },
        secs ? el("button", { id: "timer-start", onclick: startTimer }, "Start timer") : null,
        el("button", { id: "set-done", class: secs ? "secondary" : "", onclick: () => record("done") }, "Done"),
        el("button", { id: "set-skip", class: "secondary", onclick: skipStep }, "Skip exercise"),
        el("button", { id: "session-stop", class: "secondary", onclick: () => finish("stopped") }, "Stop session")),
      p.rest ? el("p", { class: "small muted" }, p.rest) : null));
  }

  function fmt(s) { s = Math.max(0, Math.ceil(s)); return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0"); }

  function startTimer() {
    const p = player;
    document.getElementById("timer-start").disabled = true;
    const t0 = performance.now(), total = p.remaining;
    clearInterval(p.tick);
    p.tick = setInterval(() => {
      const left = total - ((performance.now() - t0) / 1000) * SPEED;
      const node = document.getElementById("timer");
      if (node) node.textContent = fmt(left);
      if (left <= 0) { clearInterval(p.tick); record("done"); }
    }, 100);
  }

  async function record(status) {
    const p = player;
    clearInterval(p.tick);
    const s = p.sets[p.idx];
    try {
      const res = await api("/api/care/sessions/" + p.sid + "/steps", { step_id: s.step_id, set_index: s.set_index,
        side: s.side, reps: s.reps, hold_s: s.hold_s, status });
      document.getElementById("session-log").appendChild(el("li", { "data-step": s.step_id },
        (status === "done" ? "✓ " : "⤼ skipped ") + s.name + " — set " + s.set_index + (s.side ? " " + s.side : "") +
        " (saved as #" + res.id + "; " + res.steps_done + " done so far)"));
      const next = p.sets[p.idx + 1];
      p.rest = status === "done" && s.rest_s && next && next.step_id === s.step_id && next.set_index > s.set_index
        ? "Rest " + s.rest_s + " s before the next set." : "";
      p.idx += 1;
      renderSet();
    } catch (err) { fail("player", err); }
  }

  async function skipStep() {
    const p = player;
    const id = p.sets[p.idx].step_id;
    p.sets = p.sets.filter((s, k) => k <= p.idx || s.step_id !== id);
    await record("skipped");
  }

  async function start() {
    const body = Object.assign(planBody(), { nprs_before: Number(document.getElementById("nprs-before").value) });
    try {
      const res = await api("/api/care/sessions", body);
      player = { sid: res.session_id, sets: res.sets, idx: 0, remaining: 0, tick: null, rest: "" };
      show("session-log");
      document.getElementById("player").dataset.session = String(res.session_id);
      renderSet();
    } catch (err) {
      if (err.status === 409 && err.data && err.data.detail && err.data.detail.plan) {
        show("player", el("p", { class: "error" }, err.message), reasons(err.data.detail.plan.reasons));
      } else fail("player", err);
    }
  }

  async function finish(status) {
    const p = player;
    clearInterval(p.tick);
    const after = document.getElementById("nprs-after");
    try {
      const res = await api("/api/care/sessions/" + p.sid + "/finish", { status, nprs_after: after ? Number(after.value) : null });
      show("player", el("p", { id: "session-summary" }, "Session #" + res.id + " " + res.status + ": " + res.steps_done +
        " set(s) done, " + res.steps_skipped + " skipped. Pain " + (res.nprs_before ?? "–") + " → " + (res.nprs_after ?? "–") + "."));
      loadProgress();
    } catch (err) { fail("player", err); }
  }

  // ----------------------------------------------------------------------------- progress
  function chart(id, title, traces, yTitle) {
    const empty = !traces.some((t) => (t.y || []).some((v) => v !== null && v !== undefined));
    if (empty) {
      document.getElementById("progress-charts").appendChild(el("div", { id, class: "muted small" },
        el("strong", {}, title), el("p", {}, "No data yet.")));
      return;
    }
    const node = el("div", { id, style: "height:260px" });
    document.getElementById("progress-charts").appendChild(node);
    Plotly.newPlot(node, traces, { title: { text: title, font: { size: 13 } }, margin: { l: 45, r: 10, t: 35, b: 35 },
      xaxis: { type: "category", automargin: true }, yaxis: { title: { text: yTitle } }, showlegend: traces.length > 1, legend: { orientation: "h" } }, { displayModeBar: false });
  }

  // Category labels ("2 · 21 Nov 14:05"): readable with one point or many, never merged.
  function labels(times) {
    return times.map((t, k) => (k + 1) + " · " + new Date(t).toLocaleString("en-GB", { day: "numeric", month: "short",
      hour: "2-digit", minute: "2-digit" }));
  }

  function bandTraces(points, band, name) {
    if (!points.length) return [];
    const t = labels(points.map((p) => p.t)), base = points[0].value;
    return [{ x: t, y: t.map(() => base + band), mode: "lines", line: { width: 0 }, showlegend: false, hoverinfo: "skip" },
      { x: t, y: t.map(() => base - band), mode: "lines", line: { width: 0 }, fill: "tonexty", fillcolor: "rgba(120,120,160,0.15)",
        name: "±" + band + " band", hoverinfo: "skip" },
      { x: t, y: points.map((p) => p.value), mode: "lines+markers", name }];
  }

  async function loadProgress() {
    try {
      const res = await api("/api/care/progress");
      const a = res.adherence;
      show("progress-summary", "Sessions: " + res.sessions.completed + " completed of " + res.sessions.total +
        " · adherence " + (a.percent ?? "–") + " % of planned days · streak " + a.streak_days + " day(s)." +
        (res.clinician_review ? " Pain has risen 2+ points above your first session twice: book a clinician review." : ""));
      show("progress-charts");
      const s = res.series.sessions.filter((x) => x.nprs_before !== null || x.nprs_after !== null);
      chart("chart-nprs", "Pain (NPRS) per session; a 2-point change matters", [
        { x: labels(s.map((x) => x.t)), y: s.map((x) => x.nprs_before), mode: "lines+markers", name: "before" },
        { x: labels(s.map((x) => x.t)), y: s.map((x) => x.nprs_after), mode: "lines+markers", name: "after" }], "0–10");
      chart("chart-sets", "Sets done per session", [{ type: "bar", x: labels(res.series.sessions.map((x) => x.t)),
        y: res.series.sessions.map((x) => x.steps_done), name: "sets" }], "sets");
      const m = res.series.measures, b = res.series.bands;
      chart("chart-thomas", "Thomas test hip angle (deg)", bandTraces(m.thomas_hip_deg, b.thomas_hip_deg, "hip angle"), "deg");
      chart("chart-tilt", "Standing pelvic tilt (deg)", bandTraces(m.standing_tilt_deg, b.standing_tilt_deg, "tilt"), "deg");
    } catch (err) { fail("progress-summary", err); }
  }

  async function addMeasure(ev) {
    ev.preventDefault();
    const status = document.getElementById("measure-status");
    try {
      await api("/api/care/measures", { kind: document.getElementById("measure-kind").value,
        value: Number(document.getElementById("measure-value").value) });
      show(status, "saved");
      loadProgress();
    } catch (err) { fail(status, err); }
  }

  document.addEventListener("DOMContentLoaded", async () => {
    try { await loadForms(); } catch (err) { fail("screen-items", err); return; }
    document.getElementById("screen-form").addEventListener("submit", checkScreen);
    document.getElementById("assess-form").addEventListener("submit", assess);
    document.getElementById("plan-btn").addEventListener("click", buildPlan);
    document.getElementById("pdf-btn").addEventListener("click", downloadPdf);
    document.getElementById("session-start").addEventListener("click", start);
    document.getElementById("measure-form").addEventListener("submit", addMeasure);
    loadProgress();
  });
})();
