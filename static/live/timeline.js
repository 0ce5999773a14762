// Draws a stored session's timeline wherever a page provides the canvas and the timeline-data script
// (the emotions' order and colours come from #fer-emotions, read by colors.js).
(() => {
  const canvas = document.getElementById("timeline-chart");
  if (!canvas) return;
  const timeline = JSON.parse(document.getElementById("timeline-data").textContent);
  window.ferTimeline = ferTimelineChart(canvas, timeline);
})();
