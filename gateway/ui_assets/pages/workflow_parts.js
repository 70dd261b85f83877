// Pieces the workflows list and a workflow's page share: run counts linked to the runs
// page, the paused badge, and the pause/resume actions behind confirm dialogs (hidden
// from a key that may only read: class `needs-write`).

import { workflows } from "../api.js";
import { confirmAction } from "../dialogs.js";
import { announce, badge, h, shortName } from "../dom.js";

// "completed 3 · failed 1", each count a link to the runs of that workflow and status.
export function runCounts(counts, ns, workflowName, link, none = "no runs") {
  if (!counts || !counts.length) return h("span", { class: "muted" }, none);
  return h(
    "span",
    { class: "counts" },
    counts.map((count) =>
      h(
        "a",
        {
          href: link(ns, "runs", null, new URLSearchParams({ workflow_name: workflowName, statuses: count.status })),
          class: "count",
          title: `${shortName(count.status)} runs of ${workflowName}`,
        },
        badge(count.status),
        " ",
        String(count.count || 0),
      ),
    ),
  );
}

export function pausedBadge(workflow) {
  return workflow.paused ? h("span", { class: "badge badge-paused" }, "paused") : h("span", { class: "badge badge-active" }, "active");
}

// Pause… or Resume…, whichever applies; `done` runs after the server answered.
export function pauseButton(workflow, ns, done) {
  const name = workflow.workflowName;
  if (workflow.paused) {
    return h("button", { type: "button", class: "needs-write", "data-action": "resume", onclick: () => resume(name, ns, done) }, "Resume…");
  }
  return h("button", { type: "button", class: "danger needs-write", "data-action": "pause", onclick: () => pause(name, ns, done) }, "Pause…");
}

async function pause(name, ns, done) {
  const reason = h("input", { id: "pause-reason", autocomplete: "off", maxlength: "1000" });
  const ok = await confirmAction(
    `Pause workflow ${name}?`,
    [
      h("p", {}, "No run of it is claimed until it is resumed. New runs are still accepted and wait as pending; runs in flight finish their current attempt."),
      h("label", { for: "pause-reason" }, "Reason (optional)"),
      reason,
    ],
    "Pause workflow",
  );
  if (!ok) return;
  try {
    await workflows.pause(ns, name, reason.value.trim());
    announce(`Workflow ${name} paused.`);
  } catch (error) {
    announce(error.message, "error");
  }
  done();
}

async function resume(name, ns, done) {
  const ok = await confirmAction(`Resume workflow ${name}?`, h("p", {}, "Its waiting runs are claimed again by its workers."), "Resume workflow");
  if (!ok) return;
  try {
    await workflows.resume(ns, name);
    announce(`Workflow ${name} resumed.`);
  } catch (error) {
    announce(error.message, "error");
  }
  done();
}
