/*
 * Skyclaw dashboard: a hash-routed page over the coordinator's own API, with the token the user
 * saved (localStorage) sent as x-skyclaw-token. Every value from the API reaches the page through
 * textContent or an attribute, never as HTML. Views refresh by polling; a job's output follows
 * the long-poll output route.
 */
"use strict";

const TOKEN_KEY = "skyclaw.token";
const REFRESH_MS = 2000;
const OUTPUT_WAIT_MS = 20000;
const JOB_STATES = ["queued", "leased", "succeeded", "failed", "cancelled", "dead"];
const TERMINAL = new Set(["succeeded", "failed", "cancelled", "dead"]);

const view = document.getElementById("view");
const tokenInput = document.getElementById("token");

/** Everything the current view started (timers, long polls); stopped when the route changes. */
let current = { stopped: false, timers: [], controllers: [] };

class ApiError extends Error {
  constructor(status, body) {
    super(body && body.message ? body.message : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function api(path, init = {}) {
  const headers = { accept: "application/json", ...(init.headers || {}) };
  const token = localStorage.getItem(TOKEN_KEY);
  if (token) headers["x-skyclaw-token"] = token;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, { ...init, headers });
  const text = await response.text();
  let body = null;
  try {
    body = text === "" ? null : JSON.parse(text);
  } catch {
    body = { message: text };
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

/** Builds an element; strings and numbers become text nodes, so API data is never parsed as HTML. */
function h(tag, attrs, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

function show(...children) {
  view.replaceChildren();
  append(view, children);
}

const badge = (text) => h("span", { class: `badge ${text}` }, text);
const chips = (values) => (values.length === 0 ? h("span", { class: "muted" }, "none") : values.map((value) => h("span", { class: "chip" }, value)));
const jobLink = (id) => h("a", { href: `#/jobs/${encodeURIComponent(id)}`, class: "mono" }, id);

function ago(ms) {
  if (ms === null || ms === undefined) return "—";
  const seconds = Math.round((Date.now() - ms) / 1000);
  if (seconds < 0) return `in ${-seconds}s`;
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
  return new Date(ms).toLocaleString();
}

const at = (ms) => (ms === null || ms === undefined ? "—" : h("span", { title: new Date(ms).toISOString() }, ago(ms)));
/** A revoked host is `lost` in the state; the dashboard says why, and when (as `skyclaw hosts list` does). */
const hostState = (host) => (host.revokedAt === null || host.revokedAt === undefined ? badge(host.state) : [badge("revoked"), " ", at(host.revokedAt)]);

/** The command as a shell would need it typed: arguments with spaces or quotes are quoted. */
function commandLine(spec) {
  if (spec.kind === "openclaw") return `openclaw: ${spec.message || ""}`;
  const quote = (word) => (/^[A-Za-z0-9_\-.,/:=@%+]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`);
  return [spec.command, ...(spec.args || [])].filter((part) => part !== undefined).map(quote).join(" ");
}

function errorNotice(error) {
  if (error instanceof ApiError && error.status === 401) {
    return h("div", { class: "notice" }, "This coordinator needs a token: enter SKYCLAW_TOKEN in the field above and press Save.");
  }
  return h("div", { class: "notice" }, `Could not load: ${error.message}`);
}

/** Runs `load` now and every REFRESH_MS until the view changes; failures show in place. */
function every(load) {
  const run = async () => {
    if (current.stopped) return;
    try {
      await load();
    } catch (error) {
      if (!current.stopped) show(errorNotice(error));
    }
  };
  void run();
  current.timers.push(setInterval(run, REFRESH_MS));
}

// ---- overview ----

function table(headings, rows, empty) {
  if (rows.length === 0) return h("p", { class: "muted" }, empty);
  return h("table", {}, h("thead", {}, h("tr", {}, headings.map((heading) => h("th", {}, heading)))), h("tbody", {}, rows));
}

function stat(label, value) {
  return h("div", { class: "card stat" }, h("div", { class: "label" }, label), h("div", { class: "value" }, value));
}

async function clusterView() {
  try {
    return await api("/v1/cluster");
  } catch (error) {
    // 404: a coordinator without the cluster API; 409: one running alone. Both are "no cluster".
    if (error instanceof ApiError && (error.status === 404 || error.status === 409)) return null;
    throw error;
  }
}

function renderOverview(state, cluster) {
  const jobCounts = JOB_STATES.map((name) => stat(name, state.jobs[name] || 0));
  const members =
    cluster === null
      ? h("p", { class: "muted" }, "A single coordinator (not clustered): it is its own leader.")
      : table(
          ["member", "role", "leader", "replicated up to"],
          cluster.members.map((member) =>
            h(
              "tr",
              {},
              h("td", { class: "mono" }, member.url, member.url === cluster.self ? h("span", { class: "muted" }, " (this node)") : null),
              h("td", {}, member.role),
              h("td", {}, member.leader ? badge("leader") : ""),
              h("td", { class: "mono" }, member.match === null ? "—" : member.match),
            ),
          ),
          "no members",
        );
  show(
    h("h1", {}, "Overview"),
    h(
      "div",
      { class: "grid" },
      stat("node", state.nodeId),
      stat("role", state.role),
      stat("last applied", state.lastApplied),
      stat("version", state.version),
      stat("hosts", state.hosts.length),
      cluster === null ? null : stat("term", cluster.term),
      cluster === null ? null : stat("leader", cluster.leader || "none"),
    ),
    h("h2", {}, "Cluster"),
    members,
    h("h2", {}, "Jobs by state"),
    h("div", { class: "grid" }, jobCounts),
    h("h2", {}, "Queue by capability"),
    table(
      ["requires", "queued"],
      state.queueByCapabilities.map((entry) => h("tr", {}, h("td", {}, chips(entry.requires)), h("td", {}, entry.queued))),
      "Nothing queued.",
    ),
  );
}

function overviewRoute() {
  every(async () => {
    const [state, cluster] = await Promise.all([api("/v1/state"), clusterView()]);
    if (!current.stopped) renderOverview(state, cluster);
  });
}

// ---- hosts ----

function hostsRoute() {
  every(async () => {
    const { hosts } = await api("/v1/hosts");
    if (current.stopped) return;
    show(
      h("h1", {}, "Hosts"),
      table(
        ["name", "id", "state", "capabilities", "slots in use", "last heartbeat", "version"],
        hosts.map((host) =>
          h(
            "tr",
            {},
            h("td", {}, host.name),
            h("td", { class: "mono" }, host.id),
            h("td", {}, hostState(host)),
            h("td", {}, chips(host.capabilities)),
            h("td", {}, `${host.runningJobs} / ${host.slots}`),
            h("td", {}, at(host.lastHeartbeatAt)),
            h("td", { class: "mono" }, host.version),
          ),
        ),
        "No hosts have registered yet. Start one with: skyclaw host",
      ),
    );
  });
}

// ---- jobs ----

function jobsRoute(params) {
  const state = params.get("state") || "";
  const cursor = params.get("cursor") || "";
  const go = (next) => {
    const query = new URLSearchParams();
    if (next.state) query.set("state", next.state);
    if (next.cursor) query.set("cursor", next.cursor);
    location.hash = `#/jobs${query.size > 0 ? `?${query}` : ""}`;
  };

  const filter = h(
    "select",
    { "aria-label": "state filter", id: "state-filter", onchange: (event) => go({ state: event.target.value }) },
    h("option", { value: "" }, "all states"),
    JOB_STATES.map((name) => h("option", { value: name, selected: name === state }, name)),
  );
  const listArea = h("div", { id: "jobs-list" }, h("p", { class: "muted" }, "Loading…"));
  const pager = h("div", { class: "toolbar" });
  show(h("h1", {}, "Jobs"), enqueueForm(), h("div", { class: "toolbar" }, h("label", {}, "State ", filter), cursor ? h("button", { onclick: () => go({ state }) }, "Newest") : null), listArea, pager);

  const load = async () => {
    const query = new URLSearchParams({ limit: "50" });
    if (state) query.set("state", state);
    if (cursor) query.set("cursor", cursor);
    let page;
    try {
      page = await api(`/v1/jobs?${query}`);
    } catch (error) {
      if (!current.stopped) listArea.replaceChildren(errorNotice(error));
      return;
    }
    if (current.stopped) return;
    listArea.replaceChildren(
      table(
        ["id", "state", "kind", "command", "requires", "host", "submitter", "attempt", "created"],
        page.jobs.map((job) =>
          h(
            "tr",
            { "data-job-id": job.id },
            h("td", {}, jobLink(job.id)),
            h("td", {}, badge(job.state)),
            h("td", {}, job.kind),
            h("td", { class: "mono" }, commandLine(job.spec)),
            h("td", {}, chips(job.requires)),
            h("td", { class: "mono" }, job.hostId || "—"),
            h("td", {}, job.submitter || "—"),
            h("td", {}, `${job.attempt} / ${job.maxAttempts}`),
            h("td", {}, at(job.createdAt)),
          ),
        ),
        state ? `No ${state} jobs.` : "No jobs yet.",
      ),
    );
    pager.replaceChildren(page.nextCursor === null ? "" : h("button", { onclick: () => go({ state, cursor: page.nextCursor }) }, "Older →"));
  };
  void load();
  // Only the newest page refreshes itself: an older page stays put while the user reads it.
  if (!cursor) current.timers.push(setInterval(load, REFRESH_MS));
}

/** A shell job: command, arguments (one per line, so spaces need no quoting), capabilities. */
function enqueueForm() {
  const command = h("input", { name: "command", placeholder: "sh", required: true });
  const args = h("textarea", { name: "args", rows: 2, placeholder: "-c\necho hello" });
  const requires = h("input", { name: "requires", placeholder: "e.g. gpu, linux" });
  const status = h("span", { class: "muted" });
  const submit = async (event) => {
    event.preventDefault();
    status.textContent = "";
    const body = {
      kind: "shell",
      command: command.value.trim(),
      args: args.value === "" ? [] : args.value.split("\n"),
      requires: requires.value.split(",").map((value) => value.trim()).filter((value) => value !== ""),
    };
    try {
      const job = await api("/v1/jobs", { method: "POST", body: JSON.stringify(body) });
      location.hash = `#/jobs/${encodeURIComponent(job.id)}`;
    } catch (error) {
      status.textContent = error instanceof ApiError && error.body && error.body.field ? `${error.body.field}: ${error.message}` : error.message;
      status.className = "notice";
    }
  };
  return h(
    "div",
    { class: "card", style: "margin-bottom: 16px" },
    h(
      "form",
      { class: "enqueue", id: "enqueue-form", onsubmit: submit },
      h("label", {}, "Command", command),
      h("label", {}, "Arguments (one per line)", args),
      h("label", {}, "Requires (comma-separated)", requires),
      h("button", { type: "submit", class: "primary" }, "Enqueue shell job"),
    ),
    status,
  );
}

// ---- one job ----

function jobFields(job) {
  const result = job.result;
  const rows = [
    ["state", badge(job.state)],
    ["kind", job.kind],
    ["command", h("span", { class: "mono" }, commandLine(job.spec))],
    ["requires", chips(job.requires)],
    ["host", h("span", { class: "mono" }, job.hostId || "—")],
    // null: enqueued with the admin token or without auth; only a submit key leaves its label.
    ["submitter", job.submitter || "—"],
    ["attempt", `${job.attempt} of ${job.maxAttempts}`],
    ["priority", job.priority],
    ["created", at(job.createdAt)],
    ["finished", at(job.finishedAt)],
  ];
  if (result) {
    rows.push(["exit code", result.exitCode === null ? "—" : result.exitCode]);
    if (result.signal) rows.push(["signal", result.signal]);
    rows.push(["duration", `${result.durationMs} ms`]);
    if (result.reason) rows.push(["reason", result.reason]);
    if (result.message) rows.push(["message", result.message]);
  }
  if (job.lastError) rows.push(["last error", job.lastError]);
  if (job.cancelRequestedAt) rows.push(["cancel requested", at(job.cancelRequestedAt)]);
  return h("dl", { class: "fields" }, rows.map(([label, value]) => [h("dt", {}, label), h("dd", {}, value)]));
}

function jobRoute(id) {
  const details = h("div", { class: "card" }, h("p", { class: "muted" }, "Loading…"));
  const cancel = h("button", { disabled: true }, "Cancel job");
  const output = h("pre", { class: "output", id: "job-output", "aria-label": "job output" });
  const outputStatus = h("span", { class: "muted", id: "output-status" }, "connecting…");
  show(
    h("p", {}, h("a", { href: "#/jobs" }, "← Jobs")),
    h("h1", { class: "mono" }, id),
    h("div", { class: "toolbar" }, cancel),
    details,
    h("h2", {}, "Output ", outputStatus),
    output,
  );

  const render = (job) => {
    details.replaceChildren(jobFields(job));
    cancel.disabled = TERMINAL.has(job.state) || job.cancelRequestedAt !== null;
  };
  cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    try {
      render(await api(`/v1/jobs/${encodeURIComponent(id)}/cancel`, { method: "POST", body: "{}" }));
    } catch (error) {
      details.prepend(errorNotice(error));
    }
  });

  const follow = async () => {
    // The first long poll may wait for output a while: show the job itself at once.
    try {
      render(await api(`/v1/jobs/${encodeURIComponent(id)}`));
    } catch (error) {
      if (!current.stopped) details.replaceChildren(errorNotice(error));
      return;
    }
    let after = 0;
    let attempt = null;
    for (;;) {
      const controller = new AbortController();
      current.controllers.push(controller);
      let page;
      try {
        page = await api(`/v1/jobs/${encodeURIComponent(id)}/output?after=${after}&waitMs=${OUTPUT_WAIT_MS}`, { signal: controller.signal });
      } catch (error) {
        if (current.stopped) return;
        outputStatus.textContent = "";
        details.replaceChildren(errorNotice(error));
        if (error instanceof ApiError && error.status < 500) return;
        await new Promise((resolve) => current.timers.push(setTimeout(resolve, REFRESH_MS)));
        continue;
      }
      if (current.stopped) return;
      render(page.job);
      for (const chunk of page.chunks) {
        if (attempt !== null && chunk.attempt !== attempt) output.append(h("span", { class: "system" }, `\n— attempt ${chunk.attempt} —\n`));
        attempt = chunk.attempt;
        output.append(chunk.stream === "stdout" ? document.createTextNode(chunk.data) : h("span", { class: chunk.stream }, chunk.data));
      }
      if (page.chunks.length > 0) output.scrollTop = output.scrollHeight;
      after = page.lastSeq;
      const finished = TERMINAL.has(page.job.state) && page.chunks.length === 0;
      outputStatus.textContent = finished ? `(${page.job.state})` : "(live)";
      if (finished) {
        if (output.childNodes.length === 0) output.append(h("span", { class: "system" }, "no output"));
        return;
      }
    }
  };
  void follow();
}

// ---- API docs ----

async function apiRoute() {
  show(h("h1", {}, "API"), h("p", { class: "muted" }, "Loading /openapi.json…"));
  let doc;
  try {
    doc = await api("/openapi.json");
  } catch (error) {
    show(h("h1", {}, "API"), errorNotice(error));
    return;
  }
  if (current.stopped) return;
  // Sections in the order the document lists its tags; untagged routes last.
  const byTag = new Map((doc.tags || []).map((tag) => [tag.name, []]));
  for (const [path, operations] of Object.entries(doc.paths || {})) {
    for (const [method, operation] of Object.entries(operations)) {
      const tag = (operation.tags && operation.tags[0]) || "other";
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push({ path, method, operation });
    }
  }
  const schemaOf = (operation) => {
    const parts = [];
    for (const parameter of operation.parameters || []) parts.push(`${parameter.in} ${parameter.name}${parameter.required ? "" : "?"}: ${JSON.stringify(parameter.schema)}`);
    const body = operation.requestBody && operation.requestBody.content && operation.requestBody.content["application/json"];
    if (body) parts.push(`body: ${JSON.stringify(body.schema, null, 2)}`);
    return parts.length === 0 ? null : h("details", {}, h("summary", { class: "muted" }, "parameters and body"), h("pre", {}, parts.join("\n")));
  };
  const untagged = byTag.get("other");
  byTag.delete("other");
  if (untagged) byTag.set("other", untagged);
  const sections = [...byTag.entries()].filter(([, operations]) => operations.length > 0).map(([tag, operations]) => {
    const description = (doc.tags || []).find((entry) => entry.name === tag);
    return [
      h("h2", {}, tag, description ? h("span", { class: "muted" }, ` — ${description.description}`) : null),
      h(
        "div",
        { class: "card" },
        operations.map(({ path, method, operation }) =>
          h(
            "div",
            { class: "op" },
            h("span", { class: `method ${method}` }, method.toUpperCase()),
            h("div", {}, h("span", { class: "mono" }, path), " ", h("span", { class: "muted" }, operation.summary || ""), schemaOf(operation)),
          ),
        ),
      ),
    ];
  });
  show(
    h("h1", {}, doc.info.title, " ", h("span", { class: "muted" }, doc.info.version)),
    h("p", {}, doc.info.description || ""),
    h("p", {}, "Machine-readable: ", h("a", { href: "/openapi.json" }, "/openapi.json"), " (OpenAPI ", doc.openapi, ")."),
    sections,
  );
}

// ---- routing ----

function route() {
  current.stopped = true;
  for (const timer of current.timers) clearInterval(timer);
  for (const controller of current.controllers) controller.abort();
  current = { stopped: false, timers: [], controllers: [] };

  const [path, queryString] = location.hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(queryString || "");
  const segments = (path || "/").split("/").filter((segment) => segment !== "");
  const section = segments[0] || "overview";
  for (const link of document.querySelectorAll("[data-nav]")) link.classList.toggle("active", link.dataset.nav === section);

  if (section === "hosts") hostsRoute();
  else if (section === "jobs" && segments[1] !== undefined) jobRoute(decodeURIComponent(segments[1]));
  else if (section === "jobs") jobsRoute(params);
  else if (section === "api") void apiRoute();
  else overviewRoute();
}

tokenInput.value = localStorage.getItem(TOKEN_KEY) || "";
document.getElementById("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const token = tokenInput.value.trim();
  if (token === "") localStorage.removeItem(TOKEN_KEY);
  else localStorage.setItem(TOKEN_KEY, token);
  route();
});
window.addEventListener("hashchange", route);
route();
