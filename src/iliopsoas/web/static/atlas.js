// Atlas page: search and browse structures. A structure's page: key facts, contents, a 3-D "where is it"
// view in our model, facts in sections with their status, sources as author-year linked to full citations,
// conflicts between sources; a quiz mode (flash cards scheduled by FSRS, progress in the local database).
"use strict";
(function () {
  const { api, el, show, fail, badge } = window.ilio;
  const KINDS = ["muscle", "muscle_group", "tendon", "fascia", "ligament", "bursa", "bone", "bony_landmark", "joint",
    "nerve", "nerve_plexus", "vessel", "organ"];
  const SECTIONS = [
    ["attachments", "Attachments", ["origin", "insertion"]],
    ["actions", "Actions and roles", ["action", "function", "antagonist_of", "synergist_of"]],
    ["supply", "Nerve and blood supply", ["innervation", "blood_supply"]],
    ["position", "Position and neighbours", ["crosses_joint", "part_of", "located_in", "adjacent_to", "fascial_connection"]],
    ["properties", "Properties and variants", ["property", "variant", "lay_term"]],
    ["clinical", "Clinical", ["associated_condition", "intervention"]],
  ];
  const KEY = [["origin", "Origin"], ["insertion", "Insertion"], ["innervation", "Nerve"], ["action", "Action"]];
  const words = (s) => s.replace(/_/g, " ");

  function listEntities(items, withScore) {
    show("atlas-results", items.length ? items.map((e) => el("li", {},
      el("a", { href: "#" + e.id, "data-id": e.id, class: "entity-link" }, el("strong", {}, e.name)), " ",
      el("span", { class: "small muted" }, words(e.kind)),
      withScore ? el("span", { class: "small muted" }, " · " + e.score) : null)) : [el("li", { class: "muted" }, "Nothing found.")]);
  }

  function sourceList(f) {
    return f.sources.map((s, i) => [i ? "; " : "", el("a", { href: "#src-" + s.source, title: s.title || s.source,
      onclick: (ev) => { ev.preventDefault(); const t = document.getElementById("src-" + s.source); if (t) t.scrollIntoView({ block: "center" }); } },
    s.short || s.source), s.locator ? " (" + s.locator + ")" : ""]);
  }

  // statement id -> ids of the conflicts whose every side accepts it (shared ground, not a disagreement)
  let agreedIn = {};
  function noteAgreed(conflicts) {
    agreedIn = {};
    for (const c of conflicts) for (const id of c.agreed) (agreedIn[id] = agreedIn[id] || []).push(c.id);
  }

  // A fact in conflict shows the conflict badge instead of its status: never "consistent" beside a conflict.
  function statusCell(f) {
    const shared = agreedIn[f.id] || [];
    const disputed = f.conflicts.filter((k) => !shared.includes(k));
    if (disputed.length) {
      return [el("span", { class: "badge conflict", title: "sources disagree: see " + disputed.join(", ") }, "⚠ conflict " + disputed.join(", ")),
        f.status !== "consistent" ? [" ", badge(f.status)] : null];
    }
    return [badge(f.status), shared.length ? el("span", { class: "small muted" }, " agreed by all sides of " + shared.join(", ")) : null];
  }

  function qualText(f) {
    return Object.entries(f.qualifiers || {}).map(([k, v]) => words(k) + ": " +
      (Array.isArray(v) ? v.join(", ") : (typeof v === "object" ? JSON.stringify(v) : v))).join("; ");
  }

  function factRow(f, subjectFirst) {
    const qual = qualText(f);
    return el("tr", { "data-statement": f.id },
      el("td", { "data-label": "what" }, subjectFirst ? f.subject_name + " — " : "", words(f.predicate)),
      el("td", { "data-label": "fact" }, f.object ? el("a", { href: "#" + f.object }, f.text) : f.text,
        qual ? el("div", { class: "small muted" }, qual) : null,
        f.note ? el("div", { class: "small muted" }, f.note) : null),
      el("td", { "data-label": "status" }, statusCell(f)),
      el("td", { "data-label": "sources", class: "small" }, sourceList(f)));
  }

  function factTable(facts, subjectFirst) {
    return el("table", { class: "facts" }, el("thead", {}, el("tr", {}, el("th", {}, "what"), el("th", {}, "fact"),
      el("th", {}, "status"), el("th", {}, "sources"))), el("tbody", {}, facts.map((f) => factRow(f, subjectFirst))));
  }

  function conflictBlock(c, open) {
    const byId = Object.fromEntries(c.statements.map((f) => [f.id, f]));
    const pick = (ids) => ids.filter((id) => byId[id]).map((id) => byId[id]);
    const others = c.positions.length - 1;
    const sides = c.positions.map((p) => el("div", { class: "position", "data-position": p.id },
      el("h4", {}, "Side: " + p.label,
        p.opposes.length < others ? el("span", { class: "small muted" }, " · against: " +
          p.opposes.map((o) => c.positions.find((q) => q.id === o).label).join("; ")) : null),
      factTable(pick(p.statements), true)));
    const agreed = c.agreed.length ? el("div", { class: "position agreed" }, el("h4", {}, "Agreed by every side"),
      factTable(pick(c.agreed), true)) : null;
    return el("details", { class: "conflict", "data-conflict": c.id, open },
      el("summary", {}, el("span", { class: "badge conflict" }, "⚠ " + c.id), " " + c.title,
        el("span", { class: "small muted" }, " · " + c.positions.length + " sides, " + c.statements.length + " statements")),
      sides, agreed, el("p", { class: "small" }, el("strong", {}, "How we read it: "), c.resolution));
  }

  function keyFacts(e) {
    const cells = KEY.map(([pred, label]) => {
      const fs = e.facts.filter((f) => f.predicate === pred && f.status !== "contradicted");
      if (!fs.length) return null;
      const best = fs.filter((f) => f.status === "consistent").concat(fs.filter((f) => f.status !== "consistent"));
      const shown = [...new Map(best.map((f) => [f.text, f])).values()].slice(0, 3);
      return el("div", { class: "key-fact" }, el("div", { class: "key-label" }, label),
        shown.map((f) => el("div", {}, f.text, " ", statusCell(f))));
    }).filter(Boolean);
    return cells.length ? el("section", { class: "key-facts", id: "key-facts", "aria-label": "key facts" }, cells) : null;
  }

  function section(id, title, body) { return el("section", { id: "sec-" + id, class: "atlas-section" }, el("h3", {}, title), body); }

  async function whereView(e, box) {
    try {
      const w = await api("/api/atlas/entities/" + encodeURIComponent(e.id) + "/where");
      if (!w.in_model) { show(box, el("p", { class: "muted small" }, "Not part of our model (it has bones, joints and muscles of the lumbar spine, pelvis and legs).")); return; }
      const P = (v) => [v[2], v[0], v[1]];
      const hot = new Set(w.bodies);
      const traces = w.meshes.map((m) => {
        const v = m.vertices.map(P);
        return { type: "mesh3d", x: v.map((p) => p[0]), y: v.map((p) => p[1]), z: v.map((p) => p[2]),
          i: m.faces.map((f) => f[0]), j: m.faces.map((f) => f[1]), k: m.faces.map((f) => f[2]), flatshading: true,
          color: hot.has(m.body) ? "#d35400" : "#e9dcc3", opacity: hot.has(m.body) ? 1 : 0.45, hoverinfo: "skip", showlegend: false };
      });
      const seg = (list, color, width) => {
        const x = [], y = [], z = [];
        for (const s of list) { for (const v of [s.from, s.to]) { const p = P(v); x.push(p[0]); y.push(p[1]); z.push(p[2]); } x.push(null); y.push(null); z.push(null); }
        return { type: "scatter3d", mode: "lines", x, y, z, line: { color, width }, hoverinfo: "skip", showlegend: false };
      };
      const meshBodies = new Set(w.meshes.map((m) => m.body));
      traces.push(seg(w.segments.filter((s) => !meshBodies.has(s.body) && !hot.has(s.body)), "#a89f8c", 5));
      traces.push(seg(w.segments.filter((s) => !meshBodies.has(s.body) && hot.has(s.body)), "#d35400", 9));
      for (const m of w.muscles) traces.push(seg(m.points.slice(1).map((p, i) => ({ from: m.points[i], to: p })), "#c0392b", 6));
      const jp = Object.values(w.joint_points).map(P);
      if (jp.length) traces.push({ type: "scatter3d", mode: "markers", x: jp.map((p) => p[0]), y: jp.map((p) => p[1]), z: jp.map((p) => p[2]),
        marker: { size: 9, color: "#d35400" }, hoverinfo: "skip", showlegend: false });
      const plot = el("div", { id: "where-plot", role: "region", "aria-label": e.name + " highlighted in the model" });
      show(box, plot, el("p", { class: "small muted" }, "Our lumbopelvic model seen from the front-right; " + e.name +
        " in orange/red. Drag to turn."));
      Plotly.newPlot(plot, traces, { margin: { l: 0, r: 0, t: 0, b: 0 }, scene: { aspectmode: "data",
        camera: { eye: { x: 1.1, y: 1.9, z: 0.2 } }, xaxis: { visible: false }, yaxis: { visible: false }, zaxis: { visible: false } } },
      { displaylogo: false, responsive: true });
    } catch (err) { fail(box, err); }
  }

  async function showEntity(name) {
    const box = document.getElementById("entity");
    show(box, el("p", { class: "muted" }, "Loading…"));
    try {
      const e = await api("/api/atlas/entities/" + encodeURIComponent(name));
      noteAgreed(e.conflicts);
      for (const a of document.querySelectorAll("#atlas-results a.entity-link")) a.classList.toggle("active", a.dataset.id === e.id);
      const used = new Set();
      const sections = SECTIONS.map(([id, title, preds]) => {
        const fs = e.facts.filter((f) => preds.includes(f.predicate));
        fs.forEach((f) => used.add(f.id));
        return fs.length ? [id, title, factTable(fs, false)] : null;
      }).filter(Boolean);
      const rest = e.facts.filter((f) => !used.has(f.id));
      if (rest.length) sections.push(["other", "Other facts", factTable(rest, false)]);
      if (e.conflicts.length) sections.push(["conflicts", "Conflicts between sources (" + e.conflicts.length + ")", e.conflicts.map((c) => conflictBlock(c))]);
      if (e.mentioned_by.length) sections.push(["mentioned", "Mentioned in other structures' facts (" + e.mentioned_by.length + ")",
        el("details", {}, el("summary", {}, "Show " + e.mentioned_by.length + " facts"), factTable(e.mentioned_by, true))]);
      const sources = Object.values(e.sources);
      sections.push(["sources", "Sources (" + sources.length + ")", el("ol", { class: "small sources", id: "entity-sources" },
        sources.map((s) => el("li", { id: "src-" + s.id }, s.cite || s.title, s.form ? el("span", { class: "muted" }, " [" + s.form + "]") : null,
          s.link && !(s.cite || "").includes(s.link) ? [" ", el("a", { href: s.link, rel: "noopener" }, s.link)] : null,
          el("span", { class: "muted" }, " · " + s.id))))]);
      const where = el("div", { id: "where", class: "where" }, el("p", { class: "muted small" }, "Loading the model…"));
      show(box,
        el("h2", { id: "entity-name" }, e.name), e.latin ? el("div", { class: "muted" }, el("em", {}, e.latin)) : null,
        el("p", { class: "small muted" }, words(e.kind), e.synonyms.length ? " · also: " + e.synonyms.join(", ") : ""),
        e.summary ? el("p", {}, e.summary) : null,
        keyFacts(e),
        el("nav", { class: "toc", "aria-label": "contents" }, el("strong", {}, "Contents: "),
          [["where", "Where is it"]].concat(sections.map(([id, title]) => [id, title])).map(([id, title], i) =>
            [i ? " · " : "", el("a", { href: "#" + e.id, onclick: (ev) => { ev.preventDefault(); document.getElementById("sec-" + id).scrollIntoView(); } }, title)])),
        section("where", "Where is it", where),
        sections.map(([id, title, body]) => section(id, title, body)),
        el("p", {}, el("button", { type: "button", class: "secondary", onclick: () => showQuiz(e.id) }, "Quiz me on " + e.name)));
      whereView(e, where);
    } catch (err) { fail(box, err); }
  }

  async function showConflicts() {
    const box = document.getElementById("entity");
    try {
      const cs = await api("/api/atlas/conflicts");
      noteAgreed(cs);
      show(box, el("h2", {}, "Conflicts between sources (" + cs.length + ")"),
        el("p", { class: "small muted" }, "Disagreeing statements are all kept and marked, never silently merged."),
        cs.map((c) => conflictBlock(c, true)));
    } catch (err) { fail(box, err); }
  }

  // Quiz: one card at a time; the answer shows the statement, its status and sources; rate it 1-4 (keys too).
  async function showQuiz(entity, data) {
    const box = document.getElementById("entity");
    try {
      const q = data || await api("/api/atlas/quiz" + (entity ? "?entity=" + encodeURIComponent(entity) : ""));
      const stats = el("p", { class: "small muted", id: "quiz-stats" }, q.stats.cards + " cards · " + q.stats.studied + " studied · " +
        q.stats.due + " due now · " + q.stats.new + " new. Progress is kept on this computer.");
      if (!q.card) { show(box, el("h2", {}, "Quiz"), stats, el("p", {}, "Nothing is due. Come back later.")); return; }
      const c = q.card;
      const rate = async (rating) => {
        try { showQuiz(entity, await api("/api/atlas/quiz/review", { statement_id: c.statement_id, rating, entity: entity || null })); }
        catch (err) { fail("quiz-answer", err); }
      };
      const answer = el("div", { id: "quiz-answer", hidden: true },
        el("p", { class: "answer" }, el("strong", {}, c.answer)), c.detail ? el("p", { class: "small muted" }, c.detail) : null,
        el("p", { class: "small" }, badge(c.status), " · sources: " + c.sources.join("; ")),
        el("div", { class: "row", role: "group", "aria-label": "how well did you know it" },
          [[1, "Again"], [2, "Hard"], [3, "Good"], [4, "Easy"]].map(([r, label]) =>
            el("button", { type: "button", class: r === 3 ? "" : "secondary", "data-rating": r, onclick: () => rate(r) }, r + " " + label))));
      const reveal = el("button", { type: "button", id: "quiz-reveal", onclick: () => { answer.hidden = false; reveal.hidden = true; answer.querySelector("button[data-rating='3']").focus(); } }, "Show answer");
      show(box, el("h2", {}, "Quiz" + (entity ? ": " + c.subject : ": the hip flexors")), stats,
        el("div", { class: "quiz-card", "data-statement": c.statement_id }, el("p", { class: "quiz-prompt", id: "quiz-prompt" }, c.prompt), reveal, answer));
      reveal.focus();
    } catch (err) { fail(box, err); }
  }

  async function browse(kind) {
    try { listEntities(await api("/api/atlas/entities" + (kind ? "?kind=" + encodeURIComponent(kind) : "")), false); }
    catch (err) { fail("atlas-results", err); }
  }

  document.addEventListener("keydown", (ev) => {
    const answer = document.getElementById("quiz-answer");
    if (!answer || answer.hidden || ev.target.tagName === "INPUT" || ev.target.tagName === "TEXTAREA") return;
    const b = answer.querySelector("button[data-rating='" + ev.key + "']");
    if (b) b.click();
  });

  document.addEventListener("DOMContentLoaded", () => {
    const sel = document.getElementById("atlas-kind");
    for (const k of KINDS) sel.appendChild(el("option", { value: k }, words(k)));
    sel.addEventListener("change", () => browse(sel.value));
    document.getElementById("atlas-search").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const q = document.getElementById("atlas-q").value.trim();
      if (!q) return browse(sel.value);
      try {
        const hits = await api("/api/atlas/search?q=" + encodeURIComponent(q) + "&limit=20");
        listEntities(hits, true);
        if (hits.length) location.hash = hits[0].id;
      } catch (err) { fail("atlas-results", err); }
    });
    document.getElementById("show-conflicts").addEventListener("click", () => { location.hash = "conflicts"; });
    document.getElementById("show-quiz").addEventListener("click", () => { location.hash = "quiz"; });
    const route = () => {
      const h = decodeURIComponent(location.hash.slice(1));
      if (h === "conflicts") showConflicts(); else if (h === "quiz") showQuiz(null); else showEntity(h || "psoas-major");
    };
    window.addEventListener("hashchange", route);
    browse("");
    route();
  });
})();
