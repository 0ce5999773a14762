// Draws a stored session's timeline wherever a page provides the canvas and the two data scripts.
(() => {
  const canvas = document.getElementById("timeline-chart");
  if (!canvas) return;
  const timeline = JSON.parse(document.getElementById("timeline-data").textContent);
  const emotions = JSON.parse(document.getElementById("timeline-emotions").textContent);
  window.ferTimeline = ferTimelineChart(canvas, emotions, timeline);
})();
