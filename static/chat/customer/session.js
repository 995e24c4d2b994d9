/*
 * The chat this page holds: its secret key (kept in localStorage as jtchat.session so a
 * reload keeps the conversation), what the server said about it (status, agent, rating)
 * and its queue position. Every API call that acts as the customer goes through call(),
 * which sends the key as the API's contract says: as session_id in a JSON body, in the
 * X-Chat-Session header on calls without one (never in a URL).
 *
 * Other modules listen: "change" (state or queue changed), "ended" (first: bool),
 * "lost" (the server no longer knows the chat), "network" (down: bool).
 */
import { request } from "../lib/http.js";
import { urls } from "./config.js";
import { storageGet, storageSet } from "./storage.js";

const STORAGE_SESSION = "jtchat.session";

let key = null;
let data = null;
let queue = null;
let ended = false;
const listeners = { change: [], ended: [], lost: [], network: [] };

export function on(name, handler) {
  listeners[name].push(handler);
}

function emit(name, value) {
  listeners[name].forEach((handler) => handler(value));
}

export function currentKey() {
  return key;
}

/** The chat as the server last described it (an object, possibly empty). */
export function info() {
  return data || {};
}

export function queueInfo() {
  return queue || {};
}

export function isEnded() {
  return ended;
}

export function storedKey() {
  return storageGet(STORAGE_SESSION);
}

/** An API call as this customer. Never throws (see lib/http.js). */
export function call(method, url, body) {
  if (body !== undefined) {
    return request(method, url, { json: key ? { session_id: key, ...body } : body });
  }
  return request(method, url, { headers: key ? { "X-Chat-Session": key } : {} });
}

/** A chat the server just opened. */
export function begin(opened) {
  key = opened.session_id;
  data = null;
  queue = null;
  ended = false;
  storageSet(STORAGE_SESSION, key);
}

/** A chat kept from before a reload, not yet confirmed by the server. */
export function resume(storedValue) {
  key = storedValue;
  data = null;
  queue = null;
  ended = false;
}

export function apply(session, newQueue) {
  if (!session) {
    return;
  }
  data = Object.assign({}, data || {}, session);
  if (newQueue) {
    queue = newQueue;
  }
  emit("change");
  if (data.status === "ended") {
    const first = !ended;
    ended = true;
    emit("ended", first);
  }
}

export function applyQueue(newQueue) {
  queue = newQueue;
  emit("change");
}

/** Fields the server answered that change nothing on screen (e.g. the rating just given). */
export function remember(fields) {
  data = Object.assign({}, data || {}, fields);
}

export function reportNetwork(down) {
  emit("network", down);
}

/** Ask the server for the chat's state. Resolves true when it answered. */
export async function refresh() {
  if (!key) {
    return false;
  }
  const asked = key;
  const answer = await call("GET", urls.session);
  if (asked !== key) {
    return false;
  }
  if (answer.status === 200 && answer.data) {
    reportNetwork(false);
    apply(answer.data, answer.data.queue);
    return true;
  }
  if (answer.status === 404) {
    lost();
  } else if (answer.status === 0) {
    reportNetwork(true);
  }
  return false;
}

/** The server does not know this chat (any more): the page starts over. */
export function lost() {
  if (key) {
    emit("lost");
  }
}

export function clear() {
  key = null;
  data = null;
  queue = null;
  ended = false;
  storageSet(STORAGE_SESSION, null);
}
