// A message's reactions: each emoji used on it as a toggle button with its
// count (aria-pressed: whether the person reacted), and an "Add reaction"
// button opening a small picker of common emoji. A toggle sends PUT or
// DELETE /api/messages/{id}/reactions/{emoji}; the live updates (reaction
// events) re-read the message, so the counts are always the server's.

import { api, errorText, oid } from "./api.js";
import { h } from "./dom.js";

// Fully qualified forms (with U+FE0F where Unicode says so): the server
// keeps an emoji as sent, and "❤" and "❤️" would be two reactions.
export const COMMON_EMOJI = ["👍", "❤️", "😂", "🎉", "😮", "😢", "👀", "✅"];

const NAMES = { "👍": "thumbs up", "❤️": "heart", "😂": "laughing", "🎉": "party",
  "😮": "surprised", "😢": "sad", "👀": "eyes", "✅": "check mark" };

function emojiName(emoji) {
  return NAMES[emoji] || emoji;
}

/**
 * reactionBar(message, {onChanged(message), onError(text)}) -> element.
 * onChanged receives the message as the server has it after a toggle.
 */
export function reactionBar(message, { onChanged, onError }) {
  const id = oid(message._id);
  const reactions = message.reactions || [];
  const path = (emoji) => `/api/messages/${id}/reactions/${encodeURIComponent(emoji)}`;

  async function toggle(emoji, reacted, button) {
    if (button) button.disabled = true;
    try {
      if (reacted) {
        await api("DELETE", path(emoji));
        onChanged(await api("GET", `/api/messages/${id}`), emoji);
      } else {
        onChanged(await api("PUT", path(emoji)), emoji);
      }
    } catch (error) {
      if (button) button.disabled = false;
      onError(errorText(error));
    }
  }

  const buttons = reactions.map(({ emoji, count, me }) => {
    const button = h("button", { type: "button", className: me ? "reaction me" : "reaction",
      "aria-pressed": me ? "true" : "false", "data-emoji": emoji, "data-focus": `reaction-${emoji}`,
      "aria-label": `${emojiName(emoji)}: ${count}${me ? ", including you" : ""}` },
    h("span", { "aria-hidden": "true" }, emoji), " ", h("span", { className: "count" }, String(count)));
    button.addEventListener("click", () => toggle(emoji, me, button));
    return button;
  });

  const picker = h("div", { className: "reaction-picker", role: "group", hidden: true,
    "aria-label": "Pick a reaction" });
  const opener = h("button", { type: "button", className: "link add-reaction",
    "aria-expanded": "false", "data-focus": "react", "aria-label": `Add a reaction to ${message.author_username}'s message` },
  "React");
  const close = (refocus) => {
    picker.hidden = true;
    opener.setAttribute("aria-expanded", "false");
    if (refocus) opener.focus();
  };
  for (const emoji of COMMON_EMOJI) {
    const mine = reactions.some((reaction) => reaction.emoji === emoji && reaction.me);
    const choice = h("button", { type: "button", className: "pick", "data-emoji": emoji,
      "aria-pressed": mine ? "true" : "false", "aria-label": emojiName(emoji) }, emoji);
    choice.addEventListener("click", () => {
      close(false);
      toggle(emoji, mine, null);
    });
    picker.append(choice);
  }
  opener.addEventListener("click", () => {
    const opening = picker.hidden;
    picker.hidden = !opening;
    opener.setAttribute("aria-expanded", String(opening));
    if (opening) picker.querySelector("button").focus();
  });
  picker.addEventListener("keydown", (event) => {
    const choices = Array.from(picker.querySelectorAll("button"));
    const at = choices.indexOf(document.activeElement);
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close(true);
    } else if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
      event.preventDefault();
      const step = event.key === "ArrowRight" ? 1 : -1;
      choices[(at + step + choices.length) % choices.length].focus();
    }
  });

  return h("div", { className: "reactions", role: "group",
    "aria-label": `Reactions to ${message.author_username}'s message` }, ...buttons, opener, picker);
}
