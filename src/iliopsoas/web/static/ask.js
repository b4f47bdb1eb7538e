// Ask page: a question box; the short answer first, a few cited facts, and the full evidence behind "More".
"use strict";
(function () {
  const { api, el, show, fail, badge } = window.ilio;
  const EXAMPLES = ["What nerve supplies the iliacus?", "How long should I hold a hip flexor stretch?",
    "Does everyone have a psoas minor?", "How do I do the Thomas test?", "Can I massage my psoas if I'm pregnant?"];
  const HEADINGS = { answer: "Answer", refusal: "Not in my sources", safety: "Safety first" };

  // The answer text: paragraphs split by blank lines, "- " lines as a list, "Urgent:" set apart.
  // Built from text nodes only (el), so nothing in the answer is ever read as HTML.
  function answerBody(text) {
    const blocks = [];  // {list: [lines]} or {para: line}
    for (const raw of text.split("\n")) {
      const line = raw.trim();
      if (!line) continue;
      const last = blocks[blocks.length - 1];
      if (line.startsWith("- ")) {
        if (last && last.list) last.list.push(line.slice(2));
        else blocks.push({ list: [line.slice(2)] });
      } else {
        blocks.push({ para: line });
      }
    }
    return blocks.map((b, i) => b.list
      ? el("ul", {}, b.list.map((t) => el("li", {}, t)))
      : el("p", { class: b.para.startsWith("Urgent:") ? "urgent" : (i === 0 ? "lead" : null) }, b.para));
  }

  function sourceItem(s) {
    const text = s.citation || s.title;
    return el("li", {}, el("strong", {}, s.id), " \u2014 ", text.replace(s.link || "\u0000", "").trim(), " ",
      s.link ? el("a", { href: s.link, rel: "noopener noreferrer", target: "_blank" }, s.link) : null);
  }

  function evidence(a) {
    const parts = [];
    if (a.more) parts.push(el("div", { class: "evidence small", id: "answer-evidence" }, answerBody(a.more)));
    if (a.statements.length) {
      parts.push(el("h3", {}, "Statements used (" + a.statements.length + ")"),
        el("table", { id: "facts-used" }, el("thead", {}, el("tr", {}, el("th", {}, "statement"), el("th", {}, "status"),
          el("th", {}, "sources"))), el("tbody", {}, a.statements.map((s) => el("tr", {},
          el("td", {}, el("a", { href: "/atlas#" + encodeURIComponent(s.subject) }, s.subject), " \u00b7 ",
            s.predicate.replace("_", " "), s.object ? " \u00b7 " + s.object : "", el("div", { class: "small muted" }, s.id)),
          el("td", {}, badge(s.status)), el("td", { class: "small" }, s.sources.join(", ")))))));
    }
    if (a.sources.length) parts.push(el("h3", {}, "Sources"), el("ul", { id: "answer-sources", class: "small" }, a.sources.map(sourceItem)));
    return parts.length ? el("details", { id: "answer-more" }, el("summary", {}, "More: the full evidence"), parts) : null;
  }

  async function ask(question) {
    const box = document.getElementById("answer-box");
    show(box, el("p", { class: "muted" }, "Thinking\u2026"));
    try {
      const a = await api("/api/ask", { question });
      show(box, el("div", { class: "card" + (a.urgent ? " urgent-card" : ""), id: "answer", "data-kind": a.kind },
        el("h2", {}, HEADINGS[a.kind] || "Answer"),
        el("div", { class: "answer", id: "answer-text" }, answerBody(a.answer)),
        el("p", { class: "small muted" }, a.kind === "answer" ? "Confidence " + a.confidence.toFixed(2) : "",
          a.safety.length ? " Safety items: " + a.safety.join(", ") : ""),
        evidence(a)));
    } catch (err) { fail(box, err); }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const q = document.getElementById("question");
    document.getElementById("ask-form").addEventListener("submit", (ev) => { ev.preventDefault(); ask(q.value); });
    show("examples", EXAMPLES.map((t) => el("button", { type: "button", class: "secondary", onclick: () => { q.value = t; ask(t); } }, t)));
    const pre = new URLSearchParams(location.search).get("q");
    if (pre) { q.value = pre; ask(pre); }
  });
})();
