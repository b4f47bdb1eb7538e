// Population page: choose a stored run, show its statistics, sensitivity and figures.
"use strict";
(function () {
  const { api, el } = window.ilio;
  const $ = (id) => document.getElementById(id);
  const fmt = (v) => (v === null || v === undefined) ? "–" : (typeof v === "number" ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3)) : String(v));
  const ci = (c) => c ? "[" + fmt(c[0]) + ", " + fmt(c[1]) + "]" : "–";

  // On narrow screens the CSS stacks each row; data-label names the column beside each value.
  function table(node, head, rows) {
    node.replaceChildren(el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, ...rows.map((r) => el("tr", {}, ...r.map((c, i) => el("td", { "data-label": head[i] }, c))))));
  }

  async function show(name) {
    $("pop-status").textContent = "loading " + name + "…";
    try {
      const r = await api("/api/population/runs/" + encodeURIComponent(name));
      const conv = Object.entries(r.converged).map(([k, v]) => k + " " + (100 * v).toFixed(1) + " %").join(", ");
      $("pop-status").textContent = r.n_people + " simulated people, seed " + r.seed + ", " + r.sampler +
        " sample; converged: " + conv + (r.incidence_limited !== null ? "; pelvic incidence limited to ±4° for " +
        (100 * r.incidence_limited).toFixed(0) + " %" : "") + (r.seconds ? "; solved in " + r.seconds.toFixed(0) + " s" : "");
      table($("pop-stats"), ["Statistic", "Model population", "95 % CI", "n", "Published", "Citation"],
        r.statistics.map((s) => [s.name, fmt(s.model), ci(s.ci), String(s.n), fmt(s.published), s.citation]));
      // one row per outcome: its sources from the largest index down (not expressed: listed last)
      table($("pop-sens"), ["Outcome", "Sources, largest share first"],
        Object.entries(r.sensitivity).map(([o, row]) => {
          const ranked = Object.entries(row).sort((a, b) => (b[1] ?? -9) - (a[1] ?? -9));
          return [o, ranked.map(([s, v]) => s.replace(/_/g, " ") + " " + fmt(v)).join(" · ")];
        }));
      table($("pop-sources"), ["Source", "Parameter", "Expressed by the model", "Citation"],
        r.sources.map((s) => [s.name, s.parameter + (s.target ? " (" + s.target + ")" : ""), s.expressed ? "yes: " + s.how : s.how, s.citation]));
      $("pop-figures").replaceChildren(...r.figures.map((src) => {
        const label = src.split("/").pop().replace(".png", "");
        return el("figure", { class: "pop-figure-box" }, el("a", { href: src, title: "open the full-size figure" },
          el("img", { src, alt: "Population " + label + " of run " + name, class: "pop-figure" })),
          el("figcaption", { class: "small muted" }, label));
      }));
    } catch (e) {
      $("pop-status").textContent = e.message;
    }
  }

  async function start() {
    try {
      const data = await api("/api/population/runs");
      const sel = $("pop-run");
      if (!data.runs.length) {
        sel.replaceChildren(el("option", {}, "no stored runs"));
        sel.disabled = true;
        $("pop-status").textContent = "No finished runs in " + data.folder + ". Run one with: iliopsoas population run SPEC --people N --out " + data.folder + "/NAME";
        return;
      }
      sel.replaceChildren(...data.runs.map((r) => el("option", { value: r.name }, r.name + " — " + r.spec + ", " + r.n_people + " people, seed " + r.seed)));
      sel.addEventListener("change", () => show(sel.value));
      show(data.runs[0].name);
    } catch (e) {
      $("pop-status").textContent = e.message;
    }
  }
  start();
})();
