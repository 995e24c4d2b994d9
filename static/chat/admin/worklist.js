/* The conversation screen's list of chats: the agent's open chats and the waiting queue,
 * each with its unread count and how long the customer has waited (coloured against the
 * first-response target), kept true by the socket's events (chats.js) and drawn here.
 * Choosing a chat asks conversation.js to open it without leaving the page.
 */
import { format } from "../lib/format.js";
import { shortDuration } from "../lib/time.js";
import { applyEvent, compareRows, fetchRows, preview, rowFromSession } from "./chats.js";

const TICK_MS = 15000;
const PREVIEW_CHARS = 60;

/**
 * ``data``: the page's worklist (mine, queue, queueLimit, strings); ``desk``: the page's
 * desk; ``open(id)``: open chat ``id``. Returns { handle(event), setCurrent(id),
 * neighbour(step) → id or null, has(id) }.
 */
export function createWorklist({ root, data, desk, open }) {
  const S = data.strings;
  const D = desk.config.strings;
  const userId = desk.config.userId;
  const mineList = root.querySelector("#worklist-mine");
  const queueList = root.querySelector("#worklist-queue");
  const mineCount = root.querySelector("#worklist-mine-count");
  const queueCount = root.querySelector("#worklist-queue-count");
  const more = root.querySelector("#worklist-more");
  const chats = new Map();
  let current = null;
  let drawTimer = null;

  [...data.mine, ...data.queue].forEach((row) => chats.set(row.id, row));

  const isMine = (row) => row.status !== "ended" && row.assigned_agent === userId;
  const isWaiting = (row) => row.status === "waiting";

  /* --- drawing ---------------------------------------------------------------------- */

  function waitClass(seconds) {
    const sla = desk.config.slaSeconds;
    if (seconds > sla) {
      return "worklist-late";
    }
    return seconds > sla / 2 ? "worklist-soon" : "worklist-ok";
  }

  function drawItem(row) {
    const item = document.createElement("li");
    item.className = "worklist-item";
    const link = document.createElement("a");
    link.href = desk.chatUrl(row.id);
    link.dataset.chat = String(row.id);
    if (row.id === current) {
      link.setAttribute("aria-current", "page");
    }
    const name = document.createElement("span");
    name.className = "worklist-name";
    name.textContent = row.customer_name || format(D.customerNumber, { id: row.id });
    link.append(name);
    if (row.unread) {
      const unread = document.createElement("span");
      unread.className = "worklist-unread";
      unread.textContent = String(row.unread);
      unread.title = format(row.unread === 1 ? S.unread : S.unreadMany, { count: row.unread });
      link.append(unread);
    }
    const line = document.createElement("span");
    line.className = "worklist-line";
    line.textContent = row.last_message ? preview(row.last_message.preview, PREVIEW_CHARS) || D.filesOnly : "";
    link.append(line);
    if (row.waiting_for_since) {
      const wait = document.createElement("time");
      wait.className = "worklist-wait";
      wait.setAttribute("datetime", row.waiting_for_since);
      wait.dataset.since = row.waiting_for_since;
      tickOne(wait);
      link.append(wait);
    }
    item.append(link);
    return item;
  }

  function fill(list, rows, empty) {
    const focused = document.activeElement && list.contains(document.activeElement) ? document.activeElement : null;
    const focusedId = focused && focused.dataset ? focused.dataset.chat : null;
    if (!rows.length) {
      const item = document.createElement("li");
      item.className = "worklist-empty";
      item.textContent = empty;
      list.replaceChildren(item);
    } else {
      list.replaceChildren(...rows.map(drawItem));
    }
    if (focusedId) {
      const twin = list.querySelector('a[data-chat="' + focusedId + '"]');
      if (twin) {
        twin.focus();
      }
    }
  }

  function ordered(filter) {
    return Array.from(chats.values()).filter(filter).sort(compareRows);
  }

  function draw() {
    drawTimer = null;
    const mine = ordered(isMine);
    const queue = ordered(isWaiting).slice(0, data.queueLimit);
    fill(mineList, mine, S.noMine);
    fill(queueList, queue, S.noQueue);
    mineCount.textContent = "(" + mine.length + ")";
    const waiting = Math.max(desk.counts.waiting || 0, queue.length);
    queueCount.textContent = "(" + waiting + ")";
    const hidden = waiting - queue.length;
    more.hidden = hidden <= 0;
    more.textContent = hidden > 0 ? format(S.more, { count: hidden }) : "";
    root.dataset.drawn = String((parseInt(root.dataset.drawn, 10) || 0) + 1);
  }

  function drawSoon() {
    if (!drawTimer) {
      drawTimer = window.requestAnimationFrame(draw);
    }
  }

  /* --- waiting times ----------------------------------------------------------------- */

  function tickOne(element) {
    const seconds = (Date.now() - Date.parse(element.dataset.since)) / 1000;
    element.textContent = format(S.waiting, { time: shortDuration(seconds, D) });
    element.className = "worklist-wait " + waitClass(seconds);
  }

  window.setInterval(() => root.querySelectorAll("time.worklist-wait").forEach(tickOne), TICK_MS);

  /* --- events -------------------------------------------------------------------------- */

  function keep(row) {
    if (isMine(row) || isWaiting(row) || row.id === current) {
      chats.set(row.id, row);
    } else {
      chats.delete(row.id);
    }
  }

  async function fetchOne(id) {
    const rows = await fetchRows(desk.config.urls.rows, [id]);
    rows.forEach(keep);
    drawSoon();
  }

  function handle(event) {
    if (event.type === "counts") {
      drawSoon();
      return;
    }
    if (!["session", "message", "read"].includes(event.type)) {
      return;
    }
    const id = Number(event.session_id !== undefined ? event.session_id : event.session && event.session.id);
    const known = chats.get(id) || null;
    // The chat on screen is read as its messages come: no unread count for it.
    const onScreen = id === current && document.visibilityState === "visible";
    const { row, fetch } = applyEvent(known, event, userId);
    if (!row) {
      return;
    }
    if (onScreen && event.type === "message") {
      row.unread = known ? known.unread : 0;
    }
    keep(row);
    if (fetch && (isMine(row) || isWaiting(row))) {
      fetchOne(id);
    }
    drawSoon();
  }

  /** The chat now on screen (marked in the list; it stays listed while it is open). */
  function setCurrent(id, session) {
    current = Number(id);
    if (session) {
      keep(rowFromSession(session, chats.get(current) || null));
    }
    draw();
  }

  /** The chat ``step`` places away from the current one, in the list's order. */
  function neighbour(step) {
    const ids = Array.from(root.querySelectorAll("a[data-chat]"), (link) => Number(link.dataset.chat));
    if (!ids.length) {
      return null;
    }
    const at = ids.indexOf(current);
    if (at === -1) {
      return ids[step > 0 ? 0 : ids.length - 1];
    }
    const next = at + step;
    return next >= 0 && next < ids.length ? ids[next] : null;
  }

  root.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-chat]");
    if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    event.preventDefault();
    open(Number(link.dataset.chat));
  });

  draw();
  return { handle, setCurrent, neighbour, has: (id) => chats.has(Number(id)) };
}
