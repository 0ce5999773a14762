// One colour per emotion, shared by the live chart, the session pages and the admin timeline.
window.FER_EMOTION_COLORS = {
  angry: "#d62728", disgust: "#8c564b", fear: "#9467bd", happy: "#f2b01e",
  sad: "#1f77b4", surprise: "#17becf", neutral: "#7f7f7f",
};

// A line chart of a stored session's timeline ([{t, p: [7]}]) on the given canvas.
window.ferTimelineChart = function (canvas, emotions, timeline) {
  return new Chart(canvas, {
    type: "line",
    data: {
      datasets: emotions.map((e, i) => ({
        label: e, borderColor: FER_EMOTION_COLORS[e], backgroundColor: FER_EMOTION_COLORS[e],
        pointRadius: 0, borderWidth: 1.5, data: timeline.map((pt) => ({ x: pt.t, y: pt.p[i] })),
      })),
    },
    options: {
      animation: false, parsing: false, maintainAspectRatio: false,
      scales: {
        x: { type: "linear", title: { display: true, text: "seconds from start" } },
        y: { min: 0, max: 1, title: { display: true, text: "probability" } },
      },
      interaction: { mode: "nearest", axis: "x", intersect: false },
    },
  });
};
