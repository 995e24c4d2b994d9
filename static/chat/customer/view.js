/*
 * The message log: one entry per message, whether confirmed by the server (it has an id)
 * or still being sent (only a client_id). Confirmed messages stand in id order after the
 * greeting; unsent ones stay at the end. An entry is found by id and by client_id, so
 * whichever copy of a message arrives first (POST answer, socket, poll) is shown and the
 * others are recognised. Text is only ever set as text; http(s) addresses become links
 * through lib/linkify.js.
 */
import { linkify } from "../lib/linkify.js";
import { clockTime, toDate } from "../lib/time.js";
import { renderFiles, renderLocalFiles } from "./attachments.js";
import { S, $ } from "./config.js";

const scroller = $("message-log");
const list = $("message-list");

let byId = new Map();
let byClientId = new Map();
let entryByElement = new WeakMap();

export function authorLabel(entry) {
  if (entry.author === "customer") {
    return S.you;
  }
  if (entry.author === "agent") {
    return entry.agentName || S.agent;
  }
  return S.system;
}

function isNearBottom() {
  return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
}

export function scrollToBottom() {
  scroller.scrollTop = scroller.scrollHeight;
}

function createElement(entry) {
  const item = document.createElement("li");
  item.className = "msg msg--" + entry.author;
  item.dataset.author = entry.author;
  const bubble = document.createElement("div");
  bubble.className = "msg__bubble";
  if (entry.author !== "system") {
    const author = document.createElement("p");
    author.className = entry.author === "agent" ? "msg__author" : "visually-hidden";
    author.textContent = authorLabel(entry) + (entry.author === "agent" ? "" : ":");
    bubble.appendChild(author);
  }
  const files = document.createElement("div");
  files.className = "msg__files";
  bubble.appendChild(files);
  if (entry.content) {
    const text = document.createElement("p");
    text.className = "msg__text";
    text.appendChild(linkify(entry.content));
    bubble.appendChild(text);
  }
  item.appendChild(bubble);

  const meta = document.createElement("p");
  meta.className = "msg__meta";
  const time = document.createElement("time");
  time.className = "msg__time";
  meta.appendChild(time);
  const status = document.createElement("span");
  status.className = "msg__state";
  meta.appendChild(status);
  item.appendChild(meta);

  entry.element = item;
  entry.timeElement = time;
  entry.statusElement = status;
  entry.filesElement = files;
  entryByElement.set(item, entry);
  renderEntryFiles(entry);
  render(entry);
  return item;
}

function renderEntryFiles(entry) {
  const files = entry.filesElement;
  if (entry.attachments && entry.attachments.length) {
    renderFiles(files, entry.attachments);
  } else if (entry.files && entry.files.length) {
    renderLocalFiles(files, entry.files);
  }
  files.hidden = !files.childElementCount;
}

function actionButton(label, action, clientId) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "msg__action";
  button.dataset.action = action;
  button.dataset.clientId = clientId;
  button.textContent = label;
  return button;
}

function renderState(entry) {
  const status = entry.statusElement;
  const shown = entry.state;
  if (status.dataset.shown === shown && shown === "throttled") {
    // A countdown: only the visible number changes; the announcement is made once.
    status.querySelector("[aria-hidden]").textContent = entry.note;
    return;
  }
  if (status.dataset.shown === shown && shown === "uploading") {
    status.querySelector("progress").value = Math.round((entry.progress || 0) * 100);
    return;
  }
  if (shown === "uploading" && !entry.files) {
    return;
  }
  status.dataset.shown = shown;
  status.className = "msg__state msg__state--" + shown;
  status.removeAttribute("role");
  status.textContent = "";
  if (shown === "sent") {
    const check = document.createElement("span");
    check.setAttribute("aria-hidden", "true");
    check.textContent = "✓";
    const label = document.createElement("span");
    label.className = "visually-hidden";
    label.textContent = S.sent;
    status.append(check, label);
  } else if (shown === "failed") {
    status.textContent = entry.note;
    status.setAttribute("role", "alert");
    if (entry.files && entry.files.length) {
      status.append(" ", actionButton(S.remove_message, "discard", entry.clientId));
    }
  } else if (entry.files && entry.files.length && ["sending", "uploading", "retrying"].includes(shown)) {
    const bar = document.createElement("progress");
    bar.className = "msg__progress";
    bar.max = 100;
    bar.value = Math.round((entry.progress || 0) * 100);
    bar.setAttribute("aria-label", S.uploading);
    if (shown === "retrying") {
      status.append(S.retrying + " ");
    }
    status.append(bar, actionButton(S.cancel_upload, "cancel", entry.clientId));
  } else if (shown === "cancelled") {
    status.append(
      S.upload_cancelled + " ",
      actionButton(S.retry_upload, "retry", entry.clientId),
      actionButton(S.remove_message, "discard", entry.clientId)
    );
  } else if (shown === "throttled") {
    const spoken = document.createElement("span");
    spoken.className = "visually-hidden";
    spoken.textContent = entry.note;
    const countdown = document.createElement("span");
    countdown.className = "msg__countdown";
    countdown.setAttribute("aria-hidden", "true");
    countdown.textContent = entry.note;
    status.append(spoken, countdown);
  } else {
    status.textContent = shown === "retrying" ? S.retrying : S.sending;
  }
}

function render(entry) {
  const item = entry.element;
  if (entry.id != null) {
    item.dataset.messageId = String(entry.id);
  }
  if (entry.clientId) {
    item.dataset.clientId = entry.clientId;
  }
  const when = toDate(entry.createdAt);
  if (when) {
    entry.timeElement.dateTime = when.toISOString();
    entry.timeElement.textContent = clockTime(when);
  }
  if (entry.author === "customer") {
    item.dataset.state = entry.state;
    renderState(entry);
  }
}

/** Confirmed messages in id order after the greeting; an element already in place stays. */
function place(entry) {
  const element = entry.element;
  let anchor = list.lastElementChild;
  while (anchor) {
    const other = entryByElement.get(anchor);
    if (!other) {
      break; // the greeting
    }
    if (other !== entry && (entry.id == null || (other.id != null && other.id < entry.id))) {
      break;
    }
    anchor = anchor.previousElementSibling;
  }
  const before = anchor ? anchor.nextElementSibling : list.firstElementChild;
  if (before !== element) {
    list.insertBefore(element, before);
  }
}

function add(entry) {
  const follow = isNearBottom();
  createElement(entry);
  if (entry.id != null) {
    byId.set(entry.id, entry);
  }
  if (entry.clientId) {
    byClientId.set(entry.clientId, entry);
  }
  place(entry);
  if (follow || entry.author === "customer") {
    scrollToBottom();
  }
}

/**
 * A message from the server, from whichever source. Answers "new" (shown now),
 * "confirmed" (it was this page's unsent message), "known" or "ignored".
 */
export function receive(message) {
  if (!message || typeof message.id !== "number" || message.is_internal) {
    return "ignored";
  }
  if (byId.has(message.id)) {
    return "known";
  }
  const pending = message.client_id ? byClientId.get(message.client_id) : null;
  if (pending) {
    pending.id = message.id;
    pending.createdAt = message.created_at;
    pending.state = "sent";
    byId.set(message.id, pending);
    if (message.attachments && message.attachments.length) {
      pending.attachments = message.attachments;
      renderEntryFiles(pending);
    }
    render(pending);
    place(pending);
    return "confirmed";
  }
  add({
    id: message.id,
    clientId: message.client_id || null,
    author: message.author === "user" ? "customer" : message.author,
    agentName: message.agent_name || "",
    content: message.content,
    attachments: message.attachments || [],
    createdAt: message.created_at,
    state: "sent",
  });
  return "new";
}

/** A message of this customer's that the server has not confirmed yet. */
export function addPending(item) {
  add({
    id: null,
    clientId: item.client_id,
    author: "customer",
    content: item.content,
    files: item.files || null,
    createdAt: item.created_at,
    state: "sending",
  });
}

/** True when the message with this client_id is shown and still waits for the server. */
export function isPending(clientId) {
  const entry = byClientId.get(clientId);
  return Boolean(entry) && entry.id == null && entry.state !== "failed" && entry.state !== "cancelled";
}

/** How much of an upload went out (0–1): shown as the message's progress bar. */
export function setProgress(clientId, fraction) {
  const entry = byClientId.get(clientId);
  if (!entry || entry.id != null) {
    return;
  }
  entry.progress = fraction;
  entry.state = "uploading";
  render(entry);
}

/** Take an unsent message off the log (its files were refused or the upload cancelled). */
export function discard(clientId) {
  const entry = byClientId.get(clientId);
  if (!entry || entry.id != null) {
    return;
  }
  byClientId.delete(clientId);
  entry.element.remove();
}

/** Cancel, retry and remove buttons of unsent messages with files. */
export function onAction(handler) {
  list.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (button && list.contains(button)) {
      handler(button.dataset.action, button.dataset.clientId);
    }
  });
}

export function isConfirmed(clientId) {
  const entry = byClientId.get(clientId);
  return Boolean(entry) && entry.id != null;
}

/** Show an unsent message as sending, retrying, throttled (with ``note``) or failed (``note``). */
export function setState(clientId, state, note = "") {
  const entry = byClientId.get(clientId);
  if (!entry || entry.id != null) {
    return;
  }
  entry.state = state;
  entry.note = note;
  render(entry);
}

export function knownIds() {
  return Array.from(byId.keys());
}

/** The shown messages in order, for the transcript (failed and cancelled ones left out). */
export function shownEntries() {
  return Array.from(list.children)
    .map((node) => entryByElement.get(node))
    .filter((entry) => entry && entry.state !== "failed" && entry.state !== "cancelled");
}

export function reset() {
  byId = new Map();
  byClientId = new Map();
  entryByElement = new WeakMap();
  list.querySelectorAll(".msg:not([data-greeting])").forEach((node) => node.remove());
}
