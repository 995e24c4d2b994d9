/* The conversation screen's keyboard: Alt+↓ / Alt+↑ move through the list from anywhere;
 * J, K, R, C, E and ? work when the agent is not typing (Esc leaves the reply box); ? and
 * the desk bar's button show the help dialog that lists them all. */

function typing(target) {
  return Boolean(
    target &&
      (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))
  );
}

/** ``actions``: next(), previous(), reply(), claim(), end(). */
export function attachShortcuts(actions) {
  const dialog = document.getElementById("shortcuts-help");
  const button = document.getElementById("desk-help");

  function help() {
    if (dialog && !dialog.open) {
      dialog.showModal();
    }
  }

  if (button) {
    button.addEventListener("click", help);
  }

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || (dialog && dialog.open)) {
      return;
    }
    if (event.altKey && !event.ctrlKey && !event.metaKey && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
      event.preventDefault();
      (event.key === "ArrowDown" ? actions.next : actions.previous)();
      return;
    }
    if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    const run = { j: actions.next, k: actions.previous, r: actions.reply, c: actions.claim, e: actions.end, "?": help }[
      key
    ];
    if (run) {
      event.preventDefault();
      run();
    }
  });
}
