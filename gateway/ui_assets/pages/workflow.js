// One workflow: its pause state, versions (workers online, runs by status), triggers and
// limits (refreshed every 5 s), and a "Start a run" form built from the chosen
// version's input schema.

import { workflows, workers } from "../api.js";
import { detailRow as row, h, json, keepingFocus, labelledRow, refreshEvery, replace, timeCell } from "../dom.js";
import { listTable } from "../tables.js";
import { pauseButton, pausedBadge, runCounts } from "./workflow_parts.js";
import { startForm } from "./workflow_start.js";

const REFRESH_MS = 5000;

export function render({ ns, rest, main, go, link }) {
  const name = rest[0];
  document.title = `Workflow ${name} · ${ns} · stepline`;
  replace(main, h("p", { class: "muted" }, "Loading workflow…"));
  // What the server says is redrawn on each refresh; the start form, built once, keeps
  // what was typed and where the focus is.
  const info = h("div", { "data-key": "workflow" });
  let form = null;
  let shown = "";
  let stopped = false;
  const load = (force = false) =>
    Promise.all([workflows.get(ns, name), workers.list(ns).catch(() => ({ workers: [] }))]).then(
      ([answer, listed]) => {
        if (stopped) return; // the user has moved on to another page
        const workflow = answer.workflow;
        if (!form) {
          form = startForm(workflow, queuesServing(workflow, listed.workers || []), ns, go, link);
          replace(main, h("p", { class: "crumbs" }, h("a", { href: link(ns, "workflows") }, "Workflows"), " / ", name), info, form);
        }
        const snapshot = JSON.stringify(workflow);
        if (snapshot === shown && !force) return;
        shown = snapshot;
        keepingFocus(main, () => replace(info, ...details(workflow, ns, link, () => load(true))));
      },
      (error) => {
        if (form || stopped) return; // a refresh that failed leaves the page as it was
        const text = error.status === 404 ? `No workflow ${name} in namespace ${ns}.` : error.message;
        replace(main, h("h1", {}, "Workflow"), h("p", { class: "error", role: "alert" }, text), h("p", {}, h("a", { href: link(ns, "workflows") }, "All workflows")));
      },
    );
  load();
  const stopTimer = refreshEvery(REFRESH_MS, load);
  return () => {
    stopped = true;
    stopTimer();
  };
}

function details(workflow, ns, link, reload) {
  return [
    h("h1", {}, workflow.workflowName, " ", pausedBadge(workflow)),
    h("div", { class: "actions", role: "group", "aria-label": "Actions" }, pauseButton(workflow, ns, reload)),
    summary(workflow, ns, link),
    h("h2", {}, "Versions"),
    versionsTable(workflow, ns, link),
    triggers(workflow),
  ];
}

// The task queues of the online workers that run this workflow: what the form suggests.
function queuesServing(workflow, known) {
  const serving = known.filter((w) => w.online && (w.workflows || []).some((x) => x.workflowName === workflow.workflowName));
  return [...new Set(serving.map((w) => w.taskQueue))];
}

function summary(workflow, ns, link) {
  const limit = (n) => (n ? String(n) : "no limit");
  return h(
    "dl",
    { class: "summary" },
    workflow.paused ? row("Paused", timeCell(workflow.pausedAt), workflow.pausedReason ? ` — ${workflow.pausedReason}` : "") : null,
    row("Workers online", String(workflow.workersOnline || 0)),
    row("Last seen", timeCell(workflow.lastSeenAt) || h("span", { class: "muted" }, "never")),
    row("Runs", runCounts(workflow.runCounts, ns, workflow.workflowName, link)),
    row("Max concurrency", limit(workflow.maxConcurrency)),
    row("Max concurrency per key", limit(workflow.maxConcurrencyPerKey)),
  );
}

const VERSION_COLUMNS = ["Version", "Workers online", "Runs", "Input schema", "Registered", "Last seen"];

function versionsTable(workflow, ns, link) {
  const items = workflow.versions || [];
  if (!items.length) return h("p", { class: "muted" }, "No version registered: no worker has run this workflow yet.");
  const table = listTable("versions", "Versions, newest first", VERSION_COLUMNS);
  replace(
    table.tbody,
    items.map((v) =>
      labelledRow({ "data-version": v.version || "" }, VERSION_COLUMNS, [
        h("td", {}, v.version || h("span", { class: "muted" }, "(unversioned)")),
        h("td", { class: "num" }, String(v.workersOnline || 0)),
        h("td", {}, runCounts(v.runCounts, ns, workflow.workflowName, link)),
        h("td", {}, v.inputSchema ? "yes" : h("span", { class: "muted" }, "none")),
        h("td", {}, timeCell(v.registeredAt)),
        h("td", {}, timeCell(v.lastSeenAt)),
      ]),
    ),
  );
  return table.node;
}

function triggers(workflow) {
  const items = workflow.triggers || [];
  if (!items.length) return null;
  return [
    h("h2", {}, "Event triggers"),
    h("ul", { class: "child-list" }, items.map((t) => h("li", {}, h("span", { class: "mono" }, t.eventName), t.match ? [" where ", json(t.match)] : null))),
  ];
}
