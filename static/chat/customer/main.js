/*
 * JT Chat — the customer chat page. Plain ES modules, no build step, no inline script.
 *
 * This module wires the others: start.js (the form), session.js (the chat and its key),
 * outbox.js (sending), transport.js (socket, polling, catch-up), view.js (the message
 * log), status.js (greeting, status and connection lines), service.js (the start view's
 * word on the service: offline, outside hours, holidays), email.js (asking for an e-mail
 * when nobody can answer now), typing.js, composer.js, attachments.js (files), rating.js
 * and transcript.js. Each owns its own state.
 *
 * A reply e-mail's link opens the page at /#reopen=<token>: the token (never the chat's
 * key) is taken out of the address at once and traded for the chat with a POST; the key
 * is then kept like any chat's.
 *
 * Support handle: window.jtChat.state() returns a snapshot of the connection;
 * window.jtChat.dropSocket() drops the live socket as a network cut would.
 */
import { request, withRetries } from "../lib/http.js";
import * as attachments from "./attachments.js";
import * as composer from "./composer.js";
import { S, $, present, urls } from "./config.js";
import * as email from "./email.js";
import * as outbox from "./outbox.js";
import * as rating from "./rating.js";
import * as service from "./service.js";
import * as session from "./session.js";
import * as start from "./start.js";
import * as status from "./status.js";
import * as transcript from "./transcript.js";
import * as transport from "./transport.js";
import * as typing from "./typing.js";
import * as view from "./view.js";

const RESTORE_BACKOFF_BASE_MS = 1000;
const RESTORE_BACKOFF_MAX_MS = 30000;

const startView = $("start-view");
const chatView = $("chat-view");

/** A message from the server, from whichever source. */
function receive(message) {
  const outcome = view.receive(message);
  if (outcome === "confirmed") {
    outbox.acknowledge(message.client_id);
  } else if (outcome === "new" && message.author === "agent") {
    typing.hideAgent();
    status.noteUnread();
  }
}

function showStartView() {
  chatView.hidden = true;
  startView.hidden = false;
  status.hideStatusLine();
  service.refresh();
}

function showChatView() {
  startView.hidden = true;
  chatView.hidden = false;
  composer.setHidden(session.isEnded());
  rating.setEndButtonHidden(session.isEnded());
}

function resetConversationView() {
  view.reset();
  attachments.forget();
  rating.reset();
  email.reset();
  composer.clear();
  status.showAlert("");
  typing.hideAgent();
}

function enterEnded(first) {
  if (first) {
    typing.stop();
    transport.stop();
    typing.hideAgent();
    transport.catchUp(transport.position());
  }
  const focusWasInComposer = composer.hasFocus();
  rating.closeEndDialog();
  composer.setHidden(true);
  rating.setEndButtonHidden(true);
  if (session.info().satisfaction_rating) {
    rating.showThanks(false);
    return;
  }
  if (first) {
    const active = document.activeElement;
    rating.askForRating(focusWasInComposer || !active || active === document.body);
    view.scrollToBottom();
  }
}

function clearSession() {
  transport.stop();
  typing.hideAgent();
  outbox.clear();
  session.clear();
  transport.resetPosition();
  resetConversationView();
  status.reset();
}

function sessionLost() {
  clearSession();
  showStartView();
  start.showError(S.session_lost);
}

function newChat() {
  clearSession();
  start.reset();
  showPageNotice("");
  showStartView();
  start.focusFirstField();
}

function showPageNotice(text) {
  const notice = $("page-notice");
  notice.textContent = text || "";
  notice.hidden = !text;
}

/** The token of a reply e-mail's link (/#reopen=…), taken out of the address bar. */
function takeReopenToken() {
  const match = /^#reopen=([^&]+)$/.exec(window.location.hash);
  if (!match) {
    return null;
  }
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
  return decodeURIComponent(match[1]);
}

/** Back through a reply e-mail's link: trade the token for the chat, then as a new one. */
async function reopen(token) {
  const answer = await withRetries(() => request("POST", urls.reopen, { json: { token } }), {
    base: RESTORE_BACKOFF_BASE_MS,
    max: RESTORE_BACKOFF_MAX_MS,
    attempts: 6,
    retryable: (code) => code === 0 || code === 429 || code >= 500,
    onRetry: (result) => status.setNetworkDown(result.status === 0),
  });
  status.setNetworkDown(false);
  if (answer && answer.status === 200 && answer.data && answer.data.session_id) {
    clearSession();
    beginConversation(answer.data); // its socket catches up on the whole conversation
    return;
  }
  const stored = session.storedKey();
  if (stored) {
    restore(stored);
  } else {
    showStartView();
  }
  start.showError("");
  showPageNotice(answer && answer.status === 404 ? S.link_invalid : status.errorText(answer || {}));
}

function beginConversation(opened) {
  resetConversationView();
  session.begin(opened);
  transport.resetPosition();
  showChatView();
  session.apply(opened, opened.queue);
  composer.focus();
  transport.start();
}

/** After a reload: confirm the kept chat, show its messages, resend the outbox, go live. */
async function restore(key) {
  session.resume(key);
  showChatView();
  status.renderSession();
  const answer = await withRetries(() => session.call("GET", urls.session), {
    base: RESTORE_BACKOFF_BASE_MS,
    max: RESTORE_BACKOFF_MAX_MS,
    retryable: (code) => code !== 200 && code !== 404 && code !== 400,
    onRetry: (result) => status.setNetworkDown(result.status === 0),
    cancelled: () => session.currentKey() !== key,
  });
  if (!answer) {
    return;
  }
  if (answer.status === 200 && answer.data) {
    session.apply(answer.data, answer.data.queue);
    await transport.catchUp(0);
    outbox.restore();
    transport.start();
    return;
  }
  clearSession();
  showStartView();
}

function boot() {
  transport.init({
    message: receive,
    ready: outbox.wake,
    typing: typing.received,
    gone: typing.socketGone,
    knownIds: view.knownIds,
  });
  session.on("change", status.renderSession);
  session.on("ended", enterEnded);
  session.on("lost", sessionLost);
  session.on("network", status.setNetworkDown);

  start.init(beginConversation);
  email.init();
  composer.init();
  attachments.init();
  attachments.initDialog();
  view.onAction(outbox.act);
  rating.init();
  transcript.init();
  document.querySelectorAll("[data-action=new-chat]").forEach((button) => {
    button.addEventListener("click", newChat);
  });

  window.addEventListener("online", () => {
    status.setNetworkDown(false);
    outbox.wake();
    transport.networkBack();
  });
  window.addEventListener("offline", () => status.setNetworkDown(true));
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) {
      status.clearUnread();
      transport.pageShown();
    }
  });

  window.jtChat = Object.freeze({
    state: () =>
      Object.assign(transport.snapshot(), {
        outbox: outbox.size(),
        status: session.info().status || null,
      }),
    dropSocket: () => transport.dropSocket(),
  });

  const token = takeReopenToken();
  const stored = session.storedKey();
  if (token) {
    reopen(token);
  } else if (stored) {
    restore(stored);
  } else {
    showStartView();
  }
}

if (present) {
  boot();
}
