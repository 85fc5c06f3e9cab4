/* Playground: live check as you type, debounced preview, explain stages, URL in the address bar. */
"use strict";
(() => {
  const mods = document.getElementById("mods");
  const asset = document.getElementById("asset");
  const preview = document.getElementById("preview");
  const verdict = document.getElementById("verdict");
  const stages = document.getElementById("stages");
  const finalUrl = document.getElementById("final-url");
  const stat = (name, text) => { document.getElementById("stat-" + name).textContent = text; };
  let generation = 0;

  function renderStages(result) {
    stages.replaceChildren();
    if (!result.valid) {
      stages.append(UI.el("p", { class: "muted", text: "The stages appear when the string is valid." }));
      return;
    }
    const expanded = UI.el("details", { open: "" }, UI.el("summary", { text: "Expanded (Modifier + request with macros + PostModifier)" }),
      UI.el("pre", { class: "mono", id: "expanded", text: result.expanded || "(empty)" }));
    const body = UI.el("tbody");
    for (const b of result.bound) {
      body.append(UI.el("tr", {}, UI.el("td", { text: b.scope }), UI.el("td", {}, UI.el("code", { text: b.command })),
        UI.el("td", {}, UI.el("code", { text: b.text })), UI.el("td", { text: b.from })));
    }
    const head = UI.el("thead", {}, UI.el("tr", {}, ...["Scope", "Command", "Value", "From"].map(
      (t) => UI.el("th", { scope: "col", text: t }))));
    const bound = UI.el("details", { open: "" }, UI.el("summary", { text: "Bound request by scope" }),
      UI.el("div", { class: "scroll" }, UI.el("table", { id: "bound" }, head, body)));
    if (result.overridden.length) bound.append(UI.el("p", { class: "hint", text: "Overridden: " + result.overridden.join(", ") }));
    const plan = UI.el("details", { open: "" }, UI.el("summary", { text: "Render plan" }));
    if (result.plan) {
      plan.append(UI.el("p", { class: "muted", text: `Original ${result.original[0]} x ${result.original[1]} → reply ${result.reply[0]} x ${result.reply[1]}, ${result.output.format} (${result.output.media_type})` }));
      plan.append(UI.el("ol", { class: "plan", id: "plan" }, ...result.plan.map((s) => UI.el("li", { text: s }))));
    } else {
      plan.append(UI.el("p", { class: result.plan_error ? "error" : "muted", text: result.plan_error || "No plan: the request reads no pixels." }));
    }
    stages.append(expanded, bound, plan);
  }

  async function update() {
    const mine = ++generation;
    const result = await UI.check(asset.value, mods.value);
    if (mine !== generation) return; // a newer keystroke won
    const params = new URLSearchParams({ asset: asset.value, mods: mods.value });
    history.replaceState(null, "", "/ui/playground?" + params);
    UI.verdict(verdict, result);
    mods.setAttribute("aria-invalid", result.valid ? "false" : "true");
    renderStages(result);
    if (!result.url) return;
    finalUrl.value = new URL(result.url, location.href).href;
    if (!result.valid && !result.served) return;
    const measured = await UI.measure(result.url);
    if (mine !== generation) return;
    stat("bytes", measured.ok ? UI.bytes(measured.bytes) : "–");
    stat("format", measured.ok ? measured.type : "error " + measured.status + ": " + measured.text.trim());
    stat("time", measured.ms + " ms");
    if (measured.ok) preview.src = result.url;
  }

  preview.addEventListener("load", () => {
    stat("size", preview.naturalWidth + " x " + preview.naturalHeight);
  });
  const later = UI.debounce(update, 300);
  mods.addEventListener("input", later);
  asset.addEventListener("change", () => {
    document.getElementById("before").src = "/is/image/" + asset.value.split("/").map(encodeURIComponent).join("/") + "?wid=800";
    update();
  });
  document.getElementById("play").addEventListener("submit", (event) => { event.preventDefault(); update(); });
  document.getElementById("picker").addEventListener("change", (event) => {
    const macro = event.target.value;
    if (!macro) return;
    mods.value = mods.value ? mods.value + "&" + macro : macro;
    event.target.value = "";
    mods.focus();
    update();
  });
  document.getElementById("copy").addEventListener("click", async () => {
    const note = document.getElementById("copied");
    try {
      await navigator.clipboard.writeText(finalUrl.value);
      note.textContent = "Copied.";
    } catch (_) {
      finalUrl.select();
      note.textContent = document.execCommand("copy") ? "Copied." : "Select the URL and copy it.";
    }
  });
  update();
})();
