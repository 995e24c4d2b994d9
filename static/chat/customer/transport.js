/*
 * Live delivery for the customer: the /ws/chat/ socket, with polling as the fallback, and
 * the catch-up read that fills any gap.
 *
 * The hello frame carries the chat's key and ``after`` = the highest message id received
 * from the ordered stream (socket, catch-up, poll); the server sends what came after it.
 * After a drop the socket reconnects with back-off and the page reads again from a few
 * messages back (live events may reach the socket out of id order). After three failed
 * attempts in a row the page polls GET messages?after=<id> every 2 s and keeps retrying
 * the socket; when the socket is ready again, polling stops.
 */
import { LiveSocket, socketUrl } from "../lib/socket.js";
import { urls, websocketBase } from "./config.js";
import * as session from "./session.js";
import { setNetworkDown, setTransport, transportMode } from "./status.js";

const POLL_INTERVAL_MS = 2000;
const SOCKET_FAILURES_BEFORE_POLLING = 3;
const SESSION_REFRESH_EVERY_POLLS = 5;
// A page smaller than this means the catch-up is complete (the server's page is larger).
const CATCH_UP_PAGE_MIN = 100;
const CATCH_UP_MAX_PAGES = 50;
// After a reconnect, ask again for the last few messages too: live events of one chat
// may reach the socket out of id order, and a drop in between must not skip one.
const RECONNECT_LOOKBACK_MESSAGES = 20;

// Highest message id received from the ordered stream. A POST answer does not move it:
// an agent message with a lower id may still be unseen.
let cursor = 0;
let live = false;
let polling = false;
let pollTimer = null;
let pollCount = 0;

let handlers = {
  message() {},
  ready() {},
  typing() {},
  gone() {},
  knownIds: () => [],
};

/** message(m) for every message, ready() when the socket is (again) ready, typing(frame),
 * gone() when the socket closes, knownIds() → ids already shown. */
export function init(given) {
  handlers = Object.assign({}, handlers, given);
}

const socket = new LiveSocket({
  url: socketUrl(websocketBase, "/ws/chat/"),
  hello: () => ({ type: "hello", session_id: session.currentKey(), after: cursor }),
  backoffBase: 400,
  backoffMax: 30000,
  onReady: socketReady,
  onEvent: socketEvent,
  onState: socketState,
  onGone: () => handlers.gone(),
  onClose: socketClosed,
});

function receive(message) {
  if (message && typeof message.id === "number" && !message.is_internal && message.id > cursor) {
    cursor = message.id;
  }
  handlers.message(message);
}

function socketReady(frame, reconnected) {
  stopPolling();
  setTransport("live");
  setNetworkDown(false);
  session.apply(frame.session, frame.queue);
  if (reconnected) {
    catchUp(lookbackCursor());
  }
  handlers.ready();
}

function socketEvent(frame) {
  switch (frame.type) {
    case "message":
      receive(frame.message);
      break;
    case "session":
      session.apply(frame.session);
      break;
    case "queue":
      session.applyQueue({
        service: frame.service,
        position: frame.position,
        estimated_wait_seconds: frame.estimated_wait_seconds,
        agents_available: frame.agents_available,
        waiting_chats: frame.waiting_chats,
        opens_at: frame.opens_at,
      });
      break;
    case "typing":
      handlers.typing(frame);
      break;
    default:
      break;
  }
}

function socketState(state) {
  if (!live) {
    return;
  }
  if (state === "connecting") {
    setTransport("connecting");
  } else if (state === "unsupported") {
    startPolling();
  } else if (state === "down") {
    if (socket.failures >= SOCKET_FAILURES_BEFORE_POLLING) {
      startPolling();
    } else if (!polling) {
      setTransport(socket.everReady ? "reconnecting" : "connecting");
    }
  }
}

function socketClosed(code) {
  if (code !== 4404) {
    return "retry";
  }
  // Unknown chat: ask the API; a 404 there starts over, anything else retries.
  session.refresh().then((known) => {
    if (known) {
      socket.retryLater();
    }
  });
  return "wait";
}

export function start() {
  if (live || session.isEnded() || !session.currentKey()) {
    return;
  }
  live = true;
  socket.start();
}

export function stop() {
  live = false;
  stopPolling();
  socket.stop();
  setTransport("idle");
}

/** Fetch every message after ``after`` (page by page). Resolves true when all arrived. */
export async function catchUp(after) {
  const key = session.currentKey();
  let from = after;
  for (let pagesLeft = CATCH_UP_MAX_PAGES; ; pagesLeft -= 1) {
    const answer = await session.call("GET", urls.messages + "?after=" + encodeURIComponent(from));
    if (key !== session.currentKey()) {
      return false;
    }
    if (answer.status === 404) {
      session.lost();
      return false;
    }
    if (answer.status !== 200 || !answer.data) {
      if (answer.status === 0) {
        setNetworkDown(true);
      }
      return false;
    }
    setNetworkDown(false);
    const list = answer.data.messages || [];
    list.forEach(receive);
    if (answer.data.status && answer.data.status !== session.info().status && session.info().status) {
      session.refresh();
    }
    if (list.length < CATCH_UP_PAGE_MIN || pagesLeft <= 0) {
      return true;
    }
    from = list[list.length - 1].id;
  }
}

/** The id to catch up from after a reconnect: a few messages before the cursor. */
function lookbackCursor() {
  const ids = handlers
    .knownIds()
    .filter((id) => id <= cursor)
    .sort((a, b) => a - b);
  if (ids.length <= RECONNECT_LOOKBACK_MESSAGES) {
    return 0;
  }
  return ids[ids.length - RECONNECT_LOOKBACK_MESSAGES - 1];
}

function startPolling() {
  if (polling || !live) {
    return;
  }
  polling = true;
  pollCount = 0;
  setTransport("polling");
  pollOnce();
}

function stopPolling() {
  polling = false;
  clearTimeout(pollTimer);
}

async function pollOnce() {
  if (!polling) {
    return;
  }
  pollCount += 1;
  const refresh = session.info().status === "waiting" && pollCount % SESSION_REFRESH_EVERY_POLLS === 0;
  const ok = await catchUp(cursor);
  if (ok && refresh) {
    await session.refresh();
  }
  if (polling) {
    clearTimeout(pollTimer);
    pollTimer = setTimeout(pollOnce, POLL_INTERVAL_MS);
  }
}

/** The network is back: the socket reconnects by itself; a polling page reads at once. */
export function networkBack() {
  if (polling) {
    catchUp(cursor);
  }
}

/** The page is shown again: reconnect now rather than after the back-off. */
export function pageShown() {
  socket.reconnectNow();
}

export function sendFrame(frame) {
  return socket.send(frame);
}

export function isReady() {
  return socket.ready;
}

export function position() {
  return cursor;
}

export function resetPosition() {
  cursor = 0;
}

/** Support and tests: drop the socket as a network cut would. */
export function dropSocket() {
  return socket.drop();
}

export function snapshot() {
  return { connection: transportMode(), socketReady: socket.ready, polling, cursor };
}
