// One analysis: follow its progress while it runs (WebSocket pushes, with HTTP polling as the safety
// net because pushes can be lost), then draw its timeline from results.json.
//
// Unreliable results (reliable === false: see emotion/ml/quality.py) are kept and shown, greyed: grey
// dashed lines over a grey background on the chart, grey in the dominant band, the face lanes and the
// image table. The share of time counts reliable results only and says how many were left out.
(function () {
  const EMOTIONS = FER_EMOTIONS;                  // order and colours from #fer-emotions (colors.js),
  const COLOURS = FER_EMOTION_COLORS;             // the same as on annotated media
  const GREY = FER_UNRELIABLE_COLOR;
  const ok = (r) => r.reliable !== false;         // results stored before the flag count as reliable
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
    const used = rows.filter(ok);
    const counts = Object.fromEntries(EMOTIONS.map((e) => [e, 0]));
    used.forEach((r) => counts[r.dominant]++);
    const table = document.getElementById("share-table");
    table.innerHTML = `<tr><th colspan="2">${title}</th></tr>` + EMOTIONS.map((e) => {
      const share = used.length ? counts[e] / used.length : 0;
      return `<tr><td><span style="color:${COLOURS[e]}">■</span> ${e}</td><td>${(share * 100).toFixed(1)}%</td></tr>`;
    }).join("");
    const left = rows.length - used.length;
    table.dataset.leftOut = String(left);
    document.getElementById("share-note").textContent =
      `${left} of ${rows.length} frames left out as unreliable` + (left ? " (grey on the charts)." : ".");
  }

  // What the result's reliability rests on, for a title or a tooltip.
  function measures(r) {
    if (r.source == null) return "";
    return `${r.source}, ${r.face_size} px, sharpness ${Math.round(r.sharpness)}, brightness ${Math.round(r.brightness)}`;
  }

  function imageView(data) {
    const table = document.getElementById("share-table");
    table.innerHTML = "<tr><th>Face</th>" + EMOTIONS.map((e) => `<th>${e}</th>`).join("") + "<th>dominant</th></tr>" +
      data.results.map((r) => `<tr${ok(r) ? "" : ` class="unreliable" title="unreliable: ${measures(r)}"`}><td>#${r.face_id}</td>` +
        EMOTIONS.map((e) => `<td>${(r[e] * 100).toFixed(1)}%</td>`).join("") +
        `<td style="color:${ok(r) ? COLOURS[r.dominant] : "inherit"}">${r.dominant}${ok(r) ? "" : " ?"}</td></tr>`).join("");
    const left = data.results.filter((r) => !ok(r)).length;
    table.dataset.leftOut = String(left);
    document.getElementById("share-note").textContent = left ? `${left} of ${data.results.length} faces unreliable (grey, "?").` : "";
    timeline.ready = true;
  }

  function videoView(data) {
    const byFace = new Map();
    data.results.forEach((r) => { if (!byFace.has(r.face_id)) byFace.set(r.face_id, []); byFace.get(r.face_id).push(r); });
    const select = document.getElementById("face-select");
    const faceIds = Array.from(byFace.keys());
    const canvas = document.getElementById("emotion-chart");
    let current = [];                               // the chosen face's rows, in time order
    // Where a row's stretch of time ends: at the next row when it follows closely, else one frame on.
    const until = (rows, i) => {
      const r = rows[i], next = rows[i + 1];
      return next && next.frame - r.frame <= 2 * data.media.frame_step ? next.time : r.time + 1 / (data.media.fps || 25);
    };
    // A grey background behind the stretches of unreliable results of the chosen face.
    const unreliableSpans = {
      id: "unreliableSpans",
      beforeDatasetsDraw(c) {
        const {ctx, chartArea: area, scales: {x}} = c;
        ctx.save();
        ctx.fillStyle = GREY;
        ctx.globalAlpha = 0.22;
        current.forEach((r, i) => {
          if (ok(r)) return;
          const x0 = Math.max(area.left, x.getPixelForValue(r.time));
          const x1 = Math.min(area.right, x.getPixelForValue(until(current, i)));
          if (x1 > x0 - 1) ctx.fillRect(x0, area.top, Math.max(1, x1 - x0), area.bottom - area.top);
        });
        ctx.restore();
      },
    };
    const chart = new Chart(canvas, {
      type: "line",
      data: {datasets: EMOTIONS.map((e) => ({label: e, data: [], borderColor: COLOURS[e], backgroundColor: COLOURS[e],
                                               pointRadius: 0, borderWidth: 1.5, tension: 0.2,
                                               segment: ferUnreliableSegments()}))},
      // the dominant band under the chart follows every redraw, resizes included
      plugins: [unreliableSpans, {id: "dominantBand", afterDraw: (c) => band(c, current)}],
      options: {animation: false, maintainAspectRatio: false, parsing: false, interaction: {mode: "nearest", axis: "x", intersect: false},
                scales: {x: {type: "linear", title: {display: true, text: "time (s)"}}, y: {min: 0, max: 1, title: {display: true, text: "probability"}}},
                plugins: {tooltip: {callbacks: {footer: (items) => {
                  const r = items.length && current[items[0].dataIndex];
                  return r && !ok(r) ? `unreliable: ${measures(r)}` : "";
                }}}},
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
      data: {datasets: [{label: "faces", data: data.results.map((r) => ({x: r.time, y: r.face_id, dominant: r.dominant, ok: ok(r)})),
                         pointRadius: 3, pointStyle: "rect",
                         pointBackgroundColor: data.results.map((r) => (ok(r) ? COLOURS[r.dominant] : GREY)), borderWidth: 0}]},
      options: {animation: false, maintainAspectRatio: false, plugins: {legend: {display: false},
                tooltip: {callbacks: {label: (c) => `face #${c.raw.y} at ${c.raw.x.toFixed(2)} s: ${c.raw.dominant}` +
                                                    (c.raw.ok ? "" : " (unreliable)")}}},
                scales: {x: {type: "linear", title: {display: true, text: "tracked faces over time (colour: dominant emotion; grey: unreliable)"}},
                         y: {ticks: {stepSize: 1, callback: (v) => `#${v}`}, reverse: true, offset: true}},
                onClick: (ev, items) => { if (items.length) { select.value = String(lanes.data.datasets[0].data[items[0].index].y); draw(); } }},
    });
    const span = [data.results[0].time, data.results[data.results.length - 1].time];

    function band(c, rows) {
      const strip = document.getElementById("dominant-band");
      strip.width = strip.clientWidth;
      const ctx = strip.getContext("2d");
      ctx.clearRect(0, 0, strip.width, strip.height);
      const x = (t) => c.scales.x.getPixelForValue(t);
      rows.forEach((r, i) => {
        ctx.fillStyle = ok(r) ? COLOURS[r.dominant] : GREY;
        ctx.fillRect(x(r.time), 0, Math.max(1, x(until(rows, i)) - x(r.time)), strip.height);
      });
      ctx.clearRect(0, 0, c.chartArea.left, strip.height);
    }

    function draw() {
      const rows = byFace.get(Number(select.value)) || [];
      current = rows;
      chart.data.datasets.forEach((ds, k) => { ds.data = rows.map((r) => ({x: r.time, y: r[EMOTIONS[k]], ok: ok(r)})); });
      chart.options.scales.x.min = lanes.options.scales.x.min = span[0];
      chart.options.scales.x.max = lanes.options.scales.x.max = span[1];
      canvas.dataset.points = String(rows.length);
      canvas.dataset.unreliablePoints = String(rows.filter((r) => !ok(r)).length);
      chart.update();
      lanes.update();
      shareTable(rows, `face #${select.value}, ${rows.filter(ok).length} reliable frames`);
      if (rows.length) showFrame(rows[0]);
    }

    function showFrame(r) {
      document.getElementById("frame-image").src = `/analyses/${id}/frames/${r.frame}.jpg`;
      const title = document.getElementById("frame-title");
      title.textContent = `Frame ${r.frame} · ${r.time.toFixed(2)} s · face #${r.face_id}: ${r.dominant}` +
        (ok(r) ? "" : ` ? (unreliable: ${measures(r)})`);
      title.classList.toggle("unreliable", !ok(r));
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
