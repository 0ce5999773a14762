// The stimulus page: the markers on the time axis seek the player to their start, and a playhead on the
// axis follows the video. Times are stimulus times: 0 at the video's first picture, which research/player.js
// (ferPlayer) maps to and from the video's own clock with the offset the server read from the file.
(function () {
  const data = JSON.parse(document.getElementById("stimulus-data").textContent);
  const box = document.getElementById("stimulus-player");
  const spans = Array.from(document.querySelectorAll("#marker-track .marker-span"));
  const page = (window.ferStimulus = {data, player: null, ready: false});
  if (data.kind !== "video" || !box) { page.ready = true; return; }

  const player = (page.player = ferPlayer(box));
  const head = document.getElementById("playhead");
  const duration = data.duration || 1;

  spans.forEach((span) => span.addEventListener("click", () => {
    player.seek(Number(span.dataset.start));
    player.video.play().catch(() => { /* autoplay refused: the video waits at the marker's start */ });
  }));

  player.onTime((t) => {
    head.hidden = false;
    head.style.left = `${Math.min(100, (100 * t) / duration)}%`;
    head.dataset.time = t.toFixed(3);
    spans.forEach((s) => s.classList.toggle("current", Number(s.dataset.start) <= t && t <= Number(s.dataset.end)));
  });
  page.ready = true;
})();
