// The workers page: the namespace's workers (ListWorkers), online and gone (unseen for 3
// lease periods), each with its task queue, the workflow versions it runs, when it was
// last seen and the runs it holds; filtered by task queue, refreshed every 5 s.

import { workers } from "../api.js";
import { h, labelledRow, replace, timeCell } from "../dom.js";
import { field } from "../forms.js";

const COLUMNS = ["Worker", "Task queue", "Workflows", "Last seen", "Registered", "Active runs", "State"];
const REFRESH_MS = 5000;

export function render({ ns, params, main, go, link }) {
  document.title = `Workers · ${ns} · stepline`;
  const query = { task_queue: params.get("task_queue") || "" };
  const tbody = h("tbody");
  const summary = h("p", { class: "muted", id: "workers-summary" });
  replace(
    main,
    h("h1", {}, "Workers"),
    filterForm(ns, params, go, link),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "runs stacked workers", "aria-describedby": "workers-summary" },
        h("caption", { class: "visually-hidden" }, "Workers, by ID"),
        h("thead", {}, h("tr", {}, COLUMNS.map((c) => h("th", { scope: "col" }, c)))),
        tbody,
      ),
    ),
    summary,
  );
  let shown = "";
  let stopped = false;
  const load = () =>
    workers.list(ns, query).then(
      (answer) => {
        const items = answer.workers || [];
        const snapshot = JSON.stringify(items);
        if (stopped || snapshot === shown) return;
        shown = snapshot;
        replace(tbody, items.length ? items.map((w) => row(w, ns, link)) : message("No workers match."));
        const online = items.filter((w) => w.online).length;
        summary.textContent = items.length ? `${online} online, ${items.length - online} gone.` : "";
      },
      (error) => replace(tbody, message(error.message, "error")),
    );
  load();
  const timer = setInterval(() => {
    if (!document.hidden) load();
  }, REFRESH_MS);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

function message(text, kind = "muted") {
  return h("tr", {}, h("td", { colspan: COLUMNS.length, class: kind }, text));
}

function row(worker, ns, link) {
  const runs = (worker.workflows || []).map((w) =>
    h("li", {}, h("a", { href: link(ns, "workflows", w.workflowName) }, w.workflowName), w.version ? h("span", { class: "muted" }, ` ${w.version}`) : null),
  );
  return labelledRow({ "data-worker-id": worker.workerId, "data-online": String(Boolean(worker.online)) }, COLUMNS, [
    h("td", { class: "mono" }, worker.workerId),
    h("td", {}, h("a", { href: link(ns, "runs", null, new URLSearchParams({ task_queue: worker.taskQueue })) }, worker.taskQueue)),
    h("td", {}, runs.length ? h("ul", { class: "plain" }, runs) : h("span", { class: "muted" }, "none")),
    h("td", {}, timeCell(worker.lastSeenAt)),
    h("td", {}, timeCell(worker.registeredAt)),
    h("td", { class: "num" }, String(worker.activeRuns || 0)),
    h("td", {}, worker.online ? h("span", { class: "badge badge-online" }, "online") : h("span", { class: "badge badge-gone" }, "gone")),
  ]);
}

function filterForm(ns, params, go, link) {
  const queue = h("input", { name: "task_queue", id: "f-task_queue", value: params.get("task_queue") || "", autocomplete: "off", spellcheck: "false" });
  const form = h(
    "form",
    { class: "filters", "aria-label": "Filter workers" },
    h("div", { class: "fields" }, field("Task queue", queue)),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Apply filters"), h("a", { href: link(ns, "workers"), class: "button quiet" }, "Clear")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = queue.value.trim();
    go(link(ns, "workers", null, value ? new URLSearchParams({ task_queue: value }) : null));
  });
  return form;
}
