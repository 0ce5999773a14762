// The camera, as the live page and a remote session's participant page use it: open it, say in words
// why it could not be opened, and grab one frame as a JPEG no wider than asked.
(function () {
  "use strict";

  // why the camera could not be opened, and what to do next ("press Start again.", "reload this page.")
  function message(err, next) {
    switch (err && err.name) {
      case "NotAllowedError": case "SecurityError":
        return "Camera access was refused. Allow the camera for this site in the browser, then " + next;
      case "NotFoundError": case "OverconstrainedError":
        return "No camera was found. Plug one in, then " + next;
      case "NotReadableError": case "AbortError":
        return "The camera could not be read; another application may be using it.";
      default:
        return "The camera could not be started (" + (err && err.message ? err.message : err) + "); " + next;
    }
  }

  // the camera's stream shown in ``video``; ``onEnded`` runs if it stops by itself (unplugged, taken)
  async function open(video, onEnded) {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw { name: "Unsupported", message: "this browser offers no camera here (the page needs HTTPS or localhost)" };
    }
    const media = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 } }, audio: false });
    if (onEnded) media.getVideoTracks().forEach((t) => t.addEventListener("ended", onEnded));
    video.srcObject = media;
    await video.play().catch(() => {});
    return media;
  }

  function close(media) {
    if (media) media.getTracks().forEach((t) => t.stop());
  }

  function ready(video) {
    return video.readyState >= 2 && video.videoWidth > 0;
  }

  // ``done(blob, width, height)`` with the current picture as a JPEG at most ``maxWidth`` wide
  function grab(video, canvas, maxWidth, quality, done) {
    const w = Math.min(maxWidth, video.videoWidth);
    const h = Math.round(w * video.videoHeight / video.videoWidth);
    if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
    canvas.getContext("2d").drawImage(video, 0, 0, w, h);
    canvas.toBlob((blob) => done(blob, w, h), "image/jpeg", quality);
  }

  window.ferCamera = { message, open, close, ready, grab };
})();
