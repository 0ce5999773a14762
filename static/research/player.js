// The timeline page's video player: the original upload (or its annotated copy) in a <video>, spoken to
// in analysis time, the time of the chart's x axis.
//
// A browser's clock (video.currentTime) starts at the container's first timestamp, which in some clips
// is the sound's, some way before the first picture: the upload's probe reads that offset from the
// file once (data-offset, Analysis.video_offset) and both videos share it (emotion/ml/video_out.py
// keeps the original's timing). With a frame step N the frame analysed for a time is the last
// multiple of N at or before it: the frame the annotated video shows then.
window.ferPlayer = function (box) {
  const video = box.querySelector("video");
  const offset = Number(box.dataset.offset) || 0;
  const fps = Number(box.dataset.fps) || 25;
  const step = Math.max(1, Number(box.dataset.step) || 1);
  const frames = Number(box.dataset.frames) || Infinity;
  const listeners = [];
  let raf = null;

  const time = () => Math.max(0, video.currentTime - offset);
  const notify = () => listeners.forEach((f) => f(time(), !video.paused));
  // follow playback smoothly: once per displayed frame while playing, and on every jump
  const tick = () => { notify(); raf = video.paused || video.ended ? null : requestAnimationFrame(tick); };
  video.addEventListener("play", () => { if (raf == null) raf = requestAnimationFrame(tick); });
  ["timeupdate", "seeked", "pause", "loadedmetadata"].forEach((ev) => video.addEventListener(ev, notify));

  const player = {
    video,
    offset,
    time,
    onTime: (f) => listeners.push(f),
    // the analysed frame shown at analysis time t
    frameAt: (t) => Math.min(Math.floor(t * fps / step + 1e-6) * step, Math.floor((frames - 1) / step) * step),
    seek: (t) => { video.currentTime = Math.max(0, t) + offset; },
  };

  // The annotated copy instead of the original, at the same moment and in the same state.
  const toggle = box.querySelector("#show-annotated");
  if (toggle && video.dataset.annotated) {
    toggle.addEventListener("change", () => {
      const at = video.currentTime, playing = !video.paused;
      video.src = toggle.checked ? video.dataset.annotated : video.dataset.original;
      video.addEventListener("loadedmetadata", () => {
        video.currentTime = at;
        if (playing) video.play().catch(() => {});
      }, {once: true});
      video.load();
    });
  }
  return player;
};
