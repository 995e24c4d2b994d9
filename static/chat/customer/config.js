/*
 * The customer page's configuration: data-* attributes on #app (API URLs, the socket
 * host, the maximum message length) and every string shown, translated by the server in
 * the json_script block #chat-strings.
 */

export const app = document.getElementById("app");
const stringsNode = document.getElementById("chat-strings");

/** False on a page without the chat (nothing to wire). */
export const present = Boolean(app && stringsNode);

export const S = present ? JSON.parse(stringsNode.textContent) : {};

const data = present ? app.dataset : {};

export const urls = {
  session: data.sessionUrl,
  message: data.messageUrl,
  messages: data.messagesUrl,
  end: data.endUrl,
  queue: data.queueUrl,
  email: data.emailUrl,
  reopen: data.reopenUrl,
};

/** The service's time zone (TIME_ZONE): opening times are said in it. */
export const timeZone = data.timeZone || "America/Sao_Paulo";

export const websocketBase = data.wsUrl || "";

export const maxLength = parseInt(data.maxLength, 10) || 4000;

export function $(id) {
  return document.getElementById(id);
}
