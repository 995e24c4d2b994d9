/* The agent socket (/ws/agents/) shared by the inbox and the conversation page.
 *
 * Opens the socket, sends the hello frame (with a ticket when the sockets live on another
 * host), keeps it alive with pings and reconnects with a growing delay. Pages get events
 * through onEvent, and onReady(reconnected) so that they can catch up after a drop.
 */
(function () {
  "use strict";

  var PATH = "/ws/agents/";
  var PING_EVERY_MS = 25000;
  var MAX_DELAY_MS = 15000;
  var REFUSED = 4403;

  function socketUrl(base) {
    if (base) {
      return base.replace(/\/+$/, "").replace(/^http/, "ws") + PATH;
    }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + window.location.host + PATH;
  }

  function fetchTicket() {
    return fetch("/api/chat/agent-ticket", {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        return response.ok ? response.json() : {};
      })
      .then(function (data) {
        return data.ticket || null;
      })
      .catch(function () {
        return null;
      });
  }

  function connect(options) {
    var base = options.baseUrl || "";
    var socket = null;
    var pingTimer = null;
    var retryTimer = null;
    var attempts = 0;
    var everReady = false;
    var stopped = false;

    function setState(state) {
      if (options.onState) {
        options.onState(state);
      }
    }

    function scheduleRetry() {
      if (stopped) {
        return;
      }
      var delay = Math.min(MAX_DELAY_MS, 1000 * Math.pow(2, attempts));
      attempts += 1;
      retryTimer = window.setTimeout(open, delay * (0.75 + Math.random() * 0.5));
    }

    function open() {
      retryTimer = null;
      var ticket = base ? fetchTicket() : Promise.resolve(null);
      ticket.then(function (value) {
        if (stopped) {
          return;
        }
        try {
          socket = new WebSocket(socketUrl(base));
        } catch (error) {
          setState("offline");
          scheduleRetry();
          return;
        }
        socket.addEventListener("open", function () {
          var hello = { type: "hello" };
          if (value) {
            hello.ticket = value;
          }
          socket.send(JSON.stringify(hello));
        });
        socket.addEventListener("message", function (frame) {
          var event;
          try {
            event = JSON.parse(frame.data);
          } catch (error) {
            return;
          }
          if (event.type === "ready") {
            attempts = 0;
            setState("live");
            window.clearInterval(pingTimer);
            pingTimer = window.setInterval(function () {
              send({ type: "ping" });
            }, PING_EVERY_MS);
            if (options.onReady) {
              options.onReady(everReady);
            }
            everReady = true;
            return;
          }
          if (event.type !== "pong" && options.onEvent) {
            options.onEvent(event);
          }
        });
        socket.addEventListener("close", function (closing) {
          window.clearInterval(pingTimer);
          socket = null;
          setState("offline");
          if (closing.code === REFUSED) {
            stopped = true;
            return;
          }
          scheduleRetry();
        });
      });
    }

    function send(message) {
      if (socket && socket.readyState === WebSocket.OPEN) {
        socket.send(JSON.stringify(message));
        return true;
      }
      return false;
    }

    window.addEventListener("online", function () {
      if (!socket && retryTimer && !stopped) {
        window.clearTimeout(retryTimer);
        open();
      }
    });

    setState("connecting");
    open();
    return { send: send };
  }

  /* Fills "%(name)s", "%(count)d" and "%(minutes)02d" from a params object. */
  function format(template, params) {
    return String(template).replace(/%\((\w+)\)(0?\d*)[sd]/g, function (match, name, width) {
      var value = params[name] === undefined ? "" : String(params[name]);
      var size = parseInt(width, 10) || 0;
      while (value.length < size) {
        value = "0" + value;
      }
      return value;
    });
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) {
      return input.value;
    }
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function setLiveState(element, state, strings) {
    if (!element) {
      return;
    }
    element.dataset.state = state;
    if (state === "connecting") {
      return;
    }
    element.textContent = state === "live" ? strings.live : strings.offline;
  }

  window.JTAgentSocket = {
    connect: connect,
    format: format,
    csrfToken: csrfToken,
    setLiveState: setLiveState,
  };
})();
