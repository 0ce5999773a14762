// One analysis: follow its progress while it runs (WebSocket pushes, with HTTP polling as the safety
// net because pushes can be lost), then draw its timeline from results.json.
(function () {
  const EMOTIONS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"];
  const COLOURS = window.FER_EMOTION_COLORS;      // static/live/colors.js, as on annotated media
  const box = document.getElementById("state");
  const id = box.dataset.id;
  const timeline = (window.ferTimeline = {ready: false, chart: null});

  function showState(s) {
    document.getElementById("status").textContent = s.status;
    document.getElementById("status").className = `status-${s.status}`;
    document.getElementById("progress").value = s.progress;
    document.getElementById("progress-text").textContent = `${Math.round(s.progress * 100)}%`;
    if (s.elapsed != null) document.getElementById("elapsed").textContent = `${s.elapsed.toFixed(1)} s`;
    const err = document.getElementById("error");
    err.hidden = !s.error;
    err.textContent = s.error || "";
    const notice = document.getElementById("notice");
    notice.hidden = !s.notice;
    notice.textContent = s.notice || "";
    // Finished while we watched: reload once to get the results section the server renders.
    if ((s.status === "done" || s.status === "failed") && box.dataset.status !== s.status &&
        box.dataset.status !== "done" && box.dataset.status !== "failed") {
      box.dataset.status = s.status;
      window.location.reload();
    }
  }

  function follow() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    let socket;
    const connect = () => {
      socket = new WebSocket(`${proto}://${location.host}/ws/analyses/${id}/`);
      socket.onmessage = (ev) => { const msg = JSON.parse(ev.data); if (msg.type === "state") showState(msg); };
      socket.onclose = () => { if (!finished()) setTimeout(connect, 3000); };
    };
    const finished = () => box.dataset.status === "done" || box.dataset.status === "failed";
    connect();
    const poll = setInterval(async () => {
      if (finished()) { clearInterval(poll); return; }
      try {
        const res = await fetch(`/api/analyses/${id}/`, {headers: {Accept: "application/json"}});
        if (res.ok) showState(await res.json());
      } catch (e) { /* try again next round */ }
    }, 2000);
  }

  function shareTable(rows, title) {
    const counts = Object.fromEntries(EMOTIONS.map((e) => [e, 0]));
    rows.forEach((r) => counts[r.dominant]++);
    const table = document.getElementById("share-table");
    table.innerHTML = `<tr><th colspan="2">${title}</th></tr>` + EMOTIONS.map((e) => {
      const share = rows.length ? counts[e] / rows.length : 0;
      return `<tr><td><span style="color:${COLOURS[e]}">■</span> ${e}</td><td>${(share * 100).toFixed(1)}%</td></tr>`;
    }).join("");
  }

  function imageView(data) {
    const table = document.getElementById("share-table");
    table.innerHTML = "<tr><th>Face</th>" + EMOTIONS.map((e) => `<th>${e}</th>`).join("") + "<th>dominant</th></tr>" +
      data.results.map((r) => `<tr><td>#${r.face_id}</td>` + EMOTIONS.map((e) => `<td>${(r[e] * 100).toFixed(1)}%</td>`).join("") +
        `<td style="color:${COLOURS[r.dominant]}">${r.dominant}</td></tr>`).join("");
    timeline.ready = true;
  }

  function videoView(data) {
    const byFace = new Map();
    data.results.forEach((r) => { if (!byFace.has(r.face_id)) byFace.set(r.face_id, []); byFace.get(r.face_id).push(r); });
    const select = document.getElementById("face-select");
    const faceIds = Array.from(byFace.keys());
    const chart = new Chart(document.getElementById("emotion-chart"), {
      type: "line",
      data: {datasets: EMOTIONS.map((e) => ({label: e, data: [], borderColor: COLOURS[e], backgroundColor: COLOURS[e],
                                               pointRadius: 0, borderWidth: 1.5, tension: 0.2}))},
      options: {animation: false, maintainAspectRatio: false, parsing: false, interaction: {mode: "nearest", axis: "x", intersect: false},
                scales: {x: {type: "linear", title: {display: true, text: "time (s)"}}, y: {min: 0, max: 1, title: {display: true, text: "probability"}}},
                onClick: (ev) => {
                  const t = chart.scales.x.getValueForPixel(ev.x);
                  const rows = byFace.get(Number(select.value)) || [];
                  if (!rows.length) return;
                  let best = rows[0];
                  rows.forEach((r) => { if (Math.abs(r.time - t) < Math.abs(best.time - t)) best = r; });
                  showFrame(best);
                }},
    });
    const lanes = new Chart(document.getElementById("faces-chart"), {
      type: "scatter",
      data: {datasets: [{label: "faces", data: data.results.map((r) => ({x: r.time, y: r.face_id, dominant: r.dominant})),
                         pointRadius: 3, pointStyle: "rect",
                         pointBackgroundColor: data.results.map((r) => COLOURS[r.dominant]), borderWidth: 0}]},
      options: {animation: false, maintainAspectRatio: false, plugins: {legend: {display: false},
                tooltip: {callbacks: {label: (c) => `face #${c.raw.y} at ${c.raw.x.toFixed(2)} s: ${c.raw.dominant}`}}},
                scales: {x: {type: "linear", title: {display: true, text: "tracked faces over time (colour: dominant emotion)"}},
                         y: {ticks: {stepSize: 1, callback: (v) => `#${v}`}, reverse: true, offset: true}},
                onClick: (ev, items) => { if (items.length) { select.value = String(lanes.data.datasets[0].data[items[0].index].y); draw(); } }},
    });
    const span = [data.results[0].time, data.results[data.results.length - 1].time];

    function band(rows) {
      const canvas = document.getElementById("dominant-band");
      canvas.width = canvas.clientWidth;
      const ctx = canvas.getContext("2d");
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      const area = chart.chartArea;
      const x = (t) => chart.scales.x.getPixelForValue(t);
      rows.forEach((r, i) => {
        const next = rows[i + 1] && rows[i + 1].frame - r.frame <= 2 * data.media.frame_step ? rows[i + 1].time : r.time + 1 / (data.media.fps || 25);
        ctx.fillStyle = COLOURS[r.dominant];
        ctx.fillRect(x(r.time), 0, Math.max(1, x(next) - x(r.time)), canvas.height);
      });
      ctx.clearRect(0, 0, area.left, canvas.height);
    }

    function draw() {
      const rows = byFace.get(Number(select.value)) || [];
      chart.data.datasets.forEach((ds, k) => { ds.data = rows.map((r) => ({x: r.time, y: r[EMOTIONS[k]]})); });
      chart.options.scales.x.min = lanes.options.scales.x.min = span[0];
      chart.options.scales.x.max = lanes.options.scales.x.max = span[1];
      chart.update();
      lanes.update();
      band(rows);
      shareTable(rows, `face #${select.value}, ${rows.length} frames`);
      if (rows.length) showFrame(rows[0]);
    }

    function showFrame(r) {
      document.getElementById("frame-image").src = `/analyses/${id}/frames/${r.frame}.jpg`;
      document.getElementById("frame-title").textContent = `Frame ${r.frame} · ${r.time.toFixed(2)} s · face #${r.face_id}: ${r.dominant}`;
    }

    select.addEventListener("change", draw);
    if (faceIds.length && !faceIds.includes(Number(select.value))) select.value = String(faceIds[0]);
    draw();
    timeline.chart = chart;
    timeline.lanes = lanes;
    timeline.ready = true;
  }

  async function load() {
    const res = await fetch(`/api/analyses/${id}/results.json`);
    if (!res.ok) return;
    const data = await res.json();
    if (!data.results.length) return;
    (data.kind === "image" ? imageView : videoView)(data);
  }

  if (box.dataset.status === "queued" || box.dataset.status === "running") follow();
  else if (document.getElementById("results")) load();
})();
