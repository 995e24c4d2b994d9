/* The conversation page: live transcript, typing, reply box with canned responses.
 *
 * Message text is only ever set with textContent. Replies go to the admin's reply URL
 * (the same service as everywhere) and the answer is shown at once; the socket's copy of
 * the same message is recognised by its id and not shown twice.
 */
(function () {
  "use strict";

  var Live = window.JTAgentSocket;
  var configElement = document.getElementById("conversation-config");
  if (!Live || !configElement) {
    return;
  }
  var config = JSON.parse(configElement.textContent);
  var S = config.strings;
  var page = document.querySelector(".chat-page");
  var transcript = document.getElementById("transcript");
  var typingLine = document.getElementById("typing-indicator");
  var notice = document.getElementById("chat-notice");
  var statusBadge = document.getElementById("chat-status");
  var agentLabel = document.getElementById("chat-agent");
  var liveState = document.getElementById("live-state");
  var form = document.getElementById("reply-form");
  var textarea = document.getElementById("reply-content");
  var suggestions = document.getElementById("canned-suggestions");
  var cannedSelect = document.getElementById("canned-select");
  var errorLine = document.getElementById("reply-error");
  var sendButton = document.getElementById("reply-send");
  var clientIdInput = document.getElementById("reply-client-id");

  var TYPING_REPEAT_MS = 3000;
  var TYPING_IDLE_MS = 4000;
  var CUSTOMER_TYPING_TIMEOUT_MS = 8000;
  var CATCH_UP_ATTEMPTS = 8;
  var CATCH_UP_RETRY_MAX_MS = 15000;

  var lastMessageId = config.lastMessageId || 0;
  var known = new Set();
  transcript.querySelectorAll("[data-message-id]").forEach(function (item) {
    known.add(Number(item.dataset.messageId));
  });
  var socket = null;
  var catchUpFrom = lastMessageId;

  /* --- transcript ------------------------------------------------------------------ */

  function nearBottom() {
    return transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 80;
  }

  function scrollToEnd() {
    transcript.scrollTop = transcript.scrollHeight;
  }

  function clockTime(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) {
      return "";
    }
    return date.toLocaleTimeString(document.documentElement.lang || undefined, {
      hour: "2-digit",
      minute: "2-digit",
    });
  }

  function authorLabel(message) {
    var who;
    if (message.author === "customer") {
      who = S.customer;
    } else if (message.author === "agent") {
      who = message.agent_name || S.agent;
    } else {
      who = S.system;
    }
    return message.is_internal ? S.note + " · " + who : who;
  }

  function appendMessage(message) {
    if (!message || known.has(message.id)) {
      return;
    }
    known.add(message.id);
    var stick = nearBottom() || message.author === "agent";
    var item = document.createElement("li");
    item.className = "msg msg-" + message.author + (message.is_internal ? " msg-note" : "");
    item.dataset.messageId = String(message.id);
    var meta = document.createElement("div");
    meta.className = "msg-meta";
    var author = document.createElement("span");
    author.className = "msg-author";
    author.textContent = authorLabel(message);
    var time = document.createElement("time");
    time.dateTime = message.created_at;
    time.textContent = clockTime(message.created_at);
    meta.append(author, " ", time);
    var body = document.createElement("p");
    body.className = "msg-body";
    body.textContent = message.content;
    item.append(meta, body);

    // Keep id order even when a catch-up answer and a live event cross.
    var after = null;
    transcript.querySelectorAll("[data-message-id]").forEach(function (existing) {
      if (!after && Number(existing.dataset.messageId) > message.id) {
        after = existing;
      }
    });
    transcript.insertBefore(item, after);
    if (message.id > lastMessageId) {
      lastMessageId = message.id;
    }
    if (message.author === "customer") {
      showCustomerTyping(false);
      markReadSoon();
    }
    if (stick) {
      scrollToEnd();
    }
  }

  /* Every message after ``after``. A failed read is tried again from the same id: live
   * messages arriving meanwhile move lastMessageId past the ones this read must bring. */
  function catchUp(after, attempt) {
    var tries = attempt || 0;
    var url = config.urls.messages + "?after=" + encodeURIComponent(after);
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          var error = new Error("catch-up answered " + response.status);
          error.retry = response.status >= 500 || response.status === 429 || response.status === 408;
          throw error;
        }
        return response.json();
      })
      .then(function (data) {
        (data.messages || []).forEach(appendMessage);
      })
      .catch(function (error) {
        if (error.retry === false || tries >= CATCH_UP_ATTEMPTS) {
          return;
        }
        window.setTimeout(function () {
          catchUp(after, tries + 1);
        }, Math.min(CATCH_UP_RETRY_MAX_MS, 1000 * Math.pow(2, tries)));
      });
  }

  /* --- read marks ---------------------------------------------------------------------- */

  var readTimer = null;
  var readUpTo = config.readMessageId || 0; // the stored mark: what the page shows is marked by a POST

  function post(url, fields) {
    var body = new FormData();
    Object.keys(fields).forEach(function (key) {
      body.append(key, fields[key]);
    });
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": Live.csrfToken(), Accept: "application/json" },
      body: body,
    });
  }

  function markReadSoon() {
    if (readTimer || document.visibilityState !== "visible") {
      return;
    }
    readTimer = window.setTimeout(function () {
      readTimer = null;
      if (lastMessageId > readUpTo && config.assignedAgentId === config.userId) {
        readUpTo = lastMessageId;
        post(config.urls.read, { up_to: String(lastMessageId) }).catch(function () {});
      }
    }, 1000);
  }

  document.addEventListener("visibilitychange", markReadSoon);

  /* --- chat state ---------------------------------------------------------------------- */

  function updateSession(session) {
    var previousAgent = config.assignedAgentId;
    config.status = session.status;
    config.assignedAgentId = session.assigned_agent;
    statusBadge.dataset.status = session.status;
    statusBadge.className = "chat-status chat-status-" + session.status;
    statusBadge.textContent = S.statuses[session.status] || statusBadge.textContent;
    agentLabel.textContent = session.agent_name || "";
    if (session.status === "ended") {
      notice.textContent = S.ended;
      notice.hidden = false;
      if (form) {
        form.hidden = true;
      }
      var actions = document.getElementById("chat-actions");
      if (actions) {
        actions.hidden = true;
      }
      showCustomerTyping(false);
      return;
    }
    if (session.status !== "waiting") {
      var claim = document.getElementById("claim-form");
      if (claim) {
        claim.hidden = true;
      }
    }
    if (session.assigned_agent && session.assigned_agent !== previousAgent && session.assigned_agent !== config.userId) {
      notice.textContent = Live.format(S.nowWith, { agent: session.agent_name || "" });
      notice.hidden = false;
    }
  }

  /* --- typing ------------------------------------------------------------------------ */

  var customerTypingTimer = null;

  function showCustomerTyping(on) {
    window.clearTimeout(customerTypingTimer);
    typingLine.hidden = !on;
    typingLine.textContent = on ? Live.format(S.typing, { name: S.customer }) : "";
    if (on) {
      customerTypingTimer = window.setTimeout(function () {
        showCustomerTyping(false);
      }, CUSTOMER_TYPING_TIMEOUT_MS);
    }
  }

  var typingSentAt = 0;
  var typingIdleTimer = null;

  function sendTyping(on) {
    if (!socket) {
      return;
    }
    socket.send({ type: "typing", session_id: config.sessionId, typing: on });
    typingSentAt = on ? Date.now() : 0;
  }

  function agentTyped() {
    if (Date.now() - typingSentAt > TYPING_REPEAT_MS) {
      sendTyping(true);
    }
    window.clearTimeout(typingIdleTimer);
    typingIdleTimer = window.setTimeout(function () {
      sendTyping(false);
    }, TYPING_IDLE_MS);
  }

  /* --- canned responses ------------------------------------------------------------- */

  var canned = config.canned || [];
  var highlighted = -1;
  var shown = [];

  function slashToken() {
    var upto = textarea.value.slice(0, textarea.selectionStart);
    var match = upto.match(/(^|\s)\/([\w-]*)$/);
    return match ? { start: upto.length - match[2].length - 1, text: match[2].toLowerCase() } : null;
  }

  function closeSuggestions() {
    suggestions.hidden = true;
    suggestions.replaceChildren();
    shown = [];
    highlighted = -1;
    textarea.removeAttribute("aria-activedescendant");
  }

  function renderSuggestions(token) {
    shown = canned.filter(function (item) {
      return item.shortcut.toLowerCase().indexOf(token.text) === 0;
    });
    suggestions.replaceChildren();
    if (!shown.length) {
      closeSuggestions();
      return;
    }
    shown.forEach(function (item, index) {
      var option = document.createElement("li");
      option.id = "canned-option-" + index;
      option.setAttribute("role", "option");
      option.dataset.shortcut = item.shortcut;
      var code = document.createElement("strong");
      code.textContent = "/" + item.shortcut;
      var title = document.createElement("span");
      title.textContent = " " + item.title;
      option.append(code, title);
      option.addEventListener("mousedown", function (event) {
        event.preventDefault();
        insertCanned(item, slashToken());
      });
      suggestions.append(option);
    });
    suggestions.hidden = false;
    highlight(0);
  }

  function highlight(index) {
    var options = suggestions.querySelectorAll("[role=option]");
    if (!options.length) {
      return;
    }
    highlighted = (index + options.length) % options.length;
    options.forEach(function (option, position) {
      option.setAttribute("aria-selected", position === highlighted ? "true" : "false");
    });
    textarea.setAttribute("aria-activedescendant", options[highlighted].id);
  }

  function insertCanned(item, token) {
    var value = textarea.value;
    var start = token ? token.start : textarea.selectionStart;
    var end = textarea.selectionStart;
    if (!token) {
      end = textarea.selectionEnd;
    }
    textarea.value = value.slice(0, start) + item.text + value.slice(end);
    var caret = start + item.text.length;
    textarea.focus();
    textarea.setSelectionRange(caret, caret);
    closeSuggestions();
    agentTyped();
  }

  /* --- sending --------------------------------------------------------------------- */

  function newClientId() {
    if (window.crypto && window.crypto.randomUUID) {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.from(bytes, function (value) {
      return value.toString(16).padStart(2, "0");
    }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function showError(text) {
    errorLine.textContent = text;
    errorLine.hidden = !text;
  }

  function send(event) {
    event.preventDefault();
    if (!textarea.value.trim()) {
      textarea.focus();
      return;
    }
    closeSuggestions();
    showError("");
    sendButton.disabled = true;
    sendButton.dataset.label = sendButton.dataset.label || sendButton.textContent;
    sendButton.textContent = S.sending;
    var sentText = textarea.value;
    fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": Live.csrfToken() },
      body: new FormData(form),
    })
      .then(function (response) {
        return response.json().then(
          function (data) {
            return { ok: response.ok, data: data };
          },
          function () {
            return { ok: false, data: { error: String(response.status) } };
          }
        );
      })
      .then(function (answer) {
        if (!answer.ok) {
          showError(Live.format(S.sendFailed, { reason: answer.data.error || "" }));
          return;
        }
        appendMessage(answer.data.message);
        if (answer.data.session) {
          updateSession(answer.data.session);
        }
        if (textarea.value === sentText) {
          textarea.value = "";
        }
        clientIdInput.value = newClientId();
        sendTyping(false);
        scrollToEnd();
      })
      .catch(function () {
        // Not known whether it arrived: keep the text and the client id, so that sending
        // again is a harmless retry.
        showError(Live.format(S.sendFailed, { reason: S.offline }));
      })
      .finally(function () {
        sendButton.disabled = false;
        sendButton.textContent = sendButton.dataset.label;
        textarea.focus();
      });
  }

  if (form) {
    form.addEventListener("submit", send);
    textarea.addEventListener("input", function () {
      var token = slashToken();
      if (token) {
        renderSuggestions(token);
      } else {
        closeSuggestions();
      }
      agentTyped();
    });
    textarea.addEventListener("keydown", function (event) {
      if (!suggestions.hidden) {
        if (event.key === "ArrowDown" || event.key === "ArrowUp") {
          event.preventDefault();
          highlight(highlighted + (event.key === "ArrowDown" ? 1 : -1));
          return;
        }
        if (event.key === "Enter" || event.key === "Tab") {
          event.preventDefault();
          insertCanned(shown[highlighted], slashToken());
          return;
        }
        if (event.key === "Escape") {
          event.preventDefault();
          closeSuggestions();
          return;
        }
      }
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    textarea.addEventListener("blur", function () {
      window.setTimeout(closeSuggestions, 150);
    });
    cannedSelect.addEventListener("change", function () {
      var item = canned.find(function (entry) {
        return entry.shortcut === cannedSelect.value;
      });
      cannedSelect.value = "";
      if (item) {
        insertCanned(item, slashToken());
      }
    });
  }

  document.querySelectorAll("form[data-confirm]").forEach(function (element) {
    element.addEventListener("submit", function (event) {
      if (!window.confirm(element.dataset.confirm)) {
        event.preventDefault();
      }
    });
  });

  /* --- the socket -------------------------------------------------------------------- */

  socket = Live.connect({
    baseUrl: page.dataset.wsUrl,
    onState: function (state) {
      Live.setLiveState(liveState, state, S);
    },
    onReady: function () {
      // What may have been missed is after the last message shown now: the chat's own agent
      // gets its messages live from here on, before the watch answers, and those move
      // lastMessageId past the gap.
      catchUpFrom = lastMessageId;
      // This transcript's events come to watchers (the inbox gets status changes only).
      socket.send({ type: "watch", session_id: config.sessionId });
    },
    onEvent: function (event) {
      if (event.session_id !== undefined && event.session_id !== config.sessionId) {
        return;
      }
      if (event.type === "watching") {
        catchUp(catchUpFrom); // whatever came between the page (or the last drop) and the watch
      } else if (event.type === "message") {
        appendMessage(event.message);
      } else if (event.type === "typing" && event.author === "customer") {
        showCustomerTyping(Boolean(event.typing));
      } else if (event.type === "session" && event.session && event.session.id === config.sessionId) {
        updateSession(event.session);
      }
    },
  });

  scrollToEnd();
  markReadSoon();
})();
