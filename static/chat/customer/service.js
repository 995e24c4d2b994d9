/*
 * What the start view says about the service before a chat opens: that the agents are
 * offline, or that it is outside business hours and when it opens again, and the holidays
 * of the next two weeks (GET /api/chat/queue). The page itself is served without asking
 * the database; this is the one call that does. A failed call shows nothing: the chat
 * still opens, and the greeting then says how things stand.
 */
import { format } from "../lib/format.js";
import { request } from "../lib/http.js";
import { $, S, timeZone, urls } from "./config.js";
import { whenText } from "./status.js";

const notice = $("service-notice");
const noticeText = $("service-notice-text");
const hours = $("business-hours");
const holidays = $("holidays");

function holidayText(holiday) {
  const [year, month, day] = holiday.date.split("-").map(Number);
  const date = new Date(Date.UTC(year, month - 1, day, 12));
  const lang = document.documentElement.lang || "pt-BR";
  const shown = new Intl.DateTimeFormat(lang, { timeZone, day: "2-digit", month: "2-digit" }).format(date);
  return format(S.closed_on, { day: shown, name: holiday.name });
}

function render(status) {
  const service = status.service;
  let text = "";
  if (service === "closed") {
    const when = whenText(status.opens_at);
    text = when ? format(S.closed_until, { when }) : S.closed;
  } else if (service === "offline") {
    text = S.no_agents;
  }
  noticeText.textContent = text;
  notice.dataset.service = service || "";
  notice.hidden = !text;
  holidays.replaceChildren(
    ...(status.holidays || []).map((holiday) => {
      const item = document.createElement("li");
      item.textContent = holidayText(holiday);
      return item;
    }),
  );
  holidays.hidden = !holidays.children.length;
  if (holidays.children.length) {
    hours.hidden = false;
  }
}

/** Ask how the service stands and say it above the start form. */
export async function refresh() {
  const answer = await request("GET", urls.queue);
  if (answer.status === 200 && answer.data) {
    render(answer.data);
  }
}
