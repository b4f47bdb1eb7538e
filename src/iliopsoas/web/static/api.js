// API page: the operations of /openapi.json as a table (no Swagger UI: its assets live on another site).
"use strict";
(function () {
  const { api, el, show, fail } = window.ilio;
  document.addEventListener("DOMContentLoaded", async () => {
    try {
      const doc = await api("/openapi.json");
      const rows = [];
      for (const [path, ops] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(ops)) {
          rows.push(el("tr", {}, el("td", {}, el("code", {}, method.toUpperCase())), el("td", {}, el("code", {}, path)),
            el("td", {}, op.summary || "", op.description ? el("div", { class: "small muted" }, op.description.replace(/``/g, "")) : null)));
        }
      }
      show("api-ops", rows);
    } catch (err) { fail("api-ops", err); }
  });
})();
