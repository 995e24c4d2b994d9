/*
 * Asking for an e-mail when nobody can answer now (agents offline, or outside business
 * hours) and the customer gave none: an agent's answer reaches them there if they close
 * the page (POST /api/chat/email; the server decides when to send, see README).
 */
import { format } from "../lib/format.js";
import { $, S, urls } from "./config.js";
import * as session from "./session.js";
import { errorText } from "./status.js";

const form = $("email-ask");
const input = $("ask-email");
const button = $("ask-email-save");
const error = $("ask-email-error");
const done = $("email-saved");

function wanted() {
  const chat = session.info();
  const service = session.queueInfo().service;
  return Boolean(
    session.currentKey() &&
      !session.isEnded() &&
      chat.status &&
      !chat.email_given &&
      (service === "offline" || service === "closed"),
  );
}

function showError(text) {
  error.textContent = text || "";
  error.hidden = !text;
  if (text) {
    input.setAttribute("aria-invalid", "true");
  } else {
    input.removeAttribute("aria-invalid");
  }
}

export function render() {
  form.hidden = !wanted();
  if (session.isEnded()) {
    done.hidden = true;
  }
}

export function init() {
  session.on("change", render);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError("");
    const address = input.value.trim();
    button.disabled = true;
    const answer = await session.call("POST", urls.email, { customer_email: address });
    button.disabled = false;
    if (answer.status === 200 && answer.data) {
      done.textContent = format(S.email_saved, { email: address });
      done.hidden = false;
      session.apply(answer.data, answer.data.queue);
      return;
    }
    const fields = (answer.data || {}).fields || {};
    showError(fields.customer_email ? fields.customer_email[0] : errorText(answer));
    input.focus();
  });
}

/** A new chat (or none): nothing asked, nothing said. */
export function reset() {
  form.reset();
  showError("");
  done.hidden = true;
  form.hidden = true;
}
