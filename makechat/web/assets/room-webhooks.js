// A room's webhooks, for its owners and admins: the incoming ones (a URL that
// posts in the room as a bot, shown once) and the outgoing ones (a URL the
// room's events are sent to, signed with a secret shown once), each
// revocable; and an outgoing webhook's delivery log, with "Send again".
// The API decides who may manage them; this panel is only offered to those
// it would let (owners and admins).

import { api, request, errorText, oid } from "./api.js";
import { h, replace, notice, field, busy, timeElement, announce, focus } from "./dom.js";

const LOG_PAGE = 20;

/**
 * webhooksPanel({roomId, signal}) -> {element, open()}. open() loads the
 * webhooks and the bots one may use, and shows the panel.
 */
export function webhooksPanel({ roomId, signal }) {
  const status = notice();
  const shownOnce = h("div", { className: "shown-once", hidden: true });
  const heading = h("h2", { id: "webhooks-heading" }, "Webhooks");
  const incomingList = h("ul", { className: "hook-list", id: "incoming-hooks" });
  const outgoingList = h("ul", { className: "hook-list", id: "outgoing-hooks" });
  const bots = [];

  const kind = field("Kind", { name: "kind" }, "select");
  kind.input.append(h("option", { value: "incoming" }, "Incoming: post in this room from a URL"),
    h("option", { value: "outgoing" }, "Outgoing: send this room's messages to a URL"));
  const name = field("Name", { name: "name", maxlength: 100, required: true });
  const bot = field("Bot", { name: "bot" }, "select");
  const url = field("Receiver URL", { name: "url", type: "url", maxlength: 2000,
    placeholder: "https://bots.example.com/hook" });
  const mentions = field("Only messages that mention the bot", { name: "mentions_only",
    type: "checkbox" });
  const triggers = field("Trigger words (space-separated; none: every message)",
    { name: "triggers", maxlength: 500 });
  const outgoingFields = h("div", { className: "outgoing-fields", hidden: true },
    url.field, mentions.field, triggers.field);
  const noBots = h("p", { className: "hint", hidden: true },
    "You manage no bot yet. An admin makes one for you: ",
    h("code", {}, "makechat bot create NAME --owner YOU"), ".");
  const form = h("form", { className: "webhook-form", "aria-label": "New webhook" },
    h("h3", {}, "New webhook"), kind.field, name.field, bot.field, noBots, outgoingFields,
    h("button", { type: "submit", className: "primary" }, "Create webhook"));
  kind.input.addEventListener("change", () => {
    outgoingFields.hidden = kind.input.value !== "outgoing";
    url.input.required = kind.input.value === "outgoing";
  });

  const element = h("section", { className: "webhooks panel", hidden: true,
    "aria-labelledby": "webhooks-heading" },
  heading, status.element, shownOnce,
  h("h3", {}, "Incoming"), incomingList, h("h3", {}, "Outgoing"), outgoingList, form);

  /** Show something the server will never show again (a URL, a secret). */
  function showOnce(label, value, hint) {
    const input = h("input", { readonly: true, value, id: "shown-once-value",
      "aria-describedby": "shown-once-hint" });
    replace(shownOnce,
      h("label", { for: "shown-once-value" }, label),
      input,
      h("p", { className: "hint", id: "shown-once-hint" }, hint),
      h("button", { type: "button", onclick: () => { shownOnce.hidden = true; } }, "Done"));
    shownOnce.hidden = false;
    input.focus();
    input.select();
  }

  async function submit(event) {
    event.preventDefault();
    status.clear();
    const body = { room: roomId, bot: bot.input.value, name: name.input.value.trim() };
    const outgoing = kind.input.value === "outgoing";
    if (outgoing) {
      body.url = url.input.value.trim();
      body.mentions_only = mentions.input.checked;
      body.triggers = triggers.input.value.split(/\s+/).filter(Boolean);
    }
    try {
      const made = await busy(form, () => api("POST", `/api/webhooks/${outgoing ? "outgoing" : "incoming"}`,
        { body, signal }));
      form.reset();
      outgoingFields.hidden = true;
      if (outgoing) {
        showOnce(`Signing secret of ${made.name}`, made.secret,
          "Copy it now: it is not shown again. Your receiver checks each delivery's "
          + "webhook-signature with it (Standard Webhooks).");
      } else {
        showOnce(`URL of ${made.name}`, made.url,
          "Copy it now: it is not shown again. Anything that POSTs {\"text\": ...} to it "
          + "(Slack's format) posts here as the bot.");
      }
      announce(`Webhook ${made.name} created.`);
      await loadHooks();
    } catch (error) {
      if (error.name !== "AbortError") status.error(errorText(error));
    }
  }
  form.addEventListener("submit", submit);

  function revokeButton(hook, path, what) {
    return h("button", { type: "button", className: "link danger revoke",
      "aria-label": `${what} webhook ${hook.name}`, onclick: async () => {
        if (!window.confirm(`${what} the webhook ${hook.name}? This cannot be undone.`)) return;
        try {
          await api("DELETE", path, { signal });
          announce(`Webhook ${hook.name} removed.`);
          await loadHooks();
          focus(heading);
        } catch (error) {
          status.error(errorText(error));
        }
      } }, what);
  }

  function incomingItem(hook) {
    return h("li", { className: "hook", "data-id": oid(hook._id) },
      h("span", { className: "hook-name" }, hook.name),
      h("span", { className: "muted" }, " as ", hook.bot_username, h("span", { className: "badge bot" }, "bot"),
        hook.last_used ? [" · last used ", timeElement(hook.last_used)] : " · never used"),
      revokeButton(hook, `/api/webhooks/incoming/${oid(hook._id)}`, "Revoke"));
  }

  function outgoingItem(hook) {
    const log = h("div", { className: "delivery-log", hidden: true });
    const toggle = h("button", { type: "button", className: "link show-log",
      "aria-expanded": "false", "aria-label": `Deliveries of webhook ${hook.name}` }, "Deliveries");
    toggle.addEventListener("click", async () => {
      const opening = log.hidden;
      log.hidden = !opening;
      toggle.setAttribute("aria-expanded", String(opening));
      if (opening) await loadLog(hook, log);
    });
    const filter = hook.mentions_only ? " · mentions only"
      : hook.triggers.length ? ` · starting with ${hook.triggers.join(", ")}` : "";
    return h("li", { className: "hook", "data-id": oid(hook._id) },
      h("span", { className: "hook-name" }, hook.name),
      h("span", { className: "muted hook-url" }, " → ", hook.url, " as ", hook.bot_username,
        h("span", { className: "badge bot" }, "bot"), filter),
      toggle, revokeButton(hook, `/api/webhooks/outgoing/${oid(hook._id)}`, "Delete"), log);
  }

  function attemptText(attempt) {
    if (attempt.finished == null) return "under way";
    const what = attempt.status != null ? `HTTP ${attempt.status}` : attempt.error || "failed";
    const extra = attempt.status != null && attempt.error && !attempt.ok ? ` (${attempt.error})` : "";
    return `${what}${extra}${attempt.latency_ms != null ? `, ${attempt.latency_ms} ms` : ""}`;
  }

  function deliveryRow(hook, delivery, container) {
    const attempts = delivery.log.map((attempt) => `${attempt.number}: ${attemptText(attempt)}`);
    const again = h("button", { type: "button", className: "link replay",
      "aria-label": `Send again from seq ${delivery.seq}`, onclick: async () => {
        try {
          const replay = await api("POST", `/api/webhooks/outgoing/${oid(hook._id)}/replay`
            + `?from_seq=${delivery.seq}`, { signal });
          announce(`${replay.queued} deliveries queued again.`);
          await loadLog(hook, container);
        } catch (error) {
          status.error(errorText(error));
        }
      } }, "Send again from here");
    return h("tr", { className: `delivery ${delivery.state}`, "data-seq": delivery.seq },
      h("td", {}, String(delivery.seq)),
      h("td", { className: "state" }, delivery.state),
      h("td", {}, String(delivery.attempts)),
      h("td", { className: "attempts" }, attempts.join("; ") || "none yet"),
      h("td", {}, delivery.next_attempt ? timeElement(delivery.next_attempt) : "—"),
      h("td", {}, again));
  }

  async function loadLog(hook, container, path = null) {
    try {
      const page = await request("GET", path
        || `/api/webhooks/outgoing/${oid(hook._id)}/deliveries?limit=${LOG_PAGE}`, { signal });
      const rows = page.data.map((delivery) => deliveryRow(hook, delivery, container));
      let body = container.querySelector("tbody");
      if (!path || !body) {
        body = h("tbody", {});
        replace(container, page.data.length ? h("div", { className: "table-wrap" },
          h("table", {}, h("caption", { className: "visually-hidden" }, `Deliveries of ${hook.name}`),
            h("thead", {}, h("tr", {}, ...["Seq", "State", "Attempts", "Log", "Next attempt", ""]
              .map((title) => h("th", { scope: "col" }, title)))), body))
          : h("p", { className: "muted" }, "Nothing delivered yet."));
      }
      body.append(...rows);
      container.querySelector(".more-deliveries")?.remove();
      if (page.next) {
        container.append(h("button", { type: "button", className: "link more-deliveries",
          onclick: () => loadLog(hook, container, page.next) }, "More deliveries"));
      }
    } catch (error) {
      if (error.name !== "AbortError") status.error(errorText(error));
    }
  }

  async function loadHooks() {
    const [incoming, outgoing] = await Promise.all([
      api("GET", `/api/webhooks/incoming?room=${roomId}`, { signal }),
      api("GET", `/api/webhooks/outgoing?room=${roomId}`, { signal })]);
    replace(incomingList, incoming.length ? incoming.map(incomingItem)
      : h("li", { className: "muted" }, "None."));
    replace(outgoingList, outgoing.length ? outgoing.map(outgoingItem)
      : h("li", { className: "muted" }, "None."));
  }

  async function loadBots() {
    bots.length = 0;
    let path = "/api/bots?limit=200";
    while (path) {
      const page = await request("GET", path, { signal });
      bots.push(...page.data.filter((account) => account.is_active !== false));
      path = page.next;
    }
    replace(bot.input, ...bots.map((account) => h("option", { value: oid(account._id) },
      account.username)));
    noBots.hidden = bots.length > 0;
    form.querySelector("button[type=submit]").disabled = bots.length === 0;
  }

  return {
    element,
    async open() {
      element.hidden = false;
      try {
        await Promise.all([loadHooks(), loadBots()]);
      } catch (error) {
        if (error.name !== "AbortError") status.error(errorText(error));
      }
    },
    close() {
      element.hidden = true;
    },
  };
}
