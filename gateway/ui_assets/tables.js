// The table of the workflows, schedules and workers pages: a scrolling box, a caption
// for screen readers, one card per row on a phone (`stacked`, cells labelled by column),
// and a live load that redraws only when the answer changed, keeping the focus.

import { h, keepingFocus, refreshEvery, replace } from "./dom.js";

export function listTable(kind, caption, columns, attrs = {}) {
  const tbody = h("tbody");
  const node = h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: `runs stacked ${kind}`, ...attrs },
      h("caption", { class: "visually-hidden" }, caption),
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
      tbody,
    ),
  );
  const message = (text, kind = "muted") => replace(tbody, h("tr", {}, h("td", { colspan: columns.length, class: kind }, text)));
  return { node, tbody, message };
}

// Calls `fetch()` now and every `ms`; `show(answer)` redraws when the answer differs from
// the one on screen (an action passes force=true: its row must change now). Returns
// {load, stop}.
export function liveList(table, fetch, show, ms) {
  let shown = "";
  let stopped = false;
  const load = (force = false) =>
    fetch().then(
      (answer) => {
        const snapshot = JSON.stringify(answer);
        if (stopped || (snapshot === shown && !force)) return;
        shown = snapshot;
        keepingFocus(table.tbody, () => show(answer));
      },
      (error) => {
        if (stopped) return;
        shown = "";
        table.message(error.message, "error");
      },
    );
  load();
  const stopTimer = refreshEvery(ms, load);
  return {
    load: () => load(true),
    stop: () => {
      stopped = true;
      stopTimer();
    },
  };
}
