// What a run waits for and received: its child runs (ListWorkflowRuns by parent_run_id),
// and for a SIGNAL or EVENT step the name it waits for, the event match, and what it
// received (the signal's payload, or the event, linked to the events page).

import { detailRow as row, h, json, runItem, shortName, timeCell } from "../dom.js";

export function children(run, page, ns, link) {
  const kids = (page && page.workflowRuns) || [];
  if (!kids.length) return null;
  const more = page.hasMore
    ? h("a", { href: link(ns, "runs", null, new URLSearchParams({ parent_run_id: run.runId })) }, "All child runs")
    : null;
  return h(
    "section",
    { class: "children", "aria-labelledby": "children-title" },
    h("h2", { id: "children-title" }, "Child runs"),
    h(
      "ul",
      { class: "child-list" },
      kids.map((kid) => runItem(kid, ns, link, timeCell(kid.createdAt))),
    ),
    more,
  );
}

// The detail rows of a wait step.
export function waitRows(step, ns, link) {
  const kind = shortName(step.kind);
  if (kind !== "signal" && kind !== "event") return null;
  const finished = shortName(step.status) === "completed";
  const received = step.output;
  const rows = [row(kind === "signal" ? "Waits for signal" : "Waits for event", h("span", { class: "mono" }, step.waitName || ""))];
  if (kind === "event" && step.waitMatch && Object.keys(step.waitMatch).length) rows.push(row("Match", json(step.waitMatch)));
  if (!finished) {
    rows.push(row("Received", h("span", { class: "muted" }, "nothing yet")));
  } else if (received === undefined) {
    rows.push(row("Received", h("span", { class: "muted" }, "nothing (timed out)")));
  } else if (kind === "event" && received && received.event_id) {
    rows.push(
      row("Event", h("a", { href: link(ns, "events", received.event_id), class: "mono" }, received.event_id)),
      row("Received at", timeCell(received.received_at)),
      row("Data", json(received.data)),
    );
  } else {
    rows.push(row("Received", json(received)));
  }
  return rows;
}
