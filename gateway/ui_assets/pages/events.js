// The events page: events filtered by name and time received, keyset-paged (oldest
// first, as ListEvents answers), each linked to its detail; and a form that sends one
// (SendEvent), hidden from a key that may only read.

import { events } from "../api.js";
import { announce, h, replace, timeCell } from "../dom.js";
import { field, pagerLinks, timeInput } from "../forms.js";

const FILTERS = ["event_name", "received_after", "received_before"];
const COLUMNS = ["Event", "Name", "Received", "Idempotency key"];

export function render({ ns, params, main, go, link }) {
  document.title = `Events · ${ns} · stepline`;
  const query = { page_size: params.get("page_size") || "50", page_token: params.get("page_token") || "" };
  for (const name of FILTERS) query[name] = params.get(name) || "";
  const tbody = h("tbody");
  const pager = h("nav", { class: "pager", "aria-label": "Pages of events" });
  replace(
    main,
    h("h1", {}, "Events"),
    h("details", { class: "filters-box", open: true }, h("summary", {}, "Filters"), filterForm(ns, params, go, link)),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "runs events" },
        h("caption", { class: "visually-hidden" }, "Events, oldest first"),
        h("thead", {}, h("tr", {}, COLUMNS.map((c) => h("th", { scope: "col" }, c)))),
        tbody,
      ),
    ),
    pager,
    sendForm(ns, go, link),
  );
  events.list(ns, query).then(
    (page) => {
      const items = page.events || [];
      replace(tbody, items.length ? items.map((event) => row(event, ns, link)) : empty("No events match."));
      replace(pager, pagerLinks(ns, "events", params, page, link));
    },
    (error) => replace(tbody, empty(error.message, "error")),
  );
}

function empty(text, kind = "muted") {
  return h("tr", {}, h("td", { colspan: COLUMNS.length, class: kind }, text));
}

function row(event, ns, link) {
  return h(
    "tr",
    { "data-event-id": event.eventId },
    h("td", {}, h("a", { href: link(ns, "events", event.eventId), class: "mono" }, event.eventId)),
    h("td", {}, event.eventName || ""),
    h("td", {}, timeCell(event.receivedAt)),
    h("td", { class: "mono" }, event.idempotencyKey || ""),
  );
}

function filterForm(ns, params, go, link) {
  const name = h("input", { name: "event_name", id: "f-event_name", value: params.get("event_name") || "", autocomplete: "off", spellcheck: "false" });
  const form = h(
    "form",
    { class: "filters", "aria-label": "Filter events" },
    h(
      "div",
      { class: "fields" },
      field("Event name", name),
      field("Received after", timeInput("received_after", params)),
      field("Received before", timeInput("received_before", params)),
    ),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit" }, "Apply filters"),
      h("a", { href: link(ns, "events"), class: "button quiet" }, "Clear"),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const query = new URLSearchParams();
    const eventName = String(data.get("event_name") || "").trim();
    if (eventName) query.set("event_name", eventName);
    for (const key of ["received_after", "received_before"]) {
      if (data.get(key)) query.set(key, new Date(String(data.get(key))).toISOString());
    }
    go(link(ns, "events", null, query));
  });
  return form;
}

// Sends an event; its data must be a JSON object (SendEvent's data is a Struct).
function sendForm(ns, go, link) {
  const name = h("input", { name: "send_event_name", id: "send-event-name", autocomplete: "off", spellcheck: "false" });
  const data = h("textarea", { name: "send_event_data", id: "send-event-data", rows: "3", spellcheck: "false", placeholder: "{}" });
  const form = h(
    "form",
    { class: "filters send-form needs-write", "aria-label": "Send an event" },
    h("h2", {}, "Send an event"),
    h("div", { class: "fields" }, field("Event name", name), field("Data (a JSON object)", data)),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Send event")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let parsed;
    try {
      parsed = data.value.trim() ? JSON.parse(data.value) : {};
    } catch (error) {
      announce(`The data is not JSON: ${error.message}`, "error");
      return;
    }
    if (!name.value.trim() || parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      announce("An event needs a name, and its data must be a JSON object.", "error");
      return;
    }
    try {
      const answer = await events.send(ns, name.value.trim(), parsed);
      const resumed = (answer.resumedRunIds || []).length;
      announce(`Event sent; it resumed ${resumed} run(s).`);
      go(link(ns, "events", answer.event.eventId));
    } catch (error) {
      announce(error.message, "error");
    }
  });
  return form;
}
