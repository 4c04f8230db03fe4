// What the sections of the admin page share: reading a whole listing, and
// how a flag reads in a table.

import { request } from "./api.js";

/** Return every item of a listing, following its pages. */
export async function loadAll(path) {
  const items = [];
  while (path) {
    const page = await request("GET", path);
    items.push(...page.data);
    path = page.next;
  }
  return items;
}

export function yesNo(value) {
  return value ? "yes" : "no";
}
