// One analysis: follow its progress while it runs (WebSocket pushes, with HTTP polling as the safety
// net because pushes can be lost), and draw its timeline from results.json. A re-run keeps the
// previous results on screen, marked as such, until the new ones replace them (the page reloads then).
//
// Unreliable results (reliable === false: see emotion/ml/quality.py) are kept and shown, greyed: grey
// dashed lines over a grey background on the chart, grey in the dominant band, the face lanes and the
// image table. The share of time counts reliable results only and says how many were left out.
//
// The video player (player.js) and the charts share one clock, analysis time: a vertical cursor on the
// charts follows playback, and a click on the chart seeks the video and shows the analysed frame
// nearest to the time clicked.
(function () {
  const EMOTIONS = FER_EMOTIONS;                  // order and colours from #fer-emotions (colors.js),
  const COLOURS = FER_EMOTION_COLORS;             // the same as on annotated media
  const GREY = FER_UNRELIABLE_COLOR;
  const Y_AXIS_WIDTH = 64;                        // both charts' y axes: their time axes line up exactly
  const ok = ferCounts;
  const box = document.getElementById("state");
  const id = box.dataset.id;
  const hadResults = Number(box.dataset.results) > 0;
  const timeline = (window.ferTimeline = {ready: false, chart: null});

  function showState(s) {
    const running = s.status === "queued" || s.status === "running";
    const status = document.getElementById("status");
    // the results on the page are the previous run's while a re-run goes on
    status.textContent = running && hadResults ? `re-running (${s.status})` : s.status;
    status.className = `status-${s.status}`;
    document.getElementById("rerun-note").hidden = !(running && hadResults);
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

  // Black or white, whichever reads better on a colour (WCAG contrast): the grey of neutral and the
  // yellow of happy take black text, which white text on them would not reach 4.5:1 with.
  function textOn(hex) {
    const lin = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    const [r, g, b] = [1, 3, 5].map((i) => lin(parseInt(hex.slice(i, i + 2), 16)));
    const L = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    return (L + 0.05) / 0.05 >= 1.05 / (L + 0.05) ? "black" : "white";
  }
  timeline.textOn = textOn;
  const chip = (e) => `<span class="emo" style="background:${COLOURS[e]};color:${textOn(COLOURS[e])}">${e}</span>`;

  function shareTable(rows, title) {
    const used = rows.filter(ok);
    const counts = Object.fromEntries(EMOTIONS.map((e) => [e, 0]));
    used.forEach((r) => counts[r.dominant]++);
    const table = document.getElementById("share-table");
    table.innerHTML = `<tr><th colspan="2">${title}</th></tr>` + EMOTIONS.map((e) => {
      const share = used.length ? counts[e] / used.length : 0;
      return `<tr><td><span style="color:${COLOURS[e]}" aria-hidden="true">■</span> ${e}</td><td>${(share * 100).toFixed(1)}%</td></tr>`;
    }).join("");
    const left = rows.length - used.length;
    table.dataset.leftOut = String(left);
    document.getElementById("share-note").textContent =
      `${left} of ${rows.length} frames left out as unreliable` + (left ? " (grey on the charts)." : ".");
  }

  // What the result's reliability rests on, for a title or a tooltip.
  function measures(r) {
    if (r.source == null) return "";
    const extra = r.noise == null ? "" : `, noise ${Number(r.noise).toFixed(1)}, confidence ${Math.round(100 * r.confidence)}%`;
    return `${r.source}, ${r.face_size} px, sharpness ${Math.round(r.sharpness)}, brightness ${Math.round(r.brightness)}${extra}`;
  }

  function imageView(data) {
    const table = document.getElementById("share-table");
    table.innerHTML = "<tr><th>Face</th>" + EMOTIONS.map((e) => `<th>${e}</th>`).join("") + "<th>dominant</th></tr>" +
      data.results.map((r) => `<tr${ok(r) ? "" : ` class="unreliable" title="unreliable: ${measures(r)}"`}><td>#${r.face_id}</td>` +
        EMOTIONS.map((e) => `<td>${(r[e] * 100).toFixed(1)}%</td>`).join("") +
        `<td>${ok(r) ? chip(r.dominant) : `${r.dominant} ?`}</td></tr>`).join("");
    const left = data.results.filter((r) => !ok(r)).length;
    table.dataset.leftOut = String(left);
    document.getElementById("share-note").textContent = left ? `${left} of ${data.results.length} faces unreliable (grey, "?").` : "";
    timeline.ready = true;
  }

  function videoView(data) {
    const byFace = new Map(), byFrame = new Map();
    data.results.forEach((r) => {
      if (!byFace.has(r.face_id)) byFace.set(r.face_id, []);
      byFace.get(r.face_id).push(r);
      if (!byFrame.has(r.frame)) byFrame.set(r.frame, []);
      byFrame.get(r.frame).push(r);
    });
    const select = document.getElementById("face-select");
    const faceIds = Array.from(byFace.keys());
    const canvas = document.getElementById("emotion-chart");
    const fps = data.media.fps || 25, step = Math.max(1, data.media.frame_step || 1);
    const lastFrame = data.media.frame_count ? data.media.frame_count - 1 : data.results[data.results.length - 1].frame;
    const playerBox = document.getElementById("player");
    const player = playerBox ? ferPlayer(playerBox) : null;
    let current = [];                               // the chosen face's rows, in time order
    let baseline = null;                            // {emotion: mean} when corrected, else null
    let cursorT = null;                             // analysis time under the cursor line
    // Where a row's stretch of time ends: at the next row when it follows closely, else one frame on.
    const until = (rows, i) => {
      const r = rows[i], next = rows[i + 1];
      return next && next.frame - r.frame <= 2 * step ? next.time : r.time + 1 / fps;
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
    // The player's time, as a vertical line over both charts.
    const cursor = {
      id: "cursor",
      afterDatasetsDraw(c) {
        if (cursorT == null) return;
        const {ctx, chartArea: area} = c, x = c.scales.x.getPixelForValue(cursorT);
        if (x < area.left - 0.5 || x > area.right + 0.5) return;
        ctx.save();
        ctx.strokeStyle = getComputedStyle(document.documentElement).getPropertyValue("--fg").trim() || "black";
        ctx.lineWidth = 2;
        ctx.beginPath();
        ctx.moveTo(x, area.top);
        ctx.lineTo(x, area.bottom);
        ctx.stroke();
        ctx.restore();
      },
    };
    const fixedWidth = (scale) => { scale.width = Y_AXIS_WIDTH; };
    const yTitle = () => (baseline ? "baseline-corrected" : "probability");
    const chart = new Chart(canvas, {
      type: "line",
      data: {datasets: EMOTIONS.map((e) => ({label: e, data: [], borderColor: COLOURS[e], backgroundColor: COLOURS[e],
                                               pointRadius: 0, borderWidth: 1.5, tension: 0.2,
                                               segment: ferUnreliableSegments()}))},
      // the dominant band under the chart follows every redraw, resizes included
      plugins: [unreliableSpans, cursor, {id: "dominantBand", afterDraw: (c) => band(c, current)}],
      options: {animation: false, maintainAspectRatio: false, parsing: false, interaction: {mode: "nearest", axis: "x", intersect: false},
                scales: {x: {type: "linear", title: {display: true, text: "time (s)"}},
                         y: {min: 0, max: 1, afterFit: fixedWidth, title: {display: true, text: yTitle()}}},
                plugins: {legend: {title: {display: false, text: "baseline-corrected: minus the baseline mean"}},
                          tooltip: {callbacks: {footer: (items) => {
                            const r = items.length && current[items[0].dataIndex];
                            return r && !ok(r) ? `unreliable: ${measures(r)}` : "";
                          }}}},
                onClick: (ev) => clicked(chart.scales.x.getValueForPixel(ev.x))},
    });
    const lanes = new Chart(document.getElementById("faces-chart"), {
      type: "scatter",
      data: {datasets: [{label: "faces", data: data.results.map((r) => ({x: r.time, y: r.face_id, dominant: r.dominant, ok: ok(r)})),
                         pointRadius: 3, pointStyle: "rect",
                         pointBackgroundColor: data.results.map((r) => (ok(r) ? COLOURS[r.dominant] : GREY)), borderWidth: 0}]},
      plugins: [cursor],
      options: {animation: false, maintainAspectRatio: false, plugins: {legend: {display: false},
                tooltip: {callbacks: {label: (c) => `face #${c.raw.y} at ${c.raw.x.toFixed(2)} s: ${c.raw.dominant}` +
                                                    (c.raw.ok ? "" : " (unreliable)")}}},
                scales: {x: {type: "linear", title: {display: true, text: "faces over time (colour: dominant emotion; grey: unreliable)"}},
                         y: {ticks: {stepSize: 1, callback: (v) => `#${v}`}, reverse: true, offset: true, afterFit: fixedWidth}},
                onClick: (ev, items) => {
                  if (items.length) { select.value = String(lanes.data.datasets[0].data[items[0].index].y); draw(); }
                  clicked(lanes.scales.x.getValueForPixel(ev.x));
                }},
    });
    // the whole video on both time axes, so they line up and the cursor can go anywhere in it
    const span = [0, Math.max(data.media.duration || 0, data.results[data.results.length - 1].time)];

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
      ctx.clearRect(c.chartArea.right + 1, 0, strip.width, strip.height);
    }

    function draw() {
      const rows = byFace.get(Number(select.value)) || [];
      current = rows;
      const value = baseline ? (r, e) => r[e] - (baseline[e] || 0) : (r, e) => r[e];
      chart.data.datasets.forEach((ds, k) => { ds.data = rows.map((r) => ({x: r.time, y: value(r, EMOTIONS[k]), ok: ok(r)})); });
      chart.options.scales.x.min = lanes.options.scales.x.min = span[0];
      chart.options.scales.x.max = lanes.options.scales.x.max = span[1];
      chart.options.scales.y.min = baseline ? -1 : 0;
      chart.options.scales.y.title.text = yTitle();
      chart.options.plugins.legend.title.display = Boolean(baseline);
      canvas.dataset.points = String(rows.length);
      canvas.dataset.unreliablePoints = String(rows.filter((r) => !ok(r)).length);
      canvas.dataset.baselineCorrected = baseline ? "1" : "0";
      chart.update();
      lanes.update();
      shareTable(rows, `face #${select.value}, ${rows.filter(ok).length} reliable frames`);
    }

    // The frame shown for analysis time t: the nearest of the frames the analysis kept for viewing
    // (every analysed frame of a short video, every k-th of a long one: data-frames-step), within the video.
    const kept = Math.max(step, Number(document.querySelector(".frame-view").dataset.framesStep) || step);
    const frameAt = (t) => Math.max(0, Math.min(Math.round(t * fps / kept) * kept, Math.floor(lastFrame / kept) * kept));

    function showFrameAt(t) {
      const frame = frameAt(t);
      const here = byFrame.get(frame) || [];
      const r = here.find((x) => x.face_id === Number(select.value));
      const img = document.getElementById("frame-image");
      const title = document.getElementById("frame-title");
      let text = `Frame ${frame} · ${(frame / fps).toFixed(2)} s · `;
      if (r) text += `face #${r.face_id}: ${r.dominant}` + (r.top && r.top !== r.dominant ? ` (held; most probable: ${r.top})` : "")
        + (ok(r) ? "" : ` ? (unreliable: ${measures(r)})`);
      else text += `face #${select.value} not in this frame` + (here.length ? ` (here: ${here.map((x) => `#${x.face_id}`).join(", ")})` : "");
      title.textContent = text;
      title.classList.toggle("unreliable", Boolean(r) && !ok(r));
      title.dataset.frame = String(frame);
      const src = `/analyses/${id}/frames/${frame}.jpg`;
      if (img.getAttribute("src") !== src) {
        img.onload = () => { img.hidden = false; document.getElementById("frame-hint").hidden = true; };
        img.onerror = () => { img.hidden = true; document.getElementById("frame-hint").textContent = `Frame ${frame} cannot be shown.`; };
        img.src = src;
      }
      return frame;
    }

    function clicked(t) {
      if (t == null || Number.isNaN(t)) return;
      const frame = showFrameAt(Math.max(span[0], Math.min(span[1], t)));
      // half a frame into the frame shown, so the video shows the same frame
      if (player) player.seek((frame + 0.5) / fps);
      else moveCursor(frame / fps);
    }

    function moveCursor(t) {
      const old = cursorT == null ? null : Math.round(chart.scales.x.getPixelForValue(cursorT));
      cursorT = t;
      canvas.dataset.cursor = t.toFixed(3);
      if (old !== Math.round(chart.scales.x.getPixelForValue(t))) { chart.draw(); lanes.draw(); }
    }

    select.addEventListener("change", () => { draw(); if (cursorT != null) showFrameAt(cursorT); });
    if (faceIds.length && !faceIds.includes(Number(select.value))) select.value = String(faceIds[0]);
    draw();
    showFrameAt(current.length ? current[0].time : 0);
    if (player) {
      player.onTime((t) => moveCursor(t));
      player.video.addEventListener("pause", () => showFrameAt(player.time()));
    }
    loadBaseline();
    timeline.chart = chart;
    timeline.lanes = lanes;
    timeline.player = player;
    timeline.frameAt = frameAt;
    timeline.click = clicked;
    timeline.ready = true;

    // Probabilities minus the participant's baseline means, offered when the analysis has a baseline
    // (the page carries it: null when there is none).
    function loadBaseline() {
      const data = document.getElementById("baseline-data");
      const means = data ? (JSON.parse(data.textContent) || {}).mean : null;
      const toggle = document.getElementById("baseline-corrected");
      if (!means || !toggle) return;
      document.getElementById("baseline-toggle").hidden = false;
      toggle.addEventListener("change", () => { baseline = toggle.checked ? means : null; draw(); });
      timeline.baseline = means;
    }
  }

  async function load() {
    const res = await fetch(`/api/analyses/${id}/results.json`);
    if (!res.ok) return;
    const data = await res.json();
    if (!data.results.length) return;
    (data.kind === "image" ? imageView : videoView)(data);
  }

  if (box.dataset.status === "queued" || box.dataset.status === "running") follow();
  // a re-run's previous results stay shown while it runs
  if (document.getElementById("results")) load();
})();
