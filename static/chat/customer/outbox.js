/*
 * The customer's unsent messages. Each gets a client_id when typed and keeps it across
 * every retry, so the server stores it once however often it is sent. The outbox is kept
 * in localStorage (jtchat.outbox) until the server confirms each message, so a reload
 * sends them again with the same ids.
 *
 * Messages go one at a time, in order. No answer, a timeout or a server fault: shown as
 * retrying, tried again with back-off, sooner when the network or the socket comes back.
 * 429: shown as "sending too fast, wait N s" counting down from Retry-After, and sent when
 * the wait is over (not before, whatever else happens). Any other refusal: shown as failed.
 *
 * A message with files (attachments.js) goes the same way, uploaded with a progress bar; it
 * is kept in memory only (localStorage cannot hold the files). Cancelled, it waits aside
 * until the customer retries it (same client_id) or removes it.
 */
import { Alarm } from "../lib/backoff.js";
import { format } from "../lib/format.js";
import { withRetries } from "../lib/http.js";
import { newClientId } from "../lib/ids.js";
import { secondsUntil } from "../lib/time.js";
import * as attachments from "./attachments.js";
import { S, urls } from "./config.js";
import * as session from "./session.js";
import { errorText, setNetworkDown } from "./status.js";
import { storageGet, storageSet } from "./storage.js";
import * as view from "./view.js";

const STORAGE_OUTBOX = "jtchat.outbox";
const SEND_BACKOFF_BASE_MS = 1000;
const SEND_BACKOFF_MAX_MS = 30000;

let items = [];
const aside = new Map(); // client_id -> a cancelled message with files, until retried or removed
let sending = false;
const alarm = new Alarm();
let countdownTimer = null;

export function size() {
  return items.length;
}

function save() {
  const kept = items.filter((item) => !item.files);
  if (!kept.length) {
    storageSet(STORAGE_OUTBOX, null);
    return;
  }
  storageSet(STORAGE_OUTBOX, JSON.stringify({ session: session.currentKey(), items: kept }));
}

function remove(clientId) {
  const before = items.length;
  items = items.filter((item) => item.client_id !== clientId);
  if (items.length !== before) {
    save();
  }
}

/** The server's copy of a message arrived by another way (socket, poll): done with it. */
export function acknowledge(clientId) {
  aside.delete(clientId);
  remove(clientId);
}

export function send(text, files = []) {
  const item = { client_id: newClientId(), content: text, created_at: new Date().toISOString() };
  if (files.length) {
    item.files = files;
  }
  items.push(item);
  save();
  view.addPending(item);
  view.scrollToBottom();
  flush();
}

/** Messages typed before a reload that the server had not confirmed: send them again. */
export function restore() {
  let saved = null;
  try {
    saved = JSON.parse(storageGet(STORAGE_OUTBOX) || "null");
  } catch (error) {
    saved = null;
  }
  if (!saved || saved.session !== session.currentKey() || !Array.isArray(saved.items)) {
    storageSet(STORAGE_OUTBOX, null);
    return;
  }
  saved.items.forEach((item) => {
    if (view.isConfirmed(item.client_id)) {
      return;
    }
    items.push(item);
    view.addPending(item);
  });
  save();
  flush();
}

/** Try again now (network back, socket ready), unless the server asked us to wait. */
export function wake() {
  alarm.wake();
}

/** The customer's cancel, retry and remove buttons on an unsent message with files. */
export function act(action, clientId) {
  if (action === "cancel") {
    const item = items.find((candidate) => candidate.client_id === clientId);
    if (item) {
      aside.set(clientId, item);
      view.setState(clientId, "cancelled");
      attachments.cancel(clientId);
    }
  } else if (action === "retry" && aside.has(clientId)) {
    const item = aside.get(clientId);
    aside.delete(clientId);
    items.push(item);
    view.setState(clientId, "sending");
    flush();
  } else if (action === "discard") {
    aside.delete(clientId);
    remove(clientId);
    view.discard(clientId);
  }
}

/** The chat is gone: forget its messages and stop any wait. */
export function clear() {
  items = [];
  aside.clear();
  storageSet(STORAGE_OUTBOX, null);
  stopCountdown();
  alarm.wake({ force: true });
}

function stopCountdown() {
  clearInterval(countdownTimer);
  countdownTimer = null;
}

function showThrottled(clientId, deadline) {
  const tick = () => {
    view.setState(clientId, "throttled", format(S.throttled, { seconds: secondsUntil(deadline) }));
  };
  stopCountdown();
  tick();
  countdownTimer = setInterval(tick, 1000);
}

function beforeRetry(item, answer, delay) {
  setNetworkDown(answer.status === 0);
  if (answer.status === 429) {
    showThrottled(item.client_id, Date.now() + delay);
  } else {
    stopCountdown();
    view.setState(item.client_id, "retrying");
  }
}

function post(item) {
  if (item.files) {
    return attachments.send(item, (fraction) => view.setProgress(item.client_id, fraction));
  }
  return session.call("POST", urls.message, {
    session_id: session.currentKey(),
    author: "user",
    content: item.content,
    client_id: item.client_id,
  });
}

async function deliver(item) {
  const key = session.currentKey();
  const answer = await withRetries(() => post(item), {
    base: SEND_BACKOFF_BASE_MS,
    max: SEND_BACKOFF_MAX_MS,
    onRetry: (result, delay) => beforeRetry(item, result, delay),
    wait: (delay, result) => alarm.wait(delay, { firm: result.status === 429 }),
    cancelled: () => key !== session.currentKey() || !view.isPending(item.client_id),
  });
  stopCountdown();
  if (!answer) {
    return true; // the chat changed, or the message arrived another way
  }
  if (answer.status === 201 || answer.status === 200) {
    setNetworkDown(false);
    view.receive(answer.data);
    remove(item.client_id);
    return true;
  }
  remove(item.client_id);
  if (answer.status === 409) {
    view.setState(item.client_id, "failed", S.send_failed_ended);
    session.refresh();
    return true;
  }
  view.setState(item.client_id, "failed", format(S.send_failed, { reason: errorText(answer) }));
  if (answer.status === 404) {
    session.lost();
    return false;
  }
  return true;
}

/** Send the outbox in order, one at a time. */
async function flush() {
  if (sending) {
    return;
  }
  sending = true;
  try {
    while (items.length && session.currentKey()) {
      const item = items[0];
      if (!view.isPending(item.client_id)) {
        remove(item.client_id);
        continue;
      }
      if (!(await deliver(item))) {
        break;
      }
    }
  } finally {
    sending = false;
  }
}
