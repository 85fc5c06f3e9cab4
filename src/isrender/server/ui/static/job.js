/* Job page: poll the job while it runs; reload once it is final (to list the outputs). */
"use strict";
(() => {
  const box = document.getElementById("job");
  if (!box || box.dataset.final === "true") return;
  const set = (id, text) => { document.getElementById(id).textContent = text; };
  async function poll() {
    const query = (box.dataset.query ? box.dataset.query + "&" : "") + "page=" + box.dataset.page;
    const reply = await fetch("/ui/api/jobs/" + box.dataset.base.split("/").pop() + "?" + query, { credentials: "same-origin" });
    if (!reply.ok) return setTimeout(poll, 3000);
    const job = await reply.json();
    set("job-state", job.state);
    document.getElementById("job-state").className = "badge " + job.state;
    const bar = document.getElementById("job-progress");
    bar.max = job.totalFileCount || 1;
    bar.value = job.processedFileCount;
    set("count-processed", job.processedFileCount + " / " + job.totalFileCount);
    set("count-success", job.fileSuccessCount);
    set("count-errors", job.fileErrorCount);
    set("count-warnings", job.fileWarningCount);
    const body = document.querySelector("#log tbody");
    body.replaceChildren(...job.details.map((d) => UI.el("tr", {}, UI.el("td", { class: "nowrap", text: d.logType }),
      UI.el("td", { class: "nowrap", text: d.date.slice(11, 19) }), UI.el("td", { text: d.assetHandle || "" }), UI.el("td", { text: d.message }))));
    if (job.final) { location.reload(); return; }
    setTimeout(poll, 700);
  }
  setTimeout(poll, 300);
})();
