// The page's behaviour: fill the choices from the server, start a run and apply its SSE
// events to the graph as they arrive, show a step's details (with Approve / Decline for a
// side effect that waits, in runs that ask first), the answer with usage and timings, and
// this server session's earlier runs (reopened from GET /v1/agent/runs/{id}).

import { apiKey, getJSON, postJSON, postStream, ServerError, setApiKey } from "./api.js";
import { drawGraph } from "./graph.js";

const $ = (id) => document.getElementById(id);
const STATES = { ok: "done", error: "failed", timeout: "failed", skipped: "skipped", cancelled: "skipped" };
let current = null; // the run on screen: {id, plan, steps: Map, nodes, answer, result, error, live}

function newRun(live) {
  return { id: null, plan: null, steps: new Map(), nodes: new Map(), live, times: {}, selected: null };
}

function now() {
  return Date.now() / 1000;
}

function fmtSeconds(s) {
  return s < 10 ? `${s.toFixed(1)} s` : `${Math.round(s)} s`;
}

// ---- errors -----------------------------------------------------------------

function showError(exc) {
  const box = $("error");
  if (!exc) { box.hidden = true; box.replaceChildren(); return; }
  const error = exc instanceof ServerError ? exc : new ServerError("Something went wrong.", String(exc));
  const title = document.createElement("div");
  title.className = "title";
  title.textContent = error.title;
  box.replaceChildren(title);
  if (error.detail) {
    const detail = document.createElement("div");
    detail.className = "detail";
    detail.textContent = error.detail;
    box.appendChild(detail);
  }
  if (error.problems.length) {
    const list = document.createElement("ul");
    for (const p of error.problems) list.appendChild(Object.assign(document.createElement("li"), { textContent: p }));
    box.appendChild(list);
  }
  box.hidden = false;
}

/** An ``error`` event or a failed run's ``error`` field (the OpenAI body) → ServerError. */
function runError(error) {
  const problems = Array.isArray(error.problems) ? error.problems : [];
  const title = error.code === "plan_invalid" ? "The planner could not produce a valid plan."
    : error.code === "queue_full" ? "The model is busy: its queue is full." : "The run failed.";
  return new ServerError(title, error.message || "", problems);
}

// ---- applying events ---------------------------------------------------------

function apply(run, ev) {
  const at = run.live ? now() : ev.at; // live: the browser's clock, so elapsed time needs no sync
  if (ev.id) run.id = ev.id;
  if (ev.error) { run.error = ev.error; run.status = "failed"; return; }
  switch (ev.event) {
    case "run_started": run.times.start = at; break;
    case "tools_chosen": run.tools = ev; break; // retrieval cut a big toolkit before planning
    case "plan_ready":
      if ((ev.round || 1) > 1) { // a replan's new steps join the graph, which is drawn again
        run.plan = [...(run.plan || []), ...ev.plan.map((step) => ({ ...step, round: ev.round }))];
        run.replans = [...(run.replans || []), { round: ev.round, reasons: ev.reasons || [] }];
        run.nodes = new Map();
      } else {
        run.times.plan = at;
        run.plan = ev.plan;
        run.reusedFrom = ev.reused_from ?? null; // memory: the same task's stored plan, not a new one
      }
      for (const step of ev.plan) {
        const named = (ev.retooled_steps || {})[step.id]; // the planner named another tool (plan/retool.py)
        run.steps.set(step.id, { step: { ...step, round: ev.round || 1, named }, state: "waiting" });
      }
      break;
    case "step_started": Object.assign(run.steps.get(ev.step) || {}, { state: "running", started: at }); break;
    case "confirmation_required": {
      const s = run.steps.get(ev.step);
      if (s) Object.assign(s, { state: "confirm", confirmation: ev });
      if (run.live) run.selected = ev.step; // show the question at once
      break;
    }
    case "step_finished": {
      const s = run.steps.get(ev.step);
      if (s) Object.assign(s, { state: STATES[ev.evidence.status] || "failed", evidence: ev.evidence, ended: at });
      run.times.steps = at;
      break;
    }
    case "answer": run.times.answer = at; run.answer = ev.answer; break;
    case "result": run.result = ev; run.status = ev.status; break;
    default: break;
  }
}

// ---- rendering ---------------------------------------------------------------

function stepStatus(s) {
  if (s.state === "confirm") return "waiting for you";
  if (s.state === "running") return `running ${fmtSeconds(Math.max(0, now() - s.started))}`;
  if (s.state === "done") return `done ${fmtSeconds(s.evidence.seconds)}`;
  if (s.state === "failed") return `failed${s.evidence.status === "timeout" ? " (timeout)" : ""}`;
  return s.state;
}

function render(run) {
  if (run !== current) return;
  const reused = run.reusedFrom ?? (run.result && run.result.reused_from);
  $("run-status").textContent = (run.status ? `· ${run.status}` : run.id ? "· running" : "")
    + (reused != null ? ` · plan of run ${reused}, reused` : "");
  if (run.plan && run.nodes.size === 0) {
    run.nodes = drawGraph($("graph"), run.plan, (id) => { run.selected = id; renderDetails(run); render(run); });
    $("graph-empty").hidden = true;
  }
  for (const [id, s] of run.steps) {
    const node = run.nodes.get(id);
    if (!node) continue;
    node.group.dataset.state = s.state;
    node.group.dataset.selected = String(run.selected === id);
    node.status.textContent = stepStatus(s);
  }
  if (run.selected) renderDetails(run);
  if (run.error) showError(runError(run.error));
  renderToolsChosen(run);
  renderAnswer(run);
}

/** Which tools the planner saw, when retrieval cut a big toolkit; each name's tooltip says why. */
function renderToolsChosen(run) {
  const box = $("tools-chosen");
  const choice = run.tools || (run.result && run.result.tools);
  box.hidden = !choice;
  if (!choice) return;
  const names = choice.tools.map((name) => Object.assign(document.createElement("code"), {
    textContent: name, title: (choice.reasons || {})[name] || "",
  }));
  const parts = [`The planner saw ${choice.tools.length} of ${choice.total} tools: `];
  names.forEach((n, i) => parts.push(...(i ? [", ", n] : [n])));
  box.replaceChildren(...parts);
}

function field(list, label, value, pre = false) {
  if (value === undefined || value === null || value === "") return;
  list.appendChild(Object.assign(document.createElement("dt"), { textContent: label }));
  const dd = document.createElement("dd");
  const body = document.createElement(pre ? "pre" : "span");
  body.textContent = typeof value === "string" ? value : JSON.stringify(value, null, 2);
  dd.appendChild(body);
  list.appendChild(dd);
}

function renderDetails(run) {
  const s = run.steps.get(run.selected);
  const box = $("details");
  if (!s) { box.hidden = true; return; }
  const ev = s.evidence || {};
  const head = Object.assign(document.createElement("h3"), { textContent: `#${s.step.id} ${s.step.tool} · ${s.state}` });
  const list = document.createElement("dl");
  field(list, "Plan", s.step.plan);
  const replan = (run.replans || []).find((r) => r.round === s.step.round);
  if (replan) field(list, "Round", `${replan.round}: a replan, because ${replan.reasons.join("; ")}`);
  if (s.step.named) field(list, "Tool", `the planner named ${s.step.named}; its input fits ${s.step.tool}, which its plan line describes`);
  field(list, "Input as planned", `${s.step.tool}[${s.step.input}]`, true);
  field(list, "Input after substitution", ev.input, true);
  field(list, "Arguments", ev.arguments, true);
  field(list, "Evidence it carries", carried(ev.sources));
  if (ev.side_effect) field(list, "Side effect", "yes: this step changes something outside the run");
  field(list, ev.status === "ok" ? "Evidence" : "Error", ev.status === "ok" ? ev.value : ev.error, true);
  if (ev.status) field(list, "Time", `${fmtSeconds(ev.seconds)}, ${ev.attempts} attempt(s)`);
  box.dataset.step = s.step.id;
  box.replaceChildren(head, list);
  if (s.state === "confirm") box.appendChild(decision(run, s));
  box.hidden = false;
}

/** ``{"body": ["E1"]}`` → ``body ← #E1``: which earlier results an argument carries. */
function carried(sources) {
  if (!sources) return "";
  return Object.entries(sources).map(([arg, ids]) => `${arg} ← ${ids.map((i) => `#${i}`).join(" ")}`).join(", ");
}

/** The call a side-effect step wants to make, with Approve and Decline. */
function decision(run, s) {
  const box = Object.assign(document.createElement("div"), { className: "decide" });
  const call = s.confirmation;
  const list = document.createElement("dl");
  field(list, "Wants to run", `${call.tool}(${JSON.stringify(call.arguments, null, 2)})`, true);
  field(list, "Evidence it carries", carried(call.sources));
  const answer = (approve) => async () => {
    for (const b of box.querySelectorAll("button")) b.disabled = true;
    try {
      await postJSON(`/v1/agent/runs/${encodeURIComponent(run.id)}/confirmations/${encodeURIComponent(call.step)}`,
        approve ? { approve } : { approve, reason: "declined on the web page" });
      if (s.state === "confirm") s.state = "running"; // its step_finished may have come first
      render(run);
    } catch (exc) {
      showError(exc);
    }
  };
  const approve = Object.assign(document.createElement("button"), { id: "approve", type: "button", textContent: "Approve" });
  const decline = Object.assign(document.createElement("button"), { id: "decline", type: "button", textContent: "Decline" });
  approve.onclick = answer(true);
  decline.onclick = answer(false);
  box.append(list, approve, decline);
  return box;
}

function renderAnswer(run) {
  const box = $("answer-box");
  const answer = run.result ? run.result.answer : run.answer;
  if (answer === undefined) { box.hidden = true; return; }
  box.hidden = false;
  $("answer").textContent = answer;
  const usage = (run.result && run.result.usage) || {};
  const rows = [["role", "prompt tokens", "completion tokens", "calls", "seconds"]];
  for (const [role, u] of Object.entries(usage)) {
    rows.push([role, u.prompt_tokens, u.completion_tokens, u.calls, u.seconds === undefined ? "" : fmtSeconds(u.seconds)]);
  }
  $("usage").replaceChildren(...rows.map((cells, i) => {
    const tr = document.createElement("tr");
    for (const c of cells) tr.appendChild(Object.assign(document.createElement(i ? "td" : "th"), { textContent: c }));
    return tr;
  }));
  const t = run.times, parts = [];
  if (t.plan && t.start) parts.push(`planner ${fmtSeconds(t.plan - t.start)}`);
  if (t.steps && t.plan) parts.push(`steps ${fmtSeconds(t.steps - t.plan)}`);
  if (t.answer) parts.push(`solver ${fmtSeconds(t.answer - (t.steps || t.plan || t.answer))}`);
  if (run.result && run.result.seconds !== undefined) parts.push(`total ${fmtSeconds(run.result.seconds)}`);
  $("timings").textContent = parts.join(" · ");
}

function show(run) {
  current = run;
  $("graph").replaceChildren();
  $("graph-empty").hidden = false;
  $("details").hidden = true;
  showError(null);
  run.nodes = new Map();
  render(run);
}

// ---- the server's lists ------------------------------------------------------

function fillSelect(select, values, chosen, blank) {
  select.replaceChildren(...(blank ? [new Option(blank, "")] : []), ...values.map((v) => new Option(v, v)));
  if (values.includes(chosen)) select.value = chosen;
}

async function loadChoices() {
  const models = (await getJSON("/v1/models")).data.map((m) => m.id);
  fillSelect($("planner"), models, "planner");
  fillSelect($("solver"), models, "solver", "(same as planner)");
  try {
    const kits = (await getJSON("/v1/agent/toolkits")).data;
    fillSelect($("toolkit"), kits.map((k) => k.id), "default");
    const describe = () => {
      const kit = kits.find((k) => k.id === $("toolkit").value);
      $("tools").textContent = kit ? `Tools: ${kit.tools.map((t) => t.name).join(", ")}` : "";
    };
    $("toolkit").onchange = describe;
    describe();
  } catch (exc) {
    if (!(exc instanceof ServerError) || exc.title !== "Not found.") throw exc; // older server: default only
  }
}

async function loadRuns() {
  const runs = (await getJSON("/v1/agent/runs")).data;
  $("runs").replaceChildren(...runs.map((r) => {
    const li = document.createElement("li");
    li.dataset.id = r.id;
    li.dataset.status = r.status;
    if (current && current.id === r.id) li.className = "current";
    const when = new Date(r.created * 1000).toLocaleTimeString();
    li.append(Object.assign(document.createElement("div"), { textContent: r.instruction }),
      Object.assign(document.createElement("div"), { className: "meta", textContent: `${r.status} · ${when}` }));
    li.onclick = () => reopen(r.id).catch(showError);
    return li;
  }));
}

async function reopen(id) {
  const record = await getJSON(`/v1/agent/runs/${encodeURIComponent(id)}`);
  const run = newRun(false);
  for (const ev of record.events) apply(run, ev);
  run.id = record.id;
  if (record.status === "succeeded") { run.result = record; run.status = "succeeded"; }
  if (record.error) { run.error = record.error; run.status = "failed"; }
  show(run);
  loadRuns().catch(showError);
  // Still running (started elsewhere): follow it by polling until it is done.
  if (record.status === "running") setTimeout(() => { if (current === run) reopen(id).catch(showError); }, 1000);
}

// ---- running -----------------------------------------------------------------

async function startRun(event) {
  event.preventDefault();
  const body = { instruction: $("instruction").value.trim(), stream: true, toolkit: $("toolkit").value,
    max_steps: Number($("max-steps").value) || 6, confirm: $("confirm").checked };
  if ($("planner").value) body.planner = $("planner").value;
  if ($("solver").value) body.solver = $("solver").value;
  if (!body.instruction) return;
  const run = newRun(true);
  show(run);
  $("run").disabled = true;
  try {
    for await (const ev of postStream("/v1/agent/runs", body)) {
      apply(run, ev);
      render(run);
      if (ev.event === "run_started") loadRuns().catch(() => {});
    }
  } catch (exc) {
    if (current === run) showError(exc);
  } finally {
    $("run").disabled = false;
    loadRuns().catch(() => {});
  }
}

function init() {
  $("api-key").value = apiKey();
  $("api-key").addEventListener("change", () => {
    setApiKey($("api-key").value.trim());
    showError(null);
    Promise.all([loadChoices(), loadRuns()]).catch(showError);
  });
  $("run-form").addEventListener("submit", startRun);
  $("refresh-runs").addEventListener("click", () => loadRuns().catch(showError));
  // Running steps show their elapsed time; only their status text changes.
  setInterval(() => { if (current) for (const [id, s] of current.steps) {
    if (s.state === "running" && current.nodes.get(id)) current.nodes.get(id).status.textContent = stepStatus(s);
  } }, 200);
  Promise.all([loadChoices(), loadRuns()]).catch(showError);
}

init();
