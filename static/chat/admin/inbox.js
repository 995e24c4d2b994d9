/* The inbox (chat changelist), live: a module on lib/ and agent-socket.js.
 *
 * Socket events make the page fetch itself again and swap in the tabs and the list, so the
 * server renders every row (one rendering path, all text escaped there). A new waiting chat
 * also updates the tab title, plays a short chime made with the Web Audio API and shows a
 * desktop notification where the agent allowed it.
 */
import { format } from "../lib/format.js";
import { request } from "../lib/http.js";
import { shortDuration } from "../lib/time.js";
import { connectAgentSocket, setLiveState } from "./agent-socket.js";

const configElement = document.getElementById("inbox-config");
if (configElement) {
  inbox(configElement);
}

function inbox(configElement) {
  var config = JSON.parse(configElement.textContent);
  var S = config.strings;
  var header = document.getElementById("inbox-header");
  var liveState = document.getElementById("live-state");
  var alertsButton = document.getElementById("inbox-enable-alerts");
  var staleNote = document.getElementById("inbox-stale");
  var baseTitle = document.title;

  var REFRESH_DEBOUNCE_MS = 400;
  var REFRESH_MIN_GAP_MS = 2000;
  var OFFLINE_POLL_MS = 20000;
  var TICK_MS = 15000;

  var refreshTimer = null;
  var lastRefreshAt = 0;
  var refreshing = false;
  var refreshAgain = false;
  var offlinePoll = null;
  var alertsPlayed = 0;

  /* --- tab title ------------------------------------------------------------------ */

  function updateTitle() {
    var tabs = document.getElementById("inbox-tabs");
    var waiting = tabs ? parseInt(tabs.dataset.waitingCount, 10) || 0 : 0;
    document.title = waiting > 0 ? "(" + waiting + ") " + baseTitle : baseTitle;
  }

  /* --- waiting times tick without a reload ---------------------------------------- */

  function tick() {
    var now = Date.now();
    document.querySelectorAll("time.inbox-wait[data-since]").forEach(function (element) {
      var seconds = (now - Date.parse(element.dataset.since)) / 1000;
      element.textContent = shortDuration(seconds, S);
      element.classList.toggle("inbox-late", seconds > config.slaSeconds);
    });
  }

  /* --- list refresh ------------------------------------------------------------------ */

  function hasSelection() {
    return Boolean(document.querySelector("#result_list input.action-select:checked"));
  }

  function swap(doc, selector) {
    var fresh = doc.querySelector(selector);
    var current = document.querySelector(selector);
    if (fresh && current) {
      current.replaceWith(document.adoptNode(fresh));
    }
  }

  function refresh() {
    refreshTimer = null;
    if (refreshing) {
      refreshAgain = true;
      return;
    }
    if (hasSelection()) {
      staleNote.textContent = S.staleList;
      staleNote.hidden = false;
      refreshAgain = true;
      return;
    }
    refreshing = true;
    lastRefreshAt = Date.now();
    request("GET", window.location.href, { text: true })
      .then(function (answer) {
        if (!answer.ok || answer.data === null) {
          throw new Error(String(answer.status));
        }
        return answer.data;
      })
      .then(function (html) {
        if (hasSelection()) {
          refreshAgain = true;
          return;
        }
        var doc = new DOMParser().parseFromString(html, "text/html");
        swap(doc, "#inbox-tabs");
        swap(doc, "#changelist-form");
        if (window.Actions) {
          var boxes = document.querySelectorAll("tr input.action-select");
          if (boxes.length) {
            window.Actions(boxes);
          }
        }
        staleNote.hidden = true;
        updateTitle();
        tick();
        header.dataset.refreshed = String((parseInt(header.dataset.refreshed, 10) || 0) + 1);
      })
      .catch(function () {
        refreshAgain = true;
      })
      .finally(function () {
        refreshing = false;
        if (refreshAgain) {
          refreshAgain = false;
          scheduleRefresh();
        }
      });
  }

  function scheduleRefresh() {
    if (refreshTimer) {
      return;
    }
    var wait = Math.max(REFRESH_DEBOUNCE_MS, lastRefreshAt + REFRESH_MIN_GAP_MS - Date.now());
    refreshTimer = window.setTimeout(refresh, wait);
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("input.action-select, #action-toggle")) {
      if (!hasSelection() && !staleNote.hidden) {
        scheduleRefresh();
      }
    }
  });

  /* --- alerts: chime, notification ------------------------------------------------- */

  var audio = null;

  function audioContext() {
    var Context = window.AudioContext || window.webkitAudioContext;
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
    var context = audioContext();
    if (!context) {
      return;
    }
    var start = context.currentTime + 0.01;
    [
      [880, 0],
      [1320, 0.16],
    ].forEach(function (tone) {
      var oscillator = context.createOscillator();
      var gain = context.createGain();
      var at = start + tone[1];
      oscillator.type = "sine";
      oscillator.frequency.setValueAtTime(tone[0], at);
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.25, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.15);
      oscillator.connect(gain);
      gain.connect(context.destination);
      oscillator.start(at);
      oscillator.stop(at + 0.16);
    });
  }

  function notify(session) {
    if (!("Notification" in window) || Notification.permission !== "granted") {
      return;
    }
    var name = session.customer_name || S.customer;
    var notice = new Notification(S.newChat, {
      body: format(S.newChatFrom, { customer: name }),
      tag: "jtchat-" + session.id,
    });
    notice.onclick = function () {
      window.focus();
      window.location.href = config.changeUrl.replace(/\/0\/change\/$/, "/" + session.id + "/change/");
    };
  }

  function alertNewChat(session) {
    alertsPlayed += 1;
    header.dataset.alerts = String(alertsPlayed);
    if (config.accepting) {
      chime();
    }
    notify(session);
  }

  function showAlertsButton() {
    var canAsk = "Notification" in window && Notification.permission === "default";
    alertsButton.hidden = !canAsk;
  }

  alertsButton.addEventListener("click", function () {
    audioContext();
    Notification.requestPermission().then(showAlertsButton, showAlertsButton);
  });
  // Browsers only let a page play sound after the person interacted with it.
  ["pointerdown", "keydown"].forEach(function (name) {
    document.addEventListener(
      name,
      function () {
        audioContext();
      },
      { once: true }
    );
  });

  /* --- the socket -------------------------------------------------------------------- */

  function onEvent(event) {
    if (event.type === "session") {
      if (event.new && event.session && event.session.status === "waiting") {
        alertNewChat(event.session);
      }
      scheduleRefresh();
    } else if (event.type === "message" && isListed(event.session_id)) {
      // A message elsewhere cannot change this page: a change of order or of the waiting
      // time comes with a session event of its own.
      scheduleRefresh();
    }
  }

  function isListed(sessionId) {
    return Boolean(document.querySelector('#result_list input.action-select[value="' + Number(sessionId) + '"]'));
  }

  function onState(state) {
    setLiveState(liveState, state, S);
    window.clearInterval(offlinePoll);
    offlinePoll = null;
    if (state === "offline") {
      offlinePoll = window.setInterval(scheduleRefresh, OFFLINE_POLL_MS);
    }
  }

  connectAgentSocket({
    baseUrl: header.dataset.wsUrl,
    onEvent: onEvent,
    onState: onState,
    onReady: function (reconnected) {
      if (reconnected) {
        scheduleRefresh();
      }
    },
  });

  updateTitle();
  showAlertsButton();
  tick();
  window.setInterval(tick, TICK_MS);
}
