/*
 * The desk: what every admin chat page shares (inbox, conversation screen, metrics screen).
 *
 * It opens the page's one agent socket (agent-socket.js) and, before handing each event to
 * the page, keeps what is true everywhere: the open chats per tab ("counts" events, the
 * latest by as_of), the agent's own open chats (every change of status or assignment comes
 * to every agent), and the tab title "(waiting) title". A new waiting chat always changes
 * the title; once the agent turned alerts on (the desk bar's button, remembered in this
 * browser) it also plays a chime (not while the agent has paused new chats) and raises a
 * desktop notification whose click opens the chat. Every <time data-clock> on the page is
 * drawn in the browser's zone, which the bar names.
 */
import { format } from "../lib/format.js";
import { renderClocks, zoneLabel } from "../lib/clock.js";
import { connectAgentSocket, setLiveState } from "./agent-socket.js";

const ALERTS_KEY = "jtchat.alerts";

export function readDeskConfig() {
  const element = document.getElementById("desk-config");
  return element ? JSON.parse(element.textContent) : null;
}

/** The change URL of chat ``id`` (the config carries chat 0's). */
export function chatUrl(config, id) {
  return config.urls.change.replace(/\/0\/change\/$/, "/" + Number(id) + "/change/");
}

/**
 * Start the desk. Options: onEvent(event) for every socket event after the desk saw it;
 * onReady(reconnected); onState(state); openChat(id) when a notification is clicked (default:
 * go to the chat's page). Returns { config, send(frame), setTitle(text), counts, mine,
 * isMine(id), setCounts(counts, mineIds), chatUrl(id) }.
 */
export function startDesk({ onEvent = () => {}, onReady = () => {}, onState = () => {}, openChat = null } = {}) {
  const config = readDeskConfig();
  if (!config) {
    return null;
  }
  const S = config.strings;
  const bar = document.getElementById("desk-bar");
  const alertsButton = document.getElementById("desk-alerts");
  const liveState = document.getElementById("live-state");
  const zone = document.getElementById("desk-zone");
  const counts = { ...config.counts, asOf: 0 };
  const mine = new Set(config.mineIds || []);
  let baseTitle = document.title;
  let socket = null;

  const open = openChat || ((id) => window.location.assign(chatUrl(config, id)));

  /* --- the title ------------------------------------------------------------------ */

  function showTitle() {
    const waiting = counts.waiting || 0;
    document.title = waiting > 0 ? "(" + waiting + ") " + baseTitle : baseTitle;
  }

  function setTitle(text) {
    baseTitle = text;
    showTitle();
  }

  /* --- alerts --------------------------------------------------------------------- */

  let audio = null;

  function alertsOn() {
    try {
      return window.localStorage.getItem(ALERTS_KEY) === "on";
    } catch (error) {
      return false;
    }
  }

  function audioContext() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) {
      return null;
    }
    if (!audio) {
      audio = new Context();
    }
    if (audio.state === "suspended") {
      audio.resume();
    }
    return audio;
  }

  function chime() {
    const context = audioContext();
    if (!context) {
      return;
    }
    const start = context.currentTime + 0.01;
    [
      [880, 0],
      [1320, 0.16],
    ].forEach(([frequency, offset]) => {
      const oscillator = context.createOscillator();
      const gain = context.createGain();
      const at = start + offset;
      oscillator.type = "sine";
      oscillator.frequency.setValueAtTime(frequency, at);
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.25, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.15);
      oscillator.connect(gain);
      gain.connect(context.destination);
      oscillator.start(at);
      oscillator.stop(at + 0.16);
    });
    bump("chimes");
  }

  function notify(session) {
    if (!("Notification" in window) || Notification.permission !== "granted") {
      return;
    }
    const name = session.customer_name || format(S.customerNumber, { id: session.id });
    const notice = new Notification(S.newChat, {
      body: format(S.newChatFrom, { customer: name }),
      tag: "jtchat-" + session.id,
    });
    notice.onclick = () => {
      window.focus();
      notice.close();
      open(session.id);
    };
    bump("notified");
  }

  function bump(name) {
    alertsButton.dataset[name] = String((parseInt(alertsButton.dataset[name], 10) || 0) + 1);
  }

  function newChat(session) {
    bump("alerts");
    if (!alertsOn()) {
      return;
    }
    if (config.accepting) {
      chime();
    }
    notify(session);
  }

  function showAlertsButton() {
    const on = alertsOn();
    alertsButton.setAttribute("aria-pressed", on ? "true" : "false");
    const blocked = on && "Notification" in window && Notification.permission === "denied";
    alertsButton.title = blocked ? S.alertsBlocked : "";
  }

  alertsButton.addEventListener("click", () => {
    const on = !alertsOn();
    try {
      window.localStorage.setItem(ALERTS_KEY, on ? "on" : "off");
    } catch (error) {
      /* private mode: on for this page only */
    }
    if (on) {
      audioContext(); // a click lets the page play sound from now on
      if ("Notification" in window && Notification.permission === "default") {
        Notification.requestPermission().then(showAlertsButton, showAlertsButton);
      }
    }
    showAlertsButton();
  });
  // Browsers let a page play sound only after the person interacted with it.
  ["pointerdown", "keydown"].forEach((name) => {
    document.addEventListener(
      name,
      () => {
        if (alertsOn()) {
          audioContext();
        }
      },
      { once: true }
    );
  });
  window.addEventListener("storage", (event) => {
    if (event.key === ALERTS_KEY) {
      showAlertsButton();
    }
  });

  /* --- events ------------------------------------------------------------------------ */

  function takeCounts(event) {
    const asOf = Date.parse(event.as_of) || 0;
    if (asOf < counts.asOf) {
      return false; // an older count that crossed a newer one on the way
    }
    counts.asOf = asOf;
    ["waiting", "active", "open"].forEach((key) => {
      if (typeof event[key] === "number") {
        counts[key] = event[key];
      }
    });
    showTitle();
    return true;
  }

  function takeSession(event) {
    const session = event.session;
    if (!session || event.activity) {
      return;
    }
    if (session.assigned_agent === config.userId && session.status !== "ended") {
      mine.add(session.id);
    } else {
      mine.delete(session.id);
    }
    counts.mine = mine.size;
  }

  function handle(event) {
    if (event.type === "counts") {
      if (!takeCounts(event)) {
        return;
      }
    } else if (event.type === "session") {
      takeSession(event);
      if (event.new && event.session && event.session.status === "waiting") {
        newChat(event.session);
      }
    }
    onEvent(event);
  }

  socket = connectAgentSocket({
    baseUrl: bar.dataset.wsUrl,
    onEvent: handle,
    onState: (state) => {
      setLiveState(liveState, state, S);
      onState(state);
    },
    onReady,
  });

  counts.mine = mine.size;
  zone.textContent = zoneLabel(S.zone);
  renderClocks(document);
  showAlertsButton();
  showTitle();

  /** Counts read from a fresh copy of the page (after a reconnection). */
  function setCounts(fresh, mineIds) {
    ["waiting", "active", "open"].forEach((key) => {
      if (typeof fresh[key] === "number") {
        counts[key] = fresh[key];
      }
    });
    if (mineIds) {
      mine.clear();
      mineIds.forEach((id) => mine.add(id));
    }
    counts.mine = mine.size;
    showTitle();
  }

  return {
    config,
    counts,
    mine,
    setCounts,
    isMine: (id) => mine.has(Number(id)),
    send: (frame) => socket.send(frame),
    setTitle,
    chatUrl: (id) => chatUrl(config, id),
  };
}
