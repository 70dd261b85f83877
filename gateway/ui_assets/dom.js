// Building DOM from text nodes only (no HTML parsing of strings): every piece of data
// becomes a text node, so nothing a run carries (names, inputs, errors) can become markup.

// h("a", {href: "#/x", class: "link"}, "text", child, …): attributes set by name, `on*`
// functions as listeners, children as nodes or text; null/false children are skipped.
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (value === true) {
      node.setAttribute(name, "");
    } else {
      node.setAttribute(name, String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
}

const STATUS_PREFIX = /^(WORKFLOW_RUN_STATUS_|STEP_ATTEMPT_STATUS_|STEP_KIND_)/;

// WORKFLOW_RUN_STATUS_COMPLETED -> "completed".
export const shortName = (value) => String(value || "").replace(STATUS_PREFIX, "").toLowerCase();

export function badge(status) {
  const name = shortName(status) || "unknown";
  return h("span", { class: `badge badge-${name}` }, name);
}

export const TERMINAL = new Set([
  "WORKFLOW_RUN_STATUS_COMPLETED",
  "WORKFLOW_RUN_STATUS_FAILED",
  "WORKFLOW_RUN_STATUS_CANCELED",
]);

// Short local times ("Dec 6, 11:02:07"); the exact UTC instant is the element's title.
const timeFormat = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
});

export function time(value) {
  return value ? timeFormat.format(new Date(value)) : "";
}

// A <time> element: the local time shown, the exact UTC instant as its datetime/title.
export function timeCell(value) {
  return value ? h("time", { datetime: value, title: value }, time(value)) : "";
}

export function duration(start, end) {
  if (!start) return "";
  const ms = (end ? new Date(end) : new Date()) - new Date(start);
  return formatMs(ms);
}

export function formatMs(ms) {
  if (!Number.isFinite(ms) || ms < 0) return "";
  if (ms < 1) return "<1 ms";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${Math.round(s % 60)} s`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours} h ${m % 60} m`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

// One <dt>/<dd> pair of a summary list.
export function detailRow(label, ...value) {
  return [h("dt", {}, label), h("dd", {}, ...value)];
}

// A run in a short list: its status, its link, its workflow and what else is given.
export function runItem(run, ns, link, ...more) {
  return h(
    "li",
    { "data-run-id": run.runId },
    badge(run.status),
    " ",
    h("a", { href: link(ns, "runs", run.runId), class: "mono" }, run.runId),
    " ",
    run.workflowName || "",
    " ",
    ...more,
  );
}

// A JSON value shown as indented text (a <pre>, its content a text node).
export function json(value) {
  return h("pre", { class: "json" }, value === undefined ? "—" : JSON.stringify(value, null, 2));
}

// The status line at the bottom of the page, read out by screen readers.
export function announce(message, kind = "info") {
  const status = document.getElementById("status");
  status.className = `toast toast-${kind}`;
  status.textContent = message;
  clearTimeout(announce.timer);
  announce.timer = setTimeout(() => {
    status.textContent = "";
    status.className = "toast";
  }, 6000);
}

// A table row whose cells carry their column's name (data-label), so that on a phone a
// `.stacked` table shows each row as a card of "label value" lines (app.css).
export function labelledRow(attrs, columns, cells) {
  cells.forEach((cell, i) => cell.setAttribute("data-label", columns[i]));
  return h("tr", attrs, cells);
}

// Runs `rebuild` (which replaces what `container` holds) and gives the focus back to the
// same control of the same row (an element with data-key), so a refresh or an action
// does not throw a keyboard user back to the top of the page.
export function keepingFocus(container, rebuild) {
  const focused = document.activeElement;
  const row = focused && container.contains(focused) ? focused.closest("[data-key]") : null;
  const at = row ? [...row.querySelectorAll("a, button")].indexOf(focused) : -1;
  const key = row ? row.dataset.key : "";
  rebuild();
  if (at < 0) return;
  const again = container.querySelector(`[data-key="${CSS.escape(key)}"]`);
  const control = again && again.querySelectorAll("a, button")[at];
  if (control) control.focus();
}

// Calls `load` every `ms` while the tab is visible and no dialog is open (a dialog's
// opener must still be there when it closes); returns the function that stops it.
export function refreshEvery(ms, load) {
  const timer = setInterval(() => {
    if (!document.hidden && !document.querySelector("dialog[open]")) load();
  }, ms);
  return () => clearInterval(timer);
}
