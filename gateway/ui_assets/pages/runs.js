// The runs page: filters, a keyset-paged table with status badges, live refresh of the
// rows on screen, and "cancel all matching" through BatchCancelWorkflowRuns.

import { runs } from "../api.js";
import { confirmAction } from "../dialogs.js";
import { announce, badge, duration, h, replace, shortName, timeCell, TERMINAL } from "../dom.js";
import { field, pagerLinks, timeInput } from "../forms.js";

const STATUSES = ["PENDING", "RUNNING", "SLEEPING", "WAITING", "COMPLETED", "FAILED", "CANCELED"].map(
  (s) => `WORKFLOW_RUN_STATUS_${s}`,
);
// The filters of ListWorkflowRuns (proto names); BatchCancelWorkflowRuns takes them all
// but parent_run_id, so "cancel matching" is not offered while that one is set.
const TEXT_FILTERS = [
  ["workflow_name", "Workflow"],
  ["task_queue", "Task queue"],
  ["parent_run_id", "Parent run"],
  ["replay_of_run_id", "Replay of run"],
];
const TIME_FILTERS = [
  ["created_after", "Created after"],
  ["created_before", "Created before"],
];
const PAGE_SIZES = ["20", "50", "100", "200"];
// "Created in the last …": sets created_after when the filters are applied.
const RECENT = [
  ["", "any time"],
  ["900", "15 minutes"],
  ["3600", "hour"],
  ["86400", "24 hours"],
  ["604800", "7 days"],
];
const REFRESH_MS = 2000;
const COLUMNS = ["Run", "Status", "Workflow", "Version", "Task queue", "Attempt", "Created", "Started", "Finished", "Duration"];

// The filters of the page's URL as a request query (also the batch call's body).
function filtersOf(params) {
  const filters = { statuses: params.getAll("statuses") };
  for (const [name] of [...TEXT_FILTERS, ...TIME_FILTERS]) {
    if (params.get(name)) filters[name] = params.get(name);
  }
  return filters;
}

export function render({ ns, params, main, go, link }) {
  document.title = `Runs · ${ns} · stepline`;
  const filters = filtersOf(params);
  const pageSize = params.get("page_size") || "50";
  const query = { ...filters, page_size: pageSize, page_token: params.get("page_token") || "" };
  const tbody = h("tbody");
  const pager = h("nav", { class: "pager", "aria-label": "Pages of runs" });
  const summary = h("p", { class: "muted", id: "runs-summary" });
  const table = h(
    "table",
    { class: "runs", "aria-describedby": "runs-summary" },
    h("caption", { class: "visually-hidden" }, "Workflow runs, oldest first"),
    h("thead", {}, h("tr", {}, COLUMNS.map((c) => h("th", { scope: "col" }, c)))),
    tbody,
  );
  tbody.addEventListener("keydown", moveBetweenRows);
  // On a phone the filters fold away (open when some are set), so the runs come first.
  const unfolded = window.matchMedia("(min-width: 701px)").matches || params.toString() !== "";
  replace(
    main,
    h("h1", {}, "Runs"),
    h("details", { class: "filters-box", open: unfolded }, h("summary", {}, "Filters"), filterForm(ns, params, go, link)),
    h("div", { class: "table-wrap" }, table),
    summary,
    pager,
  );
  let shown = [];
  let stopped = false;

  async function load(first) {
    let page;
    try {
      page = await runs.list(ns, query);
    } catch (error) {
      if (first) replace(tbody, h("tr", {}, h("td", { colspan: COLUMNS.length, class: "error" }, error.message)));
      return;
    }
    if (stopped) return;
    const items = page.workflowRuns || [];
    const ids = items.map((r) => r.runId).join();
    if (first || ids !== shown.map((r) => r.runId).join()) {
      replace(tbody, items.length ? items.map((run) => row(run, ns, link)) : emptyRow());
    } else {
      items.forEach((run, i) => updateRow(tbody.rows[i], run, ns, link));
    }
    shown = items;
    summary.textContent = items.length
      ? `${items.length} run${items.length === 1 ? "" : "s"} on this page${page.hasMore ? ", more after it" : ""}.`
      : "";
    if (first) replace(pager, pagerLinks(ns, "runs", params, page, link));
  }

  load(true);
  const timer = setInterval(() => {
    if (!document.hidden) load(false);
  }, REFRESH_MS);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

function emptyRow() {
  return h("tr", {}, h("td", { colspan: COLUMNS.length, class: "muted" }, "No runs match."));
}

function cells(run, ns, link) {
  return [
    h("td", {}, h("a", { href: link(ns, "runs", run.runId), class: "mono" }, run.runId)),
    h("td", {}, badge(run.status)),
    h("td", {}, run.workflowName || ""),
    h("td", {}, run.version || ""),
    h("td", {}, run.taskQueue || ""),
    h("td", { class: "num" }, String(run.attempt || "")),
    h("td", {}, timeCell(run.createdAt)),
    h("td", {}, timeCell(run.startedAt)),
    h("td", {}, timeCell(run.finishedAt)),
    h("td", { class: "num" }, duration(run.startedAt, run.finishedAt)),
  ];
}

function row(run, ns, link) {
  return h("tr", { "data-run-id": run.runId, "data-status": shortName(run.status) }, cells(run, ns, link));
}

// A row refreshed in place (its link keeps the focus); unchanged terminal rows are left.
function updateRow(tr, run, ns, link) {
  if (!tr) return;
  const status = shortName(run.status);
  if (tr.dataset.status === status && TERMINAL.has(run.status)) return;
  tr.dataset.status = status;
  const fresh = cells(run, ns, link);
  for (let i = 1; i < fresh.length; i++) tr.cells[i].replaceWith(fresh[i]);
}

// Up/Down (and j/k) move between the rows' run links.
function moveBetweenRows(event) {
  const step = { ArrowDown: 1, ArrowUp: -1, j: 1, k: -1 }[event.key];
  if (!step) return;
  const links = [...event.currentTarget.querySelectorAll("a")];
  const at = links.indexOf(document.activeElement);
  if (at < 0) return;
  const next = links[at + step];
  if (next) {
    event.preventDefault();
    next.focus();
  }
}

function filterForm(ns, params, go, link) {
  const chosen = new Set(params.getAll("statuses"));
  const statusBoxes = STATUSES.map((status) =>
    h(
      "label",
      { class: "check" },
      h("input", { type: "checkbox", name: "statuses", value: status, checked: chosen.has(status) }),
      badge(status),
    ),
  );
  const text = TEXT_FILTERS.map(([name, label]) =>
    field(label, h("input", { name, id: `f-${name}`, value: params.get(name) || "", autocomplete: "off", spellcheck: "false" })),
  );
  const times = TIME_FILTERS.map(([name, label]) => field(label, timeInput(name, params)));
  const recent = field(
    "Created in the last",
    h("select", { name: "recent", id: "f-recent" }, RECENT.map(([value, label]) => h("option", { value }, label))),
  );
  const size = field(
    "Page size",
    h("select", { name: "page_size", id: "f-page_size" },
      PAGE_SIZES.map((n) => h("option", { value: n, selected: n === (params.get("page_size") || "50") }, n))),
  );
  const form = h(
    "form",
    { class: "filters", "aria-label": "Filter runs" },
    h("fieldset", { class: "statuses" }, h("legend", {}, "Status"), statusBoxes),
    h("div", { class: "fields" }, text, recent, times, size),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit" }, "Apply filters"),
      h("a", { href: link(ns, "runs"), class: "button quiet" }, "Clear"),
      params.get("parent_run_id")
        ? null
        : h("button", { type: "button", class: "danger needs-write", onclick: () => cancelMatching(ns, params) }, "Cancel matching runs…"),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go(link(ns, "runs", null, formQuery(form)));
  });
  return form;
}

function formQuery(form) {
  const data = new FormData(form);
  const query = new URLSearchParams();
  for (const status of data.getAll("statuses")) query.append("statuses", status);
  for (const [name] of TEXT_FILTERS) {
    const value = String(data.get(name) || "").trim();
    if (value) query.set(name, value);
  }
  for (const [name] of TIME_FILTERS) {
    const value = String(data.get(name) || "");
    if (value) query.set(name, new Date(value).toISOString());
  }
  const recent = Number(data.get("recent") || 0);
  if (recent) query.set("created_after", new Date(Date.now() - recent * 1000).toISOString());
  if (data.get("page_size") !== "50") query.set("page_size", String(data.get("page_size")));
  return query;
}

// Cancels every non-terminal run the current filters match, a chunk per call, after a
// dry run has counted them and the user has confirmed.
async function cancelMatching(ns, params) {
  const filters = filtersOf(params);
  let preview;
  try {
    preview = await runs.batchCancel(ns, { ...filters, dry_run: true, page_size: 1000 });
  } catch (error) {
    announce(error.message, "error");
    return;
  }
  const count = preview.affectedCount || 0;
  if (!count) {
    announce("No run matching these filters can be canceled.");
    return;
  }
  const many = preview.hasMore ? `at least ${count}` : String(count);
  const ok = await confirmAction(
    "Cancel matching runs?",
    `This cancels ${many} unfinished run(s) that match the current filters. It cannot be undone.`,
    `Cancel ${many} run(s)`,
  );
  if (!ok) return;
  let canceled = 0;
  let token = "";
  try {
    do {
      const chunk = await runs.batchCancel(ns, { ...filters, page_size: 1000, page_token: token, reason: "canceled from the dashboard" });
      canceled += chunk.affectedCount || 0;
      token = chunk.hasMore ? chunk.nextPageToken : "";
    } while (token);
    announce(`Canceled ${canceled} run(s).`);
  } catch (error) {
    announce(`Canceled ${canceled} run(s), then: ${error.message}`, "error");
  }
}
