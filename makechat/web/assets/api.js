// The one place that talks to the makechat API: the token travels as
// X-Auth-Token, every error becomes an ApiError with the API's own plain words.

const TOKEN_KEY = "makechat.token";
const REQUEST_TIMEOUT_MS = 30000;
const USER_KEY = "makechat.user";

export class ApiError extends Error {
  constructor(status, title, description) {
    super(description || title);
    this.status = status;
    this.title = title;
    this.description = description;
  }
}

// The token lives in sessionStorage: it ends with the tab and is never a cookie,
// so no other site can make requests with it.
export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  get user() {
    try {
      return JSON.parse(sessionStorage.getItem(USER_KEY));
    } catch {
      return null;
    }
  },
  save(token, user) {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(USER_KEY, JSON.stringify(user));
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
  },
};

/** Return the plain id of an API id ({"$oid": "..."} or a string). */
export function oid(value) {
  return value && typeof value === "object" ? value.$oid : value;
}

/** Return a random key for the Idempotency-Key header (works without TLS too). */
export function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function nextLink(response) {
  const header = response.headers.get("Link") || "";
  const match = /<([^>]+)>\s*;\s*rel="next"/.exec(header);
  return match ? match[1] : null;
}

/** Forget this tab's session and tell the page why (it returns to log-in). */
export function signedOut(description) {
  session.clear();
  window.dispatchEvent(new CustomEvent("makechat:signed-out", { detail: description }));
}

function headersFor(headers) {
  const all = { Accept: "application/json", ...headers };
  if (session.token) all["X-Auth-Token"] = session.token;
  return all;
}

async function send(path, init) {
  try {
    return await fetch(path, init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "No connection",
      "The chat server could not be reached. Check your connection and try again.");
  }
}

function parse(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The ApiError of a failed response; a 401 on a token also signs out. */
function failure(response, data, sentToken) {
  const title = (data && data.title) || `Error ${response.status}`;
  const description = (data && data.description) || "The server could not handle the request.";
  if (response.status === 401 && sentToken) signedOut(description);
  return new ApiError(response.status, title, description);
}

/**
 * Make one request; return {data, next} or throw ApiError. A request with no
 * answer within REQUEST_TIMEOUT_MS fails as having no connection: one sent
 * just as the network went away would otherwise wait forever.
 */
export async function request(method, path, { body, headers = {}, signal } = {}) {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, REQUEST_TIMEOUT_MS);
  const abort = () => controller.abort();
  if (signal?.aborted) abort();
  signal?.addEventListener("abort", abort, { once: true });
  const init = { method, headers: headersFor(headers), signal: controller.signal };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  try {
    const response = await send(path, init);
    const data = parse(await response.text());
    if (!response.ok) throw failure(response, data, init.headers["X-Auth-Token"]);
    return { data, next: nextLink(response) };
  } catch (error) {
    if (timedOut && error.name === "AbortError") {
      throw new ApiError(0, "No answer",
        "The chat server did not answer in time. Check your connection and try again.");
    }
    throw error;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", abort);
  }
}

/**
 * Open a stream (GET with Accept: text/event-stream) and return the Response
 * once its headers are in, its body still to read; or throw ApiError as
 * request() does. The token travels as a header here too, never in the URL.
 */
export async function openStream(path, { headers = {}, signal } = {}) {
  const init = { method: "GET", headers: headersFor({ ...headers, Accept: "text/event-stream" }),
    signal, cache: "no-store" };
  const response = await send(path, init);
  if (!response.ok) {
    throw failure(response, parse(await response.text()), init.headers["X-Auth-Token"]);
  }
  return response;
}

/** Make one request and return its parsed JSON body (null for 204). */
export async function api(method, path, options) {
  return (await request(method, path, options)).data;
}

/** Return the words to show a person for an error. */
export function errorText(error) {
  if (error instanceof ApiError) {
    if (error.description && error.title && !error.description.startsWith(error.title)) {
      return `${error.title}: ${error.description}`;
    }
    return error.description || error.title;
  }
  return "Something went wrong in this page. Reload it and try again.";
}

/** Log in (or register) and keep the token for this tab. */
export async function signIn(path, body) {
  const result = await api("POST", path, { body });
  session.save(result.token, result.user);
  return result.user;
}

/** Revoke the token on the server (best effort) and forget it here. */
export async function signOut() {
  try {
    if (session.token) await api("POST", "/api/logout");
  } catch {
    // The token is forgotten below whether or not the server could revoke it.
  }
  session.clear();
}
