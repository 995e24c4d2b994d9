/* Times as people read them, in the page's language (pt-BR by default). */
import { format } from "./format.js";

const formats = new Map();

function pageLanguage() {
  return document.documentElement.lang || "pt-BR";
}

function formatter(kind, options) {
  const lang = pageLanguage();
  const key = kind + "|" + lang;
  if (!formats.has(key)) {
    let made;
    try {
      made = new Intl.DateTimeFormat(lang, options);
    } catch (error) {
      made = new Intl.DateTimeFormat("pt-BR", options);
    }
    formats.set(key, made);
  }
  return formats.get(key);
}

/** A Date from an ISO string (or a Date), or null. */
export function toDate(value) {
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** "14:05" */
export function clockTime(value) {
  const date = toDate(value);
  return date ? formatter("clock", { hour: "2-digit", minute: "2-digit" }).format(date) : "";
}

/** "31/05/2026, 14:05" */
export function dateAndTime(value) {
  const date = toDate(value);
  if (!date) {
    return "";
  }
  const options = { day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit" };
  return formatter("full", options).format(date);
}

/** Whole seconds left until ``deadline`` (ms since the epoch), rounded up, never negative. */
export function secondsUntil(deadline, now = Date.now()) {
  return Math.max(0, Math.ceil((deadline - now) / 1000));
}

/**
 * A waiting time in a few characters, from strings with the keys underOneMinute,
 * minutes (%(minutes)s), hours (%(hours)s, %(minutes)02d), day and days (%(days)s).
 */
export function shortDuration(seconds, strings) {
  const minutes = Math.floor(Math.max(seconds, 0) / 60);
  if (minutes < 1) {
    return strings.underOneMinute;
  }
  if (minutes < 60) {
    return format(strings.minutes, { minutes });
  }
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    return format(strings.hours, { hours, minutes: minutes % 60 });
  }
  const days = Math.floor(hours / 24);
  return format(days === 1 ? strings.day : strings.days, { days });
}
