// The dashboard's one road to data: the gateway's own REST API (product.md §8), never another route.
//
// Outside the ikas admin the browser holds the session cookie; every change then echoes the readable
// `bridge_csrf` cookie in X-Bridge-CSRF (product.md §1.2). Inside the admin iframe third-party cookies may be
// blocked, so the page asks ikas's App Bridge for a dashboard JWT (REQUEST_TOKEN, ikas-api.md §3.1) and sends
// `Authorization: JWT <token>` instead; without an answer it falls back to the cookie.

const CSRF_COOKIE = "bridge_csrf";
const CSRF_HEADER = "X-Bridge-CSRF";
const TOKEN_WAIT_MS = 5000;

let bearer = null; // the App Bridge token inside the iframe, when ikas gave one

/** A problem+json answer (or a network failure) as an Error the tabs can show. */
export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `request failed (${status})`);
    this.status = status;
    this.problem = problem || {};
    // [{field, code, message}] for 422s: shown next to the fields they name.
    this.fieldErrors = (problem && problem.errors) || [];
  }
}

function readCookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return "";
}

/** Asks the ikas admin for a dashboard token; resolves to null outside the iframe or without an answer. */
export function requestAdminToken() {
  if (window.top === window.self) return Promise.resolve(null);
  return new Promise((resolve) => {
    const timer = setTimeout(() => { window.removeEventListener("message", onMessage); resolve(null); }, TOKEN_WAIT_MS);
    function onMessage(event) {
      const data = event.data || {};
      if (data.type === "REQUEST_TOKEN_RESPONSE" && data.data && data.data.token) {
        clearTimeout(timer);
        window.removeEventListener("message", onMessage);
        bearer = data.data.token;
        resolve(bearer);
      }
    }
    window.addEventListener("message", onMessage);
    window.top.postMessage({ type: "REQUEST_TOKEN" }, "*");
  });
}

/**
 * One API call. `path` starts with /api/v1 (or is any gateway path); `body` is sent as JSON.
 * Resolves to the parsed JSON (null for 204); rejects with ApiError. A 401 also fires "bridge:signed-out".
 */
export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (bearer) headers.Authorization = `JWT ${bearer}`;
  else if (method !== "GET" && method !== "HEAD") headers[CSRF_HEADER] = readCookie(CSRF_COOKIE);
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch (error) {
    throw new ApiError(0, { title: "Bridge could not be reached", detail: "Check your connection and try again." });
  }
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json().catch(() => null) : null;
  if (!response.ok) {
    if (response.status === 401) window.dispatchEvent(new CustomEvent("bridge:signed-out"));
    throw new ApiError(response.status, data);
  }
  return data;
}

/** A query string from an object, leaving out empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** Downloads a file the API serves (the invoice PDF) with the page's credentials, as `filename`. */
export async function download(path, filename) {
  const headers = bearer ? { Authorization: `JWT ${bearer}` } : {};
  const response = await fetch(path, { headers, credentials: "same-origin" });
  if (!response.ok) {
    const data = await response.json().catch(() => null);
    throw new ApiError(response.status, data);
  }
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
