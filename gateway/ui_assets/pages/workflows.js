// The workflows page: every workflow the server knows in the namespace (registered by a
// worker, or paused by a client), with its versions, workers online, runs by status and
// pause state; each linked to its page (pages/workflow.js), where a run can be started.

import { workflows } from "../api.js";
import { h, labelledRow, replace, timeCell } from "../dom.js";
import { pauseButton, pausedBadge, runCounts } from "./workflow_parts.js";

// ListWorkflows counts only the runs not finished (finished ones are history): the
// workflow's own page counts them all.
const COLUMNS = ["Workflow", "Versions", "Workers online", "Active runs", "State", "Last seen", "Actions"];

export function render({ ns, main, link }) {
  document.title = `Workflows · ${ns} · stepline`;
  const tbody = h("tbody");
  replace(
    main,
    h("h1", {}, "Workflows"),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "runs stacked workflows" },
        h("caption", { class: "visually-hidden" }, "Workflows, by name"),
        h("thead", {}, h("tr", {}, COLUMNS.map((c) => h("th", { scope: "col" }, c)))),
        tbody,
      ),
    ),
  );
  const load = () =>
    workflows.list(ns).then(
      (answer) => {
        const items = answer.workflows || [];
        replace(tbody, items.length ? items.map((w) => row(w, ns, link, load)) : message("No workflow yet: a worker registers its workflows when it starts."));
      },
      (error) => replace(tbody, message(error.message, "error")),
    );
  load();
}

function message(text, kind = "muted") {
  return h("tr", {}, h("td", { colspan: COLUMNS.length, class: kind }, text));
}

function versions(workflow) {
  const names = (workflow.versions || []).map((v) => v.version || "(unversioned)");
  return names.length ? names.join(", ") : h("span", { class: "muted" }, "none registered");
}

function row(workflow, ns, link, reload) {
  const name = workflow.workflowName;
  return labelledRow({ "data-workflow": name }, COLUMNS, [
    h("td", {}, h("a", { href: link(ns, "workflows", name) }, name)),
    h("td", { class: "wrap" }, versions(workflow)),
    h("td", { class: "num" }, String(workflow.workersOnline || 0)),
    h("td", {}, runCounts(workflow.runCounts, ns, name, link, "none")),
    h("td", {}, pausedBadge(workflow), workflow.pausedReason ? h("span", { class: "muted" }, " ", workflow.pausedReason) : null),
    h("td", {}, timeCell(workflow.lastSeenAt)),
    h("td", {}, pauseButton(workflow, ns, reload)),
  ]);
}
