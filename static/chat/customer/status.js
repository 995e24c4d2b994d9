/*
 * What the page says about the chat and the connection: the greeting with the queue
 * position and estimated wait, the status line in the top bar, the connection notice
 * (offline, reconnecting), the alert line, the unread count in the tab title, and the
 * text of a failed API call.
 *
 * The wait is told only as the server estimates it: with agents offline or outside
 * business hours there is no estimate (null), and the greeting says so instead (with when
 * the service opens again), never a wait that cannot be met.
 */
import { format } from "../lib/format.js";
import { S, app, $, timeZone } from "./config.js";
import * as session from "./session.js";

const ui = {
  status: $("chat-status"),
  connection: $("connection-state"),
  greetingText: $("greeting-text"),
  greetingDetail: $("greeting-detail"),
  alert: $("chat-alert"),
};

// How live delivery runs: idle, connecting, live, reconnecting or polling.
let transport = "idle";
let networkDown = false;
let unread = 0;
const baseTitle = document.title;

export function transportMode() {
  return transport;
}

export function setTransport(mode) {
  transport = mode;
  renderConnection();
}

export function setNetworkDown(down) {
  if (networkDown !== down) {
    networkDown = down;
    renderConnection();
  }
}

export function renderConnection() {
  app.dataset.connection = transport;
  let text = "";
  if (session.currentKey() && !session.isEnded() && networkDown) {
    text = S.connection_offline;
  } else if (transport === "reconnecting") {
    text = S.connection_reconnecting;
  }
  ui.connection.textContent = text;
  ui.connection.hidden = !text;
}

export function showAlert(text) {
  ui.alert.textContent = text || "";
  ui.alert.hidden = !text;
}

/** The words for a failed call's answer. */
export function errorText(answer) {
  if (answer.status === 0) {
    return S.network_error;
  }
  if (answer.status === 429) {
    return S.too_many_requests;
  }
  const data = answer.data || {};
  for (const messages of Object.values(data.fields || {})) {
    if (messages && messages.length) {
      return messages[0];
    }
  }
  return data.error || S.generic_error;
}

function waitText(seconds) {
  if (typeof seconds !== "number") {
    return "";
  }
  if (seconds < 60) {
    return S.wait_under_minute;
  }
  const minutes = Math.round(seconds / 60);
  return minutes === 1 ? S.wait_minutes_one : format(S.wait_minutes_other, { minutes });
}

function zonedDay(date) {
  return new Intl.DateTimeFormat("en-CA", { timeZone }).format(date);
}

/** When the service opens again, as the server's page words it: "hoje às 13:00". */
export function whenText(iso) {
  const date = iso ? new Date(iso) : null;
  if (!date || Number.isNaN(date.getTime())) {
    return "";
  }
  const lang = document.documentElement.lang || "pt-BR";
  const time = new Intl.DateTimeFormat(lang, { timeZone, hour: "2-digit", minute: "2-digit" }).format(date);
  const today = new Date();
  const tomorrow = new Date(today.getTime() + 24 * 3600 * 1000);
  if (zonedDay(date) === zonedDay(today)) {
    return format(S.today_at, { time });
  }
  if (zonedDay(date) === zonedDay(tomorrow)) {
    return format(S.tomorrow_at, { time });
  }
  const day = new Intl.DateTimeFormat(lang, { timeZone, weekday: "long" }).format(date);
  return format(S.day_at, { day, time });
}

function waitingDetail(queue) {
  const detail = [];
  const service = queue.service || (queue.agents_available === 0 ? "offline" : "available");
  if (service === "closed") {
    const when = whenText(queue.opens_at);
    detail.push(when ? format(S.closed_until, { when }) : S.closed);
    return detail;
  }
  if (service === "offline") {
    detail.push(S.no_agents);
    return detail;
  }
  if (service === "busy") {
    detail.push(S.all_busy);
  }
  if (queue.position === 1) {
    detail.push(S.queue_next);
  } else if (queue.position > 1) {
    detail.push(format(S.queue_position, { position: queue.position }));
  }
  const wait = waitText(queue.estimated_wait_seconds);
  if (wait) {
    detail.push(wait);
  }
  detail.push(S.waiting_hint);
  return detail;
}

export function renderSession() {
  const chat = session.info();
  const name = (chat.customer_name || "").trim();
  ui.greetingText.textContent = name ? format(S.greeting_named, { name }) : S.greeting;
  const detail = [];
  let status = "";
  if (chat.status === "ended") {
    detail.push(S.chat_ended);
    status = S.status_ended;
  } else if (chat.status === "active" || chat.agent_name) {
    const agent = chat.agent_name || S.agent;
    detail.push(format(S.agent_helping, { agent }));
    status = format(S.status_active, { agent });
  } else if (chat.status === "waiting") {
    status = S.status_waiting;
    detail.push(...waitingDetail(session.queueInfo()));
  }
  const detailText = detail.join(" ");
  if (ui.greetingDetail.textContent !== detailText) {
    ui.greetingDetail.textContent = detailText;
  }
  ui.status.textContent = status;
  ui.status.hidden = !status;
}

export function hideStatusLine() {
  ui.status.hidden = true;
}

/** An agent's message while the tab is in the background: count it in the title. */
export function noteUnread() {
  if (!document.hidden) {
    return;
  }
  unread += 1;
  document.title = format(S.new_messages_title, { count: unread });
}

export function clearUnread() {
  unread = 0;
  document.title = baseTitle;
}

/** Forget the connection state of a chat that is gone. */
export function reset() {
  networkDown = false;
  showAlert("");
  renderConnection();
}
