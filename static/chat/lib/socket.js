/*
 * A live socket, as both of the project's sockets work (/ws/chat/ for the customer,
 * /ws/agents/ for the agents): open, send the hello frame, wait for {"type":"ready"}, ping
 * every 25 s, and after a drop reconnect with exponential back-off and jitter. onReady is
 * the catch-up hook: it says whether this is a reconnection, so a page can fetch what it
 * missed. Sending goes over REST; the socket only receives (and carries typing and pings).
 */
import { backoff } from "./backoff.js";

const OPEN = 1;

/** The socket address for ``path`` on ``base`` (http(s) or ws(s) URL), or on this page's host. */
export function socketUrl(base, path) {
  let origin = (base || "").trim();
  if (origin) {
    origin = origin.replace(/^http(s?):\/\//i, "ws$1://");
  } else {
    origin = (window.location.protocol === "https:" ? "wss://" : "ws://") + window.location.host;
  }
  return origin.replace(/\/+$/, "") + path;
}

/**
 * Options: url; hello(context) → the first frame; prepare() → Promise of the context (e.g.
 * a ticket), awaited before each connection; onReady(readyFrame, reconnected); onEvent(frame)
 * for every other frame but pongs; onState(state) with "connecting", "live", "down" or
 * "unsupported"; onGone() whenever an open socket is lost; onClose(code, wasReady) →
 * "retry" (default), "stop" (give up) or "wait" (the page calls retryLater() itself);
 * pingMs, readyTimeoutMs, backoffBase, backoffMax.
 */
export class LiveSocket {
  #options;
  #socket = null;
  #opening = false;
  #running = false;
  #ready = false;
  #everReady = false;
  #failures = 0;
  #retryTimer = null;
  #readyTimer = null;
  #pingTimer = null;

  constructor(options) {
    this.#options = { pingMs: 25000, readyTimeoutMs: 10000, backoffBase: 1000, backoffMax: 30000, ...options };
    window.addEventListener("online", () => this.reconnectNow());
  }

  get ready() {
    return this.#ready;
  }

  get everReady() {
    return this.#everReady;
  }

  get failures() {
    return this.#failures;
  }

  get running() {
    return this.#running;
  }

  start() {
    if (this.#running) {
      return;
    }
    this.#running = true;
    this.#failures = 0;
    this.#everReady = false;
    this.#emit("connecting");
    this.#connect();
  }

  stop() {
    this.#running = false;
    clearTimeout(this.#retryTimer);
    const socket = this.#socket;
    this.#gone();
    if (socket) {
      try {
        socket.close(1000);
      } catch (error) {
        /* already closing */
      }
    }
  }

  /** Send a frame now; false when the socket is not open. */
  send(frame) {
    const socket = this.#socket;
    if (!socket || socket.readyState !== OPEN) {
      return false;
    }
    try {
      socket.send(JSON.stringify(frame));
      return true;
    } catch (error) {
      return false;
    }
  }

  /** Treat the socket as lost now (a network cut, a stuck handshake) and reconnect. */
  drop() {
    return this.#drop(this.#socket);
  }

  /** Connect now instead of waiting out the back-off (network back, page shown again). */
  reconnectNow() {
    if (this.#running && !this.#socket && !this.#opening) {
      this.#connect();
    }
  }

  /** After onClose answered "wait": retry as after a failed attempt. */
  retryLater() {
    if (this.#running && !this.#socket && !this.#opening) {
      this.#failed(false);
    }
  }

  #emit(state) {
    if (this.#options.onState) {
      this.#options.onState(state);
    }
  }

  async #connect() {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    if (!this.#running || this.#socket || this.#opening) {
      return;
    }
    if (typeof window.WebSocket !== "function") {
      this.#running = false;
      this.#emit("unsupported");
      return;
    }
    let context;
    if (this.#options.prepare) {
      this.#opening = true;
      try {
        context = await this.#options.prepare();
      } catch (error) {
        context = undefined;
      }
      this.#opening = false;
      if (!this.#running || this.#socket) {
        return;
      }
    }
    let socket;
    try {
      socket = new WebSocket(this.#options.url);
    } catch (error) {
      this.#failed(false);
      return;
    }
    this.#socket = socket;
    socket.onopen = () => {
      if (socket !== this.#socket) {
        return;
      }
      this.send(this.#options.hello(context));
      this.#readyTimer = setTimeout(() => this.#drop(socket), this.#options.readyTimeoutMs);
    };
    socket.onmessage = (message) => {
      if (socket !== this.#socket) {
        return;
      }
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      if (frame.type === "ready") {
        this.#becameReady(frame);
      } else if (frame.type !== "pong" && this.#options.onEvent) {
        this.#options.onEvent(frame);
      }
    };
    socket.onclose = (closing) => {
      if (socket !== this.#socket) {
        return;
      }
      const wasReady = this.#ready;
      this.#gone();
      const verdict = this.#options.onClose ? this.#options.onClose(closing.code, wasReady) : "retry";
      if (verdict === "stop") {
        this.#running = false;
        this.#emit("down");
      } else if (verdict !== "wait") {
        this.#failed(wasReady);
      }
    };
  }

  #becameReady(frame) {
    clearTimeout(this.#readyTimer);
    const reconnected = this.#everReady;
    this.#ready = true;
    this.#everReady = true;
    this.#failures = 0;
    clearInterval(this.#pingTimer);
    this.#pingTimer = setInterval(() => this.send({ type: "ping" }), this.#options.pingMs);
    this.#emit("live");
    if (this.#options.onReady) {
      this.#options.onReady(frame, reconnected);
    }
  }

  #gone() {
    const had = this.#socket !== null;
    this.#socket = null;
    this.#ready = false;
    clearTimeout(this.#readyTimer);
    clearInterval(this.#pingTimer);
    if (had && this.#options.onGone) {
      this.#options.onGone();
    }
  }

  #drop(socket) {
    if (!socket || socket !== this.#socket) {
      return false;
    }
    const wasReady = this.#ready;
    this.#gone();
    try {
      socket.close(4000);
    } catch (error) {
      /* already closing */
    }
    this.#failed(wasReady);
    return true;
  }

  #failed(wasReady) {
    if (!this.#running) {
      return;
    }
    this.#failures = wasReady ? 0 : this.#failures + 1;
    this.#emit("down");
    const delay = backoff(this.#failures, this.#options.backoffBase, this.#options.backoffMax);
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }
}
