/* The conversation as a .txt download (UTF-8 with BOM, CRLF), made in the page. */
import { format } from "../lib/format.js";
import { dateAndTime } from "../lib/time.js";
import { transcriptLines } from "./attachments.js";
import { S, $ } from "./config.js";
import * as session from "./session.js";
import { authorLabel, shownEntries } from "./view.js";

const REVOKE_AFTER_MS = 10000;

export function build() {
  const chat = session.info();
  const lines = [S.transcript_title];
  if (chat.started_at) {
    lines.push(format(S.transcript_started, { date: dateAndTime(chat.started_at) }));
  }
  if (chat.ended_at) {
    lines.push(format(S.transcript_ended, { date: dateAndTime(chat.ended_at) }));
  }
  if (chat.agent_name) {
    lines.push(format(S.transcript_agent, { agent: chat.agent_name }));
  }
  if (chat.tracking_code) {
    lines.push(format(S.transcript_tracking, { code: chat.tracking_code }));
  }
  lines.push("");
  const customerName = (chat.customer_name || "").trim() || S.you;
  shownEntries().forEach((entry) => {
    const who = entry.author === "customer" ? customerName : authorLabel(entry);
    const body = String(entry.content).split(/\r\n|\r|\n/).join("\r\n    ");
    lines.push("[" + dateAndTime(entry.createdAt) + "] " + who + ": " + body);
    transcriptLines(entry).forEach((line) => lines.push("    " + line));
  });
  return lines.join("\r\n") + "\r\n";
}

function download() {
  const blob = new Blob(["\ufeff" + build()], { type: "text/plain;charset=utf-8" });
  const link = document.createElement("a");
  const day = new Date();
  const stamp = [day.getFullYear(), day.getMonth() + 1, day.getDate()]
    .map((part) => String(part).padStart(2, "0"))
    .join("-");
  link.href = URL.createObjectURL(blob);
  link.download = S.transcript_filename + "-" + stamp + ".txt";
  link.hidden = true;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), REVOKE_AFTER_MS);
}

export function init() {
  $("download-button").addEventListener("click", download);
}
