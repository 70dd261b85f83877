// A run's actions: cancel (unfinished runs), send a signal (unfinished runs), replay from
// the start or from a step (finished runs); each behind a confirm dialog, each hidden
// from a key that may only read (class `needs-write`, see access.js).

import { runs } from "../api.js";
import { confirmAction } from "../dialogs.js";
import { announce, h, TERMINAL } from "../dom.js";

// The step IDs a replay may start from: each step of the run, once, in order.
function replayableSteps(steps) {
  const seen = new Set();
  return steps.filter((s) => !seen.has(s.stepId) && seen.add(s.stepId)).map((s) => s.stepId);
}

export function actions(run, steps, ns, link, reload) {
  const bar = h("div", { class: "actions", role: "group", "aria-label": "Actions" });
  if (!TERMINAL.has(run.status)) {
    bar.append(
      h("button", { type: "button", id: "cancel-run", class: "danger needs-write", onclick: () => cancel(run, ns, reload) }, "Cancel run"),
      h("button", { type: "button", id: "send-signal", class: "needs-write", onclick: () => signal(run, ns, reload) }, "Send signal…"),
    );
    return bar;
  }
  const stepIds = replayableSteps(steps);
  const from = h(
    "select",
    { id: "replay-from", name: "from_step_id" },
    h("option", { value: "" }, "the start"),
    stepIds.map((id) => h("option", { value: id }, id)),
  );
  bar.append(
    h(
      "span",
      { class: "actions needs-write" },
      h("label", { for: "replay-from" }, "Replay from"),
      from,
      h("button", { type: "button", id: "replay", onclick: () => replay(run, from.value, ns, link) }, "Replay…"),
    ),
  );
  return bar;
}

async function cancel(run, ns, reload) {
  const ok = await confirmAction(
    "Cancel this run?",
    [h("p", {}, "The run ", h("span", { class: "mono" }, run.runId), " stops at once and its worker's lease ends.")],
    "Cancel run",
  );
  if (!ok) return;
  try {
    await runs.cancel(ns, run.runId, "canceled from the dashboard");
    announce("Run canceled.");
  } catch (error) {
    announce(error.message, "error");
  }
  reload();
}

async function replay(run, fromStepId, ns, link) {
  const where = fromStepId ? `from step “${fromStepId}”` : "from the start";
  const ok = await confirmAction(
    "Replay this run?",
    [
      h("p", {}, `A new run replays this one ${where}.`),
      fromStepId ? h("p", {}, "The steps it completed before that step are copied, not run again.") : null,
      h("p", { class: "muted" }, "This run and its history are not changed."),
    ],
    "Replay",
  );
  if (!ok) return;
  try {
    const answer = await runs.replay(ns, run.runId, fromStepId);
    announce("Replay started.");
    location.hash = link(ns, "runs", answer.run.runId);
  } catch (error) {
    announce(error.message, "error");
  }
}

// The signal's name and JSON payload are asked in the confirm dialog itself.
async function signal(run, ns, reload) {
  const name = h("input", { id: "signal-name", autocomplete: "off", spellcheck: "false" });
  const payload = h("textarea", { id: "signal-payload", rows: "4", spellcheck: "false", placeholder: "null" });
  const ok = await confirmAction(
    "Send a signal to this run?",
    [
      h("p", {}, "A wait for the signal's name takes it, now or when the run reaches one."),
      h("label", { for: "signal-name" }, "Signal name"),
      name,
      h("label", { for: "signal-payload" }, "Payload (JSON)"),
      payload,
    ],
    "Send signal",
  );
  if (!ok) return;
  if (!name.value.trim()) {
    announce("A signal needs a name.", "error");
    return;
  }
  let value = null;
  try {
    value = payload.value.trim() ? JSON.parse(payload.value) : null;
  } catch (error) {
    announce(`The payload is not JSON: ${error.message}`, "error");
    return;
  }
  try {
    const answer = await runs.signal(ns, run.runId, name.value.trim(), value);
    announce(answer.signal && answer.signal.consumedAt ? "Signal sent; a waiting step took it." : "Signal sent.");
  } catch (error) {
    announce(error.message, "error");
  }
  reload();
}
