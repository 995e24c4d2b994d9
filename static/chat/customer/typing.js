/*
 * Typing, both ways: the customer's typing frames (at most one every 3 s, and "stopped"
 * after 4 s idle, on send and on blur) and the agent's "… is typing" line, hidden after 8 s
 * without news or when the agent's message arrives.
 */
import { format } from "../lib/format.js";
import { S, $ } from "./config.js";
import * as session from "./session.js";
import * as transport from "./transport.js";

const TYPING_THROTTLE_MS = 3000;
const TYPING_IDLE_MS = 4000;
const AGENT_TYPING_TIMEOUT_MS = 8000;

const indicator = $("typing-indicator");

let sent = false;
let sentAt = 0;
let idleTimer = null;
let agentTimer = null;

/** The customer typed; ``hasText`` says whether the box holds anything. */
export function activity(hasText) {
  if (!transport.isReady() || session.isEnded()) {
    return;
  }
  if (!hasText) {
    stop();
    return;
  }
  const now = Date.now();
  if (!sent || now - sentAt > TYPING_THROTTLE_MS) {
    if (transport.sendFrame({ type: "typing", typing: true })) {
      sent = true;
      sentAt = now;
    }
  }
  clearTimeout(idleTimer);
  idleTimer = setTimeout(stop, TYPING_IDLE_MS);
}

export function stop() {
  clearTimeout(idleTimer);
  if (sent) {
    transport.sendFrame({ type: "typing", typing: false });
    sent = false;
  }
}

/** The socket closed: the next keystroke announces typing again on the new one. */
export function socketGone() {
  sent = false;
}

/** A typing frame from the server. */
export function received(frame) {
  if (frame.author && frame.author !== "agent") {
    return;
  }
  if (frame.typing) {
    showAgent(frame.name);
  } else {
    hideAgent();
  }
}

function showAgent(name) {
  const agent = name || session.info().agent_name;
  const text = agent ? format(S.agent_typing, { agent }) : S.someone_typing;
  if (indicator.textContent !== text) {
    indicator.textContent = text;
  }
  indicator.hidden = false;
  clearTimeout(agentTimer);
  agentTimer = setTimeout(hideAgent, AGENT_TYPING_TIMEOUT_MS);
}

export function hideAgent() {
  clearTimeout(agentTimer);
  indicator.hidden = true;
  indicator.textContent = "";
}
