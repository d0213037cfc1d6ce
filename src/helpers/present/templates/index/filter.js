const box = document.getElementById("kpi-filter"), failed = document.getElementById("kpi-only-failed");
function apply() {
  const q = box.value.trim().toLowerCase(), onlyFailed = failed && failed.checked;
  for (const body of document.querySelectorAll("#reports tbody")) {
    let shown = 0;
    for (const tr of body.querySelectorAll("tr[data-team]")) {
      const hit = (!q || tr.dataset.search.includes(q)) && (!onlyFailed || tr.dataset.failed === "1");
      tr.hidden = !hit; shown += hit;
    }
    body.querySelector("tr.kpi-group").hidden = shown === 0;
  }
}
box.addEventListener("input", apply);
if (failed) failed.addEventListener("change", apply);
