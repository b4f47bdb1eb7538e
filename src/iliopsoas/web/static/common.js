// Shared by every page: the API token, JSON requests with readable errors, small DOM helpers.
"use strict";
(function () {
  const KEY = "iliopsoas-token";
  const params = new URLSearchParams(location.search);
  if (params.get("token")) sessionStorage.setItem(KEY, params.get("token"));

  function headers(extra) {
    const h = Object.assign({}, extra || {});
    const t = sessionStorage.getItem(KEY);
    if (t) h["Authorization"] = "Bearer " + t;
    return h;
  }

  function errorText(status, data) {
    if (data && typeof data.message === "string") return data.message;
    if (data && typeof data.detail === "string") return data.detail;
    if (data && data.detail && typeof data.detail.message === "string") return data.detail.message;
    return "request failed (HTTP " + status + ")";
  }

  // extra: more request headers, e.g. {"Idempotency-Key": k} so a repeated write is done once
  async function api(path, body, method, extra) {
    const opts = { method: method || (body === undefined ? "GET" : "POST"), headers: headers(extra) };
    if (body !== undefined) { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
    let resp = await fetch(path, opts);
    // A busy answer (503/429 with Retry-After: too many solves at once) is retried a few times, after
    // the wait the server asks for; nothing was done for it, so repeating the request is safe.
    // A long Retry-After (a full disk, a damaged log) is shown at once instead.
    const busy = (r) => (r.status === 503 || r.status === 429) && r.headers.get("retry-after") !== null &&
      Number(r.headers.get("retry-after")) <= 5;
    for (let tries = 0; busy(resp) && tries < 5; tries++) {
      const wait = Math.max(0.2, Number(resp.headers.get("retry-after")));
      await new Promise((done) => setTimeout(done, wait * 1000));
      resp = await fetch(path, opts);
    }
    const type = resp.headers.get("content-type") || "";
    const data = type.includes("json") ? await resp.json() : await resp.blob();
    if (!resp.ok) { const e = new Error(errorText(resp.status, data)); e.status = resp.status; e.data = data; throw e; }
    return data;
  }

  // el("div", {class: "x", onclick: fn}, "text", child): never parses HTML, so data stays text.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (k === "class") node.className = v;
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      node.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    }
    return node;
  }

  function show(target, ...children) {
    const node = typeof target === "string" ? document.getElementById(target) : target;
    node.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined));
    return node;
  }

  function fail(target, err) { show(target, el("p", { class: "error" }, err.message || String(err))); }

  function badge(status) { return el("span", { class: "badge " + status }, status); }

  // Live pages (sliders -> server): run(job) at most once at a time, a call during a run queues one more run,
  // and schedule() runs it after `delayMs` of quiet. Returns {run, schedule}.
  function coalesced(job, delayMs) {
    let busy = false, dirty = false, timer = null;
    async function run() {
      if (busy) { dirty = true; return; }
      busy = true; dirty = false;
      try { await job(); } finally { busy = false; }
      if (dirty) run();
    }
    return { run, schedule() { clearTimeout(timer); timer = setTimeout(run, delayMs); } };
  }

  document.addEventListener("DOMContentLoaded", () => {
    const page = document.body.dataset.page;
    for (const a of document.querySelectorAll("header nav a")) {
      if (a.dataset.page === page) a.classList.add("active");
    }
  });

  window.ilio = { api, el, show, fail, badge, coalesced };
})();
