// Modal dialogs on <dialog>: the browser gives them focus trapping, Escape to close
// and focus return; these functions only fill them and wait for the answer.

import { replace } from "./dom.js";

function answer(dialog) {
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}

// Asks "title" with `body` (nodes or text); resolves to true when the user confirms.
export function confirmAction(title, body, okLabel = "OK") {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-title").textContent = title;
  replace(document.getElementById("confirm-body"), ...[body].flat());
  const ok = document.getElementById("confirm-ok");
  ok.textContent = okLabel;
  dialog.returnValue = "";
  dialog.showModal();
  ok.focus();
  return answer(dialog);
}

// Asks for an API key; resolves to the key, or "" when the user cancels.
export async function askForApiKey(reason) {
  const dialog = document.getElementById("key-dialog");
  const input = document.getElementById("key-input");
  document.getElementById("key-reason").textContent =
    reason || "This server asks for an API key.";
  input.value = "";
  dialog.returnValue = "";
  dialog.showModal();
  input.focus();
  const confirmed = await answer(dialog);
  const key = confirmed ? input.value.trim() : "";
  input.value = "";
  return key;
}
