// The emotions, their colours and the grey of unreliable results, as the server defines them once
// (emotion/ml/labels.py and quality.py, written on every page as #fer-emotions by base.html through
// emotion/web/context_processors.py). Page scripts read these instead of lists of their own.
(() => {
  const fer = JSON.parse(document.getElementById("fer-emotions").textContent);
  window.FER_EMOTIONS = fer.emotions;             // the model's label order, as in stored results
  window.FER_EMOTION_COLORS = fer.colours;
  window.FER_UNRELIABLE_COLOR = fer.unreliable;
  window.FER_RELIABILITY_RULE = fer.rule;
  window.FER_SERIES_COLORS = fer.series;          // for series that are not emotions
})();

// Which results count (shares, means, the reliable share): every one not flagged unreliable; a result
// without the flag (stored before it existed) counts. The server's statement: emotion/ml/results.counts.
window.ferCounts = (r) => r.reliable !== false;

// Chart.js segment options that grey a line wherever it touches an unreliable point: each data point
// of such a chart carries ``ok`` (false for an unreliable result; missing means reliable).
window.ferUnreliableSegments = function () {
  const grey = (ctx) => {
    const data = ctx.chart.data.datasets[ctx.datasetIndex].data;
    const a = data[ctx.p0DataIndex], b = data[ctx.p1DataIndex];
    return (a && a.ok === false) || (b && b.ok === false);
  };
  return {
    borderColor: (ctx) => (grey(ctx) ? FER_UNRELIABLE_COLOR : undefined),
    borderDash: (ctx) => (grey(ctx) ? [4, 3] : undefined),
    borderWidth: (ctx) => (grey(ctx) ? 1 : undefined),
  };
};

// A line chart of a stored live session's timeline ([{t, p: [7], r: 0|1}]) on the given canvas; points
// with r = 0 (the followed face was unreliable there) are greyed. Sessions stored before points had
// ``r`` count as reliable. A point with p = null marks where the faces were lost: the lines break there
// until the next face (spanGaps off), rather than joining across a time when nothing was seen.
window.ferTimelineChart = function (canvas, timeline) {
  const unreliable = timeline.filter((pt) => pt.p && pt.r === 0).length;
  const gaps = timeline.filter((pt) => !pt.p).length;
  canvas.dataset.unreliablePoints = String(unreliable);
  canvas.dataset.gaps = String(gaps);
  const gapAt = (i) => i < 0 || i >= timeline.length || !timeline[i].p;
  const isolated = (i) => !gapAt(i) && gapAt(i - 1) && gapAt(i + 1);
  return new Chart(canvas, {
    type: "line",
    data: {
      datasets: FER_EMOTIONS.map((e, i) => ({
        label: e, borderColor: FER_EMOTION_COLORS[e], backgroundColor: FER_EMOTION_COLORS[e],
        // a point with a gap on both sides has no line: it is drawn as a dot, else it would not show
        pointRadius: (ctx) => (isolated(ctx.dataIndex) ? 2 : 0), borderWidth: 1.5, segment: ferUnreliableSegments(),
        data: timeline.map((pt) => ({ x: pt.t, y: pt.p ? pt.p[i] : null, ok: pt.r !== 0 })),
      })),
    },
    options: {
      animation: false, parsing: false, maintainAspectRatio: false, spanGaps: false,
      scales: {
        x: { type: "linear", title: { display: true, text: "seconds from start" } },
        y: { min: 0, max: 1, title: { display: true, text: "probability" } },
      },
      interaction: { mode: "nearest", axis: "x", intersect: false },
      plugins: {
        subtitle: { display: unreliable + gaps > 0, color: "#666",
                    text: [unreliable ? `grey, dashed: the followed face was unreliable there (${unreliable} of ${timeline.length - gaps} points)` : "",
                           gaps ? `breaks: no face seen (${gaps})` : ""].filter(Boolean).join("; ") },
        tooltip: { callbacks: { footer: (items) => (items.length && items[0].raw.ok === false ? "unreliable" : "") } },
      },
    },
  });
};
