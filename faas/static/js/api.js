// The public API of faas, on this page's own origin. Every call goes through request():
// JSON in and out, the session cookie sent by the browser (JavaScript never sees the token),
// and every failure turned into an ApiError carrying the server's problem+json detail.

const UNREACHABLE = "Cannot reach the server. Check your connection and try again.";

export class ApiError extends Error {
  constructor(status, detail, retryAfter = null) {
    super(detail);
    this.status = status; // 0 when the request never got an answer
    this.retryAfter = retryAfter; // seconds, when the server sent Retry-After
  }

  // Worth retrying with the same request: nothing answered, or the service was briefly down.
  get transient() {
    return this.status === 0 || this.status === 502 || this.status === 503 || this.status === 504;
  }
}

async function request(method, path, { body, headers = {} } = {}) {
  const init = {
    method,
    credentials: "same-origin", // the browser then sends Origin, which the server's CSRF check needs
    headers: { Accept: "application/json, application/problem+json", ...headers },
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, UNREACHABLE);
  }
  if (!response.ok) throw await errorFrom(response);
  return response;
}

async function errorFrom(response) {
  let detail = `The server answered ${response.status}.`;
  try {
    const problem = await response.json();
    if (problem && typeof problem.detail === "string" && problem.detail) detail = problem.detail;
  } catch {
    // Not JSON (a proxy's error page, say): the status line is all there is to tell.
  }
  return new ApiError(response.status, detail, retryAfterSeconds(response.headers.get("Retry-After")));
}

// Retry-After is either a number of seconds or an HTTP date (RFC 9110).
function retryAfterSeconds(value) {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value);
  const when = Date.parse(value);
  return Number.isNaN(when) ? null : Math.max(0, Math.ceil((when - Date.now()) / 1000));
}

// The rel="next" target of a Link header, if any.
function nextLink(header) {
  if (!header) return null;
  for (const part of header.split(",")) {
    const match = part.match(/<([^>]*)>\s*;(.*)/);
    if (match && /(^|;)\s*rel="?next"?\s*(;|$)/.test(match[2])) return match[1];
  }
  return null;
}

// The API lives on this origin whatever host a link names (a proxy may spell it differently),
// and the page's CSP allows no other origin anyway.
function sameOrigin(link) {
  const url = new URL(link, window.location.href);
  return url.pathname + url.search;
}

const json = (response) => response.json();
const withEtag = async (response) => ({ todo: await response.json(), etag: response.headers.get("ETag") });

export const register = (username, password) =>
  request("POST", "/api/register", { body: { username, password } }).then(json);
export const login = (username, password) =>
  request("POST", "/api/login", { body: { username, password } }).then(json);
export const logout = () => request("POST", "/api/logout");
export const me = () => request("GET", "/api/me").then(json);

// Every page of the list, in order: the server pages it and says where the next page is.
export async function listTodos() {
  const todos = [];
  let path = "/api/todos";
  while (path) {
    const response = await request("GET", path);
    todos.push(...(await response.json()));
    const next = nextLink(response.headers.get("Link"));
    path = next && sameOrigin(next);
  }
  return todos;
}

// The same key on every attempt makes a retried create return the first result, not a duplicate.
export async function createTodo(fields, idempotencyKey, attempts = 3) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const response = await request("POST", "/api/todos", {
        body: fields,
        headers: { "Idempotency-Key": idempotencyKey },
      });
      return await withEtag(response);
    } catch (error) {
      if (!(error instanceof ApiError) || !error.transient || attempt >= attempts) throw error;
      // Wait as long as the server asked (Retry-After), within reason.
      const delay = Math.min(Math.max(300 * attempt, (error.retryAfter ?? 0) * 1000), 5000);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

export const updateTodo = (id, changes, etag) =>
  request("PATCH", `/api/todos/${encodeURIComponent(id)}`, {
    body: changes,
    headers: etag ? { "If-Match": etag } : {},
  }).then(withEtag);

export const deleteTodo = (id) => request("DELETE", `/api/todos/${encodeURIComponent(id)}`);
export const clearCompleted = () => request("DELETE", "/api/todos?completed=true");
