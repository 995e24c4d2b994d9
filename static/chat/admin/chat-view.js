/* One chat on the conversation screen (the #chat-view the server drew for it): the live
 * transcript (with its files: attachments.js), typing, the reply box (Enter sends,
 * Shift+Enter adds a line, canned responses, photos and PDFs), read marks, the details panel
 * and claim/transfer/end. conversation.js mounts
 * one for the chat on screen and unmounts it when the agent opens another.
 *
 * Message text is only ever set with textContent. Replies and actions go to the admin's
 * URLs (the same services as everywhere) and their answers are shown at once; the socket's
 * copy of a message is recognised by its id and not shown twice.
 *
 * Longer than most modules (~490 lines): the transcript, the reply box, the read marks and
 * the actions all read and change one chat's state (its last message id, read mark, status
 * and agent), and all of it must stop at once when the agent opens another chat (unmount).
 */
import { clockElement, renderClocks } from "../lib/clock.js";
import { format } from "../lib/format.js";
import { request, withRetries } from "../lib/http.js";
import { newClientId } from "../lib/ids.js";
import { attachToReplyForm, renderFiles } from "./attachments.js";
import { attachCannedResponses } from "./canned.js";
import { updateDetails } from "./details.js";

const TYPING_REPEAT_MS = 3000;
const TYPING_IDLE_MS = 4000;
const CUSTOMER_TYPING_TIMEOUT_MS = 8000;
const CATCH_UP_RETRIES = 8;
const CATCH_UP_RETRY_BASE_MS = 1000;
const CATCH_UP_RETRY_MAX_MS = 15000;
const READ_DELAY_MS = 1000;

/**
 * Mount the chat drawn in ``root``. ``desk``: the page's desk (socket, labels, the agent);
 * ``onSession(session)``: the chat changed (claimed, answered, ended…), for the list;
 * ``draft``: unsent text to put back in the reply box.
 */
export function mountChatView(root, { desk, onSession = () => {}, draft = "" }) {
  const config = JSON.parse(root.querySelector("#conversation-config").textContent);
  const S = config.strings;
  const find = (id) => root.querySelector("#" + id);
  const transcript = find("transcript");
  const typingLine = find("typing-indicator");
  const notice = find("chat-notice");
  const statusBadge = find("chat-status");
  const agentLabel = find("chat-agent");
  const form = find("reply-form");
  const textarea = find("reply-content");
  const errorLine = find("reply-error");
  const sendButton = find("reply-send");
  const clientIdInput = find("reply-client-id");
  const actionError = find("action-error");
  const userId = desk.config.userId;

  let lastMessageId = config.lastMessageId || 0;
  let catchUpFrom = lastMessageId;
  let mounted = true;
  const known = new Set();
  const timers = new Set();
  transcript.querySelectorAll("[data-message-id]").forEach((item) => known.add(Number(item.dataset.messageId)));

  function later(callback, ms) {
    const timer = window.setTimeout(() => {
      timers.delete(timer);
      if (mounted) {
        callback();
      }
    }, ms);
    timers.add(timer);
    return timer;
  }

  function cancel(timer) {
    window.clearTimeout(timer);
    timers.delete(timer);
  }

  /* --- transcript ------------------------------------------------------------------ */

  function nearBottom() {
    return transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 80;
  }

  function scrollToEnd() {
    transcript.scrollTop = transcript.scrollHeight;
  }

  function authorLabel(message) {
    let who;
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
    const stick = nearBottom() || message.author === "agent";
    const item = document.createElement("li");
    item.className = "msg msg-" + message.author + (message.is_internal ? " msg-note" : "");
    item.dataset.messageId = String(message.id);
    const meta = document.createElement("div");
    meta.className = "msg-meta";
    const author = document.createElement("span");
    author.className = "msg-author";
    author.textContent = authorLabel(message);
    meta.append(author, " ", clockElement(message.created_at, "time"));
    const files = document.createElement("ul");
    files.className = "msg-files";
    renderFiles(files, message.attachments, S);
    item.append(meta, files);
    if (message.content) {
      const body = document.createElement("p");
      body.className = "msg-body";
      body.textContent = message.content;
      item.append(body);
    }

    // Keep id order even when a catch-up answer and a live event cross.
    const after = Array.from(transcript.querySelectorAll("[data-message-id]")).find(
      (existing) => Number(existing.dataset.messageId) > message.id
    );
    transcript.insertBefore(item, after || null);
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
    const url = config.urls.messages + "?after=" + encodeURIComponent(after);
    return withRetries(() => request("GET", url), {
      attempts: 1 + CATCH_UP_RETRIES,
      base: CATCH_UP_RETRY_BASE_MS,
      max: CATCH_UP_RETRY_MAX_MS,
      cancelled: () => !mounted,
    }).then((answer) => {
      if (answer && answer.ok && answer.data) {
        (answer.data.messages || []).forEach(appendMessage);
      }
    });
  }

  /* --- read marks: what the page shows is marked read with a POST ----------------------- */

  let readTimer = null;
  let readUpTo = config.readMessageId || 0;

  function post(url, fields) {
    const body = new FormData();
    Object.entries(fields).forEach(([key, value]) => body.append(key, value));
    return request("POST", url, { form: body });
  }

  function markReadSoon() {
    if (readTimer || document.visibilityState !== "visible") {
      return;
    }
    readTimer = later(() => {
      readTimer = null;
      if (lastMessageId > readUpTo && config.assignedAgentId === userId) {
        readUpTo = lastMessageId;
        post(config.urls.read, { up_to: String(lastMessageId) });
      }
    }, READ_DELAY_MS);
  }

  document.addEventListener("visibilitychange", markReadSoon);

  /* --- the chat's state ------------------------------------------------------------------ */

  function hide(id) {
    const element = find(id);
    if (element) {
      element.hidden = true;
    }
  }

  /* The reply e-mail's state (chat/services/emails.py) changes when the sender runs. */
  function updateEmailStatus(session) {
    const box = find("chat-email");
    const line = find("chat-email-live");
    if (!box || !line || typeof session.email_status !== "string") {
      return;
    }
    if (session.email_status === box.dataset.emailStatus) {
      return;
    }
    box.dataset.emailStatus = session.email_status;
    line.textContent = (S.emailStatus && S.emailStatus[session.email_status]) || "";
    line.hidden = !line.textContent;
  }

  function updateSession(session) {
    if (!session || session.id !== config.sessionId) {
      return;
    }
    updateEmailStatus(session);
    const previousAgent = config.assignedAgentId;
    config.session = session;
    config.status = session.status;
    config.assignedAgentId = session.assigned_agent;
    const labels = desk.config.labels;
    statusBadge.dataset.status = session.status;
    statusBadge.className = "chat-status chat-status-" + session.status;
    statusBadge.textContent = labels.statuses[session.status] || statusBadge.textContent;
    agentLabel.textContent = session.agent_name || "";
    updateDetails(root, session, labels, S);
    onSession(session);
    if (session.status === "ended") {
      notice.textContent = S.ended;
      notice.hidden = false;
      hide("reply-form");
      hide("chat-actions");
      showCustomerTyping(false);
      return;
    }
    if (session.status !== "waiting") {
      hide("claim-form");
    }
    // Nobody transfers a chat to the agent who has it.
    const transferTo = find("transfer-to");
    if (transferTo) {
      transferTo.querySelectorAll("option[value]:not([value=''])").forEach((option) => {
        const holder = Number(option.value) === session.assigned_agent;
        option.hidden = holder;
        option.disabled = holder;
      });
    }
    if (session.assigned_agent && session.assigned_agent !== previousAgent && session.assigned_agent !== userId) {
      notice.textContent = format(S.nowWith, { agent: session.agent_name || "" });
      notice.hidden = false;
    }
  }

  /* --- typing ------------------------------------------------------------------------ */

  let customerTypingTimer = null;

  function showCustomerTyping(on) {
    cancel(customerTypingTimer);
    typingLine.hidden = !on;
    typingLine.textContent = on ? format(S.typing, { name: S.customer }) : "";
    if (on) {
      customerTypingTimer = later(() => showCustomerTyping(false), CUSTOMER_TYPING_TIMEOUT_MS);
    }
  }

  let typingSentAt = 0;
  let typingIdleTimer = null;

  function sendTyping(on) {
    desk.send({ type: "typing", session_id: config.sessionId, typing: on });
    typingSentAt = on ? Date.now() : 0;
  }

  function agentTyped() {
    if (Date.now() - typingSentAt > TYPING_REPEAT_MS) {
      sendTyping(true);
    }
    cancel(typingIdleTimer);
    typingIdleTimer = later(() => sendTyping(false), TYPING_IDLE_MS);
  }

  /* --- sending --------------------------------------------------------------------------- */

  function showError(line, text) {
    if (line) {
      line.textContent = text;
      line.hidden = !text;
    }
  }

  let canned = null;
  let files = null;

  function sentWithFiles(message) {
    appendMessage(message);
    textarea.value = "";
    clientIdInput.value = newClientId();
    sendTyping(false);
    scrollToEnd();
  }

  function send(event) {
    event.preventDefault();
    if (files && files.hasFiles()) {
      // Photos and PDFs go with their caption to the staff API (attachments.js).
      if (sendButton.disabled) {
        return;
      }
      canned.close();
      showError(errorLine, "");
      sendButton.disabled = true;
      files.send(sentWithFiles).finally(() => {
        sendButton.disabled = false;
        if (mounted) {
          textarea.focus();
        }
      });
      return;
    }
    if (!textarea.value.trim()) {
      textarea.focus();
      return;
    }
    if (sendButton.disabled) {
      return; // one send at a time: Enter pressed again while the first is on its way
    }
    canned.close();
    showError(errorLine, "");
    sendButton.disabled = true;
    sendButton.dataset.label = sendButton.dataset.label || sendButton.textContent;
    sendButton.textContent = S.sending;
    const sentText = textarea.value;
    request("POST", form.action, { form: new FormData(form) })
      .then((answer) => {
        if (!mounted) {
          return;
        }
        if (answer.status === 0) {
          // Not known whether it arrived: keep the text and the client id, so that sending
          // again is a harmless retry.
          showError(errorLine, format(S.sendFailed, { reason: S.offline }));
          return;
        }
        if (!answer.ok || !answer.data) {
          const reason = answer.data ? answer.data.error || "" : String(answer.status);
          showError(errorLine, format(S.sendFailed, { reason }));
          return;
        }
        appendMessage(answer.data.message);
        updateSession(answer.data.session);
        if (textarea.value === sentText) {
          textarea.value = "";
        }
        clientIdInput.value = newClientId();
        sendTyping(false);
        scrollToEnd();
      })
      .finally(() => {
        sendButton.disabled = false;
        sendButton.textContent = sendButton.dataset.label;
        if (mounted && !form.hidden) {
          textarea.focus();
        }
      });
  }

  if (form) {
    textarea.value = draft; // what the agent had typed here before opening another chat
    files = attachToReplyForm({
      form,
      textarea,
      url: config.urls.attachments,
      strings: S,
      onError: (text) => showError(errorLine, text),
    });
    canned = attachCannedResponses({
      textarea,
      suggestions: find("canned-suggestions"),
      select: find("canned-select"),
      items: config.canned || [],
      onInsert: agentTyped,
    });
    form.addEventListener("submit", send);
    textarea.addEventListener("input", agentTyped);
    textarea.addEventListener("keydown", (event) => {
      if (canned.handleKey(event)) {
        return;
      }
      if (event.key === "Enter" && !event.shiftKey && !event.altKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      } else if (event.key === "Escape") {
        // Out of the box, so that the letter shortcuts work (the help says so).
        event.preventDefault();
        transcript.focus();
      }
    });
  }

  /* --- claim, transfer, end ------------------------------------------------------------- */

  root.querySelectorAll("#chat-actions form").forEach((actionForm) => {
    actionForm.addEventListener("submit", (event) => {
      event.preventDefault();
      if (actionForm.dataset.confirm && !window.confirm(actionForm.dataset.confirm)) {
        return;
      }
      const button = actionForm.querySelector("button[type=submit]");
      button.disabled = true;
      showError(actionError, "");
      request("POST", actionForm.action, { form: new FormData(actionForm) })
        .then((answer) => {
          if (!mounted) {
            return;
          }
          if (!answer.ok || !answer.data || !answer.data.session) {
            const reason = answer.data ? answer.data.error || "" : S.offline;
            showError(actionError, format(S.actionFailed, { reason }));
            return;
          }
          actionForm.reset();
          updateSession(answer.data.session);
          if (answer.data.done && actionForm.id === "transfer-form") {
            notice.textContent = answer.data.done;
            notice.hidden = false;
          }
        })
        .finally(() => {
          button.disabled = false;
        });
    });
  });

  /* --- what conversation.js calls --------------------------------------------------------- */

  function handle(event) {
    if (event.session_id !== undefined && event.session_id !== config.sessionId) {
      return;
    }
    if (event.type === "watching") {
      catchUp(catchUpFrom); // whatever came between the page (or the last drop) and the watch
    } else if (event.type === "message") {
      appendMessage(event.message);
    } else if (event.type === "typing" && event.author === "customer") {
      showCustomerTyping(Boolean(event.typing));
    } else if (event.type === "session" && event.session) {
      updateSession(event.session);
    }
  }

  function submit(id) {
    const actionForm = find(id);
    if (actionForm && !actionForm.hidden && actionForm.closest("[hidden]") === null) {
      actionForm.requestSubmit();
      return true;
    }
    return false;
  }

  function focusReply() {
    if (form && !form.hidden && textarea) {
      textarea.focus();
      return true;
    }
    return false;
  }

  renderClocks(root);
  scrollToEnd();
  markReadSoon();

  return {
    id: config.sessionId,
    title: config.title,
    /** The socket is (again) ready: catch up from what is shown now, once watching. */
    socketReady() {
      catchUpFrom = lastMessageId;
    },
    handle,
    focusReply,
    claim: () => submit("claim-form"),
    end: () => submit("end-form"),
    /** The unsent text in the reply box. */
    draft: () => (form && textarea ? textarea.value : ""),
    unmount() {
      mounted = false;
      timers.forEach((timer) => window.clearTimeout(timer));
      timers.clear();
      document.removeEventListener("visibilitychange", markReadSoon);
      if (form && typingSentAt) {
        sendTyping(false);
      }
    },
  };
}
