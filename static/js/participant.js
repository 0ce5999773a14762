// A participant's page (/stimuli/take/<key>/): consent, the camera check, then the stimulus while camera
// frames go to the session's socket, each tagged with the stimulus time shown. The protocol is in
// emotion/stimuli/sessions/protocol.py.
(() => {
  "use strict";
  const cfg = JSON.parse(document.getElementById("take-config").textContent);
  const $ = (id) => document.getElementById(id);
  const camVideo = $("take-camera"), stage = $("take-stage"), stimulus = $("take-stimulus");
  const isVideo = cfg.kind === "video";
  const READY_AFTER = 3;               // replies in a row that find the face well seen
  const JPEG_QUALITY = 0.8, GIVE_UP_MS = 3000, MAX_BACKOFF_MS = 15000;
  const STEPS = ["consent", "check", "play", "done", "withdrawn"];
  const grab = document.createElement("canvas");
  let ws = null, camera = null, timer = null, retries = 0;
  let phase = "consent";               // consent -> check -> playing -> done | withdrawn
  let token = null, recording = null, ready = false, okRun = 0;
  let inFlight = 0, lastSentAt = 0, lastT = 0, lostAt = null;
  let paused = null;                   // why the stimulus stands still: pause, hidden, connection
  const stats = { checks: 0, frames: 0, lastT: null, stored: 0, dropped: 0, errors: 0, lastError: null, done: null,
                  withdrawn: null };

  function show(step) {
    STEPS.forEach((s) => { $("step-" + s).hidden = s !== step; });
    document.body.classList.toggle("take-playing", step === "play");     // the camera runs on, unseen
  }
  function status(text) { $("take-status").textContent = text; }
  function send(msg) { if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg)); }

  // --- the stimulus' clock: a video's own time; an image's time shown, counted only while shown -----
  // A video's time 0 is its first picture, as for the markers and analyses: a clip whose sound starts
  // first shows that picture at currentTime = cfg.offset.
  const imageClock = { shownMs: 0, since: null };
  function stimulusTime() {
    if (isVideo) return Math.max(0, stimulus.currentTime - (cfg.offset || 0));
    return (imageClock.shownMs + (imageClock.since === null ? 0 : performance.now() - imageClock.since)) / 1000;
  }
  function running() {
    if (paused) return false;
    return isVideo ? !stimulus.paused && !stimulus.ended && stimulus.readyState >= 3 : imageClock.since !== null;
  }
  function holdStimulus() {
    if (isVideo) stimulus.pause();
    else if (imageClock.since !== null) {
      imageClock.shownMs += performance.now() - imageClock.since;
      imageClock.since = null;
    }
  }
  function runStimulus() {
    if (isVideo) stimulus.play().catch(() => status("Press Start again to go on."));
    else if (imageClock.since === null) imageClock.since = performance.now();
  }

  // --- the camera and the frames -----------------------------------------------------------------
  function closeCamera() {
    clearInterval(timer);
    ferCamera.close(camera);
    camera = null;
  }

  function tick() {
    // an image's time is up whatever the camera does (a video says so itself: "ended")
    if (phase === "playing" && !isVideo && stimulusTime() >= cfg.duration) return finish();
    if (!ws || ws.readyState !== WebSocket.OPEN || !ferCamera.ready(camVideo)) return;
    if (phase === "playing") {
      if (!running()) return;
      lastT = stimulusTime();
    } else if (phase !== "check") return;
    if (inFlight && performance.now() - lastSentAt < GIVE_UP_MS) { stats.dropped++; return; }
    const t = phase === "playing" ? lastT : 0;          // the moment this very frame was grabbed
    inFlight = 1; lastSentAt = performance.now();
    const socket = ws, grabbedIn = phase;
    ferCamera.grab(camVideo, grab, cfg.frameWidth, JPEG_QUALITY, (blob) => {
      // a frame grabbed for the check must not arrive as data, nor one of the stimulus after its end
      if (!blob || blob.size > cfg.maxFrameBytes || socket !== ws || socket.readyState !== WebSocket.OPEN ||
          phase !== grabbedIn) {
        inFlight = 0; return;
      }
      blob.arrayBuffer().then((buf) => {
        const out = new Uint8Array(8 + buf.byteLength);
        new DataView(out.buffer).setFloat64(0, t);        // big-endian, as the server reads it
        out.set(new Uint8Array(buf), 8);
        if (socket === ws && socket.readyState === WebSocket.OPEN && phase === grabbedIn) socket.send(out.buffer);
        else inFlight = 0;
      });
    });
  }

  // --- replies ------------------------------------------------------------------------------------
  function onCheck(msg) {
    stats.checks++;
    okRun = msg.ok ? okRun + 1 : 0;
    if (okRun >= READY_AFTER) ready = true;
    const el = $("take-check-status");
    el.textContent = msg.message + (ready && !msg.ok ? " (You may start all the same.)" : "");
    el.className = "take-check-status " + (msg.ok ? "ok" : "bad");
    $("take-start").disabled = !ready;
  }

  function onPlaying(msg) {
    token = msg.token; recording = msg.recording; retries = 0;
    phase = "playing";
    if (msg.rejoined) { status(""); paused = null; runStimulus(); return; }
    show("play");
    runStimulus();
  }

  function onError(msg) {
    stats.errors++; stats.lastError = msg.code + ": " + msg.message;
    if (msg.seq !== null && msg.seq !== undefined) inFlight = 0;
    if (msg.code === "bad_code" || msg.code === "no_code") {
      phase = "consent"; closeCamera(); show("consent");
      $("take-consent-error").textContent = msg.message;
      if (ws) { ws.onclose = null; ws.close(); ws = null; }
    } else if (msg.code === "bad_token" || msg.code === "used_up" || msg.code === "not_found") {
      holdStimulus(); closeCamera(); phase = "ended";
      status(msg.message);
    } else {
      status("Server: " + msg.message);
    }
  }

  function onMessage(ev) {
    let msg;
    try { msg = JSON.parse(ev.data); } catch (e) { return; }
    switch (msg.type) {
      case "hello":
        if (phase === "playing" && token) {
          send({ type: "rejoin", token, lost_at: lostAt === null ? stimulusTime() : lostAt, t: stimulusTime() });
        } else if (cfg.needsCode) send({ type: "code", code: $("take-code").value.trim() });
        else beginCheck();
        break;
      case "code": beginCheck(); break;
      case "check": inFlight = 0; if (phase === "check") onCheck(msg); break;
      case "frame": inFlight = 0; stats.frames++; stats.lastT = msg.t; if (msg.stored) stats.stored++; break;
      case "playing": onPlaying(msg); break;
      case "done":
        stats.done = msg; phase = "done"; closeCamera(); leaveFullscreen(); show("done"); status("");
        break;
      case "withdrawn":
        stats.withdrawn = msg; phase = "withdrawn"; closeCamera(); leaveFullscreen(); show("withdrawn"); status("");
        if (ws) { ws.onclose = null; ws.close(1000); }
        break;
      case "error": onError(msg); break;
    }
  }

  // --- the connection: a lost one is a gap, and the page comes back to the same session --------------
  function connect() {
    const socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + cfg.wsPath);
    socket.binaryType = "arraybuffer";
    ws = socket;
    inFlight = 0;
    socket.onmessage = onMessage;
    socket.onclose = () => {
      if (socket !== ws) return;
      ws = null;
      if (phase === "starting") { phase = "check"; $("take-start").disabled = !ready; }   // press Start again
      if (phase !== "check" && phase !== "playing") return;
      if (phase === "playing" && paused !== "connection") {
        lostAt = stimulusTime(); paused = "connection"; holdStimulus();
      }
      const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** retries);
      retries++;
      status(`Connection lost; reconnecting in ${(delay / 1000).toFixed(0)} s…`);
      setTimeout(connect, delay);
    };
  }

  async function beginCheck() {
    if (phase === "check") return;
    phase = "check";
    show("check");
    try {
      camera = await ferCamera.open(camVideo);
    } catch (err) {
      $("take-check-status").textContent = ferCamera.message(err, "reload this page.");
      $("take-check-status").className = "take-check-status bad";
      return;
    }
    if (isVideo) { stimulus.src = cfg.mediaUrl; stimulus.load(); }    // it loads while the check runs
    else stimulus.src = cfg.mediaUrl;
    timer = setInterval(tick, 1000 / cfg.fps);
  }

  // --- the participant's actions ------------------------------------------------------------------
  function begin() {
    $("take-consent-error").textContent = "";
    if (cfg.needsCode) {
      const code = $("take-code").value.trim();
      if (!code) { $("take-consent-error").textContent = "Type your participant code first."; return; }
      if (code.length > cfg.codeLength) { $("take-consent-error").textContent = "That code is too long."; return; }
    }
    connect();
  }

  function startStimulus() {
    $("take-start").disabled = true;
    phase = "starting";                  // no more check frames: the next ones are data
    if (stage.requestFullscreen) stage.requestFullscreen().catch(() => {});   // where the browser allows
    send({ type: "play" });
  }

  function finish() {
    if (phase !== "playing") return;
    phase = "ending";
    holdStimulus();
    send({ type: "end", t: Math.min(stimulusTime(), cfg.duration) });
  }

  function withdraw() {
    if (!window.confirm("Stop now and delete everything recorded in this session?")) return;
    holdStimulus();
    if (ws && ws.readyState === WebSocket.OPEN) { phase = "withdrawing"; send({ type: "withdraw" }); return; }
    closeCamera(); leaveFullscreen(); phase = "withdrawn";
    status(recording ? "The server cannot be reached: ask the researcher to delete your session, giving your code."
                     : "");
    show("withdrawn");
  }

  function leaveFullscreen() {
    if (document.fullscreenElement && document.exitFullscreen) document.exitFullscreen().catch(() => {});
  }

  function pauseFor(reason) {
    if (phase !== "playing" || paused) return;
    paused = reason;
    holdStimulus();
    lastT = stimulusTime();
    send({ type: "pause", t: lastT, reason });
  }
  function resumeFrom(reason) {
    if (phase !== "playing" || paused !== reason) return;
    paused = null;
    lastT = stimulusTime();                // where a seek from here starts
    send({ type: "resume", t: lastT });
    runStimulus();
  }

  $("take-agree").addEventListener("change", () => { $("take-begin").disabled = !$("take-agree").checked; });
  $("take-consent-form").addEventListener("submit", begin);
  $("take-start").addEventListener("click", startStimulus);
  document.querySelectorAll(".take-withdraw").forEach((b) => b.addEventListener("click", withdraw));
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) pauseFor("hidden"); else resumeFrom("hidden");
  });
  if (isVideo) {
    stimulus.addEventListener("ended", finish);
    stimulus.addEventListener("pause", () => { if (!stimulus.ended) pauseFor("pause"); });
    stimulus.addEventListener("play", () => resumeFrom("pause"));
    stimulus.addEventListener("seeking", () => {
      if (phase === "playing") send({ type: "seek", from: lastT, to: stimulusTime() });
    });
  }
  window.addEventListener("pagehide", () => { if (ws) ws.close(1001); });

  // For tests and the curious: read-only view of the page's state.
  window.ferTake = { stats, get phase() { return phase; }, get recording() { return recording; },
                     get ready() { return ready; }, get paused() { return paused; }, stimulusTime };
})();
