/*
 * The start form: optional name, e-mail, tracking code and topic. The server's field
 * errors are shown beside their fields (the first invalid one gets the focus); any other
 * refusal above the button.
 */
import { request } from "../lib/http.js";
import { $, urls } from "./config.js";
import { errorText } from "./status.js";

const FIELDS = ["customer_name", "customer_email", "tracking_code", "topic"];

const form = $("start-form");
const button = $("start-button");
const errorLine = $("start-error");

function fieldError(field) {
  return $(field.id + "-error");
}

function clearErrors() {
  FIELDS.forEach((name) => {
    const field = form.elements[name];
    const error = fieldError(field);
    field.removeAttribute("aria-invalid");
    if (error) {
      error.hidden = true;
      error.textContent = "";
    }
  });
  showError("");
}

function showFieldErrors(fields) {
  let firstInvalid = null;
  Object.keys(fields || {}).forEach((name) => {
    const field = form.elements[name];
    if (!field || !FIELDS.includes(name)) {
      return;
    }
    const error = fieldError(field);
    field.setAttribute("aria-invalid", "true");
    error.textContent = (fields[name] || []).join(" ");
    error.hidden = false;
    firstInvalid = firstInvalid || field;
  });
  return firstInvalid;
}

export function showError(text) {
  errorLine.textContent = text || "";
  errorLine.hidden = !text;
}

/** Wire the form; ``started(answer)`` gets the new chat (the 201 body, with session_id). */
export function init(started) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    const body = {};
    FIELDS.forEach((name) => {
      const value = form.elements[name].value.trim();
      if (value) {
        body[name] = value;
      }
    });
    button.disabled = true;
    const answer = await request("POST", urls.session, { json: body });
    button.disabled = false;
    if (answer.status === 201 && answer.data && answer.data.session_id) {
      started(answer.data);
      return;
    }
    const firstInvalid = answer.status === 400 ? showFieldErrors((answer.data || {}).fields) : null;
    if (firstInvalid) {
      firstInvalid.focus();
      return;
    }
    showError(errorText(answer));
  });
}

export function reset() {
  form.reset();
  showError("");
}

export function focusFirstField() {
  $("customer-name").focus();
}
