// Building the page. SECURITY: user-supplied text only ever enters the page as
// text nodes, textContent or attribute values; nothing in the client parses HTML.

/**
 * Create an element: h("button", {type: "button", onclick: fn}, "Send").
 * Props starting with "on" are listeners; className, hidden, disabled,
 * checked and value are set as properties; everything else as attributes.
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (["className", "hidden", "disabled", "value", "textContent"].includes(name)) {
      element[name] = value;
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace the content of an element. */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

let uniqueCounter = 0;

/** Return an id unique in this page. */
export function uniqueId(prefix) {
  uniqueCounter += 1;
  return `${prefix}-${uniqueCounter}`;
}

/** A labelled form field: returns {field (the wrapper), input}. */
export function field(label, props = {}, tag = "input") {
  const id = props.id || uniqueId("field");
  const input = h(tag, { ...props, id });
  const wrapper = props.type === "checkbox"
    ? h("div", { className: "field checkbox" }, input, h("label", { for: id }, label))
    : h("div", { className: "field" }, h("label", { for: id }, label), input);
  return { field: wrapper, input };
}

/** A region that shows errors (role=alert) or confirmations (role=status). */
export function notice() {
  const element = h("p", { className: "notice", hidden: true });
  return {
    element,
    error(text) {
      element.className = "notice error";
      element.setAttribute("role", "alert");
      element.textContent = text;
      element.hidden = false;
    },
    info(text) {
      element.className = "notice info";
      element.setAttribute("role", "status");
      element.textContent = text;
      element.hidden = false;
    },
    clear() {
      element.hidden = true;
      element.textContent = "";
    },
  };
}

/** Show a time as the person's local time; the full time stays in datetime. */
export function timeElement(iso) {
  const date = new Date(iso);
  const sameDay = date.toDateString() === new Date().toDateString();
  const text = Number.isNaN(date.getTime()) ? "" : sameDay
    ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : date.toLocaleString([], { dateStyle: "short", timeStyle: "short" });
  return h("time", { datetime: iso, title: date.toLocaleString() }, text);
}

/** Move keyboard and screen-reader focus to an element (a view's heading). */
export function focus(element) {
  if (!element) return;
  if (!element.hasAttribute("tabindex") && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(element.tagName)) {
    element.setAttribute("tabindex", "-1");
  }
  element.focus();
}

/** Disable a form's controls while a request runs. */
export async function busy(form, work) {
  const controls = Array.from(form.querySelectorAll("button, input, select, textarea"));
  const wasDisabled = controls.map((control) => control.disabled);
  controls.forEach((control) => { control.disabled = true; });
  form.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    controls.forEach((control, index) => { control.disabled = wasDisabled[index]; });
    form.removeAttribute("aria-busy");
  }
}

/** Say something to screen-reader users without moving their focus. */
export function announce(text) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  // Set after a tick so that a message repeating the last one is announced too.
  setTimeout(() => { region.textContent = text; }, 50);
}
