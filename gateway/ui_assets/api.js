// The REST client of the dashboard: the public /v1 API only, JSON in and out
// (responses in proto3 JSON: camelCase names, default values left out).
// An API key, when one is set, lives in sessionStorage (this tab only) and travels as
// `authorization: Bearer <key>`; it is never put in a URL and never logged.
// A 401 asks for a key (once per call) and retries; a 404 whose reason is
// ROUTE_NOT_FOUND means the server has no such route (an older server), which the pages
// use to hide themselves.

const KEY_ITEM = "stepline.apiKey";

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.reason = reasonOf(body);
    // The bad field of an INVALID_ARGUMENT (ErrorInfo metadata "field"), e.g.
    // "input.items[0].qty"; "" when the error names none.
    this.field = fieldOf(body);
  }
}

function fieldOf(body) {
  const details = (body && body.details) || [];
  const info = details.find((d) => d && d.metadata && d.metadata.field);
  return info ? info.metadata.field : "";
}

function reasonOf(body) {
  const details = (body && body.details) || [];
  const info = details.find((d) => d && d.reason);
  return info ? info.reason : "";
}

export const apiKey = {
  get: () => sessionStorage.getItem(KEY_ITEM) || "",
  set: (key) => (key ? sessionStorage.setItem(KEY_ITEM, key) : sessionStorage.removeItem(KEY_ITEM)),
};

// Set by the app: shows the key dialog, resolves to the key typed or "" when dismissed.
let askForKey = async () => "";
export function onKeyNeeded(ask) {
  askForKey = ask;
}

function url(path, query) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query || {})) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== undefined && item !== null && item !== "") params.append(name, String(item));
    }
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function send(method, path, query, body) {
  const headers = { accept: "application/json" };
  const key = apiKey.get();
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(url(path, query), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
  });
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = { message: text.slice(0, 200) };
  }
  return { status: response.status, body: parsed };
}

// One key prompt at a time: calls refused together wait for the same answer.
let pendingAsk = null;

function keyFor(message) {
  if (!pendingAsk) {
    pendingAsk = askForKey(message).then((key) => {
      if (key) apiKey.set(key);
      pendingAsk = null;
      return key;
    });
  }
  return pendingAsk;
}

export async function call(method, path, { query, body } = {}) {
  const sentKey = apiKey.get();
  let answer = await send(method, path, query, body);
  if (answer.status === 401) {
    // Another call may have got a key while this one was in flight: retry with it.
    const key = apiKey.get() !== sentKey ? apiKey.get() : await keyFor(answer.body && answer.body.message);
    if (key) answer = await send(method, path, query, body);
  }
  if (answer.status >= 400) throw new ApiError(answer.status, answer.body);
  return answer.body;
}

const routeCache = new Map();

// True unless the server answers that it has no route at `path` (feature detection).
export async function hasRoute(path) {
  if (!routeCache.has(path)) {
    const probe = send("GET", path, { page_size: 1 }).then(
      (answer) => !(answer.status === 404 && reasonOf(answer.body) === "ROUTE_NOT_FOUND"),
      () => false,
    );
    routeCache.set(path, probe);
  }
  return routeCache.get(path);
}

const enc = encodeURIComponent;
export const nsPath = (ns) => `/v1/namespaces/${enc(ns)}`;

export const runs = {
  list: (ns, query) => call("GET", `${nsPath(ns)}/runs`, { query }),
  get: (ns, id) => call("GET", `${nsPath(ns)}/runs/${enc(id)}`),
  steps: (ns, id, query) => call("GET", `${nsPath(ns)}/runs/${enc(id)}/steps`, { query }),
  cancel: (ns, id, reason) =>
    call("POST", `${nsPath(ns)}/runs/${enc(id)}:cancel`, { body: { reason } }),
  replay: (ns, id, fromStepId) =>
    call("POST", `${nsPath(ns)}/runs/${enc(id)}:replay`, { body: { from_step_id: fromStepId } }),
  batchCancel: (ns, body) => call("POST", `${nsPath(ns)}/runs:batchCancel`, { body }),
  signal: (ns, id, signalName, payload) =>
    call("POST", `${nsPath(ns)}/runs/${enc(id)}:signal`, { body: { signal_name: signalName, payload } }),
};

export const events = {
  list: (ns, query) => call("GET", `${nsPath(ns)}/events`, { query }),
  get: (ns, id) => call("GET", `${nsPath(ns)}/events/${enc(id)}`),
  runs: (ns, id) => call("GET", `${nsPath(ns)}/events/${enc(id)}/runs`),
  send: (ns, eventName, data) => call("POST", `${nsPath(ns)}/events`, { body: { event_name: eventName, data } }),
};

export const workflows = {
  list: (ns) => call("GET", `${nsPath(ns)}/workflows`),
  get: (ns, name) => call("GET", `${nsPath(ns)}/workflows/${enc(name)}`),
  pause: (ns, name, reason) => call("POST", `${nsPath(ns)}/workflows/${enc(name)}:pause`, { body: { reason } }),
  resume: (ns, name) => call("POST", `${nsPath(ns)}/workflows/${enc(name)}:resume`, { body: {} }),
  start: (ns, body) => call("POST", `${nsPath(ns)}/runs`, { body }),
};

export const schedules = {
  list: (ns, query) => call("GET", `${nsPath(ns)}/schedules`, { query }),
  pause: (ns, id) => call("POST", `${nsPath(ns)}/schedules/${enc(id)}:pause`, { body: {} }),
  resume: (ns, id) => call("POST", `${nsPath(ns)}/schedules/${enc(id)}:resume`, { body: {} }),
  trigger: (ns, id) => call("POST", `${nsPath(ns)}/schedules/${enc(id)}:trigger`, { body: {} }),
};

export const workers = {
  list: (ns, query) => call("GET", `${nsPath(ns)}/workers`, { query }),
};

// Every step attempt of a run, following the pages (a run rarely has more than one).
export async function allSteps(ns, id) {
  const steps = [];
  let token = "";
  do {
    const page = await runs.steps(ns, id, { page_size: 1000, page_token: token });
    steps.push(...(page.stepAttempts || []));
    token = page.hasMore ? page.nextPageToken : "";
  } while (token);
  return steps;
}
