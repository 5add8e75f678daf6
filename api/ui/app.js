// mindq job page: submit a text job or follow one by id, and show its progress live.
//
// The SSE feed is read with fetch() rather than EventSource because EventSource cannot send the
// Authorization header, and an API key must never travel in a URL (URLs end up in logs and
// browser history). Reconnection follows the SSE rules by hand: wait `retry` ms, resume with
// Last-Event-ID. Everything shown goes through textContent, never innerHTML.
"use strict";

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);
const $ = (id) => document.getElementById(id);
let current = null; // {id, controller} of the job being followed

function key() { return $("api-key").value.trim(); }

function showMessage(text) {
  $("message").textContent = text;
  $("message").hidden = !text;
}

// The API's error body ({"error": {"code", "message"}}) as an Error; `fatal` for a 4xx.
function apiError(resp, body) {
  const err = body.error || { code: `HTTP_${resp.status}`, message: resp.statusText };
  const error = new Error(`${err.message} (${err.code})`);
  error.fatal = resp.status >= 400 && resp.status < 500;
  return error;
}

async function api(path, options = {}) {
  const resp = await fetch(path, {
    ...options,
    headers: { Authorization: `Bearer ${key()}`, Accept: "application/json", ...(options.headers || {}) },
  });
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) throw apiError(resp, body);
  return body;
}

async function loadTypes() {
  const { analysis_types: types, model } = await api("/v1/analysis-types");
  // a demo model says so on the page, and which types it was never trained for
  const notice = $("model-notice");
  notice.hidden = !(model && model.kind === "demo");
  if (!notice.hidden) {
    notice.textContent = `Demo model (${model.name} v${model.version}): not for clinical use. ` +
      `Trained only for ${(model.answers || []).join(", ")}; other types run but their answers mean nothing.`;
  }
  const select = $("job-type");
  select.replaceChildren(...types.filter((t) => t.input === "text").map((t) => {
    const opt = document.createElement("option");
    opt.value = t.name;
    const untrained = t.model_trained_for_type === false ? " (demo model: not trained for this)" : "";
    opt.textContent = `${t.name} · ${t.description}${untrained}`;
    return opt;
  }));
  const filter = $("recent-type"), chosen = filter.value;
  filter.replaceChildren(new Option("any", ""), ...types.map((t) => new Option(t.name, t.name)));
  filter.value = chosen;
}

// The tenant's latest jobs, filtered by state (by the API) and type (here: the API has no type
// filter, so the latest 100 are narrowed); also how a mistyped or revoked key shows up at once.
async function loadRecent() {
  const state = $("recent-state").value, type = $("recent-type").value;
  const query = new URLSearchParams({ limit: type ? "100" : "10", ...(state ? { state } : {}) });
  const { jobs } = await api(`/v1/jobs?${query}`);
  const shown = jobs.filter((job) => !type || job.type === type).slice(0, 10);
  if (!shown.length) {
    const empty = document.createElement("li");
    empty.className = "muted";
    empty.textContent = "no jobs match";
    $("recent").replaceChildren(empty);
    $("recent-card").hidden = false;
    return;
  }
  $("recent").replaceChildren(...shown.map((job) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link";
    button.textContent = `${new Date(job.created_at).toLocaleString()} · ${job.type} · ${job.state}`;
    button.addEventListener("click", () => { $("job-id").value = job.id; follow(job.id); });
    item.append(button);
    return item;
  }));
  $("recent-card").hidden = false;
}

async function connect() {
  if (!key()) return;
  try {
    await Promise.all([loadTypes(), loadRecent()]);
    showMessage("");
    $("patient-card").hidden = false;
  } catch (e) {
    $("recent-card").hidden = true;
    $("patient-card").hidden = true;
    showMessage(`This key cannot be used: ${e.message}`);
  }
}

function render(event) {
  if (event.state) {
    $("state").textContent = event.state;
    $("state").className = `badge ${event.state}`;
    $("cancel-btn").hidden = TERMINAL.has(event.state);
  }
  if (event.stage) $("stage").textContent = `stage: ${event.stage}`;
  if (typeof event.progress === "number") $("progress").value = event.progress;
  if (typeof event.tokens === "number") $("tokens").textContent = `${event.tokens} / ${event.max_tokens} tokens`;
  const item = document.createElement("li");
  const at = event.at ? new Date(event.at).toLocaleTimeString() : "";
  const extra = typeof event.tokens === "number" ? ` ${event.tokens}/${event.max_tokens} tokens` : "";
  item.textContent = `${at} ${event.state} · ${event.stage} · ${event.progress}%${extra}`;
  $("events").append(item);
}

function showJob(job) {
  $("job-id-view").textContent = job.id;
  render({ state: job.state, stage: job.stage, progress: job.progress });
  $("events").replaceChildren();
  $("result").textContent = "Waiting for the job to finish…";
  $("tokens").textContent = "";
  $("job").hidden = false;
}

function showOutcome(job) {
  const pre = $("result");
  pre.classList.remove("muted");
  if (job.state === "succeeded") pre.textContent = JSON.stringify(job.result, null, 2);
  else if (job.error) pre.textContent = `${job.error.message} (${job.error.code})`;
  else pre.textContent = `The job was ${job.state}.`;
}

// One SSE connection; resolves with the last event id and whether the terminal event came.
async function readStream(jobId, lastId, signal, onEvent, onRetry) {
  const headers = { Authorization: `Bearer ${key()}`, Accept: "text/event-stream" };
  if (lastId) headers["Last-Event-ID"] = lastId;
  const resp = await fetch(`/v1/jobs/${encodeURIComponent(jobId)}/events`, { headers, signal, cache: "no-store" });
  if (!resp.ok) throw apiError(resp, await resp.json().catch(() => ({})));
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "", done = false, terminal = false;
  while (!done) {
    const chunk = await reader.read();
    done = chunk.done;
    buffer += decoder.decode(chunk.value || new Uint8Array(), { stream: !done });
    let cut;
    while ((cut = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, "");
      let id = null, data = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith(":")) { $("connection").textContent = `connected · ${new Date().toLocaleTimeString()}`; continue; }
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "id") id = value;
        else if (field === "data") data.push(value);
        else if (field === "retry" && /^\d+$/.test(value)) onRetry(Number(value));
      }
      if (id !== null) lastId = id;
      if (data.length) {
        const event = JSON.parse(data.join("\n"));
        onEvent(event, lastId); // the caller keeps the id: a connection that breaks returns nothing
        if (TERMINAL.has(event.state)) terminal = true;
      }
    }
  }
  return { lastId, terminal };
}

async function follow(jobId) {
  if (current) current.controller.abort();
  const controller = new AbortController();
  current = { id: jobId, controller };
  showMessage("");
  let job;
  try {
    job = await api(`/v1/jobs/${encodeURIComponent(jobId)}`);
  } catch (e) {
    showMessage(e.message);
    return;
  }
  showJob(job);
  let lastId = null, retryMs = 2000;
  while (!controller.signal.aborted) {
    try {
      $("connection").textContent = "connected";
      const seen = (event, id) => { render(event); lastId = id; };
      const outcome = await readStream(jobId, lastId, controller.signal, seen, (ms) => { retryMs = ms; });
      lastId = outcome.lastId;
      if (outcome.terminal) break;
    } catch (e) {
      if (controller.signal.aborted) return;
      if (e.fatal) { showMessage(e.message); return; }
    }
    $("connection").textContent = `reconnecting in ${retryMs / 1000} s…`;
    await new Promise((resolve) => setTimeout(resolve, retryMs));
  }
  if (controller.signal.aborted) return;
  $("connection").textContent = "finished";
  loadRecent().catch(() => {});
  try {
    showOutcome(await api(`/v1/jobs/${encodeURIComponent(jobId)}`));
  } catch (e) {
    showMessage(e.message);
  }
}

async function submit(event) {
  event.preventDefault();
  const button = $("submit-btn");
  button.disabled = true;
  try {
    const job = await api("/v1/jobs", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ type: $("job-type").value, text: $("job-text").value, priority: $("job-priority").value }),
    });
    $("job-text").value = ""; // patient text does not linger on screen once sent
    $("job-id").value = job.id;
    follow(job.id);
  } catch (e) {
    showMessage(e.message);
  } finally {
    button.disabled = false;
  }
}

async function cancelCurrent() {
  if (!current) return;
  $("cancel-btn").disabled = true;
  try {
    await api(`/v1/jobs/${encodeURIComponent(current.id)}`, { method: "DELETE" });
  } catch (e) {
    showMessage(e.message); // e.g. JOB_FINISHED: it ended meanwhile
  } finally {
    $("cancel-btn").disabled = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("api-key").addEventListener("change", connect);
  $("cancel-btn").addEventListener("click", cancelCurrent);
  for (const id of ["recent-state", "recent-type"]) {
    $(id).addEventListener("change", () => loadRecent().catch((e) => showMessage(e.message)));
  }
  $("submit-form").addEventListener("submit", submit);
  $("follow-form").addEventListener("submit", (e) => { e.preventDefault(); follow($("job-id").value.trim()); });
});
