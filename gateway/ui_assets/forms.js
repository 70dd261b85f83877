// Pieces the list pages share: labelled fields, local date-time inputs, and the keyset
// pager (First / Previous / Next links carrying the API's page tokens in the hash).

import { h } from "./dom.js";

export function field(label, input) {
  return h("div", { class: "field" }, h("label", { for: input.id }, label), input);
}

// An RFC 3339 instant as the value of a datetime-local input (local time, seconds).
export function localInput(iso) {
  if (!iso) return "";
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return "";
  return new Date(at.getTime() - at.getTimezoneOffset() * 60000).toISOString().slice(0, 19);
}

export function timeInput(name, params) {
  return h("input", { name, id: `f-${name}`, type: "datetime-local", step: "1", value: localInput(params.get(name)) });
}

// `page` is the route ("runs", "events"), `answer` the list call's response.
export function pagerLinks(ns, page, params, answer, link) {
  const to = (token) => {
    const next = new URLSearchParams(params);
    next.set("page_token", token);
    return link(ns, page, null, next);
  };
  const first = new URLSearchParams(params);
  first.delete("page_token");
  return [
    params.get("page_token") ? h("a", { href: link(ns, page, null, first), class: "button quiet" }, "First") : null,
    answer.prevPageToken ? h("a", { href: to(answer.prevPageToken), class: "button", rel: "prev" }, "Previous") : null,
    answer.hasMore && answer.nextPageToken ? h("a", { href: to(answer.nextPageToken), class: "button", rel: "next" }, "Next") : null,
  ];
}
