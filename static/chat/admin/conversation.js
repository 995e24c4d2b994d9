/* The conversation screen, three panes: the agent's chats and the waiting queue
 * (worklist.js), the chat on screen (chat-view.js: transcript, reply box, details, actions)
 * and the desk bar (desk.js: the socket, alerts, the tab title, the clock's zone).
 *
 * Opening another chat — a click in the list, Alt+↓/↑ or J/K, a notification — fetches
 * that chat's page, swaps its #chat-view in and puts its address in the history, so the
 * socket, the list and the alerts stay as they are; back and forward open the chat of the
 * address; an unsent reply waits in its chat's box until the agent comes back. The reply
 * box has the focus on open: a first reply is open, type, Enter.
 */
import { renderClocks } from "../lib/clock.js";
import { request } from "../lib/http.js";
import { mountChatView } from "./chat-view.js";
import { startDesk } from "./desk.js";
import { attachShortcuts } from "./shortcuts.js";
import { createWorklist } from "./worklist.js";

const worklistData = document.getElementById("worklist-data");
if (worklistData && document.getElementById("chat-view")) {
  conversation(JSON.parse(worklistData.textContent));
}

function conversation(data) {
  let view = null;
  let worklist = null;
  let socketReady = false;
  let switching = null; // the chat being fetched
  const drafts = new Map(); // unsent replies of the chats the agent left, by chat
  const title = document.getElementById("chat-title");
  const crumb = document.getElementById("chat-crumb");

  const desk = startDesk({
    onEvent(event) {
      worklist.handle(event);
      if (view) {
        view.handle(event);
      }
    },
    onReady() {
      socketReady = true;
      view.socketReady();
      // This transcript's events come to watchers (the inbox gets status changes only).
      desk.send({ type: "watch", session_id: view.id });
    },
    onState(state) {
      socketReady = state === "live";
    },
    openChat: (id) => open(id),
  });
  if (!desk) {
    return;
  }

  function mount(root) {
    const id = Number(root.dataset.sessionId);
    view = mountChatView(root, {
      desk,
      onSession: (session) => worklist.handle({ type: "session", session, session_id: session.id }),
      draft: drafts.get(id) || "",
    });
    drafts.delete(id);
    desk.setTitle(document.title.replace(/^\(\d+\) /, ""));
    worklist.setCurrent(view.id, JSON.parse(root.querySelector("#conversation-config").textContent).session);
    return view;
  }

  /** Show chat ``id`` in place of the one on screen. */
  async function open(id, { push = true, focus = true } = {}) {
    id = Number(id);
    if (!id) {
      return;
    }
    if (view && id === view.id) {
      if (focus) {
        view.focusReply();
      }
      return;
    }
    switching = id;
    const url = desk.chatUrl(id);
    const answer = await request("GET", url, { text: true });
    if (switching !== id) {
      return; // another chat was chosen meanwhile
    }
    switching = null;
    const doc = answer.ok && answer.data ? new DOMParser().parseFromString(answer.data, "text/html") : null;
    const fresh = doc && doc.getElementById("chat-view");
    if (!fresh) {
      window.location.assign(url); // let the server say what is wrong (gone, refused)
      return;
    }
    const previous = view;
    if (previous.draft().trim()) {
      drafts.set(previous.id, previous.draft());
    }
    previous.unmount();
    if (socketReady) {
      desk.send({ type: "unwatch", session_id: previous.id });
    }
    const current = document.getElementById("chat-view");
    current.replaceWith(document.adoptNode(fresh));
    document.title = doc.title;
    title.textContent = doc.getElementById("chat-title") ? doc.getElementById("chat-title").textContent : "";
    crumb.textContent = doc.getElementById("chat-crumb") ? doc.getElementById("chat-crumb").textContent : "";
    if (push) {
      window.history.pushState({ chat: id }, "", url);
    }
    mount(fresh);
    renderClocks(fresh);
    if (socketReady) {
      view.socketReady();
      desk.send({ type: "watch", session_id: id });
    }
    if (focus) {
      view.focusReply();
    }
    document.body.dataset.switches = String((parseInt(document.body.dataset.switches, 10) || 0) + 1);
  }

  function chatFromAddress() {
    const match = window.location.pathname.match(/\/(\d+)\/change\/$/);
    return match ? Number(match[1]) : null;
  }

  window.addEventListener("popstate", (event) => {
    const id = (event.state && event.state.chat) || chatFromAddress();
    if (id) {
      open(id, { push: false, focus: false });
    }
  });

  worklist = createWorklist({ root: document.getElementById("worklist"), data, desk, open: (id) => open(id) });
  mount(document.getElementById("chat-view"));
  window.history.replaceState({ chat: view.id }, "", window.location.href);

  function step(delta) {
    const id = worklist.neighbour(delta);
    if (id) {
      open(id);
    }
  }

  attachShortcuts({
    next: () => step(1),
    previous: () => step(-1),
    reply: () => view.focusReply(),
    claim: () => view.claim(),
    end: () => view.end(),
  });

  view.focusReply();
}
