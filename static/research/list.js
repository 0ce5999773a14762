// The analyses list: refuse an oversized file before uploading it, and refresh the rows of
// analyses that are still queued or running.
(function () {
  const form = document.getElementById("upload-form");
  const input = document.getElementById("files");
  const error = document.getElementById("upload-error");
  form.addEventListener("submit", (ev) => {
    const big = Array.from(input.files).filter((f) => f.size > window.FER_LIMITS.maxBytes);
    if (big.length) {
      ev.preventDefault();
      error.hidden = false;
      error.textContent = big.map((f) => `${f.name}: ${(f.size / 1e6).toFixed(1)} MB is over the limit of ` +
        `${(window.FER_LIMITS.maxBytes / 1e6).toFixed(0)} MB`).join("; ");
      return;
    }
    document.getElementById("upload-button").disabled = true;
    document.getElementById("upload-button").textContent = "Uploading…";
  });

  async function refresh() {
    const rows = document.querySelectorAll('#analyses tr[data-finished="0"]');
    for (const row of rows) {
      try {
        const res = await fetch(`/api/analyses/${row.dataset.id}/`, {headers: {Accept: "application/json"}});
        if (!res.ok) continue;
        const a = await res.json();
        row.querySelector("progress").value = a.progress;
        const status = row.querySelector(".status");
        status.textContent = a.status + (a.notice ? ` · ${a.notice}` : "");
        status.className = `status status-${a.status}`;
        status.title = a.error || "";
        if (a.status === "done" || a.status === "failed") {
          row.dataset.finished = "1";
          row.cells[4].textContent = a.face_count;
          row.cells[5].textContent = a.elapsed != null ? `${a.elapsed.toFixed(1)} s` : "";
        }
      } catch (e) { /* the next round tries again */ }
    }
  }
  setInterval(refresh, 2000);
})();
