/*
 * JT Chat — the customer chat page. Plain JS, no build step, no inline script.
 *
 * Configuration comes from data-* attributes on #app (API URLs, data-ws-url, maximum
 * lengths); every string shown comes from the json_script block #chat-strings.
 * Customer, agent and system text is only ever set with textContent.
 *
 * Delivery: the customer sends over REST, each message with a client_id that is kept
 * across retries (the server stores a retried client_id once). New messages and state
 * arrive on the customer socket /ws/chat/; after a drop the page reconnects with
 * exponential back-off and jitter and catches up with `after` = the last message id.
 * When the socket cannot be opened the page polls GET messages?after=<id> every 2 s and
 * keeps retrying the socket now and then. Messages are deduplicated by id and client_id,
 * so whichever copy arrives first (POST answer, socket, poll) is shown and the others
 * are ignored.
 *
 * Debug handle (support and tests): window.jtChat.state() returns a snapshot of the
 * connection; window.jtChat.dropSocket() drops the live socket as a network cut would.
 */
(function () {
  "use strict";

  var STORAGE_SESSION = "jtchat.session";
  var STORAGE_OUTBOX = "jtchat.outbox";
  var POLL_INTERVAL_MS = 2000;
  var SOCKET_FAILURES_BEFORE_POLLING = 3;
  var SOCKET_BACKOFF_BASE_MS = 400;
  var SOCKET_BACKOFF_MAX_MS = 30000;
  var SOCKET_READY_TIMEOUT_MS = 10000;
  var SOCKET_PING_MS = 25000;
  var SEND_BACKOFF_BASE_MS = 1000;
  var SEND_BACKOFF_MAX_MS = 30000;
  var RESTORE_BACKOFF_MAX_MS = 30000;
  var TYPING_THROTTLE_MS = 3000;
  var TYPING_IDLE_MS = 4000;
  var AGENT_TYPING_TIMEOUT_MS = 8000;
  var SESSION_REFRESH_EVERY_POLLS = 5;
  // A page smaller than this means the catch-up is complete (the server's page is larger).
  var CATCH_UP_PAGE_MIN = 100;
  // After a reconnect, ask again for the last few messages too: live events of one chat
  // may reach the socket out of id order, and a drop in between must not skip one.
  var RECONNECT_LOOKBACK_MESSAGES = 20;
  var COUNTER_SHOW_BELOW = 200;

  var app = document.getElementById("app");
  var stringsNode = document.getElementById("chat-strings");
  if (!app || !stringsNode) {
    return;
  }
  var S = JSON.parse(stringsNode.textContent);
  var lang = document.documentElement.lang || "pt-BR";
  var urls = {
    session: app.dataset.sessionUrl,
    message: app.dataset.messageUrl,
    messages: app.dataset.messagesUrl,
    end: app.dataset.endUrl,
  };
  var maxLength = parseInt(app.dataset.maxLength, 10) || 4000;

  function $(id) {
    return document.getElementById(id);
  }

  var ui = {
    startView: $("start-view"),
    startForm: $("start-form"),
    startButton: $("start-button"),
    startError: $("start-error"),
    chatView: $("chat-view"),
    chatStatus: $("chat-status"),
    connection: $("connection-state"),
    log: $("message-log"),
    greetingText: $("greeting-text"),
    greetingDetail: $("greeting-detail"),
    typing: $("typing-indicator"),
    composer: $("composer"),
    input: $("message-input"),
    counter: $("composer-counter"),
    alert: $("chat-alert"),
    endButton: $("end-button"),
    endDialog: $("end-dialog"),
    downloadButton: $("download-button"),
    ratingView: $("rating-view"),
    ratingForm: $("rating-form"),
    ratingStars: $("rating-stars"),
    ratingError: $("rating-error"),
    ratingComment: $("rating-comment"),
    ratingSubmit: $("rating-submit"),
    ratingTitle: $("rating-title"),
    thanksView: $("thanks-view"),
    thanksTitle: $("thanks-title"),
  };

  var state = {
    sessionKey: null,
    session: null,
    queue: null,
    ended: false,
    // Highest message id received from the ordered stream (socket, catch-up, poll). A
    // POST answer does not move it: an agent message with a lower id may still be unseen.
    cursor: 0,
    byId: new Map(),
    byClientId: new Map(),
    entryByElement: new WeakMap(),
    outbox: [],
    sending: false,
    wakeSender: null,
    live: false,
    socket: null,
    socketReady: false,
    socketEverReady: false,
    socketFailures: 0,
    socketTimer: null,
    readyTimer: null,
    pingTimer: null,
    polling: false,
    pollTimer: null,
    pollCount: 0,
    networkDown: false,
    transport: "idle",
    typingSent: false,
    typingSentAt: 0,
    typingIdleTimer: null,
    agentTypingTimer: null,
    unread: 0,
    baseTitle: document.title,
    restoreAttempts: 0,
  };

  // ---- small helpers ------------------------------------------------------------------

  function format(template, params) {
    return String(template).replace(/%\((\w+)\)s/g, function (match, key) {
      return Object.prototype.hasOwnProperty.call(params, key) ? String(params[key]) : match;
    });
  }

  function storageGet(key) {
    try {
      return window.localStorage.getItem(key);
    } catch (error) {
      return null;
    }
  }

  function storageSet(key, value) {
    try {
      if (value === null) {
        window.localStorage.removeItem(key);
      } else {
        window.localStorage.setItem(key, value);
      }
    } catch (error) {
      /* private mode or full storage: the chat still works for this page's lifetime */
    }
  }

  function newClientId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    if (window.crypto && window.crypto.getRandomValues) {
      window.crypto.getRandomValues(bytes);
    } else {
      for (var i = 0; i < 16; i++) {
        bytes[i] = Math.floor(Math.random() * 256);
      }
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map
      .call(bytes, function (b) {
        return (b + 0x100).toString(16).slice(1);
      })
      .join("");
    return (
      hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" +
      hex.slice(16, 20) + "-" + hex.slice(20)
    );
  }

  /** Exponential back-off with jitter: a random delay in [half, full] of base·2^attempt. */
  function backoff(attempt, base, max) {
    var full = Math.min(max, base * Math.pow(2, Math.max(0, attempt)));
    return full / 2 + Math.random() * (full / 2);
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) {
      return decodeURIComponent(match[1]);
    }
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function parseRetryAfter(value) {
    if (!value) {
      return 0;
    }
    var seconds = Number(value);
    if (!isNaN(seconds)) {
      return Math.max(0, seconds * 1000);
    }
    var date = Date.parse(value);
    return isNaN(date) ? 0 : Math.max(0, date - Date.now());
  }

  /** One API call. Never throws: a network failure is status 0. */
  function api(method, url, body) {
    var headers = { Accept: "application/json" };
    if (state.sessionKey) {
      headers["X-Chat-Session"] = state.sessionKey;
    }
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
    }
    if (method !== "GET") {
      headers["X-CSRFToken"] = csrfToken();
    }
    return fetch(url, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    }).then(
      function (response) {
        var retryAfter = parseRetryAfter(response.headers.get("Retry-After"));
        return response.json().then(
          function (data) {
            return { status: response.status, data: data, retryAfter: retryAfter };
          },
          function () {
            return { status: response.status, data: null, retryAfter: retryAfter };
          }
        );
      },
      function () {
        return { status: 0, data: null, retryAfter: 0 };
      }
    );
  }

  function errorText(result) {
    if (result.status === 0) {
      return S.network_error;
    }
    if (result.status === 429) {
      return S.too_many_requests;
    }
    var data = result.data || {};
    if (data.fields) {
      for (var key in data.fields) {
        if (Object.prototype.hasOwnProperty.call(data.fields, key) && data.fields[key].length) {
          return data.fields[key][0];
        }
      }
    }
    return data.error || S.generic_error;
  }

  function dateTimeFormat(options) {
    try {
      return new Intl.DateTimeFormat(lang, options);
    } catch (error) {
      return new Intl.DateTimeFormat("pt-BR", options);
    }
  }

  var timeFormat = dateTimeFormat({ hour: "2-digit", minute: "2-digit" });
  var fullDateFormat = dateTimeFormat({
    day: "2-digit",
    month: "2-digit",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });

  // ---- connection indicator -------------------------------------------------------------

  function setTransport(mode) {
    state.transport = mode;
    renderConnection();
  }

  function setNetworkDown(down) {
    if (state.networkDown !== down) {
      state.networkDown = down;
      renderConnection();
    }
  }

  function renderConnection() {
    app.dataset.connection = state.transport;
    var text = "";
    if (state.sessionKey && !state.ended && state.networkDown) {
      text = S.connection_offline;
    } else if (state.live && state.transport === "reconnecting") {
      text = S.connection_reconnecting;
    }
    ui.connection.textContent = text;
    ui.connection.hidden = !text;
  }

  function showAlert(text) {
    ui.alert.textContent = text || "";
    ui.alert.hidden = !text;
  }

  // ---- messages -------------------------------------------------------------------------

  function authorLabel(entry) {
    if (entry.author === "customer") {
      return S.you;
    }
    if (entry.author === "agent") {
      return entry.agentName || S.agent;
    }
    return S.system;
  }

  function createMessageElement(entry) {
    var item = document.createElement("li");
    item.className = "msg msg--" + entry.author;
    item.dataset.author = entry.author;
    var bubble = document.createElement("div");
    bubble.className = "msg__bubble";
    var author = document.createElement("p");
    author.className = entry.author === "agent" ? "msg__author" : "visually-hidden";
    author.textContent = authorLabel(entry) + (entry.author === "agent" ? "" : ":");
    if (entry.author !== "system") {
      bubble.appendChild(author);
    }
    var text = document.createElement("p");
    text.className = "msg__text";
    text.textContent = entry.content;
    bubble.appendChild(text);
    item.appendChild(bubble);

    var meta = document.createElement("p");
    meta.className = "msg__meta";
    var time = document.createElement("time");
    time.className = "msg__time";
    meta.appendChild(time);
    var status = document.createElement("span");
    status.className = "msg__state";
    meta.appendChild(status);
    item.appendChild(meta);

    entry.element = item;
    entry.timeElement = time;
    entry.statusElement = status;
    state.entryByElement.set(item, entry);
    renderEntry(entry);
    return item;
  }

  function renderEntry(entry) {
    var item = entry.element;
    if (entry.id != null) {
      item.dataset.messageId = String(entry.id);
    }
    if (entry.clientId) {
      item.dataset.clientId = entry.clientId;
    }
    var when = new Date(entry.createdAt);
    if (!isNaN(when.getTime())) {
      entry.timeElement.dateTime = when.toISOString();
      entry.timeElement.textContent = timeFormat.format(when);
    }
    if (entry.author !== "customer") {
      return;
    }
    item.dataset.state = entry.state;
    var status = entry.statusElement;
    status.className = "msg__state msg__state--" + entry.state;
    status.textContent = "";
    if (entry.state === "sent") {
      var check = document.createElement("span");
      check.setAttribute("aria-hidden", "true");
      check.textContent = "✓";
      var label = document.createElement("span");
      label.className = "visually-hidden";
      label.textContent = S.sent;
      status.appendChild(check);
      status.appendChild(label);
    } else if (entry.state === "failed") {
      status.textContent = entry.error;
      status.setAttribute("role", "alert");
    } else {
      status.textContent = entry.state === "retrying" ? S.retrying : S.sending;
    }
  }

  function isNearBottom() {
    return ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 80;
  }

  function scrollToBottom() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  /**
   * Put an entry where it belongs: confirmed messages in id order, after the greeting;
   * messages still being sent stay at the end. An element already in place is not moved.
   */
  function placeEntry(entry) {
    var element = entry.element;
    var anchor = ui.log.lastElementChild;
    while (anchor) {
      var other = state.entryByElement.get(anchor);
      if (!other) {
        break; // the greeting
      }
      if (other !== entry && (entry.id == null || (other.id != null && other.id < entry.id))) {
        break;
      }
      anchor = anchor.previousElementSibling;
    }
    var before = anchor ? anchor.nextElementSibling : ui.log.firstElementChild;
    if (before !== element) {
      ui.log.insertBefore(element, before);
    }
  }

  function addEntry(entry) {
    var follow = isNearBottom();
    createMessageElement(entry);
    if (entry.id != null) {
      state.byId.set(entry.id, entry);
    }
    if (entry.clientId) {
      state.byClientId.set(entry.clientId, entry);
    }
    placeEntry(entry);
    if (follow || entry.author === "customer") {
      scrollToBottom();
    }
  }

  /** A message from the server, from whichever source; shown once whatever the order. */
  function receiveMessage(message, fromStream) {
    if (!message || typeof message.id !== "number" || message.is_internal) {
      return;
    }
    if (fromStream && message.id > state.cursor) {
      state.cursor = message.id;
    }
    if (state.byId.has(message.id)) {
      return;
    }
    var entry = message.client_id ? state.byClientId.get(message.client_id) : null;
    if (entry) {
      entry.id = message.id;
      entry.createdAt = message.created_at;
      entry.state = "sent";
      state.byId.set(message.id, entry);
      removeFromOutbox(entry.clientId);
      renderEntry(entry);
      placeEntry(entry);
      return;
    }
    addEntry({
      id: message.id,
      clientId: message.client_id || null,
      author: message.author === "user" ? "customer" : message.author,
      agentName: message.agent_name || "",
      content: message.content,
      createdAt: message.created_at,
      state: "sent",
    });
    if (message.author === "agent") {
      hideAgentTyping();
      noteUnread();
    }
  }

  function noteUnread() {
    if (!document.hidden) {
      return;
    }
    state.unread += 1;
    document.title = format(S.new_messages_title, { count: state.unread });
  }

  function clearUnread() {
    state.unread = 0;
    document.title = state.baseTitle;
  }

  // ---- sending ----------------------------------------------------------------------------

  function saveOutbox() {
    if (!state.outbox.length) {
      storageSet(STORAGE_OUTBOX, null);
      return;
    }
    storageSet(STORAGE_OUTBOX, JSON.stringify({ session: state.sessionKey, items: state.outbox }));
  }

  function removeFromOutbox(clientId) {
    var before = state.outbox.length;
    state.outbox = state.outbox.filter(function (item) {
      return item.client_id !== clientId;
    });
    if (state.outbox.length !== before) {
      saveOutbox();
    }
  }

  /** Messages typed before a reload that the server had not acknowledged: send them again. */
  function restoreOutbox() {
    var saved = null;
    try {
      saved = JSON.parse(storageGet(STORAGE_OUTBOX) || "null");
    } catch (error) {
      saved = null;
    }
    if (!saved || saved.session !== state.sessionKey || !Array.isArray(saved.items)) {
      storageSet(STORAGE_OUTBOX, null);
      return;
    }
    saved.items.forEach(function (item) {
      var known = state.byClientId.get(item.client_id);
      if (known && known.id != null) {
        return;
      }
      state.outbox.push(item);
      addEntry({
        id: null,
        clientId: item.client_id,
        author: "customer",
        content: item.content,
        createdAt: item.created_at,
        state: "sending",
      });
    });
    saveOutbox();
    flushOutbox();
  }

  function sendMessage(text) {
    var item = { client_id: newClientId(), content: text, created_at: new Date().toISOString() };
    state.outbox.push(item);
    saveOutbox();
    addEntry({
      id: null,
      clientId: item.client_id,
      author: "customer",
      content: text,
      createdAt: item.created_at,
      state: "sending",
    });
    scrollToBottom();
    flushOutbox();
  }

  function sleepUnlessWoken(ms) {
    return new Promise(function (resolve) {
      var timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        if (state.wakeSender === done) {
          state.wakeSender = null;
        }
        resolve();
      }
      state.wakeSender = done;
    });
  }

  function wakeSender() {
    if (state.wakeSender) {
      state.wakeSender();
    }
  }

  function isRetryable(status) {
    return status === 0 || status === 408 || status === 429 || status >= 500;
  }

  /** Send the outbox in order, one at a time, retrying with back-off and the same client_id. */
  function flushOutbox() {
    if (state.sending) {
      return;
    }
    state.sending = true;
    var attempts = 0;

    function next() {
      var item = state.outbox[0];
      var key = state.sessionKey;
      if (!item || !key) {
        state.sending = false;
        return;
      }
      var entry = state.byClientId.get(item.client_id);
      if (!entry || entry.id != null) {
        removeFromOutbox(item.client_id);
        attempts = 0;
        next();
        return;
      }
      api("POST", urls.message, {
        session_id: state.sessionKey,
        author: "user",
        content: item.content,
        client_id: item.client_id,
      }).then(function (result) {
        if (key !== state.sessionKey) {
          state.sending = false;
          flushOutbox();
          return;
        }
        if (result.status === 201 || result.status === 200) {
          setNetworkDown(false);
          receiveMessage(result.data, false);
          removeFromOutbox(item.client_id);
          attempts = 0;
          next();
          return;
        }
        if (isRetryable(result.status)) {
          setNetworkDown(result.status === 0);
          if (entry.state !== "sent") {
            entry.state = "retrying";
            renderEntry(entry);
          }
          var delay = Math.max(result.retryAfter, backoff(attempts, SEND_BACKOFF_BASE_MS, SEND_BACKOFF_MAX_MS));
          attempts += 1;
          sleepUnlessWoken(delay).then(next);
          return;
        }
        removeFromOutbox(item.client_id);
        attempts = 0;
        entry.state = "failed";
        if (result.status === 409) {
          entry.error = S.send_failed_ended;
          refreshSession();
        } else {
          entry.error = format(S.send_failed, { reason: errorText(result) });
        }
        renderEntry(entry);
        if (result.status === 404) {
          sessionLost();
          return;
        }
        next();
      });
    }

    next();
  }

  // ---- session state ------------------------------------------------------------------------

  function applySession(session, queue) {
    if (!session) {
      return;
    }
    state.session = Object.assign({}, state.session || {}, session);
    if (queue) {
      applyQueue(queue);
    } else {
      renderSessionState();
    }
    if (state.session.status === "ended") {
      enterEndedState();
    }
  }

  function applyQueue(queue) {
    state.queue = queue;
    renderSessionState();
  }

  function waitText(seconds) {
    if (typeof seconds !== "number") {
      return "";
    }
    if (seconds < 60) {
      return S.wait_under_minute;
    }
    var minutes = Math.round(seconds / 60);
    return minutes === 1 ? S.wait_minutes_one : format(S.wait_minutes_other, { minutes: minutes });
  }

  function renderSessionState() {
    var session = state.session || {};
    var name = (session.customer_name || "").trim();
    ui.greetingText.textContent = name ? format(S.greeting_named, { name: name }) : S.greeting;
    var detail = [];
    var status = "";
    if (session.status === "ended") {
      detail.push(S.chat_ended);
      status = S.status_ended;
    } else if (session.status === "active" || session.agent_name) {
      var agent = session.agent_name || S.agent;
      detail.push(format(S.agent_helping, { agent: agent }));
      status = format(S.status_active, { agent: agent });
    } else if (session.status === "waiting") {
      status = S.status_waiting;
      var queue = state.queue || {};
      if (queue.agents_available === 0) {
        detail.push(S.no_agents);
      } else {
        if (queue.position === 1) {
          detail.push(S.queue_next);
        } else if (queue.position > 1) {
          detail.push(format(S.queue_position, { position: queue.position }));
        }
        var wait = waitText(queue.estimated_wait_seconds);
        if (wait) {
          detail.push(wait);
        }
        detail.push(S.waiting_hint);
      }
    }
    var detailText = detail.join(" ");
    if (ui.greetingDetail.textContent !== detailText) {
      ui.greetingDetail.textContent = detailText;
    }
    ui.chatStatus.textContent = status;
    ui.chatStatus.hidden = !status;
  }

  function refreshSession() {
    if (!state.sessionKey) {
      return Promise.resolve(false);
    }
    var key = state.sessionKey;
    return api("GET", urls.session).then(function (result) {
      if (key !== state.sessionKey) {
        return false;
      }
      if (result.status === 200) {
        setNetworkDown(false);
        applySession(result.data, result.data.queue);
        return true;
      }
      if (result.status === 404) {
        sessionLost();
      } else if (result.status === 0) {
        setNetworkDown(true);
      }
      return false;
    });
  }

  /** Fetch every message after ``after`` (page by page) and feed them in. */
  function fetchMessages(after) {
    var key = state.sessionKey;
    function page(from, pagesLeft) {
      return api("GET", urls.messages + "?after=" + encodeURIComponent(from)).then(function (result) {
        if (key !== state.sessionKey) {
          return false;
        }
        if (result.status === 404) {
          sessionLost();
          return false;
        }
        if (result.status !== 200 || !result.data) {
          if (result.status === 0) {
            setNetworkDown(true);
          }
          return false;
        }
        setNetworkDown(false);
        var list = result.data.messages || [];
        list.forEach(function (message) {
          receiveMessage(message, true);
        });
        if (state.session && result.data.status && result.data.status !== state.session.status) {
          refreshSession();
        }
        if (list.length >= CATCH_UP_PAGE_MIN && pagesLeft > 0) {
          return page(list[list.length - 1].id, pagesLeft - 1);
        }
        return true;
      });
    }
    return page(after, 50);
  }

  /** The id to catch up from after a reconnect: a few messages before the cursor. */
  function lookbackCursor() {
    var ids = Array.from(state.byId.keys())
      .filter(function (id) {
        return id <= state.cursor;
      })
      .sort(function (a, b) {
        return a - b;
      });
    if (ids.length <= RECONNECT_LOOKBACK_MESSAGES) {
      return 0;
    }
    return ids[ids.length - RECONNECT_LOOKBACK_MESSAGES - 1];
  }

  // ---- live delivery: socket, with polling as the fallback ------------------------------------

  function socketUrl() {
    var base = (app.dataset.wsUrl || "").trim();
    if (!base) {
      base = (window.location.protocol === "https:" ? "wss://" : "ws://") + window.location.host;
    } else {
      base = base.replace(/^http(s?):\/\//i, "ws$1://");
    }
    return base.replace(/\/+$/, "") + "/ws/chat/";
  }

  function startLive() {
    if (state.live || state.ended || !state.sessionKey) {
      return;
    }
    state.live = true;
    state.socketFailures = 0;
    setTransport("connecting");
    connectSocket();
  }

  function stopLive() {
    state.live = false;
    stopPolling();
    clearTimeout(state.socketTimer);
    var socket = state.socket;
    socketGone();
    if (socket) {
      try {
        socket.close(1000);
      } catch (error) {
        /* already closing */
      }
    }
    hideAgentTyping();
    setTransport("idle");
  }

  function socketGone() {
    state.socket = null;
    state.socketReady = false;
    clearTimeout(state.readyTimer);
    clearInterval(state.pingTimer);
    state.typingSent = false;
  }

  function connectSocket() {
    clearTimeout(state.socketTimer);
    if (!state.live || state.socket) {
      return;
    }
    if (typeof window.WebSocket !== "function") {
      startPolling();
      return;
    }
    var socket;
    try {
      socket = new WebSocket(socketUrl());
    } catch (error) {
      socketFailed(false);
      return;
    }
    state.socket = socket;
    socket.onopen = function () {
      if (socket !== state.socket) {
        return;
      }
      sendFrame({ type: "hello", session_id: state.sessionKey, after: state.cursor });
      state.readyTimer = setTimeout(function () {
        dropSocket(socket);
      }, SOCKET_READY_TIMEOUT_MS);
    };
    socket.onmessage = function (event) {
      if (socket !== state.socket) {
        return;
      }
      var data;
      try {
        data = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      handleSocketEvent(data);
    };
    socket.onclose = function (event) {
      if (socket !== state.socket) {
        return;
      }
      if (event.code === 4404) {
        // Unknown chat: ask the API; a 404 there starts over, anything else retries.
        socketGone();
        refreshSession().then(function (known) {
          if (known && !state.socket) {
            socketFailed(false);
          }
        });
        return;
      }
      var wasReady = state.socketReady;
      socketGone();
      socketFailed(wasReady);
    };
  }

  /** Treat ``socket`` as lost now (a cut, a stuck handshake) and start reconnecting. */
  function dropSocket(socket) {
    if (!socket || socket !== state.socket) {
      return false;
    }
    var wasReady = state.socketReady;
    socketGone();
    try {
      socket.close(4000);
    } catch (error) {
      /* already closing */
    }
    socketFailed(wasReady);
    return true;
  }

  function socketFailed(wasReady) {
    if (!state.live) {
      return;
    }
    state.socketFailures = wasReady ? 0 : state.socketFailures + 1;
    if (state.socketFailures >= SOCKET_FAILURES_BEFORE_POLLING) {
      startPolling();
    } else if (!state.polling) {
      setTransport(state.socketEverReady ? "reconnecting" : "connecting");
    }
    var delay = backoff(state.socketFailures, SOCKET_BACKOFF_BASE_MS, SOCKET_BACKOFF_MAX_MS);
    state.socketTimer = setTimeout(connectSocket, delay);
  }

  function sendFrame(frame) {
    var socket = state.socket;
    if (socket && socket.readyState === 1) {
      try {
        socket.send(JSON.stringify(frame));
        return true;
      } catch (error) {
        return false;
      }
    }
    return false;
  }

  function handleSocketEvent(event) {
    switch (event.type) {
      case "ready":
        clearTimeout(state.readyTimer);
        var reconnected = state.socketEverReady;
        state.socketReady = true;
        state.socketEverReady = true;
        state.socketFailures = 0;
        stopPolling();
        setTransport("live");
        setNetworkDown(false);
        clearInterval(state.pingTimer);
        state.pingTimer = setInterval(function () {
          sendFrame({ type: "ping" });
        }, SOCKET_PING_MS);
        applySession(event.session, event.queue);
        if (reconnected) {
          fetchMessages(lookbackCursor());
        }
        wakeSender();
        break;
      case "message":
        receiveMessage(event.message, true);
        break;
      case "session":
        applySession(event.session);
        break;
      case "queue":
        applyQueue({
          position: event.position,
          estimated_wait_seconds: event.estimated_wait_seconds,
          agents_available: event.agents_available,
          waiting_chats: event.waiting_chats,
        });
        break;
      case "typing":
        if (event.author === "agent" || !event.author) {
          if (event.typing) {
            showAgentTyping(event.name);
          } else {
            hideAgentTyping();
          }
        }
        break;
      default:
        break;
    }
  }

  function startPolling() {
    if (state.polling || !state.live) {
      return;
    }
    state.polling = true;
    state.pollCount = 0;
    setTransport("polling");
    pollOnce();
  }

  function stopPolling() {
    state.polling = false;
    clearTimeout(state.pollTimer);
  }

  function pollOnce() {
    if (!state.polling) {
      return;
    }
    state.pollCount += 1;
    var refresh = state.session && state.session.status === "waiting" && state.pollCount % SESSION_REFRESH_EVERY_POLLS === 0;
    fetchMessages(state.cursor)
      .then(function (ok) {
        return ok && refresh ? refreshSession() : ok;
      })
      .then(function () {
        if (state.polling) {
          clearTimeout(state.pollTimer);
          state.pollTimer = setTimeout(pollOnce, POLL_INTERVAL_MS);
        }
      });
  }

  // ---- typing ---------------------------------------------------------------------------------

  function typingActivity() {
    if (!state.socketReady || state.ended) {
      return;
    }
    if (!ui.input.value.trim()) {
      stopTyping();
      return;
    }
    var now = Date.now();
    if (!state.typingSent || now - state.typingSentAt > TYPING_THROTTLE_MS) {
      if (sendFrame({ type: "typing", typing: true })) {
        state.typingSent = true;
        state.typingSentAt = now;
      }
    }
    clearTimeout(state.typingIdleTimer);
    state.typingIdleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  }

  function stopTyping() {
    clearTimeout(state.typingIdleTimer);
    if (state.typingSent) {
      sendFrame({ type: "typing", typing: false });
      state.typingSent = false;
    }
  }

  function showAgentTyping(name) {
    var agent = name || (state.session && state.session.agent_name);
    var text = agent ? format(S.agent_typing, { agent: agent }) : S.someone_typing;
    if (ui.typing.textContent !== text) {
      ui.typing.textContent = text;
    }
    ui.typing.hidden = false;
    clearTimeout(state.agentTypingTimer);
    state.agentTypingTimer = setTimeout(hideAgentTyping, AGENT_TYPING_TIMEOUT_MS);
  }

  function hideAgentTyping() {
    clearTimeout(state.agentTypingTimer);
    ui.typing.hidden = true;
    ui.typing.textContent = "";
  }

  // ---- views ---------------------------------------------------------------------------------

  function showStartView() {
    ui.chatView.hidden = true;
    ui.startView.hidden = false;
    ui.chatStatus.hidden = true;
  }

  function showChatView() {
    ui.startView.hidden = true;
    ui.chatView.hidden = false;
    ui.composer.hidden = state.ended;
    ui.endButton.hidden = state.ended;
  }

  function enterEndedState() {
    var first = !state.ended;
    state.ended = true;
    if (first) {
      stopTyping();
      stopLive();
      fetchMessages(state.cursor);
    }
    var focusWasInComposer = ui.composer.contains(document.activeElement);
    if (ui.endDialog && ui.endDialog.open) {
      ui.endDialog.close("ended");
    }
    ui.composer.hidden = true;
    ui.endButton.hidden = true;
    if (state.session && state.session.satisfaction_rating) {
      showThanks(false);
      return;
    }
    if (first) {
      ui.thanksView.hidden = true;
      ui.ratingView.hidden = false;
      scrollToBottom();
      if (focusWasInComposer || document.activeElement === document.body || !document.activeElement) {
        ui.ratingTitle.focus();
      }
    }
  }

  function showThanks(moveFocus) {
    ui.ratingView.hidden = true;
    ui.thanksView.hidden = false;
    if (moveFocus) {
      ui.thanksTitle.focus();
    }
  }

  function resetConversationView() {
    state.byId = new Map();
    state.byClientId = new Map();
    state.entryByElement = new WeakMap();
    Array.prototype.slice.call(ui.log.querySelectorAll(".msg:not([data-greeting])")).forEach(function (node) {
      node.remove();
    });
    ui.ratingForm.reset();
    ui.ratingStars.removeAttribute("data-value");
    ui.ratingError.hidden = true;
    ui.ratingView.hidden = true;
    ui.thanksView.hidden = true;
    ui.input.value = "";
    updateComposer();
    showAlert("");
    hideAgentTyping();
  }

  function clearSession() {
    stopLive();
    wakeSender();
    storageSet(STORAGE_SESSION, null);
    storageSet(STORAGE_OUTBOX, null);
    state.sessionKey = null;
    state.session = null;
    state.queue = null;
    state.ended = false;
    state.cursor = 0;
    state.outbox = [];
    state.socketEverReady = false;
    state.networkDown = false;
    resetConversationView();
    renderConnection();
  }

  function sessionLost() {
    if (!state.sessionKey) {
      return;
    }
    clearSession();
    showStartView();
    ui.startError.textContent = S.session_lost;
    ui.startError.hidden = false;
  }

  function newChat() {
    clearSession();
    ui.startForm.reset();
    ui.startError.hidden = true;
    showStartView();
    $("customer-name").focus();
  }

  // ---- start form ------------------------------------------------------------------------------

  var startFields = ["customer_name", "customer_email", "tracking_code", "topic"];

  function clearFieldErrors() {
    startFields.forEach(function (name) {
      var field = ui.startForm.elements[name];
      var error = $(field.id + "-error");
      field.removeAttribute("aria-invalid");
      if (error) {
        error.hidden = true;
        error.textContent = "";
      }
    });
    ui.startError.hidden = true;
    ui.startError.textContent = "";
  }

  function showFieldErrors(fields) {
    var firstInvalid = null;
    Object.keys(fields || {}).forEach(function (name) {
      var field = ui.startForm.elements[name];
      if (!field || startFields.indexOf(name) < 0) {
        return;
      }
      var error = $(field.id + "-error");
      field.setAttribute("aria-invalid", "true");
      error.textContent = (fields[name] || []).join(" ");
      error.hidden = false;
      firstInvalid = firstInvalid || field;
    });
    return firstInvalid;
  }

  function startChat(event) {
    event.preventDefault();
    clearFieldErrors();
    var body = {};
    startFields.forEach(function (name) {
      var value = ui.startForm.elements[name].value.trim();
      if (value) {
        body[name] = value;
      }
    });
    ui.startButton.disabled = true;
    api("POST", urls.session, body).then(function (result) {
      ui.startButton.disabled = false;
      if (result.status === 201 && result.data && result.data.session_id) {
        beginConversation(result.data);
        return;
      }
      var firstInvalid = result.status === 400 ? showFieldErrors((result.data || {}).fields) : null;
      if (firstInvalid) {
        firstInvalid.focus();
        return;
      }
      ui.startError.textContent = errorText(result);
      ui.startError.hidden = false;
    });
  }

  function beginConversation(session) {
    resetConversationView();
    state.sessionKey = session.session_id;
    state.ended = false;
    state.cursor = 0;
    storageSet(STORAGE_SESSION, session.session_id);
    showChatView();
    applySession(session, session.queue);
    ui.input.focus();
    startLive();
  }

  // ---- restore after a reload ------------------------------------------------------------------

  function restore(key) {
    state.sessionKey = key;
    showChatView();
    renderSessionState();
    api("GET", urls.session).then(function (result) {
      if (key !== state.sessionKey) {
        return;
      }
      if (result.status === 200 && result.data) {
        state.restoreAttempts = 0;
        applySession(result.data, result.data.queue);
        fetchMessages(0).then(function () {
          restoreOutbox();
          startLive();
        });
        return;
      }
      if (result.status === 404 || result.status === 400) {
        clearSession();
        showStartView();
        return;
      }
      setNetworkDown(result.status === 0);
      var delay = Math.max(
        result.retryAfter,
        backoff(state.restoreAttempts, SEND_BACKOFF_BASE_MS, RESTORE_BACKOFF_MAX_MS)
      );
      state.restoreAttempts += 1;
      setTimeout(function () {
        if (key === state.sessionKey) {
          restore(key);
        }
      }, delay);
    });
  }

  // ---- ending and rating -----------------------------------------------------------------------

  function askToEnd() {
    if (ui.endDialog && typeof ui.endDialog.showModal === "function") {
      ui.endDialog.returnValue = "";
      ui.endDialog.showModal();
    } else if (window.confirm(S.confirm_end)) {
      endChat();
    }
  }

  function endChat() {
    ui.endButton.disabled = true;
    showAlert("");
    api("POST", urls.end, { session_id: state.sessionKey }).then(function (result) {
      ui.endButton.disabled = false;
      if (result.status === 200 && result.data) {
        applySession(result.data, result.data.queue);
        ui.ratingTitle.focus();
        return;
      }
      if (result.status === 404) {
        sessionLost();
        return;
      }
      showAlert(errorText(result));
    });
  }

  function selectedRating() {
    var checked = ui.ratingForm.querySelector("input[name=rating]:checked");
    return checked ? parseInt(checked.value, 10) : null;
  }

  function paintStars(value) {
    if (value) {
      ui.ratingStars.dataset.value = String(value);
    } else {
      ui.ratingStars.removeAttribute("data-value");
    }
  }

  function submitRating(event) {
    event.preventDefault();
    var rating = selectedRating();
    ui.ratingError.hidden = true;
    if (!rating) {
      ui.ratingError.textContent = S.rating_required;
      ui.ratingError.hidden = false;
      ui.ratingForm.querySelector("input[name=rating]").focus();
      return;
    }
    ui.ratingSubmit.disabled = true;
    api("POST", urls.end, {
      session_id: state.sessionKey,
      rating: rating,
      comment: ui.ratingComment.value.trim(),
    }).then(function (result) {
      ui.ratingSubmit.disabled = false;
      if (result.status === 200 || (result.status === 409 && (result.data || {}).code === "already_rated")) {
        if (result.data && result.status === 200) {
          state.session = Object.assign({}, state.session, result.data);
        }
        showThanks(true);
        return;
      }
      if (result.status === 404) {
        sessionLost();
        return;
      }
      ui.ratingError.textContent = errorText(result);
      ui.ratingError.hidden = false;
    });
  }

  // ---- transcript ------------------------------------------------------------------------------

  function formatDate(value) {
    var date = new Date(value);
    return isNaN(date.getTime()) ? "" : fullDateFormat.format(date);
  }

  function buildTranscript() {
    var session = state.session || {};
    var lines = [S.transcript_title];
    if (session.started_at) {
      lines.push(format(S.transcript_started, { date: formatDate(session.started_at) }));
    }
    if (session.ended_at) {
      lines.push(format(S.transcript_ended, { date: formatDate(session.ended_at) }));
    }
    if (session.agent_name) {
      lines.push(format(S.transcript_agent, { agent: session.agent_name }));
    }
    if (session.tracking_code) {
      lines.push(format(S.transcript_tracking, { code: session.tracking_code }));
    }
    lines.push("");
    var customerName = (session.customer_name || "").trim() || S.you;
    Array.prototype.forEach.call(ui.log.children, function (node) {
      var entry = state.entryByElement.get(node);
      if (!entry || entry.state === "failed") {
        return;
      }
      var who = entry.author === "customer" ? customerName : authorLabel(entry);
      var body = String(entry.content).split(/\r\n|\r|\n/).join("\r\n    ");
      lines.push("[" + formatDate(entry.createdAt) + "] " + who + ": " + body);
    });
    return lines.join("\r\n") + "\r\n";
  }

  function downloadTranscript() {
    var blob = new Blob(["\ufeff" + buildTranscript()], { type: "text/plain;charset=utf-8" });
    var link = document.createElement("a");
    var day = new Date();
    var stamp =
      day.getFullYear() + "-" + String(day.getMonth() + 1).padStart(2, "0") + "-" +
      String(day.getDate()).padStart(2, "0");
    link.href = URL.createObjectURL(blob);
    link.download = S.transcript_filename + "-" + stamp + ".txt";
    link.hidden = true;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () {
      URL.revokeObjectURL(link.href);
    }, 10000);
  }

  // ---- composer ---------------------------------------------------------------------------------

  function updateComposer() {
    var length = ui.input.value.length;
    var left = maxLength - length;
    if (left <= COUNTER_SHOW_BELOW) {
      ui.counter.textContent = format(S.characters_left, { count: Math.max(left, 0) });
      ui.counter.hidden = false;
    } else {
      ui.counter.hidden = true;
    }
    ui.input.style.height = "auto";
    ui.input.style.height = Math.min(ui.input.scrollHeight + 3, 160) + "px";
  }

  function submitComposer(event) {
    if (event) {
      event.preventDefault();
    }
    var text = ui.input.value.trim();
    if (!text || state.ended || !state.sessionKey) {
      return;
    }
    if (text.length > maxLength) {
      updateComposer();
      return;
    }
    stopTyping();
    ui.input.value = "";
    updateComposer();
    sendMessage(text);
    ui.input.focus();
  }

  // ---- wiring ------------------------------------------------------------------------------------

  ui.startForm.addEventListener("submit", startChat);
  ui.composer.addEventListener("submit", submitComposer);
  ui.input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      submitComposer();
    }
  });
  ui.input.addEventListener("input", function () {
    updateComposer();
    typingActivity();
  });
  ui.input.addEventListener("blur", stopTyping);
  ui.endButton.addEventListener("click", askToEnd);
  if (ui.endDialog) {
    ui.endDialog.addEventListener("close", function () {
      if (ui.endDialog.returnValue === "confirm") {
        endChat();
      } else if (!ui.endButton.hidden) {
        ui.endButton.focus();
      }
    });
  }
  ui.downloadButton.addEventListener("click", downloadTranscript);
  ui.ratingForm.addEventListener("submit", submitRating);
  ui.ratingForm.addEventListener("change", function () {
    paintStars(selectedRating());
    ui.ratingError.hidden = true;
  });
  Array.prototype.forEach.call(ui.ratingStars.querySelectorAll("label"), function (label, index) {
    label.addEventListener("mouseenter", function () {
      paintStars(index + 1);
    });
    label.addEventListener("mouseleave", function () {
      paintStars(selectedRating());
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-action=new-chat]"), function (button) {
    button.addEventListener("click", newChat);
  });

  window.addEventListener("online", function () {
    setNetworkDown(false);
    wakeSender();
    if (state.live && !state.socket) {
      connectSocket();
    }
    if (state.polling) {
      fetchMessages(state.cursor);
    }
  });
  window.addEventListener("offline", function () {
    setNetworkDown(true);
  });
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      return;
    }
    clearUnread();
    if (state.live && !state.socket) {
      connectSocket();
    }
  });

  window.jtChat = Object.freeze({
    state: function () {
      return {
        connection: state.transport,
        socketReady: state.socketReady,
        polling: state.polling,
        cursor: state.cursor,
        outbox: state.outbox.length,
        status: state.session ? state.session.status : null,
      };
    },
    dropSocket: function () {
      return dropSocket(state.socket);
    },
  });

  updateComposer();
  var storedKey = storageGet(STORAGE_SESSION);
  if (storedKey) {
    restore(storedKey);
  } else {
    showStartView();
  }
})();
