/*
 * HTTP for every page: one request function that never throws (a network failure is
 * status 0), Retry-After read into milliseconds, and one retry loop that waits
 * Retry-After or an exponential back-off with jitter, whichever is longer.
 */
import { backoff, sleep } from "./backoff.js";
import { csrfToken } from "./csrf.js";

/** Retry-After (seconds or an HTTP date) in milliseconds from now; 0 when absent or bad. */
export function parseRetryAfter(value, now = Date.now()) {
  const text = value == null ? "" : String(value).trim();
  if (!text) {
    return 0;
  }
  if (/^\d+(\.\d+)?$/.test(text)) {
    return Number(text) * 1000;
  }
  const date = Date.parse(text);
  return Number.isNaN(date) ? 0 : Math.max(0, date - now);
}

/** Worth trying again with the same request: no answer, a timeout, flooding, a server fault. */
export function isRetryable(status) {
  return status === 0 || status === 408 || status === 429 || status >= 500;
}

/**
 * One request. ``json`` is sent as a JSON body, ``form`` (FormData) as a form; unsafe
 * methods carry the CSRF token. The answer is { status, ok, data, retryAfter }: data is the
 * parsed JSON (or the text with ``text: true``), null when there is none.
 */
export async function request(method, url, { json, form, headers = {}, text = false } = {}) {
  const sent = { Accept: text ? "text/html" : "application/json", ...headers };
  let body;
  if (json !== undefined) {
    sent["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  if (method !== "GET" && method !== "HEAD") {
    sent["X-CSRFToken"] = csrfToken();
  }
  let response;
  try {
    response = await fetch(url, { method, headers: sent, body, credentials: "same-origin", cache: "no-store" });
  } catch (error) {
    return { status: 0, ok: false, data: null, retryAfter: 0 };
  }
  const retryAfter = parseRetryAfter(response.headers.get("Retry-After"));
  let data = null;
  try {
    data = text ? await response.text() : await response.json();
  } catch (error) {
    data = null;
  }
  return { status: response.status, ok: response.ok, data, retryAfter };
}

/** How long to wait before attempt number ``attempt`` + 1: Retry-After or back-off, the longer. */
export function retryDelay(answer, attempt, { base = 1000, max = 30000 } = {}) {
  return Math.max(answer.retryAfter || 0, backoff(attempt, base, max));
}

/**
 * Call ``attempt`` until its answer is not worth retrying or ``attempts`` calls were made.
 *
 * Options: attempts (default unlimited), base and max of the back-off (ms), retryable(status),
 * onRetry(answer, delayMs, attempt) before each wait, wait(delayMs, answer) → Promise (default
 * a plain sleep), cancelled() → true to give up (checked after every call and every wait).
 * Resolves to the last answer, or null when cancelled.
 */
export async function withRetries(attempt, options = {}) {
  const {
    attempts = Infinity,
    retryable = isRetryable,
    onRetry = null,
    wait = sleep,
    cancelled = () => false,
  } = options;
  for (let made = 0; ; made += 1) {
    const answer = await attempt(made);
    if (cancelled()) {
      return null;
    }
    if (!retryable(answer.status) || made + 1 >= attempts) {
      return answer;
    }
    const delay = retryDelay(answer, made, options);
    if (onRetry) {
      onRetry(answer, delay, made);
    }
    await wait(delay, answer);
    if (cancelled()) {
      return null;
    }
  }
}

/**
 * A multipart upload with progress, by XMLHttpRequest (fetch reports no upload progress).
 * Same answer as request(); ``onProgress(fraction)`` while the body goes out; ``signal``
 * (an AbortSignal) cancels it, answering status 0 with ``aborted: true``.
 */
export function upload(url, form, { headers = {}, onProgress = null, signal = null } = {}) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    const done = (extra = {}) => {
      let data = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch (error) {
        data = null;
      }
      resolve({
        status: xhr.status,
        ok: xhr.status >= 200 && xhr.status < 300,
        data,
        retryAfter: parseRetryAfter(xhr.getResponseHeader("Retry-After")),
        ...extra,
      });
    };
    const failed = (aborted) => () => resolve({ status: 0, ok: false, data: null, retryAfter: 0, aborted });
    xhr.open("POST", url);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    Object.entries(headers).forEach(([name, value]) => xhr.setRequestHeader(name, value));
    if (onProgress) {
      xhr.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) {
          onProgress(event.loaded / event.total);
        }
      });
    }
    xhr.addEventListener("load", () => done());
    xhr.addEventListener("error", failed(false));
    xhr.addEventListener("timeout", failed(false));
    xhr.addEventListener("abort", failed(true));
    if (signal) {
      if (signal.aborted) {
        failed(true)();
        return;
      }
      signal.addEventListener("abort", () => xhr.abort());
    }
    xhr.send(form);
  });
}
