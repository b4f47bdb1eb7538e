// Atlas page: search and browse structures; each fact with its sources, status and conflicts.
"use strict";
(function () {
  const { api, el, show, fail, badge } = window.ilio;
  const KINDS = ["muscle", "muscle_group", "tendon", "fascia", "ligament", "bursa", "bone", "bony_landmark", "joint",
    "nerve", "nerve_plexus", "vessel", "organ"];

  function listEntities(items, withScore) {
    const ul = show("atlas-results", items.length ? items.map((e) => el("li", {
      "data-id": e.id, onclick: () => { location.hash = e.id; },
    }, el("strong", {}, e.name), " ", el("span", { class: "small muted" }, e.kind.replace("_", " ")),
    withScore ? el("span", { class: "small muted" }, " · " + e.score) : null)) : [el("li", { class: "muted" }, "Nothing found.")]);
    return ul;
  }

  function sourceList(f, sources) {
    return f.sources.map((s, i) => {
      const info = sources[s.source];
      const title = (info ? info.title : s.title || s.source) + (s.locator ? " — " + s.locator : "");
      return [i ? ", " : "", el("abbr", { title }, s.source)];
    });
  }

  // statement id -> ids of the conflicts whose every side accepts it (shared ground, not a disagreement)
  let agreedIn = {};
  function noteAgreed(conflicts) {
    agreedIn = {};
    for (const c of conflicts) for (const id of c.agreed) (agreedIn[id] = agreedIn[id] || []).push(c.id);
  }

  function factRow(f, sources, subjectFirst) {
    const shared = agreedIn[f.id] || [];
    const disputed = f.conflicts.filter((k) => !shared.includes(k));
    const warn = disputed.length ? el("span", { class: "badge conflict", title: "in conflict " + disputed.join(", ") },
      "⚠ " + disputed.join(", ")) : null;
    const agreed = shared.length ? el("span", { class: "small muted" }, " agreed by all sides of " + shared.join(", ")) : null;
    const qual = Object.entries(f.qualifiers || {}).map(([k, v]) => k.replace("_", " ") + ": " + (Array.isArray(v) ? v.join(", ") : (typeof v === "object" ? JSON.stringify(v) : v))).join("; ");
    return el("tr", { "data-statement": f.id },
      el("td", {}, subjectFirst ? f.subject_name + " — " : "", f.predicate.replace("_", " ")),
      el("td", {}, f.object ? el("a", { href: "#" + f.object }, f.text) : f.text,
        qual ? el("div", { class: "small muted" }, qual) : null,
        f.note ? el("div", { class: "small muted" }, f.note) : null),
      el("td", {}, badge(f.status), " ", warn, agreed),
      el("td", { class: "small" }, sourceList(f, sources)));
  }

  function factTable(facts, sources, subjectFirst) {
    return el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "what"), el("th", {}, "fact"), el("th", {}, "status"),
      el("th", {}, "sources"))), el("tbody", {}, facts.map((f) => factRow(f, sources, subjectFirst))));
  }

  // One table per side of the conflict (statements only conflict across opposed sides), then the shared ground.
  function conflictBlock(c, sources, open) {
    const byId = Object.fromEntries(c.statements.map((f) => [f.id, f]));
    const pick = (ids) => ids.filter((id) => byId[id]).map((id) => byId[id]);
    const others = c.positions.length - 1;
    const sides = c.positions.map((p) => el("div", { class: "position", "data-position": p.id },
      el("h4", {}, "Side: " + p.label,
        p.opposes.length < others ? el("span", { class: "small muted" }, " · against: " +
          p.opposes.map((o) => c.positions.find((q) => q.id === o).label).join("; ")) : null),
      factTable(pick(p.statements), sources, true)));
    const agreed = c.agreed.length ? el("div", { class: "position agreed" }, el("h4", {}, "Agreed by every side"),
      factTable(pick(c.agreed), sources, true)) : null;
    return el("details", { class: "conflict", "data-conflict": c.id, open },
      el("summary", {}, el("span", { class: "badge conflict" }, "⚠ " + c.id), " " + c.title,
        el("span", { class: "small muted" }, " · " + c.positions.length + " sides, " + c.statements.length + " statements")),
      sides, agreed,
      el("p", { class: "small" }, el("strong", {}, "How we read it: "), c.resolution));
  }

  async function showEntity(name) {
    const box = document.getElementById("entity");
    show(box, el("p", { class: "muted" }, "Loading…"));
    try {
      const e = await api("/api/atlas/entities/" + encodeURIComponent(name));
      noteAgreed(e.conflicts);
      for (const li of document.querySelectorAll("#atlas-results li")) li.classList.toggle("active", li.dataset.id === e.id);
      show(box,
        el("h2", { id: "entity-name" }, e.name), e.latin ? el("div", { class: "muted" }, el("em", {}, e.latin)) : null,
        el("p", { class: "small muted" }, e.kind.replace("_", " "), e.synonyms.length ? " · also: " + e.synonyms.join(", ") : ""),
        e.summary ? el("p", {}, e.summary) : null,
        e.conflicts.length ? [el("h3", {}, "Conflicts between sources (" + e.conflicts.length + ")"),
          e.conflicts.map((c) => conflictBlock(c, e.sources))] : null,
        el("h3", {}, "Facts (" + e.facts.length + ")"),
        e.facts.length ? factTable(e.facts, e.sources, false) : el("p", { class: "muted" }, "No facts recorded."),
        e.mentioned_by.length ? el("details", {}, el("summary", {}, el("strong", {}, "Mentioned in other structures' facts (" +
          e.mentioned_by.length + ")")), factTable(e.mentioned_by, e.sources, true)) : null,
        el("h3", {}, "Sources (" + Object.keys(e.sources).length + ")"),
        el("ul", { class: "small", id: "entity-sources" }, Object.values(e.sources).map((s) => el("li", {}, el("strong", {}, s.id), " — ", s.title,
          s.year ? " (" + s.year + ")" : ""))));
    } catch (err) { fail(box, err); }
  }

  async function showConflicts() {
    const box = document.getElementById("entity");
    try {
      const cs = await api("/api/atlas/conflicts");
      noteAgreed(cs);
      show(box, el("h2", {}, "Conflicts between sources (" + cs.length + ")"),
        el("p", { class: "small muted" }, "Disagreeing statements are all kept and marked, never silently merged."),
        cs.map((c) => conflictBlock(c, {}, true)));
    } catch (err) { fail(box, err); }
  }

  async function browse(kind) {
    try { listEntities(await api("/api/atlas/entities" + (kind ? "?kind=" + encodeURIComponent(kind) : "")), false); }
    catch (err) { fail("atlas-results", err); }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const sel = document.getElementById("atlas-kind");
    for (const k of KINDS) sel.appendChild(el("option", { value: k }, k.replace("_", " ")));
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
    const route = () => {
      const h = decodeURIComponent(location.hash.slice(1));
      if (h === "conflicts") showConflicts(); else showEntity(h || "psoas-major");
    };
    window.addEventListener("hashchange", route);
    browse("");
    route();
  });
})();
