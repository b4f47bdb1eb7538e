// Care page: a grouped safety screen, self-assessment, the program (+ PDF), a guided session that runs
// itself (hold -> tone -> rest -> next set; pause, keys, audio), questionnaires and progress charts.
// Dosage text, set order, work and rest seconds and measure kinds all come from the API (one source,
// shared with the terminal player); this file only shows them and times them.
"use strict";
(function () {
  const { api, el, show, fail } = window.ilio;
  const SPEED = Math.max(1, Number(new URLSearchParams(location.search).get("speed")) || 1);  // demos and tests
  const GET_READY_S = 5;  // a short count-in before each set (a UI choice, not a dose)
  const PAGE = Math.random().toString(36).slice(2);  // this page load: part of every idempotency key
  const TIERS = [
    ["emergency", "Needs help today", "Signs that need emergency care."],
    ["urgent", "See a doctor in the next 1–2 days", "Signs that need a doctor before any exercise."],
    ["soon", "Worth a check-up", "Signs that call for a clinician review; gentle exercise may go on."],
    ["contraindication", "Makes pressing on the belly unsafe", "These only remove the optional pressure-release steps."],
  ];
  let items = [], inputs = {}, player = null, painBefore = null, measureKinds = [], questionnaires = {};

  // ----------------------------------------------------------------------------- small helpers
  function key(...parts) { return [PAGE, ...parts].join(":"); }
  function hash(text) { let h = 0; for (const c of text) h = (h * 31 + c.charCodeAt(0)) | 0; return (h >>> 0).toString(36); }
  function fmt(s) { s = Math.max(0, Math.ceil(s)); return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0"); }

  function ratingButtons(id, onpick) {
    const box = document.getElementById(id) || el("div", { class: "rating", id, role: "group" });
    show(box, Array.from({ length: 11 }, (_, k) => el("button", { type: "button", class: "secondary", "data-value": k,
      "aria-pressed": "false", onclick: (ev) => {
        for (const b of box.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b === ev.currentTarget));
        onpick(k);
      } }, String(k))));
    return box;
  }

  // ----------------------------------------------------------------------------- screen
  function screenAnswers() {
    const out = {};
    for (const r of document.querySelectorAll("#screen-items input[type=radio]:checked")) out[r.dataset.item] = r.value === "yes";
    return out;
  }

  function updateCount() {
    const n = Object.keys(screenAnswers()).length;
    show("screen-count", n + " of " + items.length + " answered");
    for (const g of document.querySelectorAll(".screen-group")) {
      const ids = g.dataset.items.split(" ");
      const answers = screenAnswers();
      const done = ids.every((i) => i in answers);
      const allNo = done && ids.every((i) => answers[i] === false);
      g.classList.toggle("done", allNo);
      show(g.querySelector(".group-status"), allNo ? "✓ all " + ids.length + " answered “no”" : done ? "✓ answered" : "");
    }
  }

  function renderScreen() {
    const groups = TIERS.map(([tier, title, blurb]) => {
      const mine = items.filter((i) => i.tier === tier);
      if (!mine.length) return null;
      const topics = [...new Set(mine.map((i) => i.group || i.topic))];
      const box = el("section", { class: "screen-group", id: "group-" + tier, "data-items": mine.map((i) => i.id).join(" ") },
        el("h3", {}, title, " ", el("span", { class: "small muted" }, "(" + mine.length + " questions)")),
        el("p", { class: "small muted" }, blurb),
        el("div", { class: "row" },
          el("button", { type: "button", class: "secondary none-apply", "data-tier": tier, onclick: () => noneApply(tier) },
            "None of these apply to me"),
          el("span", { class: "group-status" }),
          el("button", { type: "button", class: "secondary small show-questions", onclick: (ev) => {
            ev.currentTarget.closest(".screen-group").classList.remove("done"); } }, "Show the questions")),
        el("div", { class: "qa-list" }, topics.map((t) => [el("h4", {}, t),
          mine.filter((i) => (i.group || i.topic) === t).map((i) => el("div", { class: "qa-item", id: "q-" + i.id },
            el("div", {}, i.question),
            el("div", { class: "row small" }, ["yes", "no"].map((v) => el("label", {},
              el("input", { type: "radio", name: "scr-" + i.id, value: v, "data-item": i.id, onchange: updateCount }), " " + v)))))])));
      return box;
    });
    show("screen-items", groups);
    updateCount();
  }

  function noneApply(tier) {
    for (const i of items.filter((x) => x.tier === tier)) {
      const r = document.querySelector(`#screen-items input[name="scr-${i.id}"][value=no]`);
      if (r) r.checked = true;
      document.getElementById("q-" + i.id).classList.remove("missing");
    }
    updateCount();
  }

  function reasons(list) {
    return el("ul", {}, (list || []).map((r) => el("li", { class: r.tier === "emergency" || r.tier === "urgent" ? "error" : "" },
      r.message,
      r.code !== "not-screened" && r.questions && r.questions.length
        ? el("div", { class: "small muted" }, "Because you answered yes to: " + r.questions.map((q) => "“" + q + "”").join(" ")) : null)));
  }

  async function checkScreen(ev) {
    ev.preventDefault();
    const answers = screenAnswers();
    const missing = items.filter((i) => !(i.id in answers));
    for (const i of items) document.getElementById("q-" + i.id).classList.toggle("missing", !(i.id in answers));
    if (missing.length) {
      for (const i of missing) document.getElementById("q-" + i.id).closest(".screen-group").classList.remove("done");
      document.getElementById("q-" + missing[0].id).scrollIntoView({ block: "center" });
    }
    try {
      const res = await api("/api/care/screen", { answers }, undefined, { "Idempotency-Key": key("screen", hash(JSON.stringify(answers))) });
      const cls = res.blocked ? "blocked" : res.level === "clear" ? "clear" : "notice";
      const label = { clear: "Clear: no red flags reported", not_screened: "Not finished", emergency: "Emergency",
        urgent: "See a doctor first", soon: "Book a clinician review", contraindication: "No pressure release" }[res.level] || res.level;
      show("screen-result", el("p", {}, el("span", { class: "level " + cls, id: "screen-level", "data-level": res.level }, label)),
        reasons(res.reasons),
        res.level === "clear" ? el("p", {}, "You can build a program below.") : null,
        el("p", { class: "small muted" }, res.disclaimer));
    } catch (err) { fail("screen-result", err); }
  }

  // ----------------------------------------------------------------------------- assessment
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

  async function assess(ev) {
    ev.preventDefault();
    const answers = assessmentAnswers();
    try {
      // the same answers ranked again are not saved again (the key is the answers themselves)
      const res = await api("/api/care/assess", { inputs: answers }, undefined, { "Idempotency-Key": key("assess", hash(JSON.stringify(answers))) });
      show("assess-saved", "measurements saved once for your progress charts");
      show("assess-result",
        res.contributors.length ? el("ol", {}, res.contributors.map((c) => el("li", {}, el("strong", {}, c.label),
          " — confidence " + c.confidence, el("ul", { class: "small" }, c.reasons.map((f) => el("li", {}, f.text)))))) :
          el("p", {}, "No particular contributor stands out."),
        (res.notes || []).concat(res.safety || []).map((n) => el("p", { class: "small" }, "• " + n)),
        el("p", { class: "small muted" }, res.disclaimer));
    } catch (err) { fail("assess-result", err); }
  }

  // ----------------------------------------------------------------------------- plan
  function planBody() {
    return { screen: screenAnswers(), assessment: assessmentAnswers(),
      options: { band: document.getElementById("opt-band").checked, release: document.getElementById("opt-release").checked } };
  }

  function releaseNotice(n) {
    return [el("p", {}, el("strong", {}, "Evidence: " + n.grade + ". "), n.summary),
      el("p", {}, el("strong", {}, "Risks and when to stop:")), el("ul", {}, n.risks.map((r) => el("li", {}, r))),
      el("p", {}, n.not_for)];
  }

  async function buildPlan() {
    try {
      const res = await api("/api/care/plan", planBody());
      show("plan-result", res.blocked ? el("p", {}, el("span", { class: "level blocked" }, "The program is locked.")) : null,
        reasons(res.reasons),
        el("ol", { id: "plan-steps" }, res.steps.map((s) => el("li", { "data-step": s.id, "data-kind": s.kind }, el("strong", {}, s.name), " ",
          el("span", { class: "small muted" }, s.kind + " · " + s.dosage_text + " · evidence " + s.evidence.grade),
          el("div", { class: "small" }, s.cue)))),
        el("p", { class: "small muted" }, res.disclaimer));
    } catch (err) { fail("plan-result", err); }
  }

  async function downloadPdf() {
    const status = document.getElementById("pdf-status");
    try {
      const name = document.getElementById("pdf-name").value.trim();
      const blob = await api("/api/care/plan.pdf" + (name ? "?name=" + encodeURIComponent(name) : ""), planBody());
      const url = URL.createObjectURL(blob);
      const a = el("a", { href: url, download: "hip-flexor-program.pdf", id: "pdf-link" }, "hip-flexor-program.pdf");
      show(status, "Ready: ", a, " (" + (blob.size / 1024).toFixed(1) + " kB)");
      a.click();
    } catch (err) { fail(status, err); }
  }

  // ----------------------------------------------------------------------------- audio (Web Audio, offline)
  let audio = null;
  function beep(freq, seconds) {
    try {
      if (!audio) audio = new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume();
      const osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.2, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + seconds);
      osc.connect(gain).connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + seconds);
    } catch (e) { /* no audio device: the on-screen countdown still runs */ }
  }

  // ----------------------------------------------------------------------------- guided session
  // phases: ready (count-in) -> work (hold or reps) -> [tone, save] -> rest -> ready (next set) ... -> end
  function setLabel(s) { return s.name + " — set " + s.set_index + " of " + s.sets + (s.side ? ", " + s.side + " side" : ""); }

  function render() {
    const p = player, s = p.sets[p.idx];
    if (!s) return;
    const total = p.phase === "work" ? s.work_s : p.phase === "rest" ? p.restTotal : GET_READY_S;
    const phaseText = { ready: "Get ready", work: s.reps ? "Reps: " + s.reps + " at " + s.tempo_s + " s each" : "Hold", rest: "Rest" }[p.phase];
    show("player", el("div", { id: "current-set", "data-step": s.step_id, "data-index": p.idx, "data-phase": p.phase },
      el("div", { class: "player-phase", id: "player-phase" }, phaseText + (p.paused ? " · paused" : "")),
      el("h3", {}, setLabel(s)),
      el("p", { class: "small muted" }, s.kind + " · " + s.dosage_text + " · evidence " + s.evidence_grade + " · " + (p.idx + 1) + " / " + p.sets.length),
      s.figure ? el("img", { class: "player-figure", src: s.figure, alt: "Picture of the exercise: " + s.name }) : null,
      s.position ? el("p", {}, el("strong", {}, "Spot: "), s.position) : null,
      el("p", {}, s.cue),
      el("p", { class: "small" }, el("strong", {}, "Feel: "), s.feel, " ", el("strong", {}, "Stop if: "), s.stop_if.join("; ")),
      el("div", { class: "timer", id: "timer" }, fmt(p.remaining)),
      el("div", { class: "player-bar" }, el("div", { id: "timer-bar", style: "width:" + (100 * (1 - p.remaining / Math.max(total, 0.001))).toFixed(1) + "%" })),
      el("div", { class: "row", style: "margin-top:.5rem" },
        el("button", { type: "button", id: "session-pause", onclick: togglePause }, p.paused ? "Resume (Space)" : "Pause (Space)"),
        el("button", { type: "button", id: "set-restart", class: "secondary", onclick: restartSet }, "Restart set (←)"),
        el("button", { type: "button", id: "set-next", class: "secondary", onclick: next }, p.phase === "work" ? "Done early (→)" : "Skip the wait (→)"),
        el("button", { type: "button", id: "set-skip", class: "secondary", onclick: skipStep }, "Skip this exercise (if it hurts)"),
        el("button", { type: "button", id: "session-stop", class: "secondary", onclick: () => finish("stopped", null) }, "Stop session"))));
  }

  function tick() {
    const p = player;
    if (!p || p.paused || p.phase === "end" || p.busy) return;
    const now = performance.now();
    p.remaining -= ((now - p.last) / 1000) * SPEED;
    p.last = now;
    if (p.remaining > 0) {
      const t = document.getElementById("timer"), bar = document.getElementById("timer-bar");
      if (t) t.textContent = fmt(p.remaining);
      const s = p.sets[p.idx], total = p.phase === "work" ? s.work_s : p.phase === "rest" ? p.restTotal : GET_READY_S;
      if (bar) bar.style.width = (100 * (1 - p.remaining / Math.max(total, 0.001))).toFixed(1) + "%";
      return;
    }
    next();
  }

  function enter(phase, seconds) {
    const p = player;
    p.phase = phase; p.remaining = seconds; p.last = performance.now();
    if (phase === "work") beep(660, 0.15);
    render();
  }

  async function next() {
    const p = player;
    if (!p || p.busy || p.phase === "end") return;
    if (p.phase === "ready") { enter("work", p.sets[p.idx].work_s); return; }
    if (p.phase === "rest") { enter("ready", GET_READY_S); return; }
    // end of the work: tone, save this set (once, whatever the clicks), then rest or the next set
    const s = p.sets[p.idx];
    beep(880, 0.5);
    const saved = await record(s, p.idx, "done");
    if (!saved) return;
    advance(s.rest_after_s);
  }

  function advance(rest) {
    const p = player;
    p.idx += 1;
    if (p.idx >= p.sets.length) { end(); return; }
    if (rest > 0) { p.restTotal = rest; enter("rest", rest); } else enter("ready", GET_READY_S);
  }

  async function record(s, idx, status) {
    const p = player;
    p.busy = true;
    try {
      const res = await api("/api/care/sessions/" + p.sid + "/steps", { step_id: s.step_id, set_index: s.set_index,
        side: s.side, reps: status === "done" ? s.reps : null, hold_s: status === "done" ? s.hold_s : null, status },
        undefined, { "Idempotency-Key": key("set", p.sid, idx, status) });
      if (!p.logged.has(res.id)) {
        p.logged.add(res.id);
        document.getElementById("session-log").appendChild(el("li", { "data-step": s.step_id, "data-status": status },
          (status === "done" ? "✓ " : "⤼ skipped ") + (status === "done" ? setLabel(s) : s.name) + " (saved)"));
      }
      return true;
    } catch (err) {
      p.paused = true;
      fail("player", err);
      return false;
    } finally { p.busy = false; }
  }

  function togglePause() {
    const p = player;
    if (!p || p.phase === "end") return;
    p.paused = !p.paused;
    p.last = performance.now();
    render();
  }

  function restartSet() {
    const p = player;
    if (!p || p.phase === "end" || p.busy) return;
    enter("ready", GET_READY_S);
  }

  async function skipStep() {
    const p = player;
    if (!p || p.busy || p.phase === "end") return;
    const s = p.sets[p.idx];
    if (!(await record(s, p.idx, "skipped"))) return;
    let k = p.idx;
    while (k < p.sets.length && p.sets[k].step_id === s.step_id) k += 1;
    p.idx = k - 1;
    advance(0);
  }

  function end() {
    const p = player;
    p.phase = "end";
    beep(523, 0.3); setTimeout(() => beep(784, 0.5), 300);
    show("player", el("div", { id: "session-end" }, el("p", {}, el("strong", {}, "All sets done. "), "How is your pain now? Pick a number to finish and save the session."),
      ratingButtons("nprs-after", (k) => finish("completed", k)),
      el("button", { type: "button", class: "secondary", id: "finish-no-rating", onclick: () => finish("completed", null) }, "Finish without a rating")));
  }

  async function start() {
    const body = Object.assign(planBody(), { nprs_before: painBefore });
    try {
      const res = await api("/api/care/sessions", body);
      if (player) clearInterval(player.timer);
      player = { sid: res.session_id, sets: res.sets, idx: 0, phase: "ready", remaining: GET_READY_S, restTotal: 0,
        paused: false, busy: false, last: performance.now(), logged: new Set(), timer: null };
      show("session-log");
      document.getElementById("player").dataset.session = String(res.session_id);
      beep(440, 0.05);  // the Start press unlocks audio in browsers that need a gesture first
      enter("ready", GET_READY_S);
      player.timer = setInterval(tick, 100);
    } catch (err) {
      if (err.status === 409 && err.data && err.data.detail && err.data.detail.plan) {
        show("player", el("p", { class: "error" }, err.message), reasons(err.data.detail.plan.reasons));
      } else fail("player", err);
    }
  }

  async function finish(status, after) {
    const p = player;
    if (!p || p.finishing) return;
    p.finishing = true;
    clearInterval(p.timer);
    p.phase = "end";
    try {
      const res = await api("/api/care/sessions/" + p.sid + "/finish", { status, nprs_after: after }, undefined,
        { "Idempotency-Key": key("finish", p.sid) });
      const done = res.steps_done, planned = p.sets.length;
      const pain = (res.nprs_before ?? "not given") + " → " + (res.nprs_after ?? "not given");
      show("player", el("p", { id: "session-summary", "data-status": res.status },
        res.status === "stopped" ? "Session stopped early: " + done + " of " + planned + " sets done, " + res.steps_skipped + " skipped. Pain " + pain + "."
          : "Session complete: " + done + " of " + planned + " sets done, " + res.steps_skipped + " skipped. Pain " + pain + "."));
      player = null;
      loadProgress();
    } catch (err) { p.finishing = false; fail("player", err); }
  }

  document.addEventListener("keydown", (ev) => {
    if (!player || player.phase === "end") return;
    const tag = (ev.target && ev.target.tagName) || "";
    if (["INPUT", "SELECT", "TEXTAREA"].includes(tag)) return;
    if (ev.code === "Space") { ev.preventDefault(); togglePause(); }
    else if (ev.key === "ArrowRight") { ev.preventDefault(); next(); }
    else if (ev.key === "ArrowLeft") { ev.preventDefault(); restartSet(); }
  });

  // ----------------------------------------------------------------------------- questionnaires
  function renderQuestionnaire() {
    const q = questionnaires[document.getElementById("outcome-measure").value];
    if (!q) return;
    show("outcome-items", el("p", { class: "muted" }, q.instructions),
      el("table", {}, el("tbody", {}, q.items.map((i) => el("tr", {}, el("td", {}, el("label", { for: "oq-" + i.id }, i.label)),
        el("td", {}, el("input", { id: "oq-" + i.id, "data-item": i.id, type: "number", min: i.low, max: i.high, step: "any", style: "width:6rem" })))))),
      el("p", { class: "muted" }, "Scoring: " + q.source + (q.mcid ? " · a change of " + q.mcid.value + " points matters (" + q.mcid.kind + ", " + q.mcid.source + ")" : "")));
  }

  async function scoreOutcome(ev) {
    ev.preventDefault();
    const measure = document.getElementById("outcome-measure").value, answers = {};
    for (const n of document.querySelectorAll("#outcome-items input[data-item]")) if (n.value.trim() !== "") answers[n.dataset.item] = Number(n.value);
    try {
      const res = await api("/api/care/outcomes/" + measure, { answers, log: true }, undefined,
        { "Idempotency-Key": key("outcome", measure, hash(JSON.stringify(answers))) });
      show("outcome-result", el("p", { id: "outcome-score" }, el("strong", {}, res.name + ": " + (res.score ?? "not scored")),
        " (" + (res.higher_is_better ? "higher is better" : "higher is worse") + ")"),
        Object.keys(res.subscales).length ? el("p", {}, Object.entries(res.subscales).map(([k, v]) => k + " " + (v ?? "–")).join(" · ")) : null,
        res.notes.map((n) => el("p", { class: "muted" }, "• " + n)));
      loadProgress();
    } catch (err) { fail("outcome-result", err); }
  }

  // ----------------------------------------------------------------------------- progress
  function chart(id, title, traces, yTitle) {
    const empty = !traces.some((t) => (t.y || []).some((v) => v !== null && v !== undefined));
    if (empty) {
      document.getElementById("progress-charts").appendChild(el("div", { id, class: "muted small" }, el("strong", {}, title), el("p", {}, "No data yet.")));
      return;
    }
    const node = el("div", { id, style: "height:260px;width:100%;min-width:0" });
    document.getElementById("progress-charts").appendChild(node);
    Plotly.newPlot(node, traces, { title: { text: title, font: { size: 13 } }, margin: { l: 45, r: 10, t: 35, b: 35 },
      xaxis: { type: "category", automargin: true }, yaxis: { title: { text: yTitle } }, showlegend: traces.length > 1, legend: { orientation: "h" } }, { displayModeBar: false, responsive: true });
  }

  function labels(times) {
    return times.map((t, k) => (k + 1) + " · " + new Date(t).toLocaleString("en-GB", { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" }));
  }

  // a shaded band of ± band around the first value: changes inside it may be noise
  function bandTraces(points, band, name, bandName) {
    if (!points.length) return [];
    const t = labels(points.map((p) => p.t)), base = points[0].value;
    const line = { x: t, y: points.map((p) => p.value), mode: "lines+markers", name };
    if (!band) return [line];
    return [{ x: t, y: t.map(() => base + band), mode: "lines", line: { width: 0 }, showlegend: false, hoverinfo: "skip" },
      { x: t, y: t.map(() => base - band), mode: "lines", line: { width: 0 }, fill: "tonexty", fillcolor: "rgba(120,120,160,0.15)",
        name: "±" + band + " " + bandName, hoverinfo: "skip" }, line];
  }

  async function loadProgress() {
    try {
      const res = await api("/api/care/progress");
      const a = res.adherence, by = res.sessions.by_status || {};
      const parts = Object.entries(by).map(([st, n]) => n + " " + st.replace("_", " "));
      show("progress-summary", el("span", { id: "progress-sessions" }, res.sessions.total
        ? "Sessions: " + res.sessions.total + " (" + parts.join(", ") + "), " + res.sessions.sets_done + " sets done"
        : "No sessions yet"),
        " · adherence " + (a.percent ?? "–") + " % of planned days · streak " + a.streak_days + " day(s)." +
        (res.clinician_review ? " Pain has risen 2+ points above your first session twice: book a clinician review." : ""));
      show("progress-charts");
      const s = res.series.sessions.filter((x) => x.nprs_before !== null || x.nprs_after !== null);
      const nprsBand = res.series.bands.nprs;
      const t = labels(s.map((x) => x.t));
      const base = s.length ? (s[0].nprs_before ?? s[0].nprs_after) : null;
      chart("chart-nprs", "Pain (NPRS) per session; the band is ±" + nprsBand + " (MCID) around your first score", [
        ...(base === null ? [] : [{ x: t, y: t.map(() => base + nprsBand), mode: "lines", line: { width: 0 }, showlegend: false, hoverinfo: "skip" },
          { x: t, y: t.map(() => base - nprsBand), mode: "lines", line: { width: 0 }, fill: "tonexty", fillcolor: "rgba(120,120,160,0.15)", name: "MCID band", hoverinfo: "skip" }]),
        { x: t, y: s.map((x) => x.nprs_before), mode: "lines+markers", name: "before" },
        { x: t, y: s.map((x) => x.nprs_after), mode: "lines+markers", name: "after" }], "0–10");
      chart("chart-sets", "Sets done per session", [{ type: "bar", x: labels(res.series.sessions.map((x) => x.t)),
        y: res.series.sessions.map((x) => x.steps_done), text: res.series.sessions.map((x) => x.status), name: "sets" }], "sets");
      const m = res.series.measures;
      for (const k of res.series.measure_kinds.filter((k) => k.kind !== "nprs")) {
        chart("chart-" + k.kind, k.label + (k.band ? " (band ±" + k.band + " " + k.band_kind + ")" : ""), bandTraces(m[k.kind] || [], k.band, k.label, k.band_kind), k.unit);
      }
      for (const [measure, points] of Object.entries(res.series.outcomes || {})) {
        const trend = res.outcomes[measure] || {}, q = questionnaires[measure];
        chart("chart-outcome-" + measure, (q ? q.name : measure) + (trend.mcid ? " (band ±" + trend.mcid.value + " " + trend.mcid.kind + ")" : " (no published MCID)"),
          bandTraces(points.filter((p) => p.value !== null), trend.mcid ? trend.mcid.value : null, measure, trend.mcid ? trend.mcid.kind : ""), "score");
      }
    } catch (err) { fail("progress-summary", err); }
  }

  async function addMeasure(ev) {
    ev.preventDefault();
    const status = document.getElementById("measure-status");
    const kind = document.getElementById("measure-kind").value, raw = document.getElementById("measure-value").value.trim();
    if (raw === "") { show(status, el("span", { class: "error" }, "Type a value first.")); return; }
    try {
      await api("/api/care/measures", { kind, value: Number(raw) }, undefined, { "Idempotency-Key": key("measure", kind, raw) });
      show(status, "saved");
      loadProgress();
    } catch (err) { fail(status, err); }
  }

  // ----------------------------------------------------------------------------- start-up
  async function loadForms() {
    items = await api("/api/care/screen/items");
    renderScreen();
    inputs = await api("/api/care/assess/inputs");
    show("assess-items", Object.entries(inputs).map(([name, spec]) => el("tr", {},
      el("td", {}, el("label", { for: "in-" + name }, spec.question)),
      el("td", {}, spec.type === "bool"
        ? el("select", { id: "in-" + name }, el("option", { value: "" }, "—"), el("option", { value: "yes" }, "yes"), el("option", { value: "no" }, "no"))
        : el("input", { id: "in-" + name, type: spec.type === "angle" ? "number" : "text", step: "1", style: "width:8rem",
          placeholder: spec.type === "psfs" ? "e.g. 6, 7, 5" : "degrees" })))));
    ratingButtons("nprs-before", (k) => { painBefore = k; });
    show("release-notice", releaseNotice(await api("/api/care/release-notice")));
    measureKinds = await api("/api/care/measures/kinds");
    show("measure-kind", measureKinds.map((k) => el("option", { value: k.kind }, k.label + " (" + k.unit + ", " + k.low + " to " + k.high + ")")));
    const outs = await api("/api/care/outcomes");
    questionnaires = Object.fromEntries(outs.measures.map((q) => [q.id, q]));
    show("outcome-measure", outs.measures.map((q) => el("option", { value: q.id }, q.name)));
    renderQuestionnaire();
  }

  document.addEventListener("DOMContentLoaded", async () => {
    // listeners first: a button pressed while the forms are still loading must never submit the page natively
    document.getElementById("screen-form").addEventListener("submit", checkScreen);
    document.getElementById("assess-form").addEventListener("submit", assess);
    document.getElementById("plan-btn").addEventListener("click", buildPlan);
    document.getElementById("pdf-btn").addEventListener("click", downloadPdf);
    document.getElementById("session-start").addEventListener("click", start);
    document.getElementById("measure-form").addEventListener("submit", addMeasure);
    document.getElementById("outcome-form").addEventListener("submit", scoreOutcome);
    document.getElementById("outcome-measure").addEventListener("change", renderQuestionnaire);
    try { await loadForms(); } catch (err) { fail("screen-items", err); return; }
    document.body.dataset.careReady = "1";
    loadProgress();
  });
})();
