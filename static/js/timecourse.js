// A stimulus' group time course (templates/stimuli/_timecourse.html) from /api/stimuli/<id>/time-course/
// (emotion/stimuli/course/timecourse.py): the chosen measure per group over stimulus time, the mean of the
// participants' values per bin with its 95% band, the event markers as grey spans on the same axis, and
// a table of the per-marker means with their intervals and tests.
//
// When the page has a player (#stimulus-media), a vertical line follows its time and a click on the chart
// moves it there. The player is looked up when needed, so one added after this script ran works too.
//
// For tests, the card carries what was drawn: data-state (loading, drawn, empty, error), data-groups
// (lines drawn), data-measure, data-cursor (the time the cursor was last drawn at).
(function () {
  const card = document.getElementById("timecourse");
  if (!card) return;
  const stimulus = JSON.parse(document.getElementById("stimulus-data").textContent);
  // Stimulus time 0 is a video's first picture, which a player shows at currentTime = offset (a clip
  // whose sound starts first): the cursor and the seeks convert between the two clocks.
  const offset = stimulus.offset || 0;
  // The page's own colours (static/css/site.css), so the chart follows the stylesheet.
  const cssColour = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  const PALETTE = FER_SERIES_COLORS;
  const $ = (id) => document.getElementById(id);
  const measureChoice = $("tc-measure"), byChoice = $("tc-by"), binChoice = $("tc-bin"), baselineBox = $("tc-baseline");
  const note = $("tc-note");
  const cache = {};
  let chart = null, data = null;

  const media = () => document.getElementById("stimulus-media");
  const fixed = (v) => (v === null || v === undefined ? "–" : (Math.abs(v) < 0.0005 ? 0 : v).toFixed(3));
  const colour = (i) => PALETTE[i % PALETTE.length];
  // a colour with some transparency, for the band
  const faint = (hex) => `${hex}33`;

  function measureName(m, corrected) {
    const base = m === "valence" ? "valence" : `${m}: mean probability`;
    return corrected ? `${base} minus the baseline` : base;
  }

  measureChoice.replaceChildren(...["valence", ...FER_EMOTIONS].map((m) => new Option(measureName(m, false), m)));
  measureChoice.value = "valence";

  function options() {
    const q = new URLSearchParams({bin: binChoice.value});
    if (byChoice.value) q.set("by", byChoice.value);
    if (baselineBox.checked) q.set("baseline", "1");
    return q;
  }

  async function fetched(url) {
    if (!cache[url]) {
      const res = await fetch(url, {headers: {Accept: "application/json"}});
      const body = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(Object.values(body).flat().join(" ") || `the server answered ${res.status}`);
      cache[url] = body;
    }
    return cache[url];
  }

  // The event markers as grey spans behind the lines, their names along the top.
  const markerSpans = {
    id: "markerSpans",
    beforeDatasetsDraw(c) {
      const {ctx, chartArea: area, scales: {x}} = c;
      ctx.save();
      ctx.font = "11px system-ui, sans-serif";
      ctx.textBaseline = "top";
      stimulus.markers.forEach((m, i) => {
        const left = Math.max(area.left, x.getPixelForValue(m.start));
        const right = Math.min(area.right, x.getPixelForValue(m.end));
        ctx.fillStyle = i % 2 ? "rgba(90, 100, 120, 0.10)" : "rgba(90, 100, 120, 0.16)";
        ctx.fillRect(left, area.top, Math.max(1, right - left), area.bottom - area.top);
        ctx.fillStyle = cssColour("--muted");
        ctx.fillText(m.name, left + 3, area.top + 3 + (i % 2) * 13, Math.max(20, right - left - 4));
      });
      ctx.restore();
    },
  };

  // The player's time as a vertical line.
  const playCursor = {
    id: "playCursor",
    afterDatasetsDraw(c) {
      const player = media();
      if (!player) return;
      const t = player.currentTime - offset;
      const {ctx, chartArea: area, scales: {x}} = c;
      const px = x.getPixelForValue(t);
      card.dataset.cursor = String(Math.round(t * 1000) / 1000);
      if (px < area.left || px > area.right) return;
      ctx.save();
      ctx.fillStyle = cssColour("--fg");
      ctx.fillRect(px - 1, area.top, 2, area.bottom - area.top);
      ctx.restore();
    },
  };

  // Per group three datasets: the band's lower edge, its upper edge filled down to it, and the mean line.
  function datasets(figures, m) {
    const mid = figures.bins.map((b) => (b.start + b.end) / 2);
    const out = [];
    figures.groups.forEach((g, i) => {
      const s = g.series[m];
      const points = (values) => values.map((y, k) => ({x: mid[k], y}));
      const band = {pointRadius: 0, pointHoverRadius: 0, borderWidth: 0, band: true, spanGaps: false};
      out.push({...band, label: `${g.label} (95% band, lower)`, data: points(s.low), fill: false});
      out.push({...band, label: `${g.label} (95% band)`, data: points(s.high), fill: "-1", backgroundColor: faint(colour(i))});
      out.push({label: g.label, data: points(s.mean), n: s.n, low: s.low, high: s.high, borderColor: colour(i),
                backgroundColor: colour(i), borderWidth: 2, pointRadius: 0, pointHoverRadius: 4, spanGaps: false,
                fill: false});
    });
    return out;
  }

  function seek(event, elements, c) {
    const player = media();
    if (!player) return;
    const t = c.scales.x.getValueForPixel(event.x);
    player.currentTime = Math.min(Math.max(0, t), stimulus.duration) + offset;
    c.draw();
  }

  function draw(figures) {
    const m = measureChoice.value;
    const corrected = figures.baseline_corrected;
    const sets = datasets(figures, m);
    if (chart) chart.destroy();
    chart = null;
    if (typeof Chart === "undefined") return;      // the table still says it all
    chart = new Chart($("tc-chart"), {
      type: "line",
      data: {datasets: sets},
      options: {
        animation: false, parsing: false, maintainAspectRatio: false, responsive: true,
        // every group's value in the bin under the pointer, for comparing them
        interaction: {mode: "index", axis: "x", intersect: false},
        scales: {
          x: {type: "linear", min: 0, max: figures.duration, title: {display: true, text: "stimulus time (s)"}},
          y: corrected ? {title: {display: true, text: measureName(m, true)}} :
             {min: m === "valence" ? -1 : 0, max: 1, title: {display: true, text: measureName(m, false)}},
        },
        plugins: {
          legend: {labels: {filter: (item, d) => !d.datasets[item.datasetIndex].band}},
          tooltip: {
            filter: (item) => !item.dataset.band && item.raw.y !== null,
            callbacks: {
              title: (items) => (items.length ? `${figures.bins[items[0].dataIndex].start}–${figures.bins[items[0].dataIndex].end} s` : ""),
              label: (item) => {
                const ds = item.dataset, k = item.dataIndex;
                const interval = ds.low[k] === null ? "no interval (n < 2)" : `95% CI ${fixed(ds.low[k])} to ${fixed(ds.high[k])}`;
                return `${ds.label}: ${fixed(item.raw.y)}, ${interval}, n = ${ds.n[k]}`;
              },
            },
          },
        },
        onClick: seek,
      },
      plugins: [markerSpans, playCursor],
    });
    card.dataset.groups = String(figures.groups.length);
    card.dataset.measure = m;
  }

  function groupLabel(figures, key) {
    const g = figures.groups.find((x) => x.key === key);
    return g ? g.label : String(key);
  }

  function drawMarkers(figures) {
    const m = measureChoice.value;
    const table = $("tc-markers");
    table.replaceChildren();
    const heads = ["Marker", "Span (s)", "Group", "n", "Mean", "95% interval"];
    const head = table.createTHead().insertRow();
    heads.forEach((h, i) => {
      const th = document.createElement("th");
      th.textContent = h;
      if (i >= 3) th.className = "num";
      if (h === "n") th.title = "participants with frames in the marker's span";
      head.appendChild(th);
    });
    const body = table.createTBody();
    const lines = [];
    figures.markers.forEach((mk) => {
      const rows = mk.means.filter((r) => r.measure === m);
      if (!rows.length) rows.push(null);
      rows.forEach((r, j) => {
        const tr = body.insertRow();
        const cells = [j ? "" : mk.name, j ? "" : `${mk.start}–${mk.end}`, r ? groupLabel(figures, r.group) : "no frames",
                       r ? r.n : 0, r ? fixed(r.mean) : "–",
                       !r || r.ci_low === null ? "– (n < 2)" : `${fixed(r.ci_low)} to ${fixed(r.ci_high)}`];
        cells.forEach((text, i) => {
          const td = tr.insertCell();
          td.textContent = text;
          if (i >= 3) td.className = "num";
          if (i === 2 && r) {
            const k = figures.groups.findIndex((g) => g.key === r.group);
            const sw = document.createElement("span");
            sw.className = "tc-swatch";
            sw.style.background = colour(k);
            td.prepend(sw);
          }
        });
      });
      mk.tests.filter((t) => t.measure === m).forEach((t) => lines.push(t));
    });
    if (!figures.markers.length) {
      const td = body.insertRow().insertCell();
      td.textContent = "This stimulus has no event markers.";
      td.colSpan = heads.length;
      td.className = "none";
    }
    $("tc-tests").replaceChildren(...lines.map((t) => {
      const li = document.createElement("li");
      li.textContent = t.label;
      if (t.statistic === null) li.className = "muted";
      return li;
    }));
  }

  function describe(figures) {
    const parts = [`${figures.participants} participant${figures.participants === 1 ? "" : "s"}, ` +
                   `${figures.recordings} finished recording${figures.recordings === 1 ? "" : "s"}.`];
    if (figures.recordings_not_counted) parts.push(`${figures.recordings_not_counted} not counted (still running, or not analysed).`);
    const out = figures.left_out;
    if (out.frames_not_counted) parts.push(`${out.frames_not_counted} frames left out (unreliable, in a gap, or outside the stimulus).`);
    if (out.without_group_value.length) parts.push(`Without a value to group by: ${out.without_group_value.join(", ")}.`);
    if (figures.baseline_corrected) {
      parts.push("Baseline-corrected: each participant's baseline clip's means subtracted.");
      if (out.uncorrected.length) parts.push(`Without a baseline, so uncorrected: ${out.uncorrected.join(", ")}.`);
    }
    note.textContent = parts.join(" ");
  }

  function downloads() {
    const q = new URLSearchParams({bin: binChoice.value});
    if (baselineBox.checked) q.set("baseline", "1");
    $("tc-csv").href = `${card.dataset.csvUrl}?${q}`;
    $("tc-marker-csv").href = `${card.dataset.markerCsvUrl}?${q}`;
  }

  async function show() {
    card.dataset.state = "loading";
    downloads();
    measureChoice.querySelectorAll("option").forEach((o) => { o.textContent = measureName(o.value, baselineBox.checked); });
    try {
      data = await fetched(`${card.dataset.apiUrl}?${options()}`);
    } catch (err) {
      note.textContent = `The time course could not be loaded: ${err.message}`;
      $("tc-figures").hidden = true;           // the figures of other options would read as these
      card.dataset.state = "error";
      return;
    }
    const empty = data.participants === 0;
    $("tc-empty").hidden = !empty;
    $("tc-figures").hidden = empty;
    describe(data);
    if (empty) {
      if (chart) chart.destroy();
      chart = null;
      card.dataset.groups = "0";
      card.dataset.state = "empty";
      return;
    }
    draw(data);
    drawMarkers(data);
    card.dataset.state = "drawn";
  }

  // The cursor follows the player: each time update (and every frame while it plays, for a smooth line).
  let playing = false;
  const redraw = () => chart && chart.draw();
  const follow = () => { redraw(); if (playing) requestAnimationFrame(follow); };
  const mine = (e) => e.target && e.target.id === "stimulus-media";
  // media events do not bubble; listening in the capture phase hears a player added later too
  ["timeupdate", "seeked", "loadedmetadata"].forEach((type) => document.addEventListener(type, (e) => mine(e) && redraw(), true));
  document.addEventListener("play", (e) => { if (mine(e)) { playing = true; follow(); } }, true);
  ["pause", "ended"].forEach((type) => document.addEventListener(type, (e) => { if (mine(e)) playing = false; }, true));

  measureChoice.addEventListener("change", () => { if (data && data.participants) { draw(data); drawMarkers(data); } });
  [byChoice, binChoice, baselineBox].forEach((c) => c.addEventListener("change", show));
  show();
})();
