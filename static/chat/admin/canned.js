/*
 * Canned responses in the agent's reply box: typing "/shortcut" lists the matching
 * responses (arrows move, Tab or Enter inserts, Escape closes), and the select beside the
 * box inserts one too. The text is inserted where the agent is typing, to be edited
 * before sending. Titles and texts are only ever set as text.
 */

export function attachCannedResponses({ textarea, suggestions, select, items, onInsert }) {
  let highlighted = -1;
  let shown = [];

  function slashToken() {
    const upto = textarea.value.slice(0, textarea.selectionStart);
    const match = upto.match(/(^|\s)\/([\w-]*)$/);
    return match ? { start: upto.length - match[2].length - 1, text: match[2].toLowerCase() } : null;
  }

  function close() {
    suggestions.hidden = true;
    suggestions.replaceChildren();
    shown = [];
    highlighted = -1;
    textarea.removeAttribute("aria-activedescendant");
  }

  function highlight(index) {
    const options = suggestions.querySelectorAll("[role=option]");
    if (!options.length) {
      return;
    }
    highlighted = (index + options.length) % options.length;
    options.forEach((option, position) => {
      option.setAttribute("aria-selected", position === highlighted ? "true" : "false");
    });
    textarea.setAttribute("aria-activedescendant", options[highlighted].id);
  }

  function insert(item, token) {
    const value = textarea.value;
    const start = token ? token.start : textarea.selectionStart;
    const end = token ? textarea.selectionStart : textarea.selectionEnd;
    textarea.value = value.slice(0, start) + item.text + value.slice(end);
    const caret = start + item.text.length;
    textarea.focus();
    textarea.setSelectionRange(caret, caret);
    close();
    onInsert();
  }

  function render(token) {
    shown = items.filter((item) => item.shortcut.toLowerCase().indexOf(token.text) === 0);
    suggestions.replaceChildren();
    if (!shown.length) {
      close();
      return;
    }
    shown.forEach((item, index) => {
      const option = document.createElement("li");
      option.id = "canned-option-" + index;
      option.setAttribute("role", "option");
      option.dataset.shortcut = item.shortcut;
      const code = document.createElement("strong");
      code.textContent = "/" + item.shortcut;
      const title = document.createElement("span");
      title.textContent = " " + item.title;
      option.append(code, title);
      option.addEventListener("mousedown", (event) => {
        event.preventDefault();
        insert(item, slashToken());
      });
      suggestions.append(option);
    });
    suggestions.hidden = false;
    highlight(0);
  }

  /** A key pressed in the box: true when the open list used it. */
  function handleKey(event) {
    if (suggestions.hidden) {
      return false;
    }
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      highlight(highlighted + (event.key === "ArrowDown" ? 1 : -1));
      return true;
    }
    if (event.key === "Enter" || event.key === "Tab") {
      event.preventDefault();
      insert(shown[highlighted], slashToken());
      return true;
    }
    if (event.key === "Escape") {
      event.preventDefault();
      close();
      return true;
    }
    return false;
  }

  textarea.addEventListener("input", () => {
    const token = slashToken();
    if (token) {
      render(token);
    } else {
      close();
    }
  });
  textarea.addEventListener("blur", () => {
    window.setTimeout(close, 150);
  });
  select.addEventListener("change", () => {
    const item = items.find((entry) => entry.shortcut === select.value);
    select.value = "";
    if (item) {
      insert(item, slashToken());
    }
  });

  return { close, handleKey };
}
