/* Preset editor: check the definition as you type and preview it on a chosen asset. */
"use strict";
(() => {
  const mods = document.getElementById("preset-mods");
  if (!mods) return;
  const pick = document.getElementById("preview-asset");
  const img = document.getElementById("preset-preview");
  const caption = document.getElementById("preset-caption");
  const verdict = document.getElementById("verdict");
  let generation = 0;
  async function update() {
    const mine = ++generation;
    if (!pick.value) return;
    const result = await UI.check(pick.value, mods.value);
    if (mine !== generation) return;
    UI.verdict(verdict, result);
    mods.setAttribute("aria-invalid", result.valid ? "false" : "true");
    if (result.valid || result.served) {
      img.src = result.url;
      caption.textContent = "Preview: " + result.url;
    }
  }
  mods.addEventListener("input", UI.debounce(update, 300));
  pick.addEventListener("change", update);
  update();
})();
