// The members panel: who is in the room (owners first), a Message button
// for each other member (their direct conversation, POST /api/dms) and, for
// a member, the Leave room button. It reloads when someone joins, leaves or changes
// role (the room's member events), and when a message comes from someone it
// does not list.

import { api, request, errorText, oid } from "./api.js";
import { h, replace } from "./dom.js";

/**
 * membersPanel({roomId, user, signal, onError, onLeft, go}) -> {element, load,
 * sawAuthor, names}. onLeft() runs once the person has left the room; go(hash)
 * opens a direct conversation; names() are the members' usernames.
 */
export function membersPanel({ roomId, user, signal, onError, onLeft, go }) {
  let usernames = [];
  let direct = false;           // a direct conversation: nobody leaves it
  let myMembership = null;
  let memberIds = null;         // user ids listed (null: not loaded)
  let loading = null;           // the load in flight
  let again = false;            // something changed while it ran: load once more

  const list = h("ul", { className: "member-list", id: "member-list" });
  const heading = h("h2", { id: "members-heading" }, "Members");
  const leaveButton = h("button", { type: "button", hidden: true }, "Leave room");
  const element = h("aside", { className: "members", "aria-labelledby": "members-heading" },
    heading, list, leaveButton);

  /** Load the members; a call during a load makes one more afterwards. */
  async function load() {
    if (loading) {
      again = true;
      return loading;
    }
    loading = fetchMembers();
    try {
      await loading;
    } finally {
      loading = null;
    }
    if (again && !signal.aborted) {
      again = false;
      await load();
    }
  }

  async function fetchMembers() {
    try {
      const members = [];
      let path = `/api/members?room=${roomId}&limit=200`;
      while (path && !signal.aborted) {
        const page = await request("GET", path, { signal });
        members.push(...page.data);
        path = page.next;
      }
      members.sort((a, b) => (a.role === "owner" ? 0 : 1) - (b.role === "owner" ? 0 : 1)
        || a.username.localeCompare(b.username));
      memberIds = new Set(members.map((member) => oid(member.user)));
      myMembership = members.find((member) => oid(member.user) === oid(user._id)) || null;
      leaveButton.hidden = !myMembership || direct;
      replace(heading, `Members (${members.length})`);
      usernames = members.map((member) => member.username);
      replace(list, ...members.map((member) => h("li", { className: "member" },
        h("span", { className: "member-name" }, member.username),
        member.is_bot && h("span", { className: "badge bot", title: "A bot account" }, "bot"),
        member.role === "owner" && h("span", { className: "badge" }, "owner"),
        oid(member.user) !== oid(user._id) && messageButton(member))));
    } catch (error) {
      if (error.name !== "AbortError") onError(errorText(error));
    }
  }

  function messageButton(member) {
    const button = h("button", { type: "button", className: "link message-member",
      "aria-label": `Message ${member.username}` }, "Message");
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const room = await api("POST", "/api/dms", { body: { user: oid(member.user) } });
        go(`#/rooms/${oid(room._id)}`);
      } catch (error) {
        button.disabled = false;
        onError(errorText(error));
      }
    });
    return button;
  }

  /** Note the author of a new message; someone not listed has joined. */
  function sawAuthor(userId) {
    if (memberIds && !memberIds.has(userId)) {
      memberIds.add(userId);   // one reload per newcomer, however many messages they send
      load();
    }
  }

  leaveButton.addEventListener("click", async () => {
    if (!myMembership || !window.confirm("Leave this room?")) return;
    try {
      await api("DELETE", `/api/members/${oid(myMembership._id)}`);
      onLeft();
    } catch (error) {
      onError(errorText(error));
    }
  }, { signal });

  return { element, load, sawAuthor, names: () => usernames,
    /** The room is a direct conversation: no Leave room. */
    direct() {
      direct = true;
      leaveButton.hidden = true;
    } };
}
