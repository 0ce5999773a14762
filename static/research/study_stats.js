// A study's conditions side by side (templates/research/_study_stats.html): a grouped bar chart of each
// emotion per condition (or condition and group), the mean valence per condition, both the mean of the
// participants' values with its 95% interval, from /api/studies/<id>/statistics/ (study_inference.py);
// the means table and test lines (study_means.js); the table per participant and condition from
// /api/studies/<id>/summary/ (statistics.py). "Baseline-corrected" asks for ?baseline=1 and
// shows the mean probabilities minus each participant's baseline clip; shares of time have no
// correction, so the chart shows mean probabilities then.
(function () {
  const card = document.getElementById("study-stats-card");
  if (!card) return;
  const EMOTIONS = FER_EMOTIONS;
  // conditions, not emotions, get the colours here: the emotions are the axis
  const PALETTE = FER_SERIES_COLORS;
  const note = document.getElementById("stats-note");
  const baselineBox = document.getElementById("stats-baseline");
  const measures = document.querySelectorAll('input[name="stats-measure"]');
  const shareChoice = document.querySelector('input[name="stats-measure"][value="share"]');
  const measureChoice = document.getElementById("inference-measure");
  const splitChoice = document.getElementById("stats-split");       // only with category variables
  const filterChoice = document.getElementById("stats-filter");
  let charts = [];
  const cache = {};

  const name = (v, none) => (v === null ? none : v);
  // zero has no sign: -0.001 written "-0.00" reads as a finding
  const fixed = (v, places) => (v === null || v === undefined ? "–" : (Math.abs(v) < 0.5 * 10 ** -places ? 0 : v).toFixed(places));

  function measure() {
    if (baselineBox.checked) return "corrected";
    return document.querySelector('input[name="stats-measure"]:checked').value;
  }

  // the figures one row (or condition) shows for the measure chosen; null where there are none
  function values(item, m) {
    if (m === "corrected") return item.corrected ? item.corrected.mean : null;
    return item[m];
  }
  function valence(item, m) {
    if (m === "corrected") return item.corrected ? item.corrected.valence : null;
    return item.valence;
  }

  function cell(tr, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function drawTable(data, m) {
    const table = document.getElementById("stats-table");
    table.replaceChildren();
    const head = table.createTHead().insertRow();
    const unit = m === "share" ? "share of time" : m === "mean" ? "mean probability" : "mean minus baseline";
    ["Participant", "Condition", "Analyses", "Frames used", "Left out", ...EMOTIONS, "Valence"].forEach((h, i) => {
      const th = document.createElement("th");
      th.textContent = h;
      if (i >= 2) th.className = "num";
      if (i >= 5 && i < 5 + EMOTIONS.length) th.title = `${h}: ${unit}`;
      if (h === "Frames used") th.title = "reliable face-frames counted";
      if (h === "Left out") th.title = "unreliable face-frames, not counted";
      head.appendChild(th);
    });
    const body = table.createTBody();
    data.rows.forEach((r) => {
      const tr = body.insertRow();
      cell(tr, name(r.participant, "(none)"), r.participant === null ? "none" : "");
      cell(tr, name(r.condition, "(none)"), r.condition === null ? "none" : "");
      cell(tr, r.analyses, "num");
      cell(tr, r.frames, "num");
      cell(tr, r.frames_left_out, "num");
      const v = values(r, m);
      EMOTIONS.forEach((e) => cell(tr, v ? fixed(v[e], 3) : "–", "num"));
      cell(tr, fixed(valence(r, m), 3), "num");
      if (m === "corrected" && !r.corrected) tr.title = "this participant has no baseline clip";
    });
    if (!data.rows.length) {
      const td = cell(body.insertRow(), "No finished analysis in this study yet.", "none");
      td.colSpan = 6 + EMOTIONS.length;
    }
  }

  // The bars: the mean of the participants' values per condition (and group), with whiskers for the 95%
  // interval and n in the tooltip (study_means.js), from /statistics/.
  function drawCharts(stats, m) {
    charts.forEach((c) => c.destroy());
    charts = [];
    const series = FER_MEANS.series(stats);
    // empty axes read as "all zero": nothing is drawn until a condition has figures (describe() says why)
    document.getElementById("stats-charts").hidden = !series.length;
    if (typeof Chart === "undefined" || !series.length) return;     // the tables still say it all
    const corrected = m === "corrected";
    const key = (e) => (m === "share" ? `share_${e}` : e);
    const colour = (s) => PALETTE[series.indexOf(s) % PALETTE.length];
    const tooltip = {callbacks: {label: FER_MEANS.tooltip}};
    charts.push(new Chart(document.getElementById("stats-chart"), {
      type: "bar",
      data: {
        labels: EMOTIONS,
        datasets: series.map((s) => ({...FER_MEANS.dataset(stats, s, EMOTIONS.map(key)), backgroundColor: colour(s)})),
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: {tooltip, title: {display: true, text: (corrected ? "Mean probability minus the baseline" :
          m === "share" ? "Share of time" : "Mean probability") + ", mean of participants ± 95% interval"}},
        scales: {y: corrected ? {} : {min: 0, max: 1}},
      },
      plugins: [FER_MEANS.whiskers],
    }));
    const valence = series.map((s) => FER_MEANS.dataset(stats, s, ["valence"]));
    charts.push(new Chart(document.getElementById("valence-chart"), {
      type: "bar",
      data: {
        labels: valence.map((d) => d.label),
        datasets: [{label: corrected ? "valence minus the baseline" : "mean valence",
                    backgroundColor: series.map(colour), data: valence.map((d) => d.data[0]),
                    ci: valence.map((d) => d.ci[0]), n: valence.map((d) => d.n[0])}],
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: {tooltip, legend: {display: false}, title: {display: true, text: corrected ?
          "Valence minus the baseline" : "Mean valence"}},
        scales: {y: {min: -1, max: 1}},
      },
      plugins: [FER_MEANS.whiskers],
    }));
  }

  function describe(data, stats, m) {
    const parts = [];
    if (!data.rows.length) parts.push("The charts appear when an analysis in this study has finished.");
    if (data.analyses_not_counted) parts.push(`${data.analyses_not_counted} analys${data.analyses_not_counted > 1 ? "es" : "is"} not finished, not counted.`);
    parts.push(FER_MEANS.leftOut(stats));
    if (m === "corrected") {
      const missing = stats.left_out.without_baseline;
      parts.push("Baseline-corrected: each participant's baseline clip's mean probabilities and valence subtracted.");
      if (missing.length) parts.push(`Without a baseline, left out of the corrected figures: ${missing.join(", ")}.`);
    }
    note.textContent = parts.join(" ");
    card.dataset.shown = m;
  }

  function drawInference(stats) {
    FER_MEANS.fillMeasures(measureChoice, stats);
    FER_MEANS.drawTable(stats, measureChoice.value);
    FER_MEANS.drawTests(stats, measureChoice.value);
  }

  async function fetched(url) {
    if (!cache[url]) {
      const res = await fetch(url, {headers: {Accept: "application/json"}});
      if (!res.ok) throw new Error(`the server answered ${res.status}`);
      cache[url] = await res.json();
    }
    return cache[url];
  }

  async function show() {
    const m = measure();
    shareChoice.disabled = baselineBox.checked;
    const key = baselineBox.checked ? "1" : "0";
    const options = new URLSearchParams({baseline: key});
    if (splitChoice && splitChoice.value) options.set("split", splitChoice.value);
    if (filterChoice && filterChoice.value) options.set("filter", filterChoice.value);
    let data, stats;
    try {
      [data, stats] = await Promise.all([fetched(`${card.dataset.summaryUrl}?baseline=${key}`),
                                         fetched(`${card.dataset.statisticsUrl}?${options}`)]);
    } catch (err) {
      note.textContent = `The figures could not be loaded (${err.message}); reload the page to try again.`;
      return;
    }
    drawTable(data, m);
    drawCharts(stats, m);
    drawInference(stats);
    describe(data, stats, m);
  }

  // an analysis on the page finished (list.js): the figures it adds are fetched again, once for a burst
  let reload = null;
  document.addEventListener("fer:analysis-finished", () => {
    clearTimeout(reload);
    reload = setTimeout(() => {
      Object.keys(cache).forEach((k) => delete cache[k]);
      show();
    }, 500);
  });
  baselineBox.addEventListener("change", show);
  [splitChoice, filterChoice].forEach((c) => c && c.addEventListener("change", show));
  measureChoice.addEventListener("change", show);
  measures.forEach((r) => r.addEventListener("change", show));
  show();
})();
