/*
 * The message box: Enter sends (Shift+Enter is a new line), a counter near the length
 * limit, the box growing with its text, and typing frames while the customer types. Files
 * chosen with the picker (attachments.js) go with the text, which is then their caption.
 */
import { format } from "../lib/format.js";
import * as attachments from "./attachments.js";
import { S, $, maxLength } from "./config.js";
import * as outbox from "./outbox.js";
import * as session from "./session.js";
import * as typing from "./typing.js";

const COUNTER_SHOW_BELOW = 200;
const MAX_HEIGHT_PX = 160;

const form = $("composer");
const input = $("message-input");
const counter = $("composer-counter");

export function update() {
  const left = maxLength - input.value.length;
  if (left <= COUNTER_SHOW_BELOW) {
    counter.textContent = format(S.characters_left, { count: Math.max(left, 0) });
    counter.hidden = false;
  } else {
    counter.hidden = true;
  }
  input.style.height = "auto";
  input.style.height = Math.min(input.scrollHeight + 3, MAX_HEIGHT_PX) + "px";
}

function submit(event) {
  if (event) {
    event.preventDefault();
  }
  const text = input.value.trim();
  if ((!text && !attachments.hasFiles()) || session.isEnded() || !session.currentKey()) {
    return;
  }
  if (text.length > maxLength) {
    update();
    return;
  }
  typing.stop();
  input.value = "";
  update();
  outbox.send(text, attachments.take());
  input.focus();
}

export function init() {
  form.addEventListener("submit", submit);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      submit();
    }
  });
  input.addEventListener("input", () => {
    update();
    typing.activity(Boolean(input.value.trim()));
  });
  input.addEventListener("blur", typing.stop);
  update();
}

export function clear() {
  input.value = "";
  attachments.clear();
  update();
}

export function focus() {
  input.focus();
}

export function setHidden(hidden) {
  form.hidden = hidden;
}

export function hasFocus() {
  return form.contains(document.activeElement);
}
