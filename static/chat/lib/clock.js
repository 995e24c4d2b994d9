/*
 * One clock: every time a page shows is in the browser's zone and says which zone that is.
 * Times travel as ISO 8601 (a server-drawn <time datetime>, a live event's field);
 * renderClocks() rewrites each <time data-clock> ("time": 14:05, "datetime": 31/05/2026,
 * 14:05) and gives it a title with the date, the time and the zone's offset. zoneLabel()
 * names the zone for the page ("Horários no fuso de Manaus (GMT-4)").
 */
import { format } from "./format.js";
import { clockTime, dateAndTime, toDate } from "./time.js";

/** The browser's IANA zone ("America/Manaus"), or "" when the browser does not say. */
export function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    return "";
  }
}

/** The zone's offset from UTC at ``date`` as the page's language writes it ("GMT-4"). */
export function zoneOffset(date = new Date()) {
  try {
    const lang = document.documentElement.lang || "pt-BR";
    const parts = new Intl.DateTimeFormat(lang, { timeZoneName: "shortOffset" }).formatToParts(date);
    const part = parts.find((item) => item.type === "timeZoneName");
    return part ? part.value : "";
  } catch (error) {
    return "";
  }
}

/** "America/Sao_Paulo" → "Sao Paulo"; the city people know the zone by. */
export function zoneCity(zone = browserZone()) {
  return (zone.split("/").pop() || zone).replace(/_/g, " ");
}

/** The zone in words, from a template with %(zone)s and %(offset)s. */
export function zoneLabel(template) {
  return format(template, { zone: zoneCity(), offset: zoneOffset() });
}

/** One <time data-clock> drawn in the browser's zone. */
export function renderClock(element) {
  const date = toDate(element.getAttribute("datetime"));
  if (!date) {
    return;
  }
  const kind = element.dataset.clock || "time";
  element.textContent = kind === "datetime" ? dateAndTime(date) : clockTime(date);
  const offset = zoneOffset(date);
  element.title = dateAndTime(date) + (offset ? " (" + offset + ")" : "");
  element.dataset.zone = browserZone();
}

/** Every <time data-clock> under ``root``. */
export function renderClocks(root = document) {
  root.querySelectorAll("time[data-clock]").forEach(renderClock);
}

/** A new <time data-clock> for an ISO string, drawn. */
export function clockElement(iso, kind = "time", doc = document) {
  const element = doc.createElement("time");
  element.setAttribute("datetime", iso);
  element.dataset.clock = kind;
  renderClock(element);
  return element;
}
