// The analyses list (and a study's page): refuse an oversized file before uploading it, show the upload's progress,
// and refresh the rows of analyses that are still queued or running.
(function () {
  const form = document.getElementById("upload-form");
  const input = document.getElementById("files");
  const error = document.getElementById("upload-error");
  // a study's viewer has no upload form: the rows are still followed
  const maxBytes = form ? Number(form.dataset.maxBytes) : 0;     // FER_MAX_UPLOAD_MB, from the page
  if (form) form.addEventListener("submit", (ev) => {
    const big = Array.from(input.files).filter((f) => f.size > maxBytes);
    if (big.length) {
      ev.preventDefault();
      error.hidden = false;
      error.textContent = big.map((f) => `${f.name}: ${(f.size / 1e6).toFixed(1)} MB is over the limit of ` +
        `${(maxBytes / 1e6).toFixed(0)} MB`).join("; ");
      return;
    }
    // Upload with XHR so a long upload shows its progress; the server answers where to go next.
    ev.preventDefault();
    const button = document.getElementById("upload-button");
    const bar = document.getElementById("upload-progress");
    button.disabled = true;
    bar.hidden = false;
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action || window.location.pathname);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) {
        bar.value = e.loaded / e.total;
        button.textContent = `Uploading… ${Math.round((100 * e.loaded) / e.total)}%`;
      }
    };
    xhr.onload = () => {
      let reply = {};
      try { reply = JSON.parse(xhr.responseText); } catch (e) { /* not our JSON */ }
      if (xhr.status === 200 && reply.redirect) { window.location.assign(reply.redirect); return; }
      fail(reply.detail ? (reply.queued ? reply.detail : `${reply.detail} Nothing was stored.`)
                        : `The upload failed (HTTP ${xhr.status}). Nothing was stored; try again.`);
    };
    xhr.onerror = () => fail("The connection was lost during the upload. Nothing was stored; try again.");
    button.textContent = "Uploading…";
    xhr.send(new FormData(form));

    function fail(message) {
      error.hidden = false;
      error.textContent = message;
      button.disabled = false;
      button.textContent = "Upload and analyse";
      bar.hidden = true;
    }
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
          row.querySelector(".faces").textContent = a.face_count;
          row.querySelector(".took").textContent = a.elapsed != null ? `${a.elapsed.toFixed(1)} s` : "";
          // a study's comparison (study_stats.js) counts finished analyses only: it loads its figures again
          document.dispatchEvent(new CustomEvent("fer:analysis-finished", {detail: a}));
        }
      } catch (e) { /* the next round tries again */ }
    }
  }
  setInterval(refresh, 2000);
})();
