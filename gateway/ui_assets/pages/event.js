// One event: its name, data and idempotency key, and the runs it started or resumed
// (ListEventRuns).

import { events } from "../api.js";
import { detailRow as row, h, json, replace, runItem, timeCell } from "../dom.js";

export function render({ ns, rest, main, link }) {
  const eventId = rest[0];
  document.title = `Event ${eventId} · ${ns} · stepline`;
  replace(main, h("p", { class: "muted" }, "Loading event…"));
  Promise.all([events.get(ns, eventId), events.runs(ns, eventId)]).then(
    ([answer, runs]) => replace(main, ...page(answer.event, runs, ns, link)),
    (error) => {
      const text = error.status === 404 ? `No event ${eventId} in namespace ${ns}.` : error.message;
      replace(main, h("h1", {}, "Event"), h("p", { class: "error", role: "alert" }, text), h("p", {}, h("a", { href: link(ns, "events") }, "All events")));
    },
  );
}

function page(event, runs, ns, link) {
  const started = new Set(runs.startedRunIds || []);
  const items = runs.workflowRuns || [];
  return [
    h("p", { class: "crumbs" }, h("a", { href: link(ns, "events") }, "Events"), " / ", h("span", { class: "mono" }, event.eventId)),
    h("h1", {}, event.eventName),
    h(
      "dl",
      { class: "summary" },
      row("Event ID", h("span", { class: "mono" }, event.eventId)),
      row("Name", event.eventName),
      row("Received", timeCell(event.receivedAt)),
      event.idempotencyKey ? row("Idempotency key", h("span", { class: "mono" }, event.idempotencyKey)) : null,
    ),
    h("h2", {}, "Data"),
    json(event.data || {}),
    h("h2", { id: "event-runs-title" }, "Runs"),
    items.length
      ? h(
          "ul",
          { class: "child-list", "aria-labelledby": "event-runs-title" },
          items.map((run) =>
            runItem(run, ns, link, h("span", { class: "muted" }, started.has(run.runId) ? "started by it" : "resumed by it")),
          ),
        )
      : h("p", { class: "muted" }, "It started and resumed no run."),
  ];
}
