/* The conversation screen's details panel, redrawn from a chat's shape (chat/payloads.py
 * ``agent_session``) field by field: each <dd data-field data-kind> the server drew
 * (chat/admin/details.py) shows that key of the chat, as the kind says. */
import { clockElement } from "../lib/clock.js";
import { format } from "../lib/format.js";

function draw(cell, kind, value, labels, strings) {
  if (kind === "time") {
    return value ? [clockElement(value, "datetime")] : ["—"];
  }
  if (kind === "rating") {
    return [value ? format(strings.rating, { rating: value }) : "—"];
  }
  if (kind === "status") {
    const badge = document.createElement("span");
    badge.className = "chat-status chat-status-" + value;
    badge.dataset.status = value;
    badge.textContent = labels.statuses[value] || value;
    return [badge];
  }
  if (kind === "topic") {
    return [labels.topics[value] || "—"];
  }
  if (kind === "endedBy") {
    return [labels.endedBy[value] || "—"];
  }
  return [value || value === 0 ? String(value) : "—"];
}

/** Show ``session`` in the panel under ``root``; fields whose value did not change stay. */
export function updateDetails(root, session, labels, strings) {
  root.querySelectorAll("[data-field]").forEach((cell) => {
    const key = cell.dataset.field;
    if (!(key in session)) {
      return;
    }
    const value = session[key];
    const shown = value === null || value === undefined ? "" : String(value);
    if (cell.dataset.value === shown) {
      return;
    }
    cell.dataset.value = shown;
    cell.replaceChildren(...draw(cell, cell.dataset.kind, value, labels, strings));
  });
}
