// What the API key may do, learned without changing anything. No API tells a key its
// role, so the dashboard asks the server the one question it cares about — may this key
// act (start, cancel, replay, signal, send events)? — with a dry-run
// BatchCancelWorkflowRuns: it needs PERMISSION_WRITE like every action here, matches at
// most one run and cancels none. 403 means the key only reads: the pages hide their
// actions (elements of class `needs-write`, hidden by app.css until the answer is yes).
// Any other answer shows them; the server still refuses what a key may not do.

import { apiKey, call, nsPath } from "./api.js";

const answers = new Map();

export function canWrite(ns) {
  const asked = `${ns}\n${apiKey.get()}`;
  if (!answers.has(asked)) {
    const probe = call("POST", `${nsPath(ns)}/runs:batchCancel`, { body: { dry_run: true, page_size: 1 } });
    answers.set(asked, probe.then(() => true, (error) => error.status !== 403));
  }
  return answers.get(asked);
}

// Marks the page for the key in use in namespace `ns` (body[data-can-write]); when
// calls overlap (a namespace or key changed meanwhile), the latest one decides.
export async function applyRole(ns) {
  const asked = `${ns}\n${apiKey.get()}`;
  applyRole.latest = asked;
  const allowed = await canWrite(ns);
  if (applyRole.latest === asked) document.body.dataset.canWrite = String(allowed);
}
