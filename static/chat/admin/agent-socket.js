/*
 * The agent socket (/ws/agents/) shared by the inbox and the conversation page, on
 * lib/socket.js: the hello frame carries a ticket when the sockets live on another host
 * (the admin's cookie does not cross hosts); a 4403 refusal stops the reconnecting.
 * Pages get events through onEvent, and onReady(reconnected) so that they can catch up
 * after a drop; onState reports "connecting", "live" or "offline".
 */
import { request } from "../lib/http.js";
import { LiveSocket, socketUrl } from "../lib/socket.js";

const PATH = "/ws/agents/";
const TICKET_URL = "/api/chat/agent-ticket";
const REFUSED = 4403;

async function fetchTicket() {
  const answer = await request("GET", TICKET_URL);
  return (answer.ok && answer.data && answer.data.ticket) || null;
}

/** Open the socket; the answer's send(frame) sends a frame when the socket is open. */
export function connectAgentSocket({ baseUrl = "", onEvent, onReady, onState }) {
  const socket = new LiveSocket({
    url: socketUrl(baseUrl, PATH),
    prepare: baseUrl ? fetchTicket : null,
    hello: (ticket) => (ticket ? { type: "hello", ticket } : { type: "hello" }),
    backoffBase: 1000,
    backoffMax: 15000,
    onEvent,
    onReady: (frame, reconnected) => {
      if (onReady) {
        onReady(reconnected);
      }
    },
    onState: (state) => {
      if (onState) {
        onState(state === "live" || state === "connecting" ? state : "offline");
      }
    },
    onClose: (code) => (code === REFUSED ? "stop" : "retry"),
  });
  socket.start();
  return socket;
}

/** The "Live" / "Offline" badge beside the page's title. */
export function setLiveState(element, state, strings) {
  if (!element) {
    return;
  }
  element.dataset.state = state;
  if (state === "connecting") {
    return;
  }
  element.textContent = state === "live" ? strings.live : strings.offline;
}
