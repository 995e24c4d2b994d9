/*
 * Ending the chat and rating it: the End button and its confirmation dialog, the 1–5 star
 * radio group with an optional comment (also when the agent ended the chat), and the
 * thank-you panel.
 */
import { S, $, urls } from "./config.js";
import * as session from "./session.js";
import { errorText, showAlert } from "./status.js";

const ui = {
  endButton: $("end-button"),
  endDialog: $("end-dialog"),
  view: $("rating-view"),
  form: $("rating-form"),
  stars: $("rating-stars"),
  error: $("rating-error"),
  comment: $("rating-comment"),
  submit: $("rating-submit"),
  title: $("rating-title"),
  thanks: $("thanks-view"),
  thanksTitle: $("thanks-title"),
};

function askToEnd() {
  if (ui.endDialog && typeof ui.endDialog.showModal === "function") {
    ui.endDialog.returnValue = "";
    ui.endDialog.showModal();
  } else if (window.confirm(S.confirm_end)) {
    endChat();
  }
}

async function endChat() {
  ui.endButton.disabled = true;
  showAlert("");
  const answer = await session.call("POST", urls.end, { session_id: session.currentKey() });
  ui.endButton.disabled = false;
  if (answer.status === 200 && answer.data) {
    session.apply(answer.data, answer.data.queue);
    ui.title.focus();
    return;
  }
  if (answer.status === 404) {
    session.lost();
    return;
  }
  showAlert(errorText(answer));
}

function selectedRating() {
  const checked = ui.form.querySelector("input[name=rating]:checked");
  return checked ? parseInt(checked.value, 10) : null;
}

function paintStars(value) {
  if (value) {
    ui.stars.dataset.value = String(value);
  } else {
    ui.stars.removeAttribute("data-value");
  }
}

async function submitRating(event) {
  event.preventDefault();
  const rating = selectedRating();
  ui.error.hidden = true;
  if (!rating) {
    ui.error.textContent = S.rating_required;
    ui.error.hidden = false;
    ui.form.querySelector("input[name=rating]").focus();
    return;
  }
  ui.submit.disabled = true;
  const answer = await session.call("POST", urls.end, {
    session_id: session.currentKey(),
    rating,
    comment: ui.comment.value.trim(),
  });
  ui.submit.disabled = false;
  if (answer.status === 200 || (answer.status === 409 && (answer.data || {}).code === "already_rated")) {
    if (answer.status === 200 && answer.data) {
      session.remember(answer.data);
    }
    showThanks(true);
    return;
  }
  if (answer.status === 404) {
    session.lost();
    return;
  }
  ui.error.textContent = errorText(answer);
  ui.error.hidden = false;
}

export function showThanks(moveFocus) {
  ui.view.hidden = true;
  ui.thanks.hidden = false;
  if (moveFocus) {
    ui.thanksTitle.focus();
  }
}

/** The chat has just ended and is not rated: ask for the rating. */
export function askForRating(moveFocus) {
  ui.thanks.hidden = true;
  ui.view.hidden = false;
  if (moveFocus) {
    ui.title.focus();
  }
}

export function closeEndDialog() {
  if (ui.endDialog && ui.endDialog.open) {
    ui.endDialog.close("ended");
  }
}

export function setEndButtonHidden(hidden) {
  ui.endButton.hidden = hidden;
}

export function reset() {
  ui.form.reset();
  paintStars(null);
  ui.error.hidden = true;
  ui.view.hidden = true;
  ui.thanks.hidden = true;
}

export function init() {
  ui.endButton.addEventListener("click", askToEnd);
  if (ui.endDialog) {
    ui.endDialog.addEventListener("close", () => {
      if (ui.endDialog.returnValue === "confirm") {
        endChat();
      } else if (!ui.endButton.hidden) {
        ui.endButton.focus();
      }
    });
  }
  ui.form.addEventListener("submit", submitRating);
  ui.form.addEventListener("change", () => {
    paintStars(selectedRating());
    ui.error.hidden = true;
  });
  ui.stars.querySelectorAll("label").forEach((label, index) => {
    label.addEventListener("mouseenter", () => paintStars(index + 1));
    label.addEventListener("mouseleave", () => paintStars(selectedRating()));
  });
}
