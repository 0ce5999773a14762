// The live page: camera frames to /ws/live/ as JPEG binary messages, results drawn over the video
// and charted. The protocol is documented in emotion/live/consumers.py.
(() => {
  "use strict";
  const cfg = JSON.parse(document.getElementById("live-config").textContent);   // wsPath, defaultFps
  // The server's limits come in its "hello" (emotion/live/limits.py), not from this page's template:
  // the socket that enforces them is the one that states them. No frame is sent before they are known.
  let limits = null;
  const $ = (id) => document.getElementById(id);
  const video = $("live-video"), overlay = $("live-overlay"), statusEl = $("live-status");
  const startBtn = $("live-start"), stopBtn = $("live-stop"), resetBtn = $("live-reset");
  const storeBox = $("live-store"), fpsInput = $("live-fps"), widthSelect = $("live-width");
  const EMOTIONS = FER_EMOTIONS;                  // order and colours from #fer-emotions (colors.js)
  const GREY = FER_UNRELIABLE_COLOR;
  const reliable = ferCounts;
  // One frame in flight: when the server is slower than the camera, newer frames replace older
  // ones instead of queueing behind them, so what comes back is never more than a frame late.
  const MAX_IN_FLIGHT = 1;
  const WINDOW_S = 30;            // seconds of history on the chart
  const JPEG_QUALITY = 0.75;
  const MAX_BACKOFF_MS = 30000;

  const grab = document.createElement("canvas");
  let camera = null, ws = null, timer = null, retryTimer = null;
  let running = false, retries = 0;
  let sent = 0, inFlight = 0;            // per connection: ``sent`` is the next frame's seq
  const sentAt = new Map();
  // withFace / reliableFaces: results whose followed (largest) face was there / was reliable
  const stats = { results: 0, dropped: 0, errors: 0, rtt: null, server: null, session: null, stored: false,
                  withFace: 0, reliableFaces: 0, links: [] };
  const doneAt = [];
  let t0 = performance.now(), frameW = 0, frameH = 0, lastFaces = [], chartQueued = false;

  const chart = new Chart($("live-chart"), {
    type: "line",
    data: { datasets: EMOTIONS.map((e) => ({
      label: e, data: [], borderColor: FER_EMOTION_COLORS[e], backgroundColor: FER_EMOTION_COLORS[e],
      pointRadius: 0, borderWidth: 2, segment: ferUnreliableSegments() })) },
    options: {
      animation: false, parsing: false, normalized: true, maintainAspectRatio: false, spanGaps: false,
      scales: { x: { type: "linear", min: 0, max: WINDOW_S, title: { display: true, text: "seconds" } },
                y: { min: 0, max: 1, title: { display: true, text: "probability (smoothed)" } } },
      plugins: { subtitle: { display: true, color: "#666",
                             text: "grey, dashed: the followed face was unreliable there" } },
    },
  });

  function setStatus(text, kind) {
    statusEl.textContent = text;
    statusEl.className = "live-status" + (kind ? " " + kind : "");
  }

  function setButtons() {
    startBtn.disabled = running;
    stopBtn.disabled = !running;
    resetBtn.disabled = !running;
    storeBox.disabled = running;
  }

  function showStats() {
    const now = performance.now();
    while (doneAt.length && now - doneAt[0] > 2000) doneAt.shift();   // no results lately: no rate
    const fps = doneAt.length > 1 ? (doneAt.length - 1) / ((doneAt[doneAt.length - 1] - doneAt[0]) / 1000) : 0;
    $("stat-rtt").textContent = stats.rtt === null ? "–" : stats.rtt.toFixed(0);
    $("stat-server").textContent = stats.server === null ? "–" : stats.server.toFixed(0);
    $("stat-fps").textContent = fps ? fps.toFixed(1) : "–";
    $("stat-results").textContent = stats.results;
    $("stat-dropped").textContent = stats.dropped;
    $("stat-reliable").textContent = stats.results ? `${(100 * stats.reliableFaces / stats.results).toFixed(0)}%` : "–";
    $("stat-face").textContent = stats.results ? `${(100 * stats.withFace / stats.results).toFixed(0)}%` : "–";
  }

  // --- the private link of a stored session: sent once by the server, never again -------------------
  function showLink(session, path) {
    const url = location.origin + path;
    const item = document.createElement("li");
    const field = document.createElement("input");
    field.type = "text"; field.readOnly = true; field.value = url; field.className = "live-link";
    field.setAttribute("aria-label", `Private link to session #${session}`);
    field.addEventListener("focus", () => field.select());
    const copy = document.createElement("button");
    copy.type = "button"; copy.textContent = "Copy";
    copy.addEventListener("click", () => {
      const copied = () => { copy.textContent = "Copied"; };
      const byHand = () => { field.focus(); field.select(); copy.textContent = "Press Ctrl+C"; };
      if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(url).then(copied, byHand);
      else byHand();
    });
    const open = document.createElement("a");
    open.href = url; open.target = "_blank"; open.rel = "noopener"; open.textContent = `Session #${session}`;
    item.append(open, field, copy);
    $("live-link-list").append(item);
    $("live-links").hidden = false;
    stats.links.push(url);
  }

  // --- camera -------------------------------------------------------------------------------------
  function openCamera() {
    return ferCamera.open(video, () => {
      if (running) { stop(); setStatus("The camera stopped (unplugged, or taken by another application).", "bad"); }
    });
  }

  // --- sending frames -----------------------------------------------------------------------------
  function tick() {
    if (!ws || ws.readyState !== WebSocket.OPEN || !limits || !ferCamera.ready(video)) return;
    if (inFlight >= MAX_IN_FLIGHT) {
      // a reply that never comes (lost, unreadable) must not stop the stream: give up on it after 3 s
      let oldest = null;
      sentAt.forEach((info, seq) => { if (oldest === null || info.t < sentAt.get(oldest).t) oldest = seq; });
      if (oldest !== null && performance.now() - sentAt.get(oldest).t > 3000) { settle(oldest); }
      else { stats.dropped++; showStats(); return; }
    }
    inFlight++;                                   // encoding counts: it is a frame on its way
    const socket = ws;
    ferCamera.grab(video, grab, parseInt(widthSelect.value, 10) || 640, JPEG_QUALITY, (blob, w, h) => {
      const release = () => { if (socket === ws) inFlight = Math.max(0, inFlight - 1); };
      if (!blob || socket !== ws || socket.readyState !== WebSocket.OPEN) { release(); return; }
      if (blob.size > limits.max_frame_bytes) { release(); stats.dropped++; return; }
      blob.arrayBuffer().then((buf) => {
        if (socket !== ws || socket.readyState !== WebSocket.OPEN) { release(); return; }
        sentAt.set(sent++, { t: performance.now(), w, h });
        socket.send(buf);
      });
    });
  }

  function restartTimer() {
    clearInterval(timer);
    const most = limits ? limits.max_fps : cfg.defaultFps;     // until the server has said
    const fps = Math.min(Math.max(parseFloat(fpsInput.value) || cfg.defaultFps, 1), most);
    timer = setInterval(tick, 1000 / fps);
  }

  // --- results ------------------------------------------------------------------------------------
  function settle(seq) {
    const sentInfo = sentAt.get(seq);
    if (sentInfo) {                          // a reply to a frame already given up on changes nothing
      sentAt.delete(seq);
      inFlight = Math.max(0, inFlight - 1);
    }
    return sentInfo;
  }

  function onResult(msg) {
    const info = settle(msg.seq);
    const now = performance.now();
    stats.results++;
    stats.server = msg.server_ms;
    if (info) {
      const rtt = now - info.t;
      stats.rtt = stats.rtt === null ? rtt : 0.8 * stats.rtt + 0.2 * rtt;
      frameW = info.w; frameH = info.h;
    }
    doneAt.push(now);
    while (doneAt.length && now - doneAt[0] > 2000) doneAt.shift();
    // a reply that arrives after Stop must not paint boxes over a camera that is off
    lastFaces = running ? msg.faces : [];
    drawOverlay();
    // the followed face, as the server's session recorder picks it: the largest
    const main = msg.faces.reduce((a, f) => (!a || f.box[2] * f.box[3] > a.box[2] * a.box[3] ? f : a), null);
    const ok = !main || reliable(main);
    if (main) { stats.withFace++; if (ok) stats.reliableFaces++; }
    const dominant = $("stat-dominant");
    dominant.textContent = main ? main.dominant + (ok ? "" : " ?") : "no face";
    dominant.classList.toggle("unreliable", !ok);
    dominant.title = ok ? "" : "unreliable: " + FER_RELIABILITY_RULE + " does not hold";
    const x = (now - t0) / 1000;
    chart.data.datasets.forEach((ds, i) => {
      ds.data.push({ x, y: main ? main.probs[EMOTIONS[i]] : null, ok });
      while (ds.data.length && ds.data[0].x < x - WINDOW_S) ds.data.shift();
    });
    // The first half minute fills the chart from the left; after that it scrolls.
    chart.options.scales.x.min = Math.max(0, x - WINDOW_S);
    chart.options.scales.x.max = Math.max(x, WINDOW_S);
    if (!chartQueued) {                          // one redraw per animation frame at most
      chartQueued = true;
      requestAnimationFrame(() => { chartQueued = false; chart.update("none"); });
    }
    showStats();
  }

  function drawOverlay() {
    overlay.width = video.videoWidth || 640;
    overlay.height = video.videoHeight || 480;
    const ctx = overlay.getContext("2d");
    ctx.clearRect(0, 0, overlay.width, overlay.height);
    if (!frameW) return;
    const k = overlay.width / frameW;             // boxes are in the sent frame's pixels
    ctx.font = `${Math.round(overlay.width / 28)}px system-ui, sans-serif`;
    for (const f of lastFaces) {
      const [x, y, w, h] = f.box.map((v) => v * k);
      // an unreliable face (tracked only, too small, blurred, too dark or bright): grey, thin, "?"
      const ok = reliable(f);
      const color = ok ? FER_EMOTION_COLORS[f.dominant] || "#fff" : GREY;
      ctx.lineWidth = ok ? Math.max(2, overlay.width / 240) : 1;
      ctx.strokeStyle = color;
      ctx.strokeRect(x, y, w, h);
      const label = `#${f.id} ${f.dominant} ${(100 * f.probs[f.dominant]).toFixed(0)}%` + (ok ? "" : " ?");
      const th = Math.round(overlay.width / 24);
      ctx.fillStyle = color;
      ctx.fillRect(x, Math.max(0, y - th), ctx.measureText(label).width + 8, th);
      ctx.fillStyle = "#000";
      ctx.fillText(label, x + 4, Math.max(0, y - th) + th * 0.8);
    }
  }

  function onMessage(ev, socket) {
    let msg;
    try { msg = JSON.parse(ev.data); } catch (e) { return; }
    if (msg.type === "stopped") { if (socket.onStopped) socket.onStopped(msg); return; }
    if (socket !== ws) return;               // a closing connection's late replies belong to no one now
    switch (msg.type) {
      case "hello":
        limits = msg.limits;
        fpsInput.max = String(limits.max_fps);
        if (running) restartTimer();
        break;
      case "result": onResult(msg); break;
      case "error":
        stats.errors++;
        if (msg.seq !== null && msg.seq !== undefined) settle(msg.seq);
        setStatus("Server: " + msg.message, "bad");
        break;
      case "started":
        retries = 0;                         // reset only once the server really works, not on open
        stats.session = msg.session; stats.stored = msg.store;
        if (msg.link) showLink(msg.session, msg.link);
        setStatus(msg.store ? `Running; this session is stored (#${msg.session}).` : "Running; nothing is stored.", "ok");
        break;
      case "reset": lastFaces = []; drawOverlay(); break;
    }
  }

  // --- the connection -----------------------------------------------------------------------------
  function connect() {
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + cfg.wsPath;
    const socket = new WebSocket(url);
    socket.binaryType = "arraybuffer";
    ws = socket;
    sent = 0; inFlight = 0; sentAt.clear();
    limits = null;                          // this socket's server says its own
    socket.onopen = () => {
      socket.send(JSON.stringify({ type: "start", store: storeBox.checked }));
    };
    socket.onmessage = (ev) => onMessage(ev, socket);
    socket.onclose = () => {
      if (socket !== ws) return;
      ws = null;
      if (!running) return;
      const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** retries) * (0.75 + Math.random() * 0.5);
      retries++;
      setStatus(`Connection lost; reconnecting in ${(delay / 1000).toFixed(0)} s (attempt ${retries}).`, "bad");
      retryTimer = setTimeout(connect, delay);
    };
  }

  let starting = false;
  async function start() {
    if (running || starting) return;
    starting = true;                         // a second click while the browser asks must not open a second camera
    startBtn.disabled = true;
    setStatus("Asking for the camera…");
    try {
      camera = await openCamera();
    } catch (err) {
      setStatus(ferCamera.message(err, "press Start again."), "bad");
      startBtn.disabled = false;
      return;
    } finally {
      starting = false;
    }
    running = true;
    retries = 0;
    stats.results = stats.dropped = stats.errors = stats.withFace = stats.reliableFaces = 0;
    stats.rtt = stats.server = null;
    t0 = performance.now();
    chart.data.datasets.forEach((ds) => { ds.data = []; });
    $("live-summary").textContent = "";
    setButtons();
    setStatus("Connecting…");
    connect();
    restartTimer();
  }

  function summarize(msg) {
    const s = msg.summary || {};
    const share = Object.entries(s.emotion_share || {}).filter(([, v]) => v > 0)
      .sort((a, b) => b[1] - a[1]).map(([e, v]) => `${e} ${(100 * v).toFixed(0)}%`).join(", ");
    // the server's count when it sends one, else what this page saw of the same session
    const withFace = s.frames_with_faces != null ? s.frames_with_faces : stats.withFace;
    const usable = s.frames_reliable != null ? s.frames_reliable : stats.reliableFaces;
    const leftOut = withFace - usable;
    $("live-summary").textContent = `${s.frames_analysed || 0} frames analysed` +
      (s.avg_fps ? ` at ${s.avg_fps} frames/s` : "") +
      (share ? `; time per emotion (reliable frames only): ${share}` : "") +
      (leftOut > 0 ? `; ${leftOut} of ${withFace} frames with a face left out as unreliable` : "") +
      (s.frames_analysed ? `; a face in ${withFace} (${(100 * withFace / s.frames_analysed).toFixed(0)}%)` : "") +
      (msg.stored ? `. Stored as session #${msg.session}; keep its private link, shown on this page.` : ". Nothing was stored.");
  }

  function stop() {
    if (!running) return;
    running = false;
    clearInterval(timer);
    clearTimeout(retryTimer);
    setButtons();
    ferCamera.close(camera);
    camera = null;
    lastFaces = [];
    drawOverlay();                           // no boxes left over a stopped camera
    const socket = ws;
    if (socket && socket.readyState === WebSocket.OPEN) {
      setStatus("Stopping…");
      const done = (msg) => {
        socket.onStopped = null;
        clearTimeout(guard);
        socket.close(1000);
        if (running) return;                 // the visitor has started again meanwhile
        if (msg) summarize(msg);
        setStatus(msg && msg.stored ? `Stopped; session #${msg.session} stored.` : "Stopped.", "ok");
      };
      const guard = setTimeout(() => done(null), 5000);
      socket.onStopped = done;
      socket.send(JSON.stringify({ type: "stop",
        client: { rtt_ms: stats.rtt === null ? null : Math.round(stats.rtt), dropped: stats.dropped } }));
    } else {
      if (socket) socket.close();
      setStatus("Stopped.");
    }
  }

  startBtn.addEventListener("click", start);
  stopBtn.addEventListener("click", stop);
  resetBtn.addEventListener("click", () => {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "reset" }));
  });
  fpsInput.addEventListener("change", () => { if (running) restartTimer(); });
  window.addEventListener("pagehide", () => { if (ws) ws.close(1001); });

  // For tests and the curious: read-only view of the page's state.
  window.ferLive = { chart, stats, overlay, get inFlight() { return inFlight; }, get running() { return running; },
                     get connected() { return !!ws && ws.readyState === WebSocket.OPEN; } };
})();
