// Ask page: a question box; the answer with the statements used and their sources.
"use strict";
(function () {
  const { api, el, show, fail, badge } = window.ilio;
  const EXAMPLES = ["What nerve supplies the iliacus?", "Where does the psoas major attach?",
    "Does a tight psoas cause low back pain?", "How common is the psoas minor?"];

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
    return blocks.map((b) => b.list
      ? el("ul", {}, b.list.map((t) => el("li", {}, t)))
      : el("p", { class: b.para.startsWith("Urgent:") ? "urgent" : null }, b.para));
  }

  async function ask(question) {
    const box = document.getElementById("answer-box");
    show(box, el("p", { class: "muted" }, "Thinking…"));
    try {
      const a = await api("/api/ask", { question });
      show(box, el("div", { class: "card", id: "answer" },
        el("h2", {}, a.answered ? "Answer" : "Not in my sources"),
        el("div", { class: "answer", id: "answer-text" }, answerBody(a.answer)),
        el("p", { class: "small muted" }, "Confidence " + a.confidence.toFixed(2)),
        a.statements.length ? [el("h3", {}, "Facts used (" + a.statements.length + ")"),
          el("table", { id: "facts-used" }, el("thead", {}, el("tr", {}, el("th", {}, "statement"), el("th", {}, "status"),
            el("th", {}, "sources"))), el("tbody", {}, a.statements.map((s) => el("tr", {},
            el("td", {}, el("a", { href: "/atlas#" + encodeURIComponent(s.subject) }, s.subject), " · ", s.predicate.replace("_", " "),
              s.object ? " · " + s.object : "", el("div", { class: "small muted" }, s.id)),
            el("td", {}, badge(s.status)), el("td", { class: "small" }, s.sources.join(", ")))))) ] : null,
        a.sources.length ? [el("h3", {}, "Sources"), el("ul", { id: "answer-sources", class: "small" },
          a.sources.map((s) => el("li", {}, el("strong", {}, s.id), " — ", s.title)))] : null));
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
