// One run: its summary, input/output/error, the step timeline, and the actions
// (cancel, replay from the start or from a step, each behind a confirm dialog).
// Refreshed every 2 s while the run has not finished.

import { allSteps, runs } from "../api.js";
import { badge, detailRow as row, duration, h, json, replace, shortName, timeCell, TERMINAL } from "../dom.js";
import { timeline } from "../timeline.js";
import { actions } from "./run_actions.js";
import { children, waitRows } from "./run_waits.js";

const REFRESH_MS = 2000;

// The trace ID of a run, from the W3C traceparent the server stored in its context.
export function traceId(run) {
  const parent = run.context && run.context.trace && run.context.trace.traceparent;
  const match = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(parent || "");
  return match ? match[1] : "";
}

function traceLink(id) {
  const template = document.querySelector('meta[name="stepline-trace-url-template"]').content;
  if (!template || !id) return null;
  const href = template.replaceAll("{trace_id}", encodeURIComponent(id));
  // Only http(s) links: a template is configuration, but a javascript: URL is never a link.
  if (!/^https?:\/\//i.test(href)) return null;
  return h("a", { href, target: "_blank", rel: "noopener noreferrer" }, "View trace");
}

export function render({ ns, rest, main, link }) {
  const runId = rest[0];
  document.title = `Run ${runId} · ${ns} · stepline`;
  let stopped = false;
  let selected = null;
  let lastShown = "";
  replace(main, h("p", { class: "muted" }, "Loading run…"));

  async function load() {
    let run;
    let steps;
    let kids;
    try {
      [run, steps, kids] = await Promise.all([
        runs.get(ns, runId).then((a) => a.run),
        allSteps(ns, runId),
        runs.list(ns, { parent_run_id: runId, page_size: 100 }),
      ]);
    } catch (error) {
      if (!lastShown) {
        const text = error.status === 404 ? `No run ${runId} in namespace ${ns}.` : error.message;
        replace(main, h("h1", {}, "Run"), h("p", { class: "error", role: "alert" }, text), h("p", {}, h("a", { href: link(ns, "runs") }, "All runs")));
      }
      return false;
    }
    if (stopped) return false;
    const snapshot = JSON.stringify([run, steps, kids]);
    if (snapshot !== lastShown) {
      lastShown = snapshot;
      show(run, steps, kids);
    }
    return !TERMINAL.has(run.status);
  }

  function show(run, steps, kids) {
    // The page is rebuilt on each change; the control that had the focus gets it back.
    const focused = document.activeElement;
    const focusKey = main.contains(focused) ? focused.id || focused.dataset.attemptId : "";
    const detail = h("section", { class: "step-detail", "aria-live": "polite", "aria-label": "Selected step" });
    const select = (step) => {
      selected = step.stepAttemptId;
      replace(detail, stepDetail(step, ns, link));
    };
    replace(
      main,
      h("p", { class: "crumbs" }, h("a", { href: link(ns, "runs") }, "Runs"), " / ", h("span", { class: "mono" }, run.runId)),
      h("h1", {}, run.workflowName, " ", badge(run.status)),
      actions(run, steps, ns, link, () => load()),
      summary(run, ns, link),
      h("h2", {}, "Timeline"),
      timeline(run, steps, select),
      detail,
      children(run, kids, ns, link),
      payloads(run),
    );
    const again = steps.find((s) => s.stepAttemptId === selected);
    if (again) {
      select(again);
      const button = main.querySelector(`button.step[data-attempt-id="${CSS.escape(again.stepAttemptId)}"]`);
      if (button) button.setAttribute("aria-pressed", "true");
    }
    if (focusKey) {
      const key = CSS.escape(focusKey);
      const target = main.querySelector(`#${key}, [data-attempt-id="${key}"]`);
      if (target) target.focus();
    }
  }

  async function poll() {
    const more = await load();
    if (more && !stopped) timer = setTimeout(poll, REFRESH_MS);
  }
  let timer = null;
  poll();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}


function summary(run, ns, link) {
  const trace = traceId(run);
  const filtered = (name, value) => link(ns, "runs", null, new URLSearchParams({ [name]: value }));
  return h(
    "dl",
    { class: "summary" },
    row("Run ID", h("span", { class: "mono" }, run.runId)),
    row("Status", badge(run.status)),
    row("Workflow", run.workflowName, run.version ? ` @ ${run.version}` : ""),
    row("Task queue", run.taskQueue || ""),
    row("Attempt", String(run.attempt || "")),
    row("Worker", run.workerId || "—"),
    row("Created", timeCell(run.createdAt)),
    row("Started", timeCell(run.startedAt) || "—"),
    row("Finished", timeCell(run.finishedAt) || "—"),
    row("Duration", duration(run.startedAt, run.finishedAt) || "—"),
    run.wakeUpAt && !TERMINAL.has(run.status) ? row("Wakes up", timeCell(run.wakeUpAt)) : null,
    run.deadlineAt ? row("Deadline", timeCell(run.deadlineAt)) : null,
    run.idempotencyKey ? row("Idempotency key", h("span", { class: "mono" }, run.idempotencyKey)) : null,
    run.parentRunId ? row("Parent run", h("a", { href: link(ns, "runs", run.parentRunId), class: "mono" }, run.parentRunId)) : null,
    run.replayOfRunId ? row("Replay of", h("a", { href: link(ns, "runs", run.replayOfRunId), class: "mono" }, run.replayOfRunId)) : null,
    run.replayCount ? row("Replays", h("a", { href: filtered("replay_of_run_id", run.runId) }, `${run.replayCount} replay(s)`)) : null,
    trace ? row("Trace ID", h("span", { class: "mono" }, trace), " ", traceLink(trace)) : null,
  );
}

function failure(error) {
  return h(
    "div",
    { class: "failure" },
    h("p", {}, h("strong", {}, error.type || "Error"), ": ", error.message || ""),
    error.nonRetryable ? h("p", { class: "muted" }, "Not retryable.") : null,
    error.stackTrace ? h("details", {}, h("summary", {}, "Stack trace"), h("pre", { class: "stack" }, error.stackTrace)) : null,
    error.details !== undefined ? json(error.details) : null,
  );
}

function payloads(run) {
  return h(
    "div",
    { class: "payloads" },
    h("section", {}, h("h2", {}, "Input"), json(run.input)),
    h("section", {}, h("h2", {}, "Output"), json(run.output)),
    run.error ? h("section", {}, h("h2", {}, "Error"), failure(run.error)) : null,
    h("section", {}, h("h2", {}, "Context"), json(run.context)),
  );
}

function stepDetail(step, ns, link) {
  return [
    h("h2", {}, `Step ${step.stepId}, attempt ${step.attempt || 1}`),
    h(
      "dl",
      { class: "summary" },
      row("Status", badge(step.status)),
      row("Kind", shortName(step.kind)),
      row("Started", timeCell(step.startedAt) || "—"),
      row("Finished", timeCell(step.finishedAt) || "—"),
      row("Duration", duration(step.startedAt, step.finishedAt) || "—"),
      step.wakeUpAt ? row("Wakes up", timeCell(step.wakeUpAt)) : null,
      row("Worker", step.workerId || "—"),
      step.childWorkflowRunId ? row("Child run", h("a", { href: link(ns, "runs", step.childWorkflowRunId), class: "mono" }, step.childWorkflowRunId)) : null,
      waitRows(step, ns, link),
      step.copiedFromStepAttemptId ? row("Copied from", h("span", { class: "mono" }, step.copiedFromStepAttemptId)) : null,
    ),
    h("h3", {}, "Config"),
    json(step.config),
    h("h3", {}, "Output"),
    json(step.output),
    step.error ? [h("h3", {}, "Error"), failure(step.error)] : null,
  ];
}
