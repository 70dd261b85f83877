// The workers page: the namespace's workers (ListWorkers), online and gone (unseen for 3
// lease periods), each with its task queue, the workflow versions it runs, when it was
// last seen and the runs it holds; filtered by task queue, refreshed every 5 s.

import { workers } from "../api.js";
import { h, labelledRow, replace, timeCell } from "../dom.js";
import { field } from "../forms.js";
import { listTable, liveList } from "../tables.js";

const COLUMNS = ["Worker", "Task queue", "Workflows", "Last seen", "Registered", "Active runs", "State"];
const REFRESH_MS = 5000;

export function render({ ns, params, main, go, link }) {
  document.title = `Workers · ${ns} · stepline`;
  const query = { task_queue: params.get("task_queue") || "" };
  const table = listTable("workers", "Workers, by ID", COLUMNS, { "aria-describedby": "workers-summary" });
  const summary = h("p", { class: "muted", id: "workers-summary" });
  replace(main, h("h1", {}, "Workers"), filterForm(ns, params, go, link), table.node, summary);
  const live = liveList(
    table,
    () => workers.list(ns, query),
    (answer) => {
      const items = answer.workers || [];
      if (!items.length) table.message("No workers match.");
      else replace(table.tbody, items.map((w) => row(w, ns, link)));
      const online = items.filter((w) => w.online).length;
      summary.textContent = items.length ? `${online} online, ${items.length - online} gone.` : "";
    },
    REFRESH_MS,
  );
  return live.stop;
}

function row(worker, ns, link) {
  const runs = (worker.workflows || []).map((w) =>
    h("li", {}, h("a", { href: link(ns, "workflows", w.workflowName) }, w.workflowName), w.version ? h("span", { class: "muted" }, ` ${w.version}`) : null),
  );
  return labelledRow({ "data-worker-id": worker.workerId, "data-key": worker.workerId, "data-online": String(Boolean(worker.online)) }, COLUMNS, [
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
