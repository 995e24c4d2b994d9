/*
 * Waiting between attempts: exponential back-off with jitter, and a wait that can be cut
 * short (the network came back, the socket is ready again).
 */

/** A random delay in [half, full] of base·2^attempt, never more than max (milliseconds). */
export function backoff(attempt, base, max) {
  const full = Math.min(max, base * Math.pow(2, Math.max(0, attempt)));
  return full / 2 + Math.random() * (full / 2);
}

export function sleep(ms) {
  return new Promise((resolve) => {
    setTimeout(resolve, ms);
  });
}

/**
 * One pending wait at a time. wake() ends it now unless it was started as firm (a server's
 * Retry-After is not cut short by the network coming back); wake({ force: true }) always ends it.
 */
export class Alarm {
  #timer = null;
  #resolve = null;
  #firm = false;

  wait(ms, { firm = false } = {}) {
    this.wake({ force: true });
    this.#firm = firm;
    return new Promise((resolve) => {
      this.#resolve = resolve;
      this.#timer = setTimeout(() => this.wake({ force: true }), ms);
    });
  }

  wake({ force = false } = {}) {
    if (!this.#resolve || (this.#firm && !force)) {
      return;
    }
    clearTimeout(this.#timer);
    const resolve = this.#resolve;
    this.#resolve = null;
    resolve();
  }
}
