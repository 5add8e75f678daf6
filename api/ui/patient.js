// mindq patient view: a patient's journal entries with their analyses over time (flags marked),
// and a PHQ-9 forecast with its interval band. Uses app.js's api(), $(), showMessage() and
// readStream(); plots are SVG built element by element (no innerHTML, nothing from elsewhere).
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const ATTENTION = new Set(["high", "medium", "yes", "depression", "severe", "moderately severe"]);
const PLOT = { left: 120, right: 780, top: 24, row: 28 };

function svgEl(name, attrs = {}, text = null) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== null) el.textContent = text;
  return el;
}

function titled(el, text) {
  el.append(svgEl("title", {}, text));
  return el;
}

function day(iso) { return new Date(iso).toISOString().slice(0, 10); }

function scaleTime(times, left, right) {
  const lo = Math.min(...times), hi = Math.max(...times);
  const span = hi - lo || 1;
  return (t) => (times.length === 1 || hi === lo ? (left + right) / 2 : left + ((t - lo) / span) * (right - left));
}

async function openPatient(event) {
  event.preventDefault();
  const ref = $("patient-ref").value.trim();
  if (!ref) return;
  const path = `/v1/patients/${encodeURIComponent(ref)}`;
  try {
    const [journal, flags] = await Promise.all([api(`${path}/journal`), api(`${path}/flags`)]);
    renderTimeline(journal.entries, flags.flags);
    renderEntries(journal.entries, flags.flags);
    $("patient").hidden = false;
    showMessage("");
  } catch (e) {
    $("patient").hidden = true;
    showMessage(e.message);
  }
}

function renderTimeline(entries, flags) {
  const plot = $("timeline");
  const types = [...new Set(entries.flatMap((e) => e.analyses.map((a) => a.type)))].sort();
  const height = PLOT.top + Math.max(types.length, 1) * PLOT.row + 30;
  plot.setAttribute("viewBox", `0 0 800 ${height}`);
  const nodes = [];
  if (!entries.length) {
    nodes.push(svgEl("text", { x: PLOT.left, y: PLOT.top + 14 }, "No journal entries yet."));
    plot.replaceChildren(...nodes);
    return;
  }
  const x = scaleTime(entries.map((e) => Date.parse(e.written_at)), PLOT.left + 10, PLOT.right - 10);
  const bottom = PLOT.top + types.length * PLOT.row;
  nodes.push(svgEl("line", { class: "axis", x1: PLOT.left, x2: PLOT.right, y1: bottom, y2: bottom }));
  const first = entries[0].written_at, last = entries[entries.length - 1].written_at;
  nodes.push(svgEl("text", { x: PLOT.left, y: bottom + 16 }, day(first)));
  nodes.push(svgEl("text", { x: PLOT.right, y: bottom + 16, "text-anchor": "end" }, day(last)));
  const byEntry = new Map(entries.map((e) => [e.entry_id, e]));
  for (const flag of flags) {
    const entry = byEntry.get(flag.entry_id);
    if (!entry) continue;
    const fx = x(Date.parse(entry.written_at));
    const mark = svgEl("g", { class: "flag", "data-entry": flag.entry_id, "data-type": flag.type });
    mark.append(svgEl("line", { class: "flag-mark", x1: fx, x2: fx, y1: PLOT.top - 10, y2: bottom }));
    mark.append(titled(svgEl("text", { class: "flag-glyph", x: fx + 3, y: PLOT.top - 10 }, "⚑"),
      `${day(entry.written_at)} · ${flag.kind} · ${flag.type}: ${flag.from ?? "–"} → ${flag.to ?? "–"}`));
    nodes.push(mark);
  }
  types.forEach((type, i) => {
    const y = PLOT.top + i * PLOT.row + PLOT.row / 2;
    nodes.push(svgEl("text", { x: PLOT.left - 8, y: y + 4, "text-anchor": "end" }, type));
    for (const entry of entries) {
      for (const a of entry.analyses.filter((an) => an.type === type)) {
        const label = a.label ?? "unparsed";
        const attention = ATTENTION.has(String(label).toLowerCase());
        const dot = svgEl("circle", {
          class: attention ? "analysis attention" : "analysis", cx: x(Date.parse(entry.written_at)), cy: y, r: 5,
          "data-entry": entry.entry_id, "data-type": type, "data-label": label,
        });
        nodes.push(titled(dot, `${day(entry.written_at)} · ${type}: ${label}`));
      }
    }
  });
  plot.replaceChildren(...nodes);
}

function renderEntries(entries, flags) {
  const flagged = new Map();
  for (const f of flags) flagged.set(f.entry_id, [...(flagged.get(f.entry_id) || []), f]);
  $("entries").replaceChildren(...entries.slice().reverse().map((entry) => {
    const item = document.createElement("li");
    const labels = entry.analyses.map((a) => `${a.type}: ${a.label ?? "unparsed"}`).join(", ") || "not analysed yet";
    const marks = (flagged.get(entry.entry_id) || []).map((f) => ` ⚑ ${f.kind} (${f.type})`).join("");
    item.textContent = `${day(entry.written_at)} · ${entry.entry_id} · ${labels}${marks}`;
    if (marks) item.className = "flagged";
    return item;
  }));
}

// --- PHQ-9 forecast -------------------------------------------------------------------------

function parseScores(text) {
  const rows = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  return rows.map((line, i) => {
    const [date, score] = line.split(/[\s,;]+/);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date || "") || !/^\d+(\.\d+)?$/.test(score || "")) {
      throw new Error(`line ${i + 1}: expected "YYYY-MM-DD score"`);
    }
    return { timestamp: date, value: Number(score) };
  });
}

// Follow a job's events to its end (app.js's reader, resuming like the job card does), then read it.
async function finished(jobId) {
  let lastId = null;
  for (let attempt = 0; attempt < 30; attempt++) {
    try {
      const outcome = await readStream(jobId, lastId, undefined, (event, id) => { lastId = id; }, () => {});
      lastId = outcome.lastId;
      if (outcome.terminal) break;
    } catch (e) {
      if (e.fatal) throw e;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return api(`/v1/jobs/${encodeURIComponent(jobId)}`);
}

async function forecast(event) {
  event.preventDefault();
  const button = $("forecast-btn");
  button.disabled = true;
  $("forecast-note").textContent = "Forecasting…";
  try {
    const observations = parseScores($("phq9").value);
    const payload = { instrument: "PHQ-9", observations, horizon: Number($("horizon").value) };
    const ref = $("patient-ref").value.trim();
    const job = await api("/v1/jobs", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ type: "forecast", payload, ...(ref ? { patient_ref: ref } : {}) }),
    });
    const done = await finished(job.id);
    if (done.state !== "succeeded") throw new Error(done.error ? `${done.error.message} (${done.error.code})` : done.state);
    renderForecast(observations, done.result);
    $("forecast-note").textContent = `${Math.round(done.result.interval_level * 100)}% interval · ` +
      `${done.result.model_name} ${done.result.model_version} · job ${job.id}`;
  } catch (e) {
    $("forecast-note").textContent = "";
    showMessage(e.message);
  } finally {
    button.disabled = false;
  }
}

function renderForecast(observations, result) {
  const plot = $("forecast-plot");
  const [low, high] = result.range;
  const steps = result.forecasts;
  const times = [...observations.map((o) => Date.parse(o.timestamp)), ...steps.map((s) => Date.parse(s.date))];
  const x = scaleTime(times, 50, 780);
  const top = 16, bottom = 230;
  const y = (v) => bottom - ((v - low) / (high - low)) * (bottom - top);
  const nodes = [svgEl("line", { class: "axis", x1: 50, x2: 780, y1: bottom, y2: bottom })];
  for (const v of [low, Math.round((low + high) / 2), high]) {
    nodes.push(svgEl("line", { class: "axis", x1: 50, x2: 780, y1: y(v), y2: y(v) }));
    nodes.push(svgEl("text", { x: 44, y: y(v) + 4, "text-anchor": "end" }, String(v)));
  }
  const last = observations[observations.length - 1];
  const lastX = x(Date.parse(last.timestamp)), lastY = y(last.value);
  // the band runs from the last observation out through each week's lower and upper bound
  const upper = steps.map((s) => `${x(Date.parse(s.date))},${y(s.upper)}`);
  const lower = steps.slice().reverse().map((s) => `${x(Date.parse(s.date))},${y(s.lower)}`);
  nodes.push(titled(svgEl("polygon", { class: "band", points: [`${lastX},${lastY}`, ...upper, ...lower].join(" ") }),
    `${Math.round(result.interval_level * 100)}% interval`));
  nodes.push(svgEl("polyline", {
    class: "observed", points: observations.map((o) => `${x(Date.parse(o.timestamp))},${y(o.value)}`).join(" "),
  }));
  for (const o of observations) {
    nodes.push(titled(svgEl("circle", { class: "observed-point", cx: x(Date.parse(o.timestamp)), cy: y(o.value), r: 3 }),
      `${o.timestamp}: ${o.value}`));
  }
  nodes.push(svgEl("polyline", {
    class: "forecast", points: [`${lastX},${lastY}`, ...steps.map((s) => `${x(Date.parse(s.date))},${y(s.point)}`)].join(" "),
  }));
  for (const s of steps) {
    nodes.push(titled(svgEl("circle", {
      class: "forecast-point", cx: x(Date.parse(s.date)), cy: y(s.point), r: 3, "data-week": s.week,
      "data-lower": s.lower, "data-upper": s.upper,
    }), `${s.date}: ${s.point} (${s.lower}–${s.upper})`));
  }
  nodes.push(svgEl("text", { x: 50, y: bottom + 18 }, observations[0].timestamp));
  nodes.push(svgEl("text", { x: 780, y: bottom + 18, "text-anchor": "end" }, steps[steps.length - 1].date));
  plot.replaceChildren(...nodes);
  plot.hidden = false;
}

document.addEventListener("DOMContentLoaded", () => {
  $("patient-form").addEventListener("submit", openPatient);
  $("forecast-form").addEventListener("submit", forecast);
});
