/* Shared helpers of the isrender UI pages (no libraries; DOM built with textContent only). */
"use strict";
const UI = {
  csrf() { return document.querySelector('meta[name="csrf-token"]').content; },
  el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "text") node.textContent = value; else node.setAttribute(key, value);
    }
    for (const child of children) node.append(child);
    return node;
  },
  debounce(fn, ms) {
    let timer = null;
    return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
  },
  async check(asset, mods) {
    const query = new URLSearchParams({ asset, mods });
    const reply = await fetch("/ui/api/check?" + query, { credentials: "same-origin" });
    return reply.json();
  },
  /* The verdict box: "valid", or the message, the caret under the character, the hint. */
  verdict(box, result) {
    box.replaceChildren();
    if (result.valid) {
      box.append(UI.el("p", { class: "ok" }, "Valid. Effective: ",
        UI.el("code", { text: result.effective || "(no commands)" })));
      for (const w of result.warnings || []) box.append(UI.el("p", { class: "hint", text: "Warning: " + w }));
      return;
    }
    const e = result.error || { message: "unknown error" };
    let text = e.problem || e.message;
    if (e.position !== undefined) {
      text += " at " + e.position + (e.origin && e.origin !== "request" ? " in " + e.origin : "");
    }
    box.append(UI.el("p", { class: "error", id: "error-message", text }));
    if (e.caret) {
      box.append(UI.el("pre", { class: "caret", id: "error-caret", "aria-label": "Where the error is", text: e.caret }));
    }
    if (e.hint) box.append(UI.el("p", { class: "hint", id: "error-hint", text: "Hint: " + e.hint }));
    if (result.served) {
      box.append(UI.el("p", { class: "hint", text: "The image server still answers: it ignores what strict checking refuses." }));
    }
  },
  /* Fetch the image once to measure bytes, format and time; the <img> then loads it from cache. */
  async measure(url) {
    const started = performance.now();
    const reply = await fetch(url, { credentials: "same-origin" });
    const blob = await reply.blob();
    return { ok: reply.ok, status: reply.status, bytes: blob.size, type: reply.headers.get("content-type") || "",
             ms: Math.round(performance.now() - started), text: reply.ok ? "" : await blob.text() };
  },
  bytes(n) { return n < 1024 ? n + " B" : (n / 1024).toFixed(1) + " KB (" + n.toLocaleString("en") + " B)"; },
};
