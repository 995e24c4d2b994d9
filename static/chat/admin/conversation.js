/* The conversation page: live transcript, typing, reply box with canned responses and files
 * (a module on lib/, agent-socket.js and attachments.js).
 *
 * Message text is only ever set with textContent. Replies go to the admin's reply URL
 * (the same service as everywhere) and the answer is shown at once; the socket's copy of
 * the same message is recognised by its id and not shown twice.
 */
import { format } from "../lib/format.js";
import { request, withRetries } from "../lib/http.js";
import { newClientId } from "../lib/ids.js";
import { clockTime } from "../lib/time.js";
import { connectAgentSocket, setLiveState } from "./agent-socket.js";
import { attachToReplyForm, renderFiles } from "./attachments.js";
import { attachCannedResponses } from "./canned.js";

const configElement = document.getElementById("conversation-config");
if (configElement) {
  conversation(configElement);
}

function conversation(configElement) {
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
  var CATCH_UP_RETRIES = 8;
  var CATCH_UP_RETRY_BASE_MS = 1000;
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
    var files = document.createElement("ul");
    files.className = "msg-files";
    renderFiles(files, message.attachments, S);
    item.append(meta, files);
    if (message.content) {
      var body = document.createElement("p");
      body.className = "msg-body";
      body.textContent = message.content;
      item.appendChild(body);
    }

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
  function catchUp(after) {
    var url = config.urls.messages + "?after=" + encodeURIComponent(after);
    return withRetries(
      function () {
        return request("GET", url);
      },
      { attempts: 1 + CATCH_UP_RETRIES, base: CATCH_UP_RETRY_BASE_MS, max: CATCH_UP_RETRY_MAX_MS }
    ).then(function (answer) {
      if (answer.ok && answer.data) {
        (answer.data.messages || []).forEach(appendMessage);
      }
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
    return request("POST", url, { form: body });
  }

  function markReadSoon() {
    if (readTimer || document.visibilityState !== "visible") {
      return;
    }
    readTimer = window.setTimeout(function () {
      readTimer = null;
      if (lastMessageId > readUpTo && config.assignedAgentId === config.userId) {
        readUpTo = lastMessageId;
        post(config.urls.read, { up_to: String(lastMessageId) });
      }
    }, 1000);
  }

  document.addEventListener("visibilitychange", markReadSoon);

  /* --- chat state ---------------------------------------------------------------------- */

  /* The reply e-mail's state (chat/services/emails.py) changes when the sender runs. */
  function updateEmailStatus(session) {
    var box = document.getElementById("chat-email");
    var line = document.getElementById("chat-email-live");
    if (!box || !line || typeof session.email_status !== "string") {
      return;
    }
    if (session.email_status === box.dataset.emailStatus) {
      return;
    }
    box.dataset.emailStatus = session.email_status;
    line.textContent = S.emailStatus[session.email_status] || "";
    line.hidden = !line.textContent;
  }

  function updateSession(session) {
    updateEmailStatus(session);
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
      notice.textContent = format(S.nowWith, { agent: session.agent_name || "" });
      notice.hidden = false;
    }
  }

  /* --- typing ------------------------------------------------------------------------ */

  var customerTypingTimer = null;

  function showCustomerTyping(on) {
    window.clearTimeout(customerTypingTimer);
    typingLine.hidden = !on;
    typingLine.textContent = on ? format(S.typing, { name: S.customer }) : "";
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

  /* --- sending --------------------------------------------------------------------- */

  function showError(text) {
    errorLine.textContent = text;
    errorLine.hidden = !text;
  }

  function sent(message) {
    appendMessage(message);
    textarea.value = "";
    clientIdInput.value = newClientId();
    sendTyping(false);
    scrollToEnd();
  }

  function send(event) {
    event.preventDefault();
    if (files && files.hasFiles()) {
      canned.close();
      showError("");
      sendButton.disabled = true;
      files.send(sent).finally(function () {
        sendButton.disabled = false;
        textarea.focus();
      });
      return;
    }
    if (!textarea.value.trim()) {
      textarea.focus();
      return;
    }
    canned.close();
    showError("");
    sendButton.disabled = true;
    sendButton.dataset.label = sendButton.dataset.label || sendButton.textContent;
    sendButton.textContent = S.sending;
    var sentText = textarea.value;
    request("POST", form.action, { form: new FormData(form) })
      .then(function (answer) {
        if (answer.status === 0) {
          // Not known whether it arrived: keep the text and the client id, so that sending
          // again is a harmless retry.
          showError(format(S.sendFailed, { reason: S.offline }));
          return;
        }
        if (!answer.ok || !answer.data) {
          var reason = answer.data ? answer.data.error || "" : String(answer.status);
          showError(format(S.sendFailed, { reason: reason }));
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
      .finally(function () {
        sendButton.disabled = false;
        sendButton.textContent = sendButton.dataset.label;
        textarea.focus();
      });
  }

  var canned = null;
  var files = null;
  if (form) {
    files = attachToReplyForm({
      form: form,
      textarea: textarea,
      url: config.urls.attachments,
      strings: S,
      onError: showError,
    });
    canned = attachCannedResponses({
      textarea: textarea,
      suggestions: suggestions,
      select: cannedSelect,
      items: config.canned || [],
      onInsert: agentTyped,
    });
    form.addEventListener("submit", send);
    textarea.addEventListener("input", agentTyped);
    textarea.addEventListener("keydown", function (event) {
      if (canned.handleKey(event)) {
        return;
      }
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
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

  socket = connectAgentSocket({
    baseUrl: page.dataset.wsUrl,
    onState: function (state) {
      setLiveState(liveState, state, S);
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
}
