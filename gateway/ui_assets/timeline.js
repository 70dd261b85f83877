// A run's step timeline: one row per step attempt, a bar from its start to its end on a
// shared time axis (waterfall). Retries are separate rows; a sleep's bar runs to its
// wake-up time; the colour is the attempt's status. Each bar is a button that shows the
// attempt's details.

import { formatMs, h, shortName } from "./dom.js";

const ms = (value) => (value ? new Date(value).getTime() : NaN);

function spanOf(step, now) {
  const start = ms(step.startedAt || step.createdAt);
  let end = ms(step.finishedAt);
  if (shortName(step.kind) === "sleep" && step.wakeUpAt) end = Math.max(end || 0, ms(step.wakeUpAt));
  if (!Number.isFinite(end)) end = now;
  return { start, end: Math.max(end, start) };
}

function kindLabel(step) {
  const kind = shortName(step.kind);
  if (step.waitName) return ` (${kind} “${step.waitName}”)`;
  return kind && kind !== "function" ? ` (${kind})` : "";
}

// What a wait step got: shown on its row, so the signals and events a run received read
// from the timeline without a click.
export function waitNote(step) {
  const kind = shortName(step.kind);
  if (!["signal", "event", "child"].includes(kind)) return "";
  if (shortName(step.status) !== "completed") return kind === "child" ? "child running" : "waiting";
  if (kind === "child") return step.error ? "child failed" : "child done";
  if (step.output === undefined) return "timed out";
  return kind === "event" ? "event received" : "signal received";
}

export function timeline(run, steps, onSelect) {
  const now = Date.now();
  const spans = steps.map((step) => spanOf(step, now));
  const origin = Math.min(ms(run.startedAt || run.createdAt), ...spans.map((s) => s.start));
  const finish = Math.max(ms(run.finishedAt) || now, ...spans.map((s) => s.end));
  const total = Math.max(finish - origin, 1);
  const list = h("ol", { class: "timeline", "aria-label": "Step attempts, oldest first" });
  steps.forEach((step, i) => {
    const { start, end } = spans[i];
    const status = shortName(step.status);
    const copied = step.copiedFromStepAttemptId ? " (copied)" : "";
    const label = `${step.stepId}${kindLabel(step)} #${step.attempt || 1}`;
    const kind = shortName(step.kind);
    const bar = h("span", { class: `bar bar-${status} bar-kind-${kind}${copied ? " bar-copied" : ""}` });
    // CSSOM, not a style attribute: the page's CSP allows no inline styles.
    bar.style.marginLeft = `${((start - origin) / total) * 100}%`;
    bar.style.width = `${Math.max(((end - start) / total) * 100, 0.5)}%`;
    const button = h(
      "button",
      {
        type: "button",
        class: "step",
        "data-step-id": step.stepId,
        "data-attempt-id": step.stepAttemptId,
        "aria-label": `${step.stepId}${kindLabel(step)}, attempt ${step.attempt || 1}: ${status}${copied}, ${formatMs(end - start)}`,
        onclick: () => {
          for (const other of list.querySelectorAll("[aria-pressed]")) other.setAttribute("aria-pressed", "false");
          button.setAttribute("aria-pressed", "true");
          onSelect(step);
        },
        "aria-pressed": "false",
      },
      h("span", { class: "step-name" }, label, copied, waitNote(step) ? h("span", { class: "step-note" }, ` · ${waitNote(step)}`) : null),
      h("span", { class: "track" }, bar),
      h("span", { class: "step-time num" }, formatMs(end - start)),
    );
    list.append(h("li", {}, button));
  });
  return h(
    "div",
    { class: "timeline-wrap" },
    h("p", { class: "muted axis" }, `0 → ${formatMs(total)}`),
    steps.length ? list : h("p", { class: "muted" }, "No steps yet."),
  );
}
