// @-completion in a text field: typing @pa lists the room's members whose
// names start with "pa" (and @room); ArrowDown/ArrowUp move, Enter or Tab
// pick, Escape closes. The field is an ARIA combobox whose listbox follows
// it; focus stays in the field throughout (aria-activedescendant).

import { h, replace, uniqueId } from "./dom.js";

const MAX_SHOWN = 8;
// "@" not inside a word or an address, then what is typed so far, up to the caret.
const TYPING = /(?<![\w@.-])@([A-Za-z0-9_.-]{0,32})$/;

/**
 * mentionCompletion(input, {names}) -> {element, handleKey(event), close}.
 * names() returns the usernames to offer (the room's members). The caller
 * places element (the listbox) after the field and passes every keydown
 * to handleKey first: true means the completion used the key.
 */
export function mentionCompletion(input, { names }) {
  const listId = uniqueId("mention-options");
  const element = h("ul", { className: "mention-options", id: listId, role: "listbox",
    "aria-label": "Usernames", hidden: true });
  let options = [];
  let active = -1;
  let start = -1;   // where the "@" being completed is in the text

  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", listId);
  input.setAttribute("aria-expanded", "false");

  function close() {
    options = [];
    active = -1;
    element.hidden = true;
    replace(element);
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function setActive(index) {
    active = index;
    Array.from(element.children).forEach((option, at) => {
      option.setAttribute("aria-selected", String(at === index));
    });
    const option = element.children[index];
    if (option) {
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    }
  }

  function update() {
    const caret = input.selectionStart;
    const match = caret === input.selectionEnd && TYPING.exec(input.value.slice(0, caret));
    if (!match) {
      close();
      return;
    }
    const typed = match[1].toLowerCase();
    start = caret - match[0].length;
    const offered = [...new Set([...names(), "room"])]
      .filter((name) => name.toLowerCase().startsWith(typed))
      .sort((a, b) => a.localeCompare(b))
      .slice(0, MAX_SHOWN);
    if (!offered.length) {
      close();
      return;
    }
    options = offered;
    replace(element, ...offered.map((name, at) => {
      const option = h("li", { role: "option", id: `${listId}-${at}`, className: "mention-option",
        "aria-selected": "false" }, `@${name}`);
      // mousedown, not click: the field keeps its focus.
      option.addEventListener("mousedown", (event) => {
        event.preventDefault();
        pick(at);
      });
      return option;
    }));
    element.hidden = false;
    input.setAttribute("aria-expanded", "true");
    setActive(0);
  }

  function pick(index) {
    const name = options[index];
    if (name === undefined) return;
    const caret = input.selectionStart;
    const before = input.value.slice(0, start);
    const after = input.value.slice(caret);
    const inserted = `@${name} `;
    input.value = before + inserted + after.replace(/^ /, "");
    const at = before.length + inserted.length;
    input.setSelectionRange(at, at);
    close();
  }

  function handleKey(event) {
    if (element.hidden || event.isComposing) return false;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const step = event.key === "ArrowDown" ? 1 : -1;
      setActive((active + step + options.length) % options.length);
    } else if (event.key === "Enter" || event.key === "Tab") {
      pick(active);
    } else if (event.key === "Escape") {
      close();
    } else {
      return false;
    }
    event.preventDefault();
    event.stopPropagation();
    return true;
  }

  input.addEventListener("input", update);
  input.addEventListener("click", update);
  input.addEventListener("blur", close);

  return { element, handleKey, close };
}
