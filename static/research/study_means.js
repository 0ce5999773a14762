// The participant-level figures of /api/studies/<id>/statistics/ (emotion/research/stats/study_inference.py) on
// the study page: the whiskers that the charts of study_stats.js draw, and the table of means with their
// 95% intervals and n, with the test lines, for the measure chosen. Each group mean is shown with its
// interval and n wherever it appears: as a bar (whisker, tooltip) and in the table.
window.FER_MEANS = (function () {
  const fixed = (v) => (v === null || v === undefined ? "–" : v.toFixed(3));
  const none = (v, text) => (v === null ? text : v);

  // A whisker on each bar from dataset.ci[i] = [low, high]; none where n < 2 (no interval).
  const whiskers = {
    id: "whiskers",
    afterDatasetsDraw(chart) {
      const {ctx, chartArea: area} = chart;
      const y = chart.scales.y;
      // an interval wider than the axis (n = 2 gives t = 12.7) is cut at its edge, not drawn over the labels
      ctx.save();
      ctx.beginPath();
      ctx.rect(area.left, area.top, area.right - area.left, area.bottom - area.top);
      ctx.clip();
      chart.data.datasets.forEach((ds, i) => {
        const meta = chart.getDatasetMeta(i);
        if (!ds.ci || meta.hidden) return;
        meta.data.forEach((bar, j) => {
          const ci = ds.ci[j];
          if (!ci || ci[0] === null) return;
          const top = y.getPixelForValue(ci[1]);
          const bottom = y.getPixelForValue(ci[0]);
          const half = Math.max(2, Math.min(6, bar.width / 4));
          ctx.save();
          ctx.strokeStyle = "#222";
          ctx.lineWidth = 1.2;
          ctx.beginPath();
          ctx.moveTo(bar.x, top); ctx.lineTo(bar.x, bottom);
          ctx.moveTo(bar.x - half, top); ctx.lineTo(bar.x + half, top);
          ctx.moveTo(bar.x - half, bottom); ctx.lineTo(bar.x + half, bottom);
          ctx.stroke();
          ctx.restore();
        });
      });
      ctx.restore();
    },
  };

  // The (condition, group) pairs with any mean, in the server's order (conditions, unassigned last).
  function series(data) {
    const seen = new Map();
    data.means.forEach((r) => {
      const key = JSON.stringify([r.condition, r.group]);
      if (!seen.has(key)) seen.set(key, {condition: r.condition, group: r.group});
    });
    return [...seen.values()];
  }

  function seriesLabel(s) {
    const c = none(s.condition, "(no condition)");
    return s.group === null ? c : `${c} · ${s.group}`;
  }

  function find(data, measure, s) {
    return data.means.find((r) => r.measure === measure && r.condition === s.condition && r.group === s.group) || null;
  }

  // one dataset's bars, whiskers and n for the measures given (one per bar)
  function dataset(data, s, measures) {
    const rows = measures.map((m) => find(data, m, s));
    return {
      label: seriesLabel(s),
      data: rows.map((r) => (r ? r.mean : null)),
      ci: rows.map((r) => (r ? [r.ci_low, r.ci_high] : null)),
      n: rows.map((r) => (r ? r.n : 0)),
    };
  }

  function tooltip(item) {
    const ds = item.dataset;
    const ci = ds.ci[item.dataIndex];
    const interval = ci && ci[0] !== null ? ` [${fixed(ci[0])}, ${fixed(ci[1])}]` : " (no interval: n < 2)";
    return `${ds.label}: ${fixed(item.raw)}${interval}, n = ${ds.n[item.dataIndex]}`;
  }

  function measureName(m, corrected) {
    if (m.startsWith("share_")) return `${m.slice(6)}: share of time`;
    if (m === "valence") return corrected ? "valence minus the baseline" : "valence";
    return corrected ? `${m}: mean probability minus the baseline` : `${m}: mean probability`;
  }

  function fillMeasures(select, data) {
    const current = select.value;
    select.replaceChildren(...data.measures.map((m) => new Option(measureName(m, data.baseline_corrected), m)));
    select.value = data.measures.includes(current) ? current : "valence";
  }

  function drawTable(data, measure) {
    const table = document.getElementById("means-table");
    table.replaceChildren();
    const heads = ["Condition", ...(data.split ? [data.split] : []), "n", "Mean", "95% interval"];
    const head = table.createTHead().insertRow();
    heads.forEach((h, i) => {
      const th = document.createElement("th");
      th.textContent = h;
      if (i >= heads.length - 3) th.className = "num";
      if (h === "n") th.title = "participants";
      head.appendChild(th);
    });
    const body = table.createTBody();
    data.means.filter((r) => r.measure === measure).forEach((r) => {
      const tr = body.insertRow();
      const cells = [none(r.condition, "(none)"), ...(data.split ? [r.group] : []), r.n, fixed(r.mean),
                     r.ci_low === null ? "– (n < 2)" : `${fixed(r.ci_low)} to ${fixed(r.ci_high)}`];
      cells.forEach((text, i) => {
        const td = tr.insertCell();
        td.textContent = text;
        if (i >= cells.length - 3) td.className = "num";
      });
    });
    if (!body.rows.length) {
      const td = body.insertRow().insertCell();
      td.textContent = "No participant has figures here yet.";
      td.colSpan = heads.length;
      td.className = "none";
    }
  }

  function drawTests(data, measure) {
    const list = document.getElementById("test-lines");
    const tests = data.tests.filter((t) => t.measure === measure);
    list.replaceChildren(...tests.map((t) => {
      const li = document.createElement("li");
      li.textContent = t.label;
      if (t.statistic === null) li.className = "muted";
      return li;
    }));
    if (!tests.length) {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = data.split ? "No two groups to compare in a condition." : "No two conditions to compare.";
      list.appendChild(li);
    }
  }

  function leftOut(data) {
    const out = data.left_out;
    const parts = [`${data.participants} participant${data.participants === 1 ? "" : "s"} counted.`];
    if (out.filtered_out) parts.push(`${out.filtered_out} left out by the filter.`);
    if (out.without_split_value.length) parts.push(`Without a ${data.split}: ${out.without_split_value.join(", ")}.`);
    return parts.join(" ");
  }

  return {whiskers, series, dataset, tooltip, fillMeasures, drawTable, drawTests, leftOut};
})();
