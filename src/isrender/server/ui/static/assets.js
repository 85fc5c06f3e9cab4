/* Asset browser: drag-and-drop upload, one request per file with its own progress bar. */
"use strict";
(() => {
  const drop = document.getElementById("drop");
  if (!drop) return;
  const form = document.getElementById("upload-form");
  const input = document.getElementById("upload-files");
  const list = document.getElementById("upload-list");
  const logBox = document.getElementById("upload-log-box");
  const log = document.querySelector("#upload-log tbody");
  const grid = document.getElementById("grid");

  function addCell(cell) {
    if (grid.querySelector(`[data-handle="${CSS.escape(cell.handle)}"]`)) return;
    const empty = grid.querySelector("li.muted");
    if (empty) empty.remove();
    const thumb = UI.el("div", { class: "thumb" });
    thumb.append(cell.thumb ? UI.el("img", { src: cell.thumb, alt: "" }) : UI.el("span", { class: "muted", text: cell.type }));
    const link = UI.el("a", { class: "open", href: cell.details }, thumb,
      UI.el("div", { class: "name", text: cell.name }), UI.el("div", { class: "muted", text: cell.type }));
    const pick = UI.el("input", { type: "checkbox", class: "pick", name: "asset", value: cell.handle, "aria-label": "Select " + cell.name + " for export" });
    grid.prepend(UI.el("li", { class: "cell", "data-handle": cell.handle }, pick, link));
  }

  function showLog(reply) {
    logBox.hidden = false;
    for (const row of reply.log) {
      log.append(UI.el("tr", {}, UI.el("td", { text: row.type }), UI.el("td", { text: row.message }), UI.el("td", { text: row.asset })));
    }
  }

  function uploadOne(file) {
    const bar = UI.el("progress", { max: "100", value: "0", "aria-label": "Upload of " + file.name });
    const state = UI.el("span", { text: "0 %" });
    list.append(UI.el("li", {}, UI.el("span", { text: file.name }), bar, state));
    const data = new FormData();
    data.append("company", drop.dataset.company);
    data.append("folder", document.getElementById("upload-folder").value);
    data.append("file", file);
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", "/ui/api/upload");
      xhr.setRequestHeader("X-CSRF-Token", UI.csrf());
      xhr.upload.addEventListener("progress", (e) => {
        if (e.lengthComputable) { bar.value = Math.round((e.loaded / e.total) * 100); state.textContent = bar.value + " %"; }
      });
      xhr.addEventListener("load", () => {
        let reply = {};
        try { reply = JSON.parse(xhr.responseText); } catch (_) { reply = { error: { message: xhr.statusText } }; }
        if (xhr.status === 200) {
          bar.value = 100;
          const failed = reply.log.some((r) => r.type === "UploadError");
          state.textContent = failed ? "failed" : "done";
          showLog(reply);
          reply.assets.forEach(addCell);
        } else {
          state.textContent = "refused";
          list.append(UI.el("li", { class: "error", text: file.name + ": " + reply.error.message }));
        }
        resolve();
      });
      xhr.addEventListener("error", () => { state.textContent = "network error"; resolve(); });
      xhr.send(data);
    });
  }

  async function uploadAll(files) {
    for (const file of files) await uploadOne(file);
  }

  for (const name of ["dragenter", "dragover"]) {
    drop.addEventListener(name, (e) => { e.preventDefault(); drop.classList.add("over"); });
  }
  for (const name of ["dragleave", "drop"]) {
    drop.addEventListener(name, () => drop.classList.remove("over"));
  }
  drop.addEventListener("drop", (e) => { e.preventDefault(); uploadAll([...e.dataTransfer.files]); });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    uploadAll([...input.files]).then(() => { input.value = ""; });
  });
})();
