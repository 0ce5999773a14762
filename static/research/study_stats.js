// A study's conditions side by side (templates/research/_study_stats.html): a grouped bar chart of each
// emotion per condition, the mean valence per condition, and the table per participant and condition,
// all from /api/studies/<id>/summary/ (statistics.py). "Baseline-corrected" asks for ?baseline=1 and
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

  function drawCharts(data, m) {
    charts.forEach((c) => c.destroy());
    charts = [];
    const conds = data.conditions.filter((c) => values(c, m));
    // empty axes read as "all zero": nothing is drawn until a condition has figures (describe() says why)
    document.getElementById("stats-charts").hidden = !conds.length;
    if (typeof Chart === "undefined" || !conds.length) return;     // the table still says it all
    // a condition keeps its colour whichever conditions have figures to show
    const colour = new Map(data.conditions.map((c, i) => [c.condition, PALETTE[i % PALETTE.length]]));
    const label = (c) => name(c.condition, "(no condition)");
    const corrected = m === "corrected";
    charts.push(new Chart(document.getElementById("stats-chart"), {
      type: "bar",
      data: {
        labels: EMOTIONS,
        datasets: conds.map((c) => ({
          label: label(c), backgroundColor: colour.get(c.condition),
          data: EMOTIONS.map((e) => values(c, m)[e]),
        })),
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: {title: {display: true, text: corrected ? "Mean probability minus the baseline" :
          m === "share" ? "Share of time" : "Mean probability"}},
        scales: {y: corrected ? {} : {min: 0, max: 1}},
      },
    }));
    charts.push(new Chart(document.getElementById("valence-chart"), {
      type: "bar",
      data: {
        labels: conds.map(label),
        datasets: [{label: corrected ? "valence minus the baseline" : "mean valence",
                    backgroundColor: conds.map((c) => colour.get(c.condition)),
                    data: conds.map((c) => valence(c, m))}],
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: {legend: {display: false}, title: {display: true, text: corrected ? "Valence minus the baseline" :
          "Mean valence"}},
        scales: {y: {min: -1, max: 1}},
      },
    }));
  }

  function describe(data, m) {
    const parts = [];
    if (!data.rows.length) parts.push("The charts appear when an analysis in this study has finished.");
    if (data.analyses_not_counted) parts.push(`${data.analyses_not_counted} analys${data.analyses_not_counted > 1 ? "es" : "is"} not finished, not counted.`);
    if (m === "corrected") {
      const missing = new Set();
      data.conditions.forEach((c) => (c.corrected ? c.corrected.participants_without_baseline : [])
        .forEach((p) => missing.add(name(p, "(none)"))));
      data.rows.forEach((r) => { if (!r.corrected && r.frames) missing.add(name(r.participant, "(none)")); });
      parts.push("Baseline-corrected: each participant's baseline clip's mean probabilities and valence subtracted.");
      if (missing.size) parts.push(`Without a baseline, left out of the corrected figures: ${[...missing].join(", ")}.`);
    }
    note.textContent = parts.join(" ");
    card.dataset.shown = m;
  }

  async function show() {
    const m = measure();
    shareChoice.disabled = baselineBox.checked;
    const key = baselineBox.checked ? "1" : "0";
    try {
      if (!cache[key]) {
        const res = await fetch(`${card.dataset.summaryUrl}?baseline=${key}`, {headers: {Accept: "application/json"}});
        if (!res.ok) throw new Error(`the server answered ${res.status}`);
        cache[key] = await res.json();
      }
    } catch (err) {
      note.textContent = `The figures could not be loaded (${err.message}); reload the page to try again.`;
      return;
    }
    drawTable(cache[key], m);
    drawCharts(cache[key], m);
    describe(cache[key], m);
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
  measures.forEach((r) => r.addEventListener("change", show));
  show();
})();
