// The schedules page: the namespace's schedules in ID order (ListSchedules pages forward
// only), each with when it fires, its next and last fire, the run the last fire started,
// and pause/resume/trigger behind confirm dialogs (hidden from a reader key); refreshed
// every 5 s.

import { schedules } from "../api.js";
import { confirmAction } from "../dialogs.js";
import { announce, formatMs, h, labelledRow, replace, timeCell } from "../dom.js";
import { pagerLinks } from "../forms.js";
import { listTable, liveList } from "../tables.js";

const COLUMNS = ["Schedule", "Workflow", "Fires", "Next fire", "Last fire", "Last run", "State", "Actions"];
const REFRESH_MS = 5000;

export function render({ ns, params, main, link }) {
  document.title = `Schedules · ${ns} · stepline`;
  const query = { page_size: params.get("page_size") || "50", page_token: params.get("page_token") || "" };
  const table = listTable("schedules", "Schedules, by ID", COLUMNS);
  const pager = h("nav", { class: "pager", "aria-label": "Pages of schedules" });
  replace(main, h("h1", {}, "Schedules"), table.node, pager);
  const live = liveList(
    table,
    () => schedules.list(ns, query),
    (page) => {
      const items = page.schedules || [];
      if (!items.length) table.message("No schedules. Create one with CreateSchedule (REST, gRPC or the SDK).");
      else replace(table.tbody, items.map((s) => row(s, ns, link, live.load)));
      replace(pager, pagerLinks(ns, "schedules", params, page, link));
    },
    REFRESH_MS,
  );
  return live.stop;
}

// "0 9 * * 1-5 (Europe/Paris)" or "every 1 h 0 m" (a Duration is "3600s" in JSON).
function fires(schedule) {
  if (schedule.cron) return [h("span", { class: "mono" }, schedule.cron), ` (${schedule.timezone || "UTC"})`];
  const seconds = parseFloat(String(schedule.interval || ""));
  return Number.isFinite(seconds) ? `every ${formatMs(seconds * 1000)}` : "";
}

function row(schedule, ns, link, reload) {
  const id = schedule.scheduleId;
  return labelledRow({ "data-schedule-id": id, "data-key": id }, COLUMNS, [
    h("td", { class: "mono" }, id),
    h("td", {}, h("a", { href: link(ns, "workflows", schedule.workflowName) }, schedule.workflowName)),
    h("td", {}, fires(schedule)),
    h("td", {}, schedule.paused ? h("span", { class: "muted" }, "— (paused)") : timeCell(schedule.nextFireAt)),
    h("td", {}, timeCell(schedule.lastFireAt) || h("span", { class: "muted" }, "never")),
    h("td", {}, schedule.lastRunId ? h("a", { href: link(ns, "runs", schedule.lastRunId), class: "mono last-run" }, schedule.lastRunId) : h("span", { class: "muted" }, "none")),
    h("td", {}, schedule.paused ? h("span", { class: "badge badge-paused" }, "paused") : h("span", { class: "badge badge-active" }, "active")),
    h("td", {}, h("span", { class: "actions inline" }, pauseButton(schedule, ns, reload), triggerButton(schedule, ns, reload))),
  ]);
}

function pauseButton(schedule, ns, reload) {
  const id = schedule.scheduleId;
  const act = async (resume) => {
    const ok = resume
      ? await confirmAction(`Resume schedule ${id}?`, h("p", {}, "It fires again from its next fire after now; fires missed while paused are not made up."), "Resume schedule")
      : await confirmAction(`Pause schedule ${id}?`, h("p", {}, "It fires nothing until resumed. A trigger still starts a run."), "Pause schedule");
    if (!ok) return;
    try {
      await (resume ? schedules.resume(ns, id) : schedules.pause(ns, id));
      announce(`Schedule ${id} ${resume ? "resumed" : "paused"}.`);
    } catch (error) {
      announce(error.message, "error");
    }
    reload();
  };
  return schedule.paused
    ? h("button", { type: "button", class: "needs-write", "data-action": "resume", onclick: () => act(true) }, "Resume…")
    : h("button", { type: "button", class: "danger needs-write", "data-action": "pause", onclick: () => act(false) }, "Pause…");
}

function triggerButton(schedule, ns, reload) {
  const id = schedule.scheduleId;
  const trigger = async () => {
    const ok = await confirmAction(
      `Trigger schedule ${id} now?`,
      h("p", {}, `One run of ${schedule.workflowName} starts now, whatever the schedule's pause state and overlap policy.`),
      "Start run",
    );
    if (!ok) return;
    try {
      const answer = await schedules.trigger(ns, id);
      announce(`Schedule ${id} started run ${answer.runId}.`);
    } catch (error) {
      announce(error.message, "error");
    }
    reload();
  };
  return h("button", { type: "button", class: "needs-write", "data-action": "trigger", onclick: trigger }, "Trigger…");
}
