// Small DOM helpers shared by the tabs: elements, formatting, status dots, dialogs, paging, empty states.
// Everything is built with textContent (never innerHTML from data), so nothing from ikas or Fortnox is markup.

/** h("button", {class: "x", onclick: fn, "aria-label": "..."}, "text", child...) */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Replaces an element's children. */
export function fill(element, ...children) {
  element.replaceChildren();
  for (const child of children.flat()) {
    if (child !== undefined && child !== null && child !== false) {
      element.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return element;
}

/** {"amount": "149.50", "currency": "SEK"} as "149.50 SEK"; the amount stays the exact decimal string. */
export function money(value) {
  return value ? `${value.amount} ${value.currency}` : "–";
}

/** An RFC 3339 time in the browser's locale, or a dash. */
export function when(value) {
  if (!value) return "–";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleString();
}

const DOT_LABELS = {
  synced: "synced", error: "error", pending: "pending", unmatched: "unmatched", ignored: "ignored",
  orphaned: "orphaned", created: "created", fulfilled: "fulfilled", outgoing: "outgoing",
};

/**
 * A status dot with its word; with an error object ({message, upstream_code, hint, at}) the details show on
 * hover and on keyboard focus (a tooltip tied by aria-describedby).
 */
export function statusBadge(status, error) {
  const badge = h("span", { class: `status status-${status}`, "data-status": status },
    h("span", { class: "dot", "aria-hidden": "true" }), DOT_LABELS[status] || status);
  if (!error) return badge;
  return attachTip(badge,
    h("strong", {}, error.message),
    error.upstream_code ? h("span", { class: "tip-code" }, `code ${error.upstream_code}`) : null,
    error.hint ? h("span", { class: "tip-hint" }, error.hint) : null);
}

/** Makes `element` show `content` on hover and on keyboard focus: a role=tooltip tied by aria-describedby. */
export function attachTip(element, ...content) {
  const id = `tip-${Math.random().toString(36).slice(2)}`;
  element.setAttribute("tabindex", "0");
  element.setAttribute("aria-describedby", id);
  element.classList.add("has-tooltip");
  element.append(h("span", { class: "tooltip", role: "tooltip", id }, ...content));
  return element;
}

/** A friendly empty state for a table or list. */
export function emptyState(text) {
  return h("p", { class: "empty" }, text);
}

/** Asks to confirm in the page's <dialog>; resolves true or false. Keyboard: Enter confirms, Escape cancels. */
export function confirmDialog(message, confirmLabel = "Continue") {
  const dialog = document.getElementById("confirm-dialog");
  fill(dialog.querySelector(".dialog-message"), message);
  const ok = dialog.querySelector("[data-confirm]");
  ok.textContent = confirmLabel;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
    ok.focus();
  });
}

/** Shows a detail view (a timeline) in the page's second <dialog>. */
export function showDetail(title, ...content) {
  const dialog = document.getElementById("detail-dialog");
  fill(dialog.querySelector(".dialog-title"), title);
  fill(dialog.querySelector(".dialog-body"), ...content);
  dialog.showModal();
  dialog.querySelector("[data-close]").focus();
}

/** A short message in the page's live region ("Saved", "Sync started"); errors stay until the next one. */
export function notify(text, { error = false } = {}) {
  const region = document.getElementById("notice");
  region.className = error ? "notice notice-error" : "notice";
  region.textContent = text;
  region.hidden = false;
  clearTimeout(notify.timer);
  if (!error) notify.timer = setTimeout(() => { region.hidden = true; }, 4000);
}

/** Previous / next paging for a list answer ({total, page, page_size}); calls onPage(page). */
export function pager(answer, onPage, label) {
  const pages = Math.max(1, Math.ceil(answer.total / answer.page_size));
  return h("nav", { class: "pager", "aria-label": `${label} pages` },
    h("button", { type: "button", disabled: answer.page <= 1, onclick: () => onPage(answer.page - 1) }, "Previous"),
    h("span", { class: "pager-state" }, `Page ${answer.page} of ${pages} (${answer.total})`),
    h("button", { type: "button", disabled: answer.page >= pages, onclick: () => onPage(answer.page + 1) }, "Next"));
}

/** A timeline (an order's or a product line's attempts) as a list, newest first. */
export function timeline(entries) {
  if (!entries || !entries.length) return emptyState("Nothing has happened yet.");
  return h("ol", { class: "timeline", reversed: true },
    [...entries].reverse().map((entry) => h("li", {},
      h("div", { class: "timeline-head" }, h("time", { datetime: entry.at || "" }, when(entry.at)), " ",
        h("strong", {}, entry.step), " ", h("span", { class: "outcome" }, entry.outcome)),
      entry.detail ? h("p", {}, entry.detail) : null,
      entry.request ? h("details", {}, h("summary", {}, "Request and response"),
        h("pre", {}, entry.request), entry.response ? h("pre", {}, entry.response) : null) : null)));
}

/** Runs a button's async action with the button disabled meanwhile; errors go to notify(). */
export async function busy(button, action) {
  button.disabled = true;
  try {
    return await action();
  } catch (error) {
    notify(error.message, { error: true });
    return undefined;
  } finally {
    button.disabled = false;
  }
}
