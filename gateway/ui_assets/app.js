// The dashboard shell: hash routes, the page registry, the header (search, namespace,
// API key). Each page is one module under pages/ exporting
// `render({ns, rest, params, main, go}) -> cleanup function | undefined`.
//
// Routes: #/<namespace>/<page>[/<id>][?query], e.g. #/default/runs?statuses=…,
// #/default/runs/<run id>. The hash is never sent to the server, and the API key never
// appears in it.

import { applyRole } from "./access.js";
import { apiKey, hasRoute, nsPath, onKeyNeeded, call } from "./api.js";
import { askForApiKey } from "./dialogs.js";
import { h, replace, announce } from "./dom.js";

// The pages. A page whose `probe` route the server does not have (404 ROUTE_NOT_FOUND,
// e.g. an older server) is left out of the navigation. A new page adds an entry here and a
// module under pages/.
const PAGES = [
  { path: "runs", title: "Runs", load: () => import("./pages/runs.js"), probe: (ns) => `${nsPath(ns)}/runs` },
  { path: "workflows", title: "Workflows", load: () => import("./pages/workflows.js"), probe: (ns) => `${nsPath(ns)}/workflows` },
  { path: "events", title: "Events", load: () => import("./pages/events.js"), probe: (ns) => `${nsPath(ns)}/events` },
  { path: "schedules", title: "Schedules", load: () => import("./pages/schedules.js"), probe: (ns) => `${nsPath(ns)}/schedules` },
  { path: "workers", title: "Workers", load: () => import("./pages/workers.js"), probe: (ns) => `${nsPath(ns)}/workers` },
];
const DETAIL = {
  runs: () => import("./pages/run.js"),
  events: () => import("./pages/event.js"),
  workflows: () => import("./pages/workflow.js"),
};

const NAMESPACE_ITEM = "stepline.namespace";
const RECENT_ITEM = "stepline.recentNamespaces";
const NAME = /^[A-Za-z0-9._-]{1,63}$/;
let cleanup = null;
route.count = 0;

export function parseHash(hash = location.hash) {
  const [pathPart, queryPart = ""] = hash.replace(/^#\/?/, "").split("?", 2);
  const parts = pathPart.split("/").filter(Boolean).map(decodeURIComponent);
  return { ns: parts[0], page: parts[1], rest: parts.slice(2), params: new URLSearchParams(queryPart) };
}

export function link(ns, page, id, params) {
  let hash = `#/${encodeURIComponent(ns)}/${page}`;
  if (id) hash += `/${encodeURIComponent(id)}`;
  const query = params ? params.toString() : "";
  return query ? `${hash}?${query}` : hash;
}

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function currentNamespace() {
  return parseHash().ns || localStorage.getItem(NAMESPACE_ITEM) || "default";
}

async function route() {
  const { ns, page, rest, params } = parseHash();
  if (!ns || !NAME.test(ns) || !page) {
    go(link(ns && NAME.test(ns) ? ns : currentNamespace(), "runs"));
    return;
  }
  rememberNamespace(ns);
  applyRole(ns);
  if (cleanup) cleanup();
  cleanup = null;
  // A later navigation wins: one that began before it must not render over it.
  const navigation = ++route.count;
  const entry = PAGES.find((p) => p.path === page);
  const main = document.getElementById("main");
  markCurrent(page);
  if (!entry) {
    replace(main, h("h1", {}, "Not found"), h("p", {}, `There is no page "${page}".`));
    return;
  }
  const module = rest.length && DETAIL[page] ? await DETAIL[page]() : await entry.load();
  if (navigation !== route.count) return;
  cleanup = module.render({ ns, rest, params, main, go, link }) || null;
  // After a navigation (not the first load), screen readers and the keyboard start at
  // the new page's content, not at the link that led there.
  if (route.navigated) main.focus({ preventScroll: true });
  route.navigated = true;
}

function markCurrent(page) {
  for (const anchor of document.querySelectorAll("#nav a")) {
    if (anchor.dataset.page === page) anchor.setAttribute("aria-current", "page");
    else anchor.removeAttribute("aria-current");
  }
}

async function buildNav(ns) {
  const items = [];
  for (const page of PAGES) {
    if (await hasRoute(page.probe(ns))) {
      items.push(h("li", {}, h("a", { href: link(ns, page.path), "data-page": page.path }, page.title)));
    }
  }
  const nav = document.getElementById("nav");
  replace(nav, items);
  nav.dataset.namespace = ns; // the navigation of `ns` is complete
  markCurrent(parseHash().page);
}

function rememberNamespace(ns) {
  localStorage.setItem(NAMESPACE_ITEM, ns);
  const input = document.getElementById("namespace-id");
  if (document.activeElement !== input) input.value = ns;
  document.getElementById("namespace-select").value = ns;
  const recent = [ns, ...JSON.parse(localStorage.getItem(RECENT_ITEM) || "[]").filter((n) => n !== ns)];
  localStorage.setItem(RECENT_ITEM, JSON.stringify(recent.slice(0, 10)));
  fillNamespaces(recent);
  if (buildNav.ns !== ns) {
    buildNav.ns = ns;
    buildNav(ns);
  }
}

function fillNamespaces(names) {
  const list = document.getElementById("namespace-list");
  replace(list, [...new Set(names)].map((name) => h("option", { value: name })));
}

// The server's namespaces, when the key may list them (ListNamespaces needs an operator
// key when auth is on): a select of them replaces the text box. Refused (403), or on
// a server without the route, the text box stays and takes any name.
async function loadNamespaces() {
  const select = document.getElementById("namespace-select");
  let names = [];
  if (await hasRoute("/v1/namespaces")) {
    try {
      const answer = await call("GET", "/v1/namespaces", { query: { page_size: 1000 } });
      names = (answer.namespaces || []).map((n) => n.namespaceId);
    } catch {
      names = [];
    }
  }
  const current = parseHash().ns || currentNamespace();
  if (names.length && !names.includes(current)) names.unshift(current);
  replace(select, names.map((name) => h("option", { value: name, selected: name === current }, name)));
  select.hidden = !names.length;
  document.getElementById("namespace-id").hidden = Boolean(names.length);
}

function wireHeader() {
  document.getElementById("search").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("search-run");
    const id = input.value.trim();
    if (!id) return;
    input.value = "";
    go(link(currentNamespace(), "runs", id));
  });
  const nsForm = document.getElementById("namespace");
  const switchTo = () => {
    const select = document.getElementById("namespace-select");
    const ns = (select.hidden ? document.getElementById("namespace-id").value : select.value).trim();
    if (!NAME.test(ns)) {
      announce("A namespace is 1 to 63 letters, digits, '.', '_' or '-'.", "error");
      return;
    }
    if (ns !== parseHash().ns) go(link(ns, "runs"));
  };
  nsForm.addEventListener("submit", (event) => {
    event.preventDefault();
    switchTo();
  });
  nsForm.addEventListener("change", switchTo);
  const keyButton = document.getElementById("key-button");
  keyButton.hidden = !apiKey.get();
  keyButton.addEventListener("click", () => {
    apiKey.set("");
    keyButton.hidden = true;
    announce("API key forgotten.");
  });
  onKeyNeeded(async (reason) => {
    const key = await askForApiKey(reason);
    if (key) {
      keyButton.hidden = false;
      // A new key may see more (or less): ask again what it may list and do.
      setTimeout(() => {
        loadNamespaces();
        applyRole(currentNamespace());
      });
    }
    return key;
  });
}

wireHeader();
window.addEventListener("hashchange", route);
route();
loadNamespaces();
