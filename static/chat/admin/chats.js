/*
 * A chat as the agents' live lists hold it (the inbox's rows, the conversation screen's
 * list): the server's shape (chat/payloads.py ``inbox_row``) kept true by the socket's
 * events, so a list applies an event to the screen at once and asks the server (the rows
 * URL) only for what an event does not carry.
 *
 *   session  the chat's new state: status, agent, times (a chat handed to this agent by
 *            someone else needs its unread count fetched: its read mark went back to 0)
 *   message  the last message and, for a customer's message, one more unread
 *   read     the agent read it on another page: its unread count
 */
import { request } from "../lib/http.js";

const RANK = { waiting: 0, active: 1, ended: 2 };

/** When the customer's current wait began, as the inbox counts it (or null). */
export function waitingSince(session) {
  if (session.status === "waiting") {
    return session.waiting_since || session.started_at;
  }
  if (session.status === "active") {
    return session.waiting_since || null;
  }
  return null;
}

/** A message as a one-line preview of at most ``max`` characters (Django's Truncator). */
export function preview(text, max) {
  const line = String(text || "")
    .split(/\s+/)
    .filter(Boolean)
    .join(" ");
  return line.length > max ? line.slice(0, max - 1) + "…" : line;
}

/** Whether the agent sees an unread count for this chat (open, theirs or nobody's). */
export function showsUnread(row, userId) {
  return row.status !== "ended" && (row.assigned_agent === null || row.assigned_agent === userId);
}

/** A row from an event's chat, keeping what the event does not carry from ``known``. */
export function rowFromSession(session, known) {
  return {
    ...(known || { last_message: null, unread: 0 }),
    ...session,
    waiting_for_since: waitingSince(session),
  };
}

/**
 * Apply one event to ``row`` (a chat the list holds, or null). Answers the row as it is now
 * (null when the event is about something else) and whether it must be fetched again.
 */
export function applyEvent(row, event, userId) {
  if (event.type === "session" && event.session) {
    const fresh = rowFromSession(event.session, row);
    const handedToMe =
      row !== null &&
      !event.activity &&
      event.session.assigned_agent === userId &&
      row.assigned_agent !== null &&
      row.assigned_agent !== userId;
    let fetch = row === null && !event.new; // its last message is not in the event
    if (!showsUnread(fresh, userId)) {
      fresh.unread = null;
    } else if (row === null) {
      fresh.unread = event.new ? 0 : null;
    } else if (typeof row.unread !== "number" || handedToMe) {
      fetch = true; // its read mark is someone else's, or went back to 0
    }
    return { row: fresh, fetch };
  }
  if (row === null) {
    return { row: null, fetch: false };
  }
  if (event.type === "message" && event.message) {
    const message = event.message;
    if (message.is_internal || (message.author !== "customer" && message.author !== "agent")) {
      return { row: null, fetch: false };
    }
    const fresh = {
      ...row,
      last_message: { author: message.author, preview: message.content },
      last_message_at: message.created_at,
    };
    if (message.author === "customer" && showsUnread(fresh, userId) && typeof fresh.unread === "number") {
      fresh.unread += 1;
    }
    return { row: fresh, fetch: false };
  }
  if (event.type === "read" && typeof event.unread === "number") {
    return { row: { ...row, unread: event.unread }, fetch: false };
  }
  return { row: null, fetch: false };
}

function time(value) {
  const parsed = value ? Date.parse(value) : NaN;
  return Number.isNaN(parsed) ? null : parsed;
}

/** Inbox order (chat/selectors/inbox.py): waiting, active, ended; the longest wait first;
 * then the latest activity; then the newest chat. */
export function compareRows(a, b) {
  const rank = (RANK[a.status] ?? 3) - (RANK[b.status] ?? 3);
  if (rank) {
    return rank;
  }
  const waitA = time(a.waiting_for_since);
  const waitB = time(b.waiting_for_since);
  if (waitA !== waitB) {
    if (waitA === null) {
      return 1;
    }
    if (waitB === null) {
      return -1;
    }
    return waitA - waitB;
  }
  const recentA = time(a.last_message_at || a.started_at) || 0;
  const recentB = time(b.last_message_at || b.started_at) || 0;
  if (recentA !== recentB) {
    return recentB - recentA;
  }
  return b.id - a.id;
}

/** The chats ``ids`` as the lists show them, from the server ([] when it did not answer). */
export async function fetchRows(url, ids) {
  if (!ids.length) {
    return [];
  }
  const answer = await request("GET", url + "?ids=" + ids.map(Number).join(","));
  return answer.ok && answer.data && Array.isArray(answer.data.rows) ? answer.data.rows : [];
}
