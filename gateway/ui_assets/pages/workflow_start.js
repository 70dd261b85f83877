// "Start a run" on a workflow's page: the version, the task queue and the input, its
// fields generated from the version's input JSON Schema (schema_form.js). What does not
// coerce is shown before anything is sent; the server's INVALID_ARGUMENT lands next to
// the field its path names, and the whole message above the button. On success the new
// run opens.

import { workflows } from "../api.js";
import { announce, h, replace } from "../dom.js";
import { field } from "../forms.js";
import { pathOfField, schemaForm } from "../schema_form.js";

export function startForm(workflow, queues, ns, go, link) {
  const versions = workflow.versions || [];
  const version = h(
    "select",
    { id: "start-version", name: "version" },
    versions.length
      ? versions.map((v, i) => h("option", { value: String(i) }, v.version || "(unversioned)"))
      : h("option", { value: "" }, "(none registered)"),
  );
  const queue = h("input", { id: "start-queue", name: "task_queue", value: queues[0] || "default", list: "start-queues", autocomplete: "off", spellcheck: "false" });
  const queueList = h("datalist", { id: "start-queues" }, queues.map((q) => h("option", { value: q })));
  const asJson = h("input", { type: "checkbox", id: "start-as-json" });
  const inputBox = h("div", { class: "input-box" });
  const problem = h("p", { class: "error", role: "alert", id: "start-error" });
  let input = null;

  const schemaOf = () => (asJson.checked ? null : (versions[Number(version.value)] || {}).inputSchema || null);
  const build = (initial) => {
    input = schemaForm(schemaOf(), initial);
    replace(inputBox, input.node);
  };
  build(undefined);
  // Another version's schema: the values typed so far fill the fields it shares.
  version.addEventListener("change", () => build(input.read().value));
  // Switching to raw JSON carries over what the fields hold, and back.
  asJson.addEventListener("change", () => {
    const { value } = input.read();
    input.clearErrors();
    build(value);
  });

  const form = h(
    "form",
    { class: "filters start-form needs-write", "aria-labelledby": "start-title", novalidate: true },
    h("h2", { id: "start-title" }, "Start a run"),
    h("div", { class: "fields" }, field("Version", version), field("Task queue", queue), queueList),
    h("label", { class: "check" }, asJson, "Edit the input as JSON"),
    h("h3", {}, "Input"),
    inputBox,
    problem,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Start run")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    input.clearErrors();
    problem.textContent = "";
    queue.removeAttribute("aria-invalid");
    version.removeAttribute("aria-invalid");
    const { value, errors } = input.read();
    if (errors.length) {
      for (const error of errors) input.showError(error.path, error.message);
      problem.textContent = `The input has ${errors.length} problem(s): see the fields marked.`;
      form.querySelector("[aria-invalid]")?.focus();
      return;
    }
    const chosen = versions[Number(version.value)];
    // One click, one run: the button waits for the server's answer.
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const answer = await workflows.start(ns, {
        workflow_name: workflow.workflowName,
        version: chosen ? chosen.version : "",
        task_queue: queue.value.trim(),
        input: value,
      });
      announce(answer.existing ? "An existing run matched." : "Run started.");
      go(link(ns, "runs", answer.run.runId));
    } catch (error) {
      problem.textContent = error.message;
      const path = pathOfField(error.field || "");
      if (path) input.showError(path, error.message);
      const control = { task_queue: queue, version }[error.field];
      if (control) control.setAttribute("aria-invalid", "true");
    } finally {
      button.disabled = false;
    }
  });
  return form;
}
