// The workflows page: every workflow the server knows in the namespace (registered by a
// worker, or paused by a client), with its versions, workers online, active runs by
// status and pause state, refreshed every 5 s; each linked to its page
// (pages/workflow.js), where a run can be started.

import { workflows } from "../api.js";
import { h, labelledRow, replace, timeCell } from "../dom.js";
import { listTable, liveList } from "../tables.js";
import { pauseButton, pausedBadge, runCounts } from "./workflow_parts.js";

// ListWorkflows counts only the runs not finished (finished ones are history): the
// workflow's own page counts them all.
const COLUMNS = ["Workflow", "Versions", "Workers online", "Active runs", "State", "Last seen", "Actions"];
const REFRESH_MS = 5000;

export function render({ ns, main, link }) {
  document.title = `Workflows · ${ns} · stepline`;
  const table = listTable("workflows", "Workflows, by name", COLUMNS);
  replace(main, h("h1", {}, "Workflows"), table.node);
  const live = liveList(
    table,
    () => workflows.list(ns),
    (answer) => {
      const items = answer.workflows || [];
      if (!items.length) table.message("No workflow yet: a worker registers its workflows when it starts.");
      else replace(table.tbody, items.map((w) => row(w, ns, link, live.load)));
    },
    REFRESH_MS,
  );
  return live.stop;
}

function versions(workflow) {
  const names = (workflow.versions || []).map((v) => v.version || "(unversioned)");
  return names.length ? names.join(", ") : h("span", { class: "muted" }, "none registered");
}

function row(workflow, ns, link, reload) {
  const name = workflow.workflowName;
  return labelledRow({ "data-workflow": name, "data-key": name }, COLUMNS, [
    h("td", {}, h("a", { href: link(ns, "workflows", name) }, name)),
    h("td", { class: "wrap" }, versions(workflow)),
    h("td", { class: "num" }, String(workflow.workersOnline || 0)),
    h("td", {}, runCounts(workflow.runCounts, ns, name, link, "none")),
    h("td", {}, pausedBadge(workflow), workflow.pausedReason ? h("span", { class: "muted" }, " ", workflow.pausedReason) : null),
    h("td", {}, timeCell(workflow.lastSeenAt)),
    h("td", {}, pauseButton(workflow, ns, reload)),
  ]);
}
