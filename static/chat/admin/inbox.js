/* The inbox (chat changelist), live: a module on lib/, desk.js and chats.js. Longer than
 * most modules (~500 lines): its rows, tabs and counts change together on each event.
 *
 * The page hands its rows over as data (the same rows the server drew). Each socket event is
 * applied to that data and to the screen at once: a new chat's row is drawn from the event
 * alone, a row moves to its place in inbox order, leaves a tab it no longer belongs to, and
 * the tab counts, the result count and the tab title follow the "counts" events. Only what
 * an event lacks is fetched (a chat that arrives in a tab without its last message or
 * unread count: the rows URL). A search, a date filter or a later page cannot be decided
 * from an event: there, and after a reconnection, the page fetches itself again (debounced)
 * and swaps in the tabs and the list. While the agent has rows selected nothing moves: a
 * note says the list changed, and it updates when the selection is cleared.
 *
 * Longer than most modules (~480 lines) because its parts share one state — the rows held,
 * their place on screen, Django's actions wired to them, the pending fetches — and split
 * apart each would reach into the others'.
 */
import { format } from "../lib/format.js";
import { request } from "../lib/http.js";
import { shortDuration } from "../lib/time.js";
import { applyEvent, compareRows, fetchRows, preview } from "./chats.js";
import { startDesk } from "./desk.js";

const configElement = document.getElementById("inbox-config");
if (configElement) {
  inbox(JSON.parse(configElement.textContent));
}

function inbox(config) {
  const S = config.strings;
  const staleNote = document.getElementById("inbox-stale");
  const header = document.getElementById("inbox-header");

  const REFRESH_DEBOUNCE_MS = 400;
  const REFRESH_MIN_GAP_MS = 2000;
  const OFFLINE_POLL_MS = 20000;
  const TICK_MS = 15000;

  let rows = new Map(config.rows.map((row) => [row.id, row]));
  let refreshTimer = null;
  let lastRefreshAt = 0;
  let refreshing = false;
  let refreshAgain = false;
  let offlinePoll = null;
  let actionsStale = false;
  let desk = null;
  let D = null; // the desk's strings and labels

  /* --- which chats this tab shows -------------------------------------------------- */

  function belongs(row) {
    switch (config.tab) {
      case "waiting":
        return row.status === "waiting";
      case "mine":
        return row.status !== "ended" && row.assigned_agent === desk.config.userId;
      case "active":
        return row.status === "active";
      case "ended":
        return row.status === "ended";
      default:
        return row.status !== "ended";
    }
  }

  function tabTotal() {
    const counts = desk.counts;
    const key = { "": "open", waiting: "waiting", active: "active", mine: "mine" }[config.tab];
    return key === undefined ? null : counts[key];
  }

  /* --- drawing a row (the same markup as chat/admin/inbox.py) ------------------------ */

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function drawRow(row) {
    const labels = desk.config.labels;
    const tr = document.createElement("tr");
    const name = row.customer_name || format(D.customerNumber, { id: row.id });

    const select = element("td", "action-checkbox");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.name = "_selected_action";
    box.value = String(row.id);
    box.className = "action-select";
    box.setAttribute("aria-label", S.selectRow.replace("{}", "#" + row.id + " " + (row.customer_name || D.customer)));
    select.append(box);

    const customer = element("th", "field-customer_column");
    const link = element("a");
    link.href = desk.chatUrl(row.id);
    link.append(element("span", "inbox-name", name), element("span", "inbox-sub", row.customer_email || "#" + row.id));
    // Opened outside hours or with nobody available; a reply e-mail that failed.
    const marks = [];
    if (row.opened_outside_hours) {
      marks.push("outside-hours");
    } else if (row.opened_without_agents) {
      marks.push("no-agents");
    }
    if (row.email_status === "failed") {
      marks.push("email-failed");
    }
    marks.forEach((kind) => {
      const mark = element("span", "inbox-mark inbox-mark-" + kind, S.marks[kind]);
      mark.dataset.mark = kind;
      link.append(mark);
    });
    customer.append(link);

    const topic = element("td", "field-topic_column");
    topic.append(labels.topics[row.topic] || labels.topics[row.issue] || "—");
    if (row.tracking_code) {
      topic.append(element("span", "inbox-sub inbox-code", row.tracking_code));
    }

    const last = element("td", "field-last_message_column");
    if (row.last_message) {
      const who = row.last_message.author === "agent" ? S.agent : S.customer;
      const text = preview(row.last_message.preview, config.previewChars) || D.filesOnly;
      last.append(element("span", "inbox-sub inbox-who", who), text);
    }

    const waiting = element("td", "field-waiting_column");
    if (row.waiting_for_since) {
      const since = element("time", "inbox-wait");
      since.setAttribute("datetime", row.waiting_for_since);
      since.dataset.since = row.waiting_for_since;
      tickOne(since);
      waiting.append(since);
    }

    const agent = element("td", "field-agent_column");
    const status = element("span", "chat-status chat-status-" + row.status, labels.statuses[row.status] || row.status);
    status.dataset.status = row.status;
    agent.append(element("span", "inbox-agent", row.agent_name || "—"), status);

    const unread = element("td", "field-unread_column");
    if (row.unread) {
      const badge = element("span", "inbox-unread", String(row.unread));
      badge.title = format(row.unread === 1 ? S.unread : S.unreadMany, { count: row.unread });
      unread.append(badge);
    }

    tr.append(select, customer, topic, last, waiting, agent, unread);
    tr.dataset.chat = String(row.id);
    return tr;
  }

  /* --- the rows on screen ------------------------------------------------------------- */

  function tbody() {
    const table = document.getElementById("result_list");
    return table ? table.tBodies[0] : null;
  }

  function rowElement(id) {
    const box = document.querySelector('#result_list input.action-select[value="' + Number(id) + '"]');
    return box ? box.closest("tr") : null;
  }

  /** Put the row's cells in place, replacing only those that changed (focus stays put). */
  function syncRow(tr, fresh) {
    Array.from(fresh.cells).forEach((cell, index) => {
      const current = tr.cells[index];
      if (!current) {
        tr.append(cell);
      } else if (index > 0 && current.innerHTML !== cell.innerHTML) {
        current.replaceWith(cell);
      }
    });
  }

  /** Show ``row`` (drawn, in inbox order) or take it away when it left this tab. */
  function place(row) {
    const body = tbody();
    if (!body) {
      return;
    }
    const existing = rowElement(row.id);
    if (!belongs(row)) {
      rows.delete(row.id);
      if (existing) {
        existing.remove();
        actionsStale = true;
        if (config.morePages) {
          scheduleRefresh(); // the next page's first row moves up to this one
        }
      }
      return;
    }
    const ordered = Array.from(rows.values())
      .filter((other) => other.id !== row.id)
      .sort(compareRows);
    const next = ordered.find((other) => compareRows(row, other) < 0);
    if (!next && config.morePages && ordered.length >= config.perPage) {
      // Its place is on a later page.
      rows.delete(row.id);
      if (existing) {
        existing.remove();
        actionsStale = true;
      }
      return;
    }
    rows.set(row.id, row);
    const drawn = drawRow(row);
    let tr = existing;
    if (tr) {
      syncRow(tr, drawn);
    } else {
      tr = drawn;
      actionsStale = true;
    }
    const before = next ? rowElement(next.id) : null;
    if (tr.parentNode !== body || tr.nextElementSibling !== before) {
      body.insertBefore(tr, before);
    }
    // A full page keeps its size: the last row goes on to the next page.
    while (body.rows.length > config.perPage) {
      const lastRow = body.rows[body.rows.length - 1];
      rows.delete(Number(lastRow.querySelector("input.action-select").value));
      lastRow.remove();
      config.morePages = true;
    }
  }

  /* --- counts on screen ---------------------------------------------------------------- */

  function showCounts() {
    const counts = desk.counts;
    document.querySelectorAll("#inbox-tabs [data-count]").forEach((badge) => {
      const value = counts[badge.dataset.count];
      if (typeof value === "number") {
        badge.textContent = String(value);
        badge.classList.toggle("inbox-tab-count-hot", badge.dataset.count === "waiting" && value > 0);
      }
    });
    if (!config.patchable) {
      return; // a search's or a filter's total is the server's to say
    }
    let total = tabTotal();
    if (total === null || total === undefined) {
      total = config.morePages ? null : tbody() ? tbody().rows.length : 0;
    }
    if (total === null) {
      return;
    }
    const results = document.getElementById("inbox-result-count");
    if (results) {
      results.textContent = format(total === 1 ? S.results : S.resultsMany, { counter: total });
    }
    const paginator = document.getElementById("inbox-paginator-count");
    if (paginator) {
      paginator.textContent = format(total === 1 ? S.chats : S.chatsMany, { count: total });
    }
  }

  /** Django's actions (admin/js/actions.js) learn the rows on screen again. */
  function rewireActions() {
    if (!actionsStale) {
      return;
    }
    actionsStale = false;
    const form = document.getElementById("changelist-form");
    if (!form) {
      return;
    }
    const focused = document.activeElement && form.contains(document.activeElement) ? document.activeElement : null;
    const fresh = form.cloneNode(true); // without the listeners bound to the old rows
    form.replaceWith(fresh);
    if (focused) {
      const twin = focused.id
        ? fresh.querySelector("#" + CSS.escape(focused.id))
        : focused.matches("input.action-select")
          ? fresh.querySelector('input.action-select[value="' + CSS.escape(focused.value) + '"]')
          : focused.getAttribute("href")
            ? fresh.querySelector('a[href="' + CSS.escape(focused.getAttribute("href")) + '"]')
            : null;
      if (twin) {
        twin.focus();
      }
    }
    const boxes = fresh.querySelectorAll("tr input.action-select");
    const counter = fresh.querySelector("span.action-counter");
    if (counter) {
      counter.dataset.actionsIcnt = String(boxes.length);
      if (window.interpolate && window.ngettext) {
        counter.textContent = window.interpolate(
          window.ngettext("%(sel)s of %(cnt)s selected", "%(sel)s of %(cnt)s selected", 0),
          { sel: 0, cnt: boxes.length },
          true
        );
      }
    }
    if (window.Actions && boxes.length) {
      window.Actions(boxes);
    }
  }

  /* --- events ---------------------------------------------------------------------------- */

  function hasSelection() {
    return Boolean(document.querySelector("#result_list input.action-select:checked"));
  }

  const wanted = new Set(); // chats to fetch (the event lacked a column)
  let fetchTimer = null;

  function fetchLater(id) {
    wanted.add(id);
    if (!fetchTimer) {
      fetchTimer = window.setTimeout(fetchWanted, 0);
    }
  }

  async function fetchWanted() {
    fetchTimer = null;
    const ids = Array.from(wanted);
    wanted.clear();
    const fetched = await fetchRows(desk.config.urls.rows, ids);
    if (hasSelection()) {
      markStale();
      return;
    }
    fetched.forEach((row) => place(row));
    finish();
  }

  function finish() {
    rewireActions();
    showCounts();
    header.dataset.applied = String((parseInt(header.dataset.applied, 10) || 0) + 1);
  }

  function markStale() {
    staleNote.textContent = S.staleList;
    staleNote.hidden = false;
    refreshAgain = true;
  }

  function onEvent(event) {
    if (event.type === "counts") {
      showCounts();
      return;
    }
    const id = event.session_id !== undefined ? Number(event.session_id) : event.session ? event.session.id : null;
    if (id === null) {
      return;
    }
    if (event.type === "typing") {
      return;
    }
    if (!config.patchable) {
      if (event.type === "session" || rows.has(id)) {
        scheduleRefresh();
      }
      return;
    }
    if (hasSelection()) {
      markStale();
      return;
    }
    const known = rows.get(id) || null;
    const { row, fetch } = applyEvent(known, event, desk.config.userId);
    if (!row) {
      return;
    }
    if (fetch && belongs(row)) {
      fetchLater(id);
    }
    place(row);
    finish();
  }

  /* --- fetching the page again (filtered views, reconnections) --------------------------- */

  function swap(doc, selector) {
    const fresh = doc.querySelector(selector);
    const current = document.querySelector(selector);
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
      markStale();
      return;
    }
    refreshing = true;
    lastRefreshAt = Date.now();
    request("GET", window.location.href, { text: true })
      .then((answer) => {
        if (!answer.ok || answer.data === null) {
          throw new Error(String(answer.status));
        }
        if (hasSelection()) {
          refreshAgain = true;
          return;
        }
        const doc = new DOMParser().parseFromString(answer.data, "text/html");
        const freshConfig = doc.getElementById("inbox-config");
        const freshDesk = doc.getElementById("desk-config");
        if (freshConfig) {
          const parsed = JSON.parse(freshConfig.textContent);
          config.morePages = parsed.morePages;
          rows = new Map(parsed.rows.map((row) => [row.id, row]));
        }
        if (freshDesk) {
          const parsed = JSON.parse(freshDesk.textContent);
          desk.setCounts(parsed.counts, parsed.mineIds);
        }
        swap(doc, "#inbox-tabs");
        swap(doc, "#changelist-form");
        swap(doc, "#toolbar");
        actionsStale = true;
        staleNote.hidden = true;
        tick();
        finish();
        header.dataset.refreshed = String((parseInt(header.dataset.refreshed, 10) || 0) + 1);
      })
      .catch(() => {
        refreshAgain = true;
      })
      .finally(() => {
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
    const wait = Math.max(REFRESH_DEBOUNCE_MS, lastRefreshAt + REFRESH_MIN_GAP_MS - Date.now());
    refreshTimer = window.setTimeout(refresh, wait);
  }

  document.addEventListener("change", (event) => {
    if (event.target.matches && event.target.matches("input.action-select, #action-toggle")) {
      if (!hasSelection() && !staleNote.hidden) {
        scheduleRefresh();
      }
    }
  });

  /* --- waiting times tick without a reload ------------------------------------------------ */

  function tickOne(element) {
    const seconds = (Date.now() - Date.parse(element.dataset.since)) / 1000;
    element.textContent = shortDuration(seconds, D);
    element.classList.toggle("inbox-late", seconds > desk.config.slaSeconds);
  }

  function tick() {
    document.querySelectorAll("time.inbox-wait[data-since]").forEach(tickOne);
  }

  /* --- start ---------------------------------------------------------------------------- */

  desk = startDesk({
    onEvent,
    onState: (state) => {
      window.clearInterval(offlinePoll);
      offlinePoll = null;
      if (state === "offline") {
        offlinePoll = window.setInterval(scheduleRefresh, OFFLINE_POLL_MS);
      }
    },
    onReady: (reconnected) => {
      if (reconnected) {
        scheduleRefresh();
      }
    },
  });
  if (!desk) {
    return;
  }
  D = { ...desk.config.strings };
  tick();
  window.setInterval(tick, TICK_MS);
}
